/* size classes — the table and the size→class function.
 *
 * Sizes up to 128 B are spaced 16 B apart; above that every power of two is
 * split into four classes (160, 192, 224, 256, 320, ...). A request just above
 * a class boundary at 2^k lands in 2^k + 2^k/4, so internal waste is below
 * 0.25/1.25 = 20% of the block for every request of 64 B or more (and below
 * 19% in the 16-spaced range from 64 B). Small classes end at 14 KiB; larger
 * requests are page runs, whose rounding wastes less than one page, which is
 * under 20% from 16 KiB + 1 on. tests/unit/test_size_class.c checks every size.
 */
#ifndef TIDE_SIZE_CLASS_H
#define TIDE_SIZE_CLASS_H

#include <stddef.h>
#include <stdint.h>

#include "platform/os.h"

#pragma GCC visibility push(hidden)

#define SC_COUNT 35
#define SC_SMALL_MAX 14336u
/* Requests up to this size take the direct-lookup fast path. */
#define SC_DIRECT_MAX 1024u
#define SC_DIRECT_COUNT (SC_DIRECT_MAX / 16 + 1)

extern const uint32_t sc_block_size[SC_COUNT];
/* Pages per slab for each class. */
extern const uint8_t sc_slab_pages[SC_COUNT];
/* Pages per slab in the shared arenas (core/central.c): as sc_slab_pages,
 * but a class whose blocks are two or three whole pages (8 and 12 KiB) has
 * one block per slab. A freed block is then free pages at once, which any
 * class can reuse and the decay policy can purge, instead of a hole only
 * its class can fill. A thread's own heap keeps 2 to 4 per slab, for the
 * page-heap round trips they save.
 * Not the 4 KiB class: a slab costs a 192-byte span, 4.7% of a one-page
 * block, and RocksDB with 100-byte values fills its block cache with 4 KiB
 * blocks: one block per slab held 25 MiB of spans for 490 MiB of blocks
 * (RSS 648 MiB), four per slab 7.6 MiB (RSS 623 MiB), while the base cell,
 * with few 4 KiB blocks, was the same either way (docs/BENCHMARKS.md,
 * "Session 8"). */
static inline unsigned sc_arena_slab_pages(unsigned cls)
{
    uint32_t b = sc_block_size[cls];
    return b % OS_PAGE_SIZE == 0 && b > OS_PAGE_SIZE ? (unsigned)(b / OS_PAGE_SIZE) : sc_slab_pages[cls];
}

static inline unsigned sc_of_size(size_t size)
{
    if (size <= 128)
        return size <= 16 ? 0 : (unsigned)((size - 1) >> 4);
    unsigned k = 63u - (unsigned)__builtin_clzl(size - 1); /* 2^k < size <= 2^(k+1) */
    unsigned within = (unsigned)((size - 1 - ((size_t)1 << k)) >> (k - 2));
    return 8u + (k - 7u) * 4u + within;
}

#pragma GCC visibility pop

#endif
