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
 * mitigations.h lists them all, with their switches.
 */
#ifndef TIDE_SECURE_H
#define TIDE_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/span.h"
#include "mitigations.h"

#pragma GCC visibility push(hidden)

/* secure_init.c */
void secure_init(void); /* key, canary, fault handler: idempotent */
extern uint8_t secure_canary;
extern uint64_t secure_canary8; /* the canary byte, eight times */
/* secure_slab.c: per-block state arrays, slab guard pages, kept slabs */
span_t *secure_slab_alloc(size_t npages);
bool secure_slab_init(span_t *s);
bool secure_slab_release(span_t *s);
void secure_fork_lock(void);   /* secure_init.c: for api/init.c's fork handlers */
void secure_fork_unlock(void);
void secure_slab_trim(void); /* release the kept slabs */
/* secure_large.c: large-block guard pages, kept guarded runs */
span_t *secure_large_take(size_t npages, size_t align_pages); /* a kept guarded run, or a new one */
void secure_large_trim(void); /* release the kept large runs */
/* secure_decay.c: kept memory under the decay policy (the page heap's
 * decay tick and purger wake-up, through mitigation_hooks.h) */
uint64_t secure_kept_tick(uint64_t now, uint64_t next);
void secure_kept_set_wake(void (*fn)(void));
/* shuffle.c */
void secure_carve(span_t *s, char *first, uint32_t n);
/* checks.c */
void secure_on_alloc(void *p, size_t size);
void secure_free(void *p, size_t size, size_t align, const char *call);
void secure_free_in(void *p, span_t *s, size_t size, size_t align, const char *call); /* s: p's page-map entry */
size_t secure_usable_size(const void *p, const char *call);
void *secure_realloc(void *p, size_t size);
const char *secure_freed_kind(const char *call); /* "double free" or "use after free" */

/* A small block's state entry (span.sec_state): 0 while the block is free,
 * else its requested size + 1 (at most SC_SMALL_MAX + 1, below 2^15), with
 * SECURE_STATE_CANARY set when its slack was given the canary at malloc
 * (one allocation in SECURE_CANARY_SAMPLE: every one at the full level),
 * which free then checks. */
#define SECURE_STATE_CANARY 0x8000u
#define SECURE_STATE_SIZE 0x7fffu

static inline size_t secure_state_size(uint16_t st)
{
    return (size_t)(st & SECURE_STATE_SIZE) - 1;
}

static inline bool secure_state_canary(uint16_t st)
{
    return MITIGATION_ON(canary) && (SECURE_CANARY_SAMPLE == 1 || (st & SECURE_STATE_CANARY) != 0);
}

/* Whether the allocation counted down to cd gets the canary: the low bits
 * of the guarded pool's countdown, so sampling costs one test. */
static inline bool secure_canary_sampled(int32_t cd)
{
    return MITIGATION_ON(canary) && (SECURE_CANARY_SAMPLE == 1 || (cd & (SECURE_CANARY_SAMPLE - 1)) == 0);
}

/* The block index of p in slab s (p - start is below 2^32). */
static inline uint64_t secure_block_index(const span_t *s, const void *p)
{
    uint64_t off = (uint64_t)((const char *)p - s->start);
    /* 64-bit on purpose: a 32-bit result costs a zero-extension. */
    return (uint64_t)(((unsigned __int128)off * s->div_magic) >> 64);
}

/* The slack canary: the bytes from the requested end up to the next
 * multiple of 8 (1 to 8 bytes; none when there is no slack), filled and
 * checked as the one aligned word that holds them. Every linear overflow,
 * of any length, writes the first of them. Aligned, because an unaligned
 * word splits a cache line one time in eight and a page now and then:
 * measured on alloc-churn, an unaligned word canary cost twice as much
 * CPU time as a one-byte one. Blocks start on a multiple of 16 and end on
 * one of 8 (slab block sizes are multiples of 16, large blocks end on a
 * page), so the word never leaves the block. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SECURE_CANARY_MASK(c) (~(uint64_t)0 << (8 * ((uintptr_t)(c) & 7)))
#else
#define SECURE_CANARY_MASK(c) (~(uint64_t)0 >> (8 * ((uintptr_t)(c) & 7)))
#endif

static inline char *secure_canary_word_at(const char *c)
{
    return (char *)((uintptr_t)c & ~(uintptr_t)7);
}

/* With -DTIDE_MITIGATION_CANARY=0 (mitigations.h) nothing below fills or
 * checks: a build for measuring what the canary costs (docs/SECURITY.md,
 * Cost), never the shipped one. */

/* A fresh block: the bytes before c in the word are not the program's yet. */
static inline void secure_canary_fill(char *c, size_t slack)
{
    if (__builtin_expect(slack == 0 || !MITIGATION_ON(canary), 0))
        return;
    uint64_t w = secure_canary8;
    __builtin_memcpy(secure_canary_word_at(c), &w, 8);
}

/* A block whose first `kept` bytes are the program's (realloc in place,
 * kept = the old size; a fresh block, kept = 0), the rest indeterminate or
 * zero (calloc): the word is only read, to keep the program's bytes in it,
 * when the program's bytes reach into it. A fresh block's word is stored
 * without a load, with zeros before c (calloc's stay zero), so the canary
 * of a new large block or of the end a realloc grew into costs a store
 * miss, not a load miss and a page fault on a page the program has not
 * touched yet. */
static inline void secure_canary_fill_upto(char *block, char *c, size_t slack, size_t kept)
{
    if (slack == 0 || !MITIGATION_ON(canary))
        return;
    char *w = secure_canary_word_at(c);
    if (w >= block + kept) {
        uint64_t v = secure_canary8 & SECURE_CANARY_MASK(c);
        __builtin_memcpy(w, &v, 8);
        return;
    }
    uint64_t v, mask = SECURE_CANARY_MASK(c);
    __builtin_memcpy(&v, w, 8);
    v = (v & ~mask) | (secure_canary8 & mask);
    __builtin_memcpy(w, &v, 8);
}

/* A block whose bytes before c are the program's (calloc, realloc). */
static inline void secure_canary_fill_keep(char *c, size_t slack)
{
    if (slack == 0 || !MITIGATION_ON(canary))
        return;
    uint64_t w, mask = SECURE_CANARY_MASK(c);
    __builtin_memcpy(&w, secure_canary_word_at(c), 8);
    w = (w & ~mask) | (secure_canary8 & mask);
    __builtin_memcpy(secure_canary_word_at(c), &w, 8);
}

static inline bool secure_canary_intact(const char *c, size_t slack)
{
    if (__builtin_expect(slack == 0 || !MITIGATION_ON(canary), 0))
        return true;
    uint64_t w;
    __builtin_memcpy(&w, secure_canary_word_at(c), 8);
    return ((w ^ secure_canary8) & SECURE_CANARY_MASK(c)) == 0;
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
