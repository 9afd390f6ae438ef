/* The tide_* API: malloc and friends, built on the inlined fast paths. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tidemalloc.h"

#include <mitigation_api_hooks.h>

#include "alloc_fast.h"
#include "config/config.h"
#include "core/central.h"
#include "core/isolated.h"
#include "core/large.h"
#include "core/limit.h"
#include "core/page_heap.h"
#include "core/slab.h"
#include "init.h"
#include "platform/lock.h"
#include "platform/os.h"
#include "platform/report.h"
#include "prof/prof_internal.h"
#include "service/background.h"
#include "service/mem_limits.h"
#include "service/stats.h"
#include "service/stats_socket.h"

static heap_t *current_heap(void)
{
    heap_t *h = tls_heap;
    if (unlikely(h == &heap_empty)) {
        tide_init();
        h = heap_thread_init();
    }
    else if (unlikely(!h->exit_hooked) && h->state == HEAP_ACTIVE)
        heap_hook_exit_late(h);
    return h;
}

/* The class for a small request: the first at or above size whose block
 * size is a multiple of the alignment (slabs start on a page, so such a
 * class gives aligned blocks); SC_COUNT if none. nallocx answers with it
 * too. */
static inline unsigned class_for(size_t size, size_t align)
{
    unsigned cls = sc_of_size(size);
    size_t misalign = align ? align - 1 : 0;
    while (cls < SC_COUNT && (sc_block_size[cls] & misalign) != 0)
        cls++;
    return cls;
}

/* alloc_generic's work, on the thread's heap (or the exited threads'). */
static inline __attribute__((always_inline)) void *alloc_once(size_t size, size_t align, bool zero,
                                                                const void *caller)
{
    void *g = mitigation_alloc_sampled(size, align, zero);
    if (g)
        return g;
    /* An internal failure the allocator gets around (no heap for this
     * thread, a smaller region) must not leave ENOMEM behind a success. */
    int saved_errno = errno;
    heap_t *h = current_heap();
    void *p;
    if (unlikely(h == NULL || h == &heap_exited)) {
        p = heap_exited_alloc(size, align);
        if (p && zero && size <= SC_SMALL_MAX)
            memset(p, 0, size);
    } else if (size <= SC_SMALL_MAX && align <= OS_PAGE_SIZE) {
        unsigned cls = class_for(size, align);
        if (cls < SC_COUNT && sc_is_central(cls) && central_on()) {
            /* Arena blocks are charged one by one: a cache refill hands
             * out blocks a later malloc returns. */
            void *sample = NULL;
            if (unlikely(prof_sampling()) && prof_charge_block(h, sc_block_size[cls]))
                sample = prof_alloc_sampled(size, align, zero, sc_block_size[cls], central_next_span(h, cls),
                                            caller);
            p = sample ? sample : central_alloc(h, cls);
            if (p && zero && !sample)
                memset(p, 0, size);
        } else if (cls < SC_COUNT) {
            void *sample = NULL;
            p = slab_alloc(h, cls);
            if (unlikely(p == SLAB_SAMPLE)) {
                /* The slab the sample point fell in: where the blocks
                 * the sample stands for live. */
                sample = prof_alloc_sampled(size, align, zero, sc_block_size[cls], h->cur[cls], caller);
                p = sample ? sample : slab_alloc_unsampled(h, cls);
            }
            if (p && zero && !sample)
                memset(p, 0, size);
        } else {
            p = large_alloc(size, align, zero);
        }
    } else if (prof_sampling() && prof_charge(h, size) &&
               (p = prof_alloc_sampled(size, align, zero, size, NULL, caller)) != NULL) {
        /* sampled */
    } else {
        p = large_alloc(size, align, zero);
    }
    if (unlikely(p == NULL)) {
        errno = ENOMEM;
    } else {
        errno = saved_errno;
        mitigation_on_alloc(p, size);
    }
    return p;
}

/* Past the hard limit (core/limit.h) a request fails only after everything
 * that can be purged was: the threads' caches and batches, the orphans'
 * pages, every dirty page. Then it is retried once. */
static __attribute__((noinline, cold)) void *alloc_at_hard_limit(size_t size, size_t align, bool zero,
                                                                   const void *caller)
{
    tide_purge();
    uint64_t refused = limit_refusals();
    void *p = alloc_once(size, align, zero, caller);
    if (p == NULL && limit_refusals() != refused) {
        limits_note_failure(size);
        errno = ENOMEM;
    }
    return p;
}

