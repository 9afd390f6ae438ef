/* mitigation_api_hooks (hardened build) — the guarded pool, the recorded
 * requested size and canary, the checked usable size and realloc, and the
 * trim of kept memory, at the points src/api/hooks/mitigation_api_hooks.h
 * leaves empty.
 */
#ifndef TIDE_MITIGATION_API_HOOKS_H
#define TIDE_MITIGATION_API_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "hardened/secure.h"

#pragma GCC visibility push(hidden)

/* Which build this is, for verbose:true and the stats. */
#define TIDE_BUILD_NAME "hardened"

/* Sampled: src/hardened/guarded.c. */
static inline void *mitigation_alloc_sampled(size_t size, size_t align, bool zero)
{
    return guarded_maybe_alloc(size, align, zero);
}

/* Record the size, fill the slack, protect a large block's guard. */
static inline void mitigation_on_alloc(void *p, size_t size)
{
    secure_on_alloc(p, size);
}

/* The requested size, after checking p. */
static inline bool mitigation_usable_size(const void *p, const char *call, size_t *out)
{
    *out = secure_usable_size(p, call);
    return true;
}

/* nallocx: the hardened build reports the requested size. */
static inline bool mitigation_usable_for(size_t size, size_t *out)
{
    *out = size;
    return true;
}

static inline bool mitigation_realloc(void *p, size_t size, void **out)
{
    *out = secure_realloc(p, size);
    return true;
}

/* The kept guarded large runs and slabs. */
static inline void mitigation_trim(void)
{
    secure_large_trim();
    secure_slab_trim();
}

/* Around fork: the hardened build's own locks (api/init.c says where in
 * the lock order). */
static inline void mitigation_fork_prepare(void)
{
    secure_fork_lock();
}

static inline void mitigation_fork_release(void)
{
    secure_fork_unlock();
}

#pragma GCC visibility pop

#endif
