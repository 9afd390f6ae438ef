/* checks — the hardened build's verdicts on the pointers a program passes
 * back: free (every form), malloc_usable_size and realloc check the block
 * against what malloc recorded, and every misuse found on a block's state or
 * links is reported here (TIDE_SECURE=1 only; faults: fault.c; the guarded
 * pool: guarded.c).
 *
 * Owns the recording at malloc (the slow path's; the fast path records
 * inline, secure_fast.h), the checks and the reports. Invariants:
 *  - nothing is written to a block, its state or its slab before every
 *    check on it has passed: a report describes the heap as the misuse
 *    left it, and a misuse is never half carried out;
 *  - a small block's state entry is 0 from the moment it is freed until
 *    malloc hands it out again, so a second free of it, however long after,
 *    from whichever thread, is caught exactly (not only the most recent);
 *  - the slack canary is checked on the requested size recorded at malloc
 *    (or the last in-place realloc), which is also what
 *    malloc_usable_size returns, so a program that fills its usable size
 *    never trips it;
 *  - the fast path (secure_fast.h) makes the same checks for the common
 *    case and sends everything else here, which checks again from scratch:
 *    what is reported never depends on which path saw it.
 */
#ifndef TIDE_SECURE
#define TIDE_SECURE 1 /* this file is only part of the hardened build */
#endif
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "core/isolated.h"
#include "platform/lock.h"
#include "core/heap.h"
#include "core/large.h"
#include "core/pagemap.h"
#include "core/size_class.h"
#include "core/slab.h"
#include "platform/os.h"
#include "platform/report.h"
#include "secure_internal.h"
#include "tidemalloc.h"

/* ---- reports ---- */

const char *secure_freed_kind(const char *call)
{
    /* A free block passed to realloc or malloc_usable_size is used after
     * its free; passed to any form of free, it is freed twice. */
    return strcmp(call, "realloc") == 0 || strcmp(call, "malloc_usable_size") == 0 ? "use after free"
                                                                                  : "double free";
}

static size_t class_of(const span_t *s)
{
    return s->kind == SPAN_SMALL ? s->block_size : 0;
}

void secure_report_bad_link(const void *block, uintptr_t decoded)
{
    (void)decoded;
    report_heap_misuse("malloc", block, "corrupted free list",
                       "a freed block's link was overwritten (write after free, or an overflow)",
                       class_of(pagemap_lookup(block)));
}

void *secure_report_bad_link_at(const void *block, uintptr_t decoded)
{
    secure_report_bad_link(block, decoded);
}

void *secure_report_reused(const span_t *s, const void *p)
{
    report_heap_misuse("malloc", p, "corrupted free list", "a block on the free list is in use",
                       s->block_size);
}

__attribute__((noreturn, cold, noinline)) static void bad_slack(const char *call, const void *p,
                                                               size_t block_size)
{
    report_heap_misuse(call, p, "heap overflow",
                       "bytes past the requested size were overwritten (found at free)", block_size);
}

static inline void check_slack(const char *call, const void *p, const char *from, const char *end,
                               size_t block_size)
{
    if (__builtin_expect(!secure_canary_intact(from, (size_t)(end - from)), 0))
        bad_slack(call, p, block_size);
}

/* ---- allocation ---- */

void secure_on_alloc(void *p, size_t size)
{
    span_t *s = pagemap_lookup(p);
    if (s->kind == SPAN_SMALL) {
        secure_record(s, p, size, secure_canary_sampled(secure_countdown), 0);
    } else if (s->kind == SPAN_LARGE || s->kind == SPAN_HUGE) {
        secure_init();
        secure_record(s, p, size, true, 0);
        secure_large_guard(s, p);
    }
    /* else: a guarded block, recorded by guarded.c */
}

/* ---- free ---- */

/* The state of small block p, or a report: interior pointers, pointers past
 * the carved blocks, blocks already free. */
