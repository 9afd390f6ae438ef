/* shuffle — random slot order: the blocks of each page a slab carves go onto
 * its free list in a random order (TIDE_SECURE=1 only; mitigation
 * `shuffle`, off with -DTIDE_MITIGATION_SHUFFLE=0, for measuring only).
 *
 * Owns the per-thread generator (also the sampling phases', guarded.c) and
 * the carving. Invariant: a carve links
 * exactly the n blocks from first, each once (a permutation of them), so
 * the slab's accounting is the same as the default build's in-order carve;
 * only which block malloc hands out next changes, so that consecutive
 * mallocs are not neighbours and an overflow's victim is not predictable.
 * The generator needs to be cheap, not strong: it is seeded from the secret
 * list key and the thread, so it differs between processes and threads.
 */
#ifndef TIDE_SECURE
#define TIDE_SECURE 1 /* this file is only part of the hardened build */
#endif
#define _GNU_SOURCE
#include "platform/os.h"
#include "secure_internal.h"

static __thread uint64_t rng_state;

uint64_t secure_rand(void)
{
    uint64_t x = rng_state;
    if (x == 0)
        x = (uint64_t)secure_list_key ^ (uint64_t)(uintptr_t)&rng_state ^ 0x2545f4914f6cdd1dull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

void secure_carve(span_t *s, char *first, uint32_t n)
{
    uint16_t order[OS_PAGE_SIZE / 16];
    for (uint32_t i = 0; i < n; i++)
        order[i] = (uint16_t)i;
    if (MITIGATION_ON(shuffle)) {
        for (uint32_t i = n; i > 1; i--) { /* Fisher-Yates */
            uint32_t j = (uint32_t)(((secure_rand() >> 32) * i) >> 32);
            uint16_t t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
    }
    block_t *head = s->free;
    for (uint32_t i = 0; i < n; i++) {
        block_t *b = (block_t *)(first + (size_t)order[i] * s->block_size);
        block_set_next(b, head);
        head = b;
    }
    s->free = head;
}