/* The retry is out of line: the slow path stays one inlined attempt. */
static inline __attribute__((always_inline)) void *alloc_from_heap(size_t size, size_t align, bool zero,
                                                                   const void *caller)
{
    void *p = alloc_once(size, align, zero, caller);
    if (likely(p != NULL) || !limit_hard())
        return p;
    return alloc_at_hard_limit(size, align, zero, caller);
}

/* Every allocation that missed the fast path, and every alignment. */
static void *alloc_generic(size_t size, size_t align, bool zero, const void *caller)
{
    if (unlikely(isolated_mode))
        return isolated_alloc(size, align, zero);
    void *p = alloc_from_heap(size, align, zero, caller);
    if (unlikely(atomic_load_explicit(&prof_dump_pending, memory_order_relaxed))) {
        int saved_errno = errno;
        prof_dump_pending_run();
        errno = saved_errno;
    }
    return p;
}

void *alloc_slow(size_t size, const void *caller)
{
    return alloc_generic(size, 0, false, caller);
}

void *alloc_with(size_t size, size_t align, bool zero, const void *caller)
{
    return alloc_generic(size, align <= 16 ? 0 : align, zero, caller);
}

size_t alloc_usable_for(size_t size, size_t align)
{
    size_t usable;
    if (mitigation_usable_for(size, &usable))
        return usable;
    if (size <= SC_SMALL_MAX && align <= OS_PAGE_SIZE) {
        unsigned cls = class_for(size, align);
        if (cls < SC_COUNT)
            return sc_block_size[cls];
    }
    if (size > SIZE_MAX - OS_PAGE_SIZE)
        return 0;
    size_t pages = size ? (size + OS_PAGE_SIZE - 1) >> OS_PAGE_SHIFT : 1;
    return pages << OS_PAGE_SHIFT;
}

TIDE_EXPORT void *tide_malloc(size_t size)
{
    return alloc_fast(size);
}

TIDE_EXPORT void tide_free(void *p)
{
    free_fast(p, "free");
}

TIDE_EXPORT void tide_free_sized(void *p, size_t size)
{
    free_fast_sized(p, size, 0, "free_sized");
}

TIDE_EXPORT void tide_free_aligned_sized(void *p, size_t alignment, size_t size)
{
    free_fast_sized(p, size, alignment, "free_aligned_sized");
}

TIDE_EXPORT void *tide_calloc(size_t count, size_t size)
{
    size_t total;
    if (unlikely(__builtin_mul_overflow(count, size, &total))) {
        errno = ENOMEM;
        return NULL;
    }
    return alloc_generic(total, 0, true, __builtin_return_address(0));
}

static size_t usable_size(const void *p, const char *call)
{
    if (unlikely(isolated_mode) && isolated_owns(p))
        return isolated_usable_size(p);
    size_t requested;
    if (mitigation_usable_size(p, call, &requested))
        return requested;
    span_t *s = pagemap_lookup(p);
    switch (s->kind) {
    case SPAN_SMALL:
        return s->block_size;
    case SPAN_LARGE:
    case SPAN_HUGE:
        if (p != s->start)
            report_misuse(call, p, "pointer is inside a block, not at its start");
        return large_usable_size(s);
    default:
        report_misuse(call, p, "pointer was not allocated by tidemalloc, or was already freed");
    }
}

TIDE_EXPORT size_t tide_malloc_usable_size(const void *p)
{
    if (p == NULL)
        return 0;
    return usable_size(p, "malloc_usable_size");
}

/* A sampled block resized in place keeps its sample (and the weight it was
 * drawn with, which keeps the estimates unbiased); only its size changes. */
static void *large_resized(span_t *s, void *p, size_t size)
{
    if (unlikely(s->prof != NULL))
        prof_set_requested(s, p, size);
    return p;
}

