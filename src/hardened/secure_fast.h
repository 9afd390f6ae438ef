/* secure_fast — the hardened build's malloc and free fast paths, included by
 * alloc_fast.h in place of the default ones (TIDE_SECURE). malloc pops a
 * block as the default path does, through the checked link, then records
 * the requested size and, on one allocation in SECURE_CANARY_SAMPLE, fills
 * the slack with the canary (flagged in the state). The sampling countdown
 * of the fast path is the slab's (span.sec_countdown, on the line malloc
 * writes anyway, started at a random phase by secure_slab_init): when it
 * runs out the allocation goes to the guarded pool (secure_alloc_sampled).
 * The slow path keeps its own per-thread countdown (guarded.c), so every
 * allocation is counted by exactly one of them, each with a random phase:
 * every allocation is sampled with probability 1 / secure_sample.
 * free does all its checks in secure_free (checks.c). */
#ifndef TIDE_SECURE_FAST_H
#define TIDE_SECURE_FAST_H

#include "secure.h"

#pragma GCC visibility push(hidden)

/* Both return what malloc returns (they report and abort if they find a
 * misuse, so never in fact for the first): not noreturn, so that the fast
 * path jumps to them without setting up a frame of its own. */
void *secure_report_reused(const span_t *s, const void *p);
void *secure_alloc_sampled(span_t *s, size_t size, const void *caller);
void *secure_report_bad_link_at(const void *block, uintptr_t decoded);

static inline __attribute__((always_inline)) void *alloc_fast(size_t size)
{
    heap_t *h = heap_get();
    if (__builtin_expect(size <= SC_DIRECT_MAX && !SECURE_FULL, 1)) {
        span_t *s = h->direct[(size + 15) >> 4];
        block_t *b = s->free;
        if (__builtin_expect(b != NULL, 1)) {
            uint32_t cd = s->sec_countdown;
            if (__builtin_expect(cd <= 1, 0))
                return secure_alloc_sampled(s, size, __builtin_return_address(0));
            /* block_next, its report a jump (no frame for a call). */
            uintptr_t d = (uintptr_t)b->next ^ secure_list_key;
            uintptr_t n = (uintptr_t)b + d;
            if (__builtin_expect(d + SECURE_LINK_RANGE >= 2 * SECURE_LINK_RANGE, 0) && n != 0)
                return secure_report_bad_link_at(b, n);
            s->sec_countdown = cd - 1;
            s->free = (block_t *)n;
            s->used++;
            uint16_t *st = &s->sec_state[secure_block_index(s, b)];
            if (__builtin_expect(*st != 0, 0))
                return secure_report_reused(s, b);
            uint16_t v = (uint16_t)(size + 1);
            if (secure_canary_sampled((int32_t)cd)) {
                v |= SECURE_STATE_CANARY;
                secure_canary_fill((char *)b + size, s->block_size - size);
            }
            *st = v;
            return b;
        }
    }
    return alloc_slow(size, __builtin_return_address(0));
}

/* The common case inline, every check made: a block of a slab this thread
 * owns, at a block start among the carved blocks, in use, with its slack
 * intact and, for sized frees, the size and alignment given matching. One
 * multiplication gives both the divisibility test (the low half) and the
 * block index (the high half). Anything else, including every misuse, goes
 * to secure_free, which checks again and reports. */
static inline __attribute__((always_inline)) void free_fast_sized(void *p, size_t size, size_t align,
                                                                  const char *call)
{
    span_t *s = pagemap_lookup(p);
    if (__builtin_expect(span_owner_fast(s) == thread_key(), 1)) {
        unsigned __int128 m = (unsigned __int128)(uint64_t)((char *)p - s->start) * s->div_magic;
        uint64_t idx = (uint64_t)(m >> 64);
        /* p is in s's pages (the page map says so): idx < 2^32, and the
         * comparison in 32 bits is exact (one load less). */
        if (__builtin_expect((uint64_t)m < s->div_magic && (uint32_t)idx < s->capacity, 1)) {
            uint16_t *st = &s->sec_state[idx];
            uint16_t v = *st;
            size_t req = secure_state_size(v);
            if (__builtin_expect(v != 0 && (size == FREE_NO_SIZE || size == req) &&
                                     (align == 0 || (((align & (align - 1)) | ((uintptr_t)p & (align - 1))) == 0)) &&
                                     (!secure_state_canary(v) ||
                                      secure_canary_intact((char *)p + req, s->block_size - req)),
                                 1)) {
                *st = 0;
                if (MITIGATION_ON(zero_on_free)) /* the full level: no data outlives its block */
                    __builtin_memset(p, 0, s->block_size);
                block_set_next(p, s->local_free);
                s->local_free = p;
                if (__builtin_expect(--s->used != 0, 1))
                    return;
                slab_on_empty(s);
                return;
            }
        }
    }
    secure_free_in(p, s, size, align, call); /* s: no second page-map lookup */
}

static inline __attribute__((always_inline)) void free_fast(void *p, const char *call)
{
    free_fast_sized(p, FREE_NO_SIZE, 0, call);
}

#pragma GCC visibility pop

#endif
