/* mitigation_api_hooks (default build) — the hardened build's steps in the
 * tide_* API (api/alloc.c), empty here.
 *
 * Included through the include path the build selects, like
 * core/hooks/mitigation_hooks.h; src/hardened/hooks/ has the hardened
 * definitions. Each returns "not handled" (or does nothing), so the
 * default build's API compiles as if the hooks were not there.
 */
#ifndef TIDE_MITIGATION_API_HOOKS_H
#define TIDE_MITIGATION_API_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#pragma GCC visibility push(hidden)

/* Which build this is, for verbose:true and the stats. */
#define TIDE_BUILD_NAME "default"

/* An allocation the hardened build serves from its guarded pool; NULL:
 * serve it the ordinary way. */
static inline void *mitigation_alloc_sampled(size_t size, size_t align, bool zero)
{
    (void)size, (void)align, (void)zero;
    return NULL;
}

/* p was just allocated with `size` bytes requested. */
static inline void mitigation_on_alloc(void *p, size_t size)
{
    (void)p, (void)size;
}

/* true, with *out, when the hardened build answers malloc_usable_size. */
static inline bool mitigation_usable_size(const void *p, const char *call, size_t *out)
{
    (void)p, (void)call, (void)out;
    return false;
}

/* true, with *out, when the hardened build answers nallocx: the usable
 * size a request of size bytes would report. */
static inline bool mitigation_usable_for(size_t size, size_t *out)
{
    (void)size, (void)out;
    return false;
}

/* true, with *out, when the hardened build did the realloc itself. */
static inline bool mitigation_realloc(void *p, size_t size, void **out)
{
    (void)p, (void)size, (void)out;
    return false;
}

/* malloc_trim: memory the hardened build keeps outside the page heap. */
static inline void mitigation_trim(void) {}

/* Around fork: take, then release (parent and child alike), the locks of
 * the hardened build's own structures. */
static inline void mitigation_fork_prepare(void) {}
static inline void mitigation_fork_release(void) {}

#pragma GCC visibility pop

#endif
