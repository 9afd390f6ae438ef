/* mitigation_hooks (hardened build) — guard pages after slabs and large
 * blocks, kept guarded slabs and runs, and shuffled carving, at the points
 * src/core/hooks/mitigation_hooks.h leaves at their defaults.
 */
#ifndef TIDE_MITIGATION_HOOKS_H
#define TIDE_MITIGATION_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/page_heap.h"
#include "core/pagemap.h"
#include "hardened/secure.h"

#pragma GCC visibility push(hidden)

/* One more page, the guard; a kept empty slab whose guard is still in place
 * when there is one. Its pages are mapped by the caller. */
static inline span_t *mitigation_slab_alloc(size_t npages, bool *mapped)
{
    *mapped = false;
    return secure_slab_alloc(npages + SECURE_SLAB_GUARD_PAGES);
}

/* Protect the guard and size the state array. */
static inline bool mitigation_slab_init(span_t *s)
{
    return secure_slab_init(s);
}

/* Kept, guard and all, up to a bound; else unprotected and freed to the
 * page heap (the slab-run cache is the default build's: secure_slab_alloc
 * has a cache of its own). */
static inline bool mitigation_slab_release(span_t *s)
{
    if (secure_slab_release(s))
        return true;
    pagemap_set(s->start, s->npages, &span_none);
    page_heap_free(s);
    return true;
}

/* The same blocks, linked in random order. */
static inline bool mitigation_slab_carve(span_t *s, char *first, uint32_t n)
{
    secure_carve(s, first, n);
    return true;
}

/* Whole pages plus a guard page (protected by secure_on_alloc). */
static inline size_t mitigation_large_pad(size_t size)
{
    return (size + OS_PAGE_SIZE - 1 + OS_PAGE_SIZE) & ~(OS_PAGE_SIZE - 1);
}

/* A kept run, its guard still protected, when one fits. */
static inline span_t *mitigation_large_run(size_t npages, size_t align_pages)
{
    return secure_large_take(npages, align_pages);
}

/* The guard page is never zeroed: it may be protected. */
static inline size_t mitigation_large_zero_bytes(size_t padded)
{
    return padded - OS_PAGE_SIZE;
}

/* The kept slabs and runs decay with the page heap's dirty pages
 * (secure_decay.c). */
static inline uint64_t mitigation_decay_tick(uint64_t now, uint64_t next)
{
    return secure_kept_tick(now, next);
}

static inline void mitigation_on_dirty_hook(void (*fn)(void))
{
    secure_kept_set_wake(fn);
}

#pragma GCC visibility pop

#endif
