/* jemalloc_alloc — jemalloc's non-standard allocation calls: mallocx,
 * rallocx, xallocx, sallocx, dallocx, sdallocx and nallocx, on tidemalloc's
 * heaps. Programs that test for jemalloc by these symbols (RocksDB's
 * HasJemalloc(), folly) find them, and every block they touch is one
 * malloc/free also know.
 *
 * Invariant: nallocx(size, flags) == sallocx(mallocx(size, flags), 0) for
 * every block the heap profiler did not sample (a sampled block has a page
 * of its own, and reports that page as usable).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "tidemalloc.h"

#include "api/alloc_fast.h"
#include "jemalloc_flags.h"
#include "platform/report.h"

#define EXPORT __attribute__((visibility("default")))

static void *alloc_flagged(size_t size, je_flags_t f, const void *caller)
{
    if (!f.valid) {
        errno = EINVAL;
        return NULL;
    }
    if (!f.align && !f.zero)
        return alloc_fast(size);
    return alloc_with(size, f.align, f.zero, caller);
}

EXPORT void *mallocx(size_t size, int flags)
{
    return alloc_flagged(size, je_flags_decode(flags), __builtin_return_address(0));
}

EXPORT void *rallocx(void *p, size_t size, int flags)
{
    je_flags_t f = je_flags_decode(flags);
    if (p == NULL)
        return alloc_flagged(size, f, __builtin_return_address(0));
    if (!f.valid) {
        errno = EINVAL;
        return NULL;
    }
    size_t old = tide_malloc_usable_size(p);
    if (size == 0)
        size = 1; /* jemalloc: never a free */
    void *q;
    if (f.align <= 16) {
        q = tide_realloc(p, size);
    } else if (((uintptr_t)p & (f.align - 1)) == 0 && size <= old && size >= old / 2) {
        q = p; /* realloc would keep it too */
    } else {
        q = alloc_with(size, f.align, false, __builtin_return_address(0));
        if (q) {
            memcpy(q, p, old < size ? old : size);
            tide_free(p);
        }
    }
    if (q && f.zero) {
        size_t now = tide_malloc_usable_size(q);
        if (now > old)
            memset((char *)q + old, 0, now - old);
    }
    return q;
}

/* In place only: tidemalloc grows a block in place inside realloc, where
 * it may also move it, so here a block keeps its size and the caller
 * learns it could not grow (jemalloc's contract: the real size, which is
 * below size when the resize failed). */
EXPORT size_t xallocx(void *p, size_t size, size_t extra, int flags)
{
    (void)size, (void)extra, (void)flags;
    return tide_malloc_usable_size(p);
}

EXPORT size_t sallocx(const void *p, int flags)
{
    (void)flags;
    return tide_malloc_usable_size(p);
}

EXPORT void dallocx(void *p, int flags)
{
    (void)flags; /* a thread cache or arena flag cannot change where p goes */
    tide_free(p);
}

/* size may be anything from the requested size to the usable size. */
EXPORT void sdallocx(void *p, size_t size, int flags)
{
    (void)flags;
    if (p != NULL && size > tide_malloc_usable_size(p))
        report_misuse("sdallocx", p, "size is larger than the block");
    tide_free(p);
}

EXPORT size_t nallocx(size_t size, int flags)
{
    je_flags_t f = je_flags_decode(flags);
    return f.valid ? alloc_usable_for(size, f.align) : 0;
}
