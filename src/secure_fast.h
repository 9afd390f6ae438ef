/* secure_fast — the hardened build's malloc and free fast paths, included by
 * alloc_fast.h in place of the default ones (TIDE_SECURE). malloc pops a
 * block as the default path does, through the checked link, then records
 * the requested size and fills the slack with the canary; every sampled
 * allocation (secure_countdown) goes the slow way, to the guarded pool.
 * free does all its checks in secure_free (secure.c). */
#ifndef TIDE_SECURE_FAST_H
#define TIDE_SECURE_FAST_H

/* Included inside alloc_fast.h's hidden-visibility block: libc's
 * declarations must keep default visibility. */
#pragma GCC visibility push(default)
#include <string.h>
#pragma GCC visibility pop

#include "secure.h"

#pragma GCC visibility push(hidden)

__attribute__((noreturn, cold)) void secure_report_reused(const span_t *s, const void *p);

static inline __attribute__((always_inline)) void *alloc_fast(size_t size)
{
    heap_t *h = heap_get();
    int32_t cd = secure_countdown;
    if (__builtin_expect(size <= SC_DIRECT_MAX && cd > 1, 1)) {
        span_t *s = h->direct[(size + 15) >> 4];
        block_t *b = s->free;
        if (__builtin_expect(b != NULL, 1)) {
            s->free = block_next(b);
            s->used++;
            secure_countdown = cd - 1;
            uint16_t *st = &s->sec_state[secure_block_index(s, b)];
            if (__builtin_expect(*st != 0, 0))
                secure_report_reused(s, b);
            *st = (uint16_t)(size + 1);
            memset((char *)b + size, secure_canary, s->block_size - size);
            return b;
        }
    }
    return alloc_slow(size);
}

static inline __attribute__((always_inline)) void free_fast(void *p, const char *call)
{
    secure_free(p, FREE_NO_SIZE, 0, call);
}

#define free_fast_sized(p, size, align, call) secure_free(p, size, align, call)

#pragma GCC visibility pop

#endif