TIDE_EXPORT void *tide_realloc(void *p, size_t size)
{
    if (unlikely(isolated_mode) && p != NULL) {
        if (size == 0) {
            isolated_free(p);
            return NULL;
        }
        return isolated_realloc(p, size, usable_size(p, "realloc"));
    }
    void *moved;
    if (mitigation_realloc(p, size, &moved))
        return moved;
    if (p == NULL)
        return alloc_fast(size);
    if (size == 0) {
        /* glibc: realloc(p, 0) frees p and returns NULL. */
        free_fast(p, "realloc");
        return NULL;
    }
    size_t old = usable_size(p, "realloc");
    span_t *s = pagemap_lookup(p);
    /* Stay put unless the block would be less than half used. */
    if (size <= old && size >= old / 2)
        return s->kind == SPAN_SMALL ? p : large_resized(s, p, size);
    /* Growing a large block takes a quarter's headroom (the next of four
     * steps per power of two), in place if the pages after it are free,
     * else by moving: growing by small appends then copies O(n) bytes in
     * all, not O(n^2 / page). */
    size_t target = size;
    if (size > old && size > SC_SMALL_MAX && size <= HUGE_THRESHOLD) {
        size_t step = (size_t)1 << (63 - __builtin_clzl(size - 1) - 2);
        target = (size + step - 1) & ~(step - 1);
    }
    if (s->kind != SPAN_SMALL && size > SC_SMALL_MAX) {
        void *q = large_resize(s, p, target);
        if (q)
            return large_resized(s, q, size);
    }
    void *q = alloc_generic(target, 0, false, __builtin_return_address(0));
    if (q == NULL)
        return NULL; /* p is untouched */
    memcpy(q, p, old < size ? old : size);
    free_fast(p, "realloc");
    span_t *qs = pagemap_lookup(q);
    if (unlikely(qs->kind != SPAN_SMALL && qs->prof))
        prof_set_requested(qs, q, size); /* it was sampled with its headroom */
    return q;
}

TIDE_EXPORT void *tide_reallocarray(void *p, size_t count, size_t size)
{
    size_t total;
    if (unlikely(__builtin_mul_overflow(count, size, &total))) {
        errno = ENOMEM;
        return NULL;
    }
    return tide_realloc(p, total);
}

/* Inlined: the caller's return address is the program's. */
static inline __attribute__((always_inline)) void *aligned(size_t align, size_t size)
{
    if (align <= 16)
        return alloc_fast(size);
    return alloc_generic(size, align, false, __builtin_return_address(0));
}

TIDE_EXPORT int tide_posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    /* errno is ENOMEM too on failure, as glibc leaves it. */
    void *p = aligned(align, size);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

TIDE_EXPORT void *tide_aligned_alloc(size_t align, size_t size)
{
    if (align == 0 || (align & (align - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    return aligned(align, size);
}

TIDE_EXPORT void *tide_memalign(size_t align, size_t size)
{
    /* glibc rounds a non-power-of-two alignment up; beyond 2^63 that is
     * impossible (EINVAL), while 2^63 itself only fails for want of memory. */
    if (align > ((size_t)1 << 63)) {
        errno = EINVAL;
        return NULL;
    }
    if (align & (align - 1))
        align = (size_t)1 << (64 - __builtin_clzl(align));
    if (align > ((size_t)1 << 40)) {
        errno = ENOMEM;
        return NULL;
    }
    return aligned(align, size);
}

TIDE_EXPORT void *tide_valloc(size_t size)
{
    return aligned(OS_PAGE_SIZE, size);
}

TIDE_EXPORT void *tide_pvalloc(size_t size)
{
    size_t rounded = (size + OS_PAGE_SIZE - 1) & ~(OS_PAGE_SIZE - 1);
    if (rounded < size) {
        errno = ENOMEM;
        return NULL;
    }
    return aligned(OS_PAGE_SIZE, rounded ? rounded : OS_PAGE_SIZE);
}

void alloc_flush_thread_caches(void)
{
    if (unlikely(isolated_mode))
        return;
    heap_t *h = tls_heap;
    if (h != &heap_empty && h != &heap_exited) {
        central_drain(h);
        slab_flush_remote(h);
        slab_collect_pending(h);
        slab_release_spares(h);
    }
}

TIDE_EXPORT void tide_purge(void)
{
    if (unlikely(isolated_mode))
        return; /* nothing of the parent's may be touched */
    alloc_flush_thread_caches();
    heap_collect_orphans();
    mitigation_trim();
    page_heap_purge_all();
    os_retry_releases();
}

TIDE_EXPORT int tide_config_set(const char *key, const char *value)
{
    if (!key || !value)
        return EINVAL;
    tide_init();
    options_t next = options;
    if (config_set_one(&next, key, value) != NULL)
        return EINVAL;
    config_publish(&next);
    page_heap_set_policy(OPT(decay_ms), OPT(dirty_max));
    limits_configure();
    prof_init();
    if (OPT(background_thread) || OPT(stats_interval_ms) || OPT(prof_interval_ms) || stats_file_enabled() ||
        limit_any())
        background_notify(); /* start it, or wake it to see the new deadlines */
    if (OPT(stats_socket))
        stats_socket_start();
    return 0;
}
