/* secure_fast — the hardened build's malloc and free fast paths, included by
 * alloc_fast.h in place of the default ones (TIDE_SECURE). malloc pops a
 * block as the default path does, through the checked link, then records
 * the requested size and fills the slack with the canary; every sampled
 * allocation (secure_countdown) goes the slow way, to the guarded pool.
 * free does all its checks in secure_free (secure.c). */
#ifndef TIDE_SECURE_FAST_H
#define TIDE_SECURE_FAST_H

#include "secure.h"

#pragma GCC visibility push(hidden)

__attribute__((noreturn, cold)) void secure_report_reused(const span_t *s, const void *p);

/* The sampling countdown, read and written through %fs directly: gcc
 * otherwise materialises the variable's address first (as heap_get notes). */
#if defined(__x86_64__) && defined(__PIC__)
static inline int32_t __seg_fs *secure_countdown_ref(void)
{
    uintptr_t off;
    __asm__("movq secure_countdown@gottpoff(%%rip), %0" : "=r"(off));
    return (int32_t __seg_fs *)off;
}
#define SECURE_COUNTDOWN (*secure_countdown_ref())
#else
#define SECURE_COUNTDOWN secure_countdown
#endif

static inline __attribute__((always_inline)) void *alloc_fast(size_t size)
{
    heap_t *h = heap_get();
    int32_t cd = SECURE_COUNTDOWN;
    if (__builtin_expect(size <= SC_DIRECT_MAX && cd > 1, 1)) {
        span_t *s = h->direct[(size + 15) >> 4];
        block_t *b = s->free;
        if (__builtin_expect(b != NULL, 1)) {
            s->free = block_next(b);
            s->used++;
            SECURE_COUNTDOWN = cd - 1;
            uint16_t *st = &s->sec_state[secure_block_index(s, b)];
            if (__builtin_expect(*st != 0, 0))
                secure_report_reused(s, b);
            *st = (uint16_t)(size + 1);
            secure_canary_fill((char *)b + size, s->block_size - size);
            return b;
        }
    }
    return alloc_slow(size, __builtin_return_address(0));
}

static inline __attribute__((always_inline)) void free_fast(void *p, const char *call)
{
    secure_free(p, FREE_NO_SIZE, 0, call);
}

#define free_fast_sized(p, size, align, call) secure_free(p, size, align, call)

#pragma GCC visibility pop

#endif