__attribute__((noreturn, cold, noinline)) static void bad_small(const span_t *s, const void *p,
                                                               const char *call)
{
    uint64_t off = (uint64_t)((const char *)p - s->start);
    if (off * s->div_magic >= s->div_magic)
        report_heap_misuse(call, p, "invalid free", "pointer is inside a block, not at its start",
                           s->block_size);
    if (secure_block_index(s, p) >= s->capacity)
        report_heap_misuse(call, p, "invalid free", "pointer is not a block handed out by malloc",
                           s->block_size);
    report_heap_misuse(call, p, secure_freed_kind(call), "block is already free", s->block_size);
}

static inline __attribute__((always_inline)) uint16_t *small_state(span_t *s, const void *p,
                                                                  const char *call)
{
    uint64_t off = (uint64_t)((const char *)p - s->start);
    uint64_t idx = secure_block_index(s, p);
    if (__builtin_expect(off * s->div_magic >= s->div_magic || idx >= s->capacity, 0))
        bad_small(s, p, call);
    uint16_t *st = &s->sec_state[idx];
    if (__builtin_expect(*st == 0, 0))
        bad_small(s, p, call);
    return st;
}

__attribute__((noinline)) static void check_size_slow(const char *call, const void *p, size_t given,
                                                      size_t align, size_t requested, size_t block_size)
{
    if (given != FREE_NO_SIZE && given != requested)
        report_heap_misuse(call, p, "wrong size",
                           "the size given differs from the size allocated", block_size);
    if (align && ((align & (align - 1)) != 0 || ((uintptr_t)p & (align - 1)) != 0))
        report_heap_misuse(call, p, "wrong alignment", "the block does not have the alignment given",
                           block_size);
}

static inline void check_size(const char *call, const void *p, size_t given, size_t align,
                              size_t requested, size_t block_size)
{
    if (__builtin_expect(given != FREE_NO_SIZE || align != 0, 0))
        check_size_slow(call, p, given, align, requested, block_size);
}

static void large_check(span_t *s, const void *p, const char *call)
{
    if (p != s->start)
        report_heap_misuse(call, p, "invalid free", "pointer is inside a block, not at its start",
                           secure_large_data_bytes(s));
}

__attribute__((noinline)) static void free_other(void *p, span_t *s, size_t size, size_t align,
                                                 const char *call)
{
    if (s->kind == SPAN_LARGE || s->kind == SPAN_HUGE) {
        size_t data = secure_large_data_bytes(s);
        large_check(s, p, call);
        check_size(call, p, size, align, s->sec_size, data);
        check_slack(call, p, (char *)p + s->sec_size, (char *)p + data, data);
        if (MITIGATION_ON(zero_on_free))
            memset(p, 0, s->sec_size);
        secure_large_free(s, p, call);
        return;
    }
    if (p == NULL)
        return;
    if (guarded_owns(p)) {
        guarded_free(p, size, align, call);
        return;
    }
    size_t bytes;
    if (secure_large_was_freed(p, &bytes))
        report_heap_misuse(call, p, secure_freed_kind(call), "large block is already free", bytes);
    report_heap_misuse(call, p, "invalid free",
                       "pointer was not allocated by tidemalloc, or was already freed", 0);
}

static inline __attribute__((always_inline)) void free_small_push(span_t *s, void *p, uint16_t *st,
                                                                  const char *call)
{
    *st = 0;
    if (MITIGATION_ON(zero_on_free)) /* the full level: no data outlives its block */
        memset(p, 0, s->block_size);
    if (__builtin_expect(span_owner_fast(s) == thread_key(), 1)) {
        block_set_next(p, s->local_free);
        s->local_free = p;
        if (--s->used == 0)
            slab_on_empty(s);
        return;
    }
    free_slow(p, s, call);
}

/* A sized free: compare with the recorded size and alignment. */
__attribute__((noinline)) static void free_small_sized(span_t *s, void *p, uint16_t *st, size_t size,
                                                       size_t align, const char *call)
{
    check_size_slow(call, p, size, align, secure_state_size(*st), s->block_size);
}

static void secure_free_checked(void *p, span_t *s, size_t size, size_t align, const char *call);

void secure_free(void *p, size_t size, size_t align, const char *call)
{
    secure_free_in(p, pagemap_lookup(p), size, align, call);
}

/* The fast path's fall-through (another thread's slab, a misuse, a sized
 * free, the canary...): it has looked s up already. */
