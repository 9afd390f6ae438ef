/* secure_list — free-list links in the hardened build (TIDE_SECURE).
 *
 * A free block's first word holds the next link XORed with a per-process
 * random key and with the block's own address, so a leaked link reveals no
 * heap address and a link overwritten through a dangling pointer decodes to
 * garbage. Every read checks the decoded link: NULL, or a block of the same
 * slab (slabs span at most 64 KiB, so within 128 KiB either way). Anything
 * else is reported as a corrupted free list, before it is followed.
 *
 * Included by span.h; the default build has plain links.
 */
#ifndef TIDE_SECURE_LIST_H
#define TIDE_SECURE_LIST_H

#include <stdint.h>

#pragma GCC visibility push(hidden)

/* Random, fixed before the first block is carved (secure_init.c). */
extern uintptr_t secure_list_key;

/* One page after each slab stays PROT_NONE (secure_slab.c). */
#define SECURE_SLAB_GUARD_PAGES 1
#define SECURE_LINK_RANGE ((uintptr_t)1 << 17)

__attribute__((noreturn, cold)) void secure_report_bad_link(const void *block, uintptr_t decoded);

static inline block_t *block_next(const block_t *b)
{
    uintptr_t n = (uintptr_t)b->next ^ secure_list_key ^ (uintptr_t)b;
    /* One branch: the two tests are combined without short-circuit (gcc
     * otherwise branches on n != 0 first, on every pop). */
    if (__builtin_expect((n != 0) & (n - (uintptr_t)b + SECURE_LINK_RANGE >= 2 * SECURE_LINK_RANGE), 0))
        secure_report_bad_link(b, n);
    return (block_t *)n;
}

/* A link read by a thread that does not own the list (the statistics'
 * census): decoded, not checked, since it may race its owner; the caller
 * validates it before following it. */
static inline block_t *block_peek_next(const block_t *b)
{
    return (block_t *)((uintptr_t)__atomic_load_n(&b->next, __ATOMIC_RELAXED) ^ secure_list_key ^ (uintptr_t)b);
}

static inline void block_set_next(block_t *b, block_t *next)
{
    b->next = (block_t *)((uintptr_t)next ^ secure_list_key ^ (uintptr_t)b);
}

#pragma GCC visibility pop

#endif
