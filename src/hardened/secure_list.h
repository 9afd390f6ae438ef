/* secure_list — free-list links in the hardened build (TIDE_SECURE).
 *
 * A free block's first word holds the distance to the next block (next -
 * block, as an unsigned word) XORed with a per-process random key, so a
 * leaked link reveals no heap address and a link overwritten through a
 * dangling pointer decodes to garbage. Every read checks the decoded
 * distance: NULL, or a block of the same slab (slabs span at most 64 KiB,
 * so within 128 KiB either way). Anything else is reported as a corrupted
 * free list, before it is followed. Storing the distance rather than
 * next ^ block makes the check one add and one compare on the decoded
 * word, and the next block one more add (a pop: xor, lea, cmp, ja, add).
 * What a leaked link gives away is the same as with next ^ block: the
 * key's high bits (the distance's are all 0 or all 1).
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
    uintptr_t d = (uintptr_t)b->next ^ secure_list_key; /* next - b */
    uintptr_t n = (uintptr_t)b + d;
    /* NULL is d == -b: out of range too, told apart on the cold side. */
    if (__builtin_expect(d + SECURE_LINK_RANGE >= 2 * SECURE_LINK_RANGE, 0) && n != 0)
        secure_report_bad_link(b, n);
    return (block_t *)n;
}

/* A link read by a thread that does not own the list (the statistics'
 * census): decoded, not checked, since it may race its owner; the caller
 * validates it before following it. */
static inline block_t *block_peek_next(const block_t *b)
{
    return (block_t *)((uintptr_t)b +
                       ((uintptr_t)__atomic_load_n(&b->next, __ATOMIC_RELAXED) ^ secure_list_key));
}

static inline void block_set_next(block_t *b, block_t *next)
{
    b->next = (block_t *)(((uintptr_t)next - (uintptr_t)b) ^ secure_list_key);
}

#pragma GCC visibility pop

#endif