void secure_free_in(void *p, span_t *s, size_t size, size_t align, const char *call)
{
    if (__builtin_expect(isolated_mode, 0)) {
        isolated_free(p); /* a child forked mid-operation: core/isolated.h */
        return;
    }
    secure_free_checked(p, s, size, align, call); /* errno: the platform's calls leave it alone */
}

static void secure_free_checked(void *p, span_t *s, size_t size, size_t align, const char *call)
{
    if (__builtin_expect(s->kind != SPAN_SMALL, 0)) {
        free_other(p, s, size, align, call);
        return;
    }
    uint16_t *st = small_state(s, p, call);
    if (__builtin_expect(size != FREE_NO_SIZE || align != 0, 0))
        free_small_sized(s, p, st, size, align, call);
    size_t req = secure_state_size(*st);
    if (secure_state_canary(*st))
        check_slack(call, p, (char *)p + req, (char *)p + s->block_size, s->block_size);
    free_small_push(s, p, st, call);
}

/* ---- size queries and realloc ---- */

size_t secure_usable_size(const void *p, const char *call)
{
    span_t *s = pagemap_lookup(p);
    switch (s->kind) {
    case SPAN_SMALL:
        return secure_state_size(*small_state(s, p, call));
    case SPAN_LARGE:
    case SPAN_HUGE:
        large_check(s, p, call);
        return s->sec_size;
    default:
        if (guarded_owns(p))
            return guarded_usable_size(p, call);
        size_t bytes;
        if (secure_large_was_freed(p, &bytes))
            report_heap_misuse(call, p, secure_freed_kind(call), "large block is already free", bytes);
        report_heap_misuse(call, p, "invalid pointer",
                           "pointer was not allocated by tidemalloc, or was already freed", 0);
    }
}

/* Growing a large block takes a quarter's headroom (as the default build
 * does), so appends move or resize O(log n) times; the headroom is slack
 * until a later realloc grows into it. */
static size_t headroom(size_t size)
{
    if (size <= SC_SMALL_MAX || size > HUGE_THRESHOLD)
        return size;
    size_t step = (size_t)1 << (63 - __builtin_clzl(size - 1) - 2);
    return (size + step - 1) & ~(step - 1);
}

void *secure_realloc(void *p, size_t size)
{
    if (p == NULL)
        return tide_malloc(size);
    if (size == 0) {
        secure_free(p, FREE_NO_SIZE, 0, "realloc"); /* glibc: frees, returns NULL */
        return NULL;
    }
    span_t *s = pagemap_lookup(p);
    size_t old = secure_usable_size(p, "realloc");
    /* In place when the block still fits and stays at least half used;
     * the old slack is checked first. */
    if (s->kind == SPAN_SMALL) {
        if (secure_state_canary(s->sec_state[secure_block_index(s, p)]))
            check_slack("realloc", p, (char *)p + old, (char *)p + s->block_size, s->block_size);
        if (size <= s->block_size && size >= s->block_size / 2) {
            secure_rerecord(s, p, size, old < size ? old : size);
            return p;
        }
    } else if (s->kind == SPAN_LARGE || s->kind == SPAN_HUGE) {
        size_t data = secure_large_data_bytes(s);
        check_slack("realloc", p, (char *)p + old, (char *)p + data, data);
        if (size <= data && size > SC_SMALL_MAX && size >= data / 2) {
            secure_rerecord(s, p, size, old < size ? old : size);
            return p;
        }
        if (size > SC_SMALL_MAX) {
            void *q = secure_large_resize(s, p, size, size > old ? headroom(size) : size);
            if (q)
                return q;
        }
    }
    /* Move, with the same headroom. */
    size_t target = size > old ? headroom(size) : size;
    void *q = tide_malloc(target);
    if (q == NULL)
        return NULL; /* p is untouched */
    span_t *qs = pagemap_lookup(q);
    if (target != size && qs->kind != SPAN_NONE)
        secure_rerecord(qs, q, size, 0); /* the copy comes after */
    memcpy(q, p, old < size ? old : size);
    secure_free(p, FREE_NO_SIZE, 0, "realloc");
    return q;
}
