/* secure — the hardened build (TIDE_SECURE=1, build/libtidemalloc-secure.so).
 *
 * Per block of a slab, the requested size is kept outside the slab
 * (span.sec_state: size + 1, 0 = free). That gives exact double-free
 * detection, the size for free_sized / sized delete checks, and the end of
 * the requested bytes: the slack after them is filled with a canary at
 * malloc and checked at free. Slabs and large blocks end in a guard page;
 * slots are carved in random order; free-list links are encoded
 * (secure_list.h). A sampled allocation goes to the guarded pool
 * (guarded.c). Every detection is one line through report_heap_misuse.
 */
#ifndef TIDE_SECURE_H
#define TIDE_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"

#pragma GCC visibility push(hidden)

/* secure.c */
void secure_init(void); /* key, canary, fault handler: idempotent */
span_t *secure_slab_alloc(size_t npages);
span_t *secure_large_take(size_t npages, size_t align_pages); /* a kept guarded run, or a new one */
void secure_trim(void); /* release the kept slabs and large runs */
bool secure_slab_init(span_t *s);
bool secure_slab_release(span_t *s);
void secure_carve(span_t *s, char *first, uint32_t n);
void secure_on_alloc(void *p, size_t size);
void secure_free(void *p, size_t size, size_t align, const char *call);
size_t secure_usable_size(const void *p, const char *call);
void *secure_realloc(void *p, size_t size);
const char *secure_freed_kind(const char *call); /* "double free" or "use after free" */
extern uint8_t secure_canary;
extern uint64_t secure_canary8; /* the canary byte, eight times */

/* The block index of p in slab s (p - start is below 2^32). */
static inline uint32_t secure_block_index(const span_t *s, const void *p)
{
    uint64_t off = (uint64_t)((const char *)p - s->start);
    return (uint32_t)(((unsigned __int128)off * s->div_magic) >> 64);
}

/* The slack canary covers the first SECURE_CANARY_SPAN bytes after the
 * requested size (all of the slack when it is shorter): the bytes a
 * contiguous overflow reaches first (a linear overflow of any length writes
 * them), one word, so filling and checking it is one access (two or three
 * when the slack is shorter than a word), no loop and no call. */
#define SECURE_CANARY_SPAN 8

static inline uint64_t secure_canary_word(void)
{
    return secure_canary8;
}

/* n = min(slack, 8) bytes at c: one word; for 4 <= n < 8, [0, 4) and
 * [n - 4, n); below 4, bytes 0, n / 2 and n - 1. */
static inline void secure_canary_fill(char *c, size_t slack)
{
    if (__builtin_expect(slack == 0, 1))
        return;
    uint64_t w = secure_canary_word();
    if (__builtin_expect(slack >= 8, 1)) {
        __builtin_memcpy(c, &w, 8);
    } else if (slack >= 4) {
        uint32_t h = (uint32_t)w;
        __builtin_memcpy(c, &h, 4);
        __builtin_memcpy(c + slack - 4, &h, 4);
    } else {
        c[0] = c[slack / 2] = c[slack - 1] = (char)secure_canary;
    }
}

static inline bool secure_canary_intact(const char *c, size_t slack)
{
    if (__builtin_expect(slack == 0, 1))
        return true;
    uint64_t w = secure_canary_word();
    if (__builtin_expect(slack >= 8, 1)) {
        uint64_t a;
        __builtin_memcpy(&a, c, 8);
        return a == w;
    }
    if (slack >= 4) {
        uint32_t a, b;
        __builtin_memcpy(&a, c, 4);
        __builtin_memcpy(&b, c + slack - 4, 4);
        return ((a ^ (uint32_t)w) | (b ^ (uint32_t)w)) == 0;
    }
    return ((uint8_t)c[0] == secure_canary && (uint8_t)c[slack / 2] == secure_canary &&
            (uint8_t)c[slack - 1] == secure_canary);
}

/* guarded.c: sampled allocations, each alone in a page against a guard page
 * and made inaccessible when freed (in the spirit of GWP-ASan). */
extern __thread int32_t secure_countdown;
void *guarded_maybe_alloc(size_t size, size_t align, bool zero);
bool guarded_owns(const void *p);
void guarded_free(void *p, size_t size, size_t align, const char *call);
size_t guarded_usable_size(const void *p, const char *call);
/* The SIGSEGV handler's view: a report for a fault at addr if the pool
 * explains it (returns only if it does not). */
void guarded_explain_fault(const void *addr);

#pragma GCC visibility pop

#endif
