/* override — the standard names (malloc, free, ..., glibc's __libc_*
 * aliases, C++ operator new and delete in every form) all served by
 * tidemalloc, so that nothing allocated here is ever freed by glibc or the
 * other way round. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>

#include "tidemalloc.h"

#include "alloc_fast.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT void *malloc(size_t size) { return alloc_fast(size); }
EXPORT void free(void *p) { free_fast(p, "free"); }
EXPORT void *calloc(size_t n, size_t size) { return tide_calloc(n, size); }
EXPORT void *realloc(void *p, size_t size) { return tide_realloc(p, size); }
EXPORT void *reallocarray(void *p, size_t n, size_t size) { return tide_reallocarray(p, n, size); }
EXPORT int posix_memalign(void **out, size_t align, size_t size) { return tide_posix_memalign(out, align, size); }
EXPORT void *aligned_alloc(size_t align, size_t size) { return tide_aligned_alloc(align, size); }
EXPORT void *memalign(size_t align, size_t size) { return tide_memalign(align, size); }
EXPORT void *valloc(size_t size) { return tide_valloc(size); }
EXPORT void *pvalloc(size_t size) { return tide_pvalloc(size); }
EXPORT size_t malloc_usable_size(void *p) { return tide_malloc_usable_size(p); }
EXPORT void free_sized(void *p, size_t size) { free_fast_sized(p, size, 0, "free_sized"); }
EXPORT void free_aligned_sized(void *p, size_t align, size_t size) { free_fast_sized(p, size, align, "free_aligned_sized"); }
EXPORT void cfree(void *p) { free_fast(p, "cfree"); }

EXPORT void *__libc_malloc(size_t size) { return alloc_fast(size); }
EXPORT void __libc_free(void *p) { free_fast(p, "free"); }
EXPORT void *__libc_calloc(size_t n, size_t size) { return tide_calloc(n, size); }
EXPORT void *__libc_realloc(void *p, size_t size) { return tide_realloc(p, size); }
EXPORT void *__libc_memalign(size_t align, size_t size) { return tide_memalign(align, size); }
EXPORT void *__libc_valloc(size_t size) { return tide_valloc(size); }
EXPORT void *__libc_pvalloc(size_t size) { return tide_pvalloc(size); }
EXPORT int __posix_memalign(void **out, size_t align, size_t size) { return tide_posix_memalign(out, align, size); }

/* glibc's introspection and tuning calls (malloc_trim, mallopt, mallinfo,
 * malloc_info, ...) and jemalloc's interface: src/compat/. */

/* ---- C++ ----
 * operator new must not return NULL: it calls the installed new_handler
 * and retries, or throws std::bad_alloc. Both live in libstdc++, which is
 * loaded whenever C++ code is; weak references keep this library free of a
 * libstdc++ dependency. */
typedef void (*new_handler_t)(void);
extern new_handler_t _ZSt15get_new_handlerv(void) __attribute__((weak));
extern void _ZSt17__throw_bad_allocv(void) __attribute__((weak, noreturn));

static void *new_failed(size_t size, size_t align)
{
    for (;;) {
        new_handler_t handler = _ZSt15get_new_handlerv ? _ZSt15get_new_handlerv() : NULL;
        if (!handler) {
            if (_ZSt17__throw_bad_allocv)
                _ZSt17__throw_bad_allocv();
            __builtin_trap();
        }
        handler();
        void *p = align > 16 ? tide_aligned_alloc(align, size) : tide_malloc(size);
        if (p)
            return p;
    }
}

static inline void *cxx_new(size_t size)
{
    void *p = alloc_fast(size);
    return likely(p != NULL) ? p : new_failed(size, 0);
}

/* In override_cxx.cc: the throwing form inside a try block. */
void *tide_cxx_new_nothrow(size_t size, size_t align) __attribute__((visibility("hidden")));

static inline void *cxx_new_nothrow(size_t size)
{
    void *p = alloc_fast(size);
    return likely(p != NULL) ? p : tide_cxx_new_nothrow(size, 0);
}

static inline void *cxx_new_aligned(size_t size, size_t align, int nothrow)
{
    void *p = tide_aligned_alloc(align, size);
    if (p)
        return p;
    return nothrow ? tide_cxx_new_nothrow(size, align) : new_failed(size, align);
}

typedef struct nothrow_s nothrow_t;

EXPORT void *_Znwm(size_t size) { return cxx_new(size); }
EXPORT void *_Znam(size_t size) { return cxx_new(size); }
EXPORT void *_ZnwmRKSt9nothrow_t(size_t size, const nothrow_t *nt) { (void)nt; return cxx_new_nothrow(size); }
EXPORT void *_ZnamRKSt9nothrow_t(size_t size, const nothrow_t *nt) { (void)nt; return cxx_new_nothrow(size); }
EXPORT void *_ZnwmSt11align_val_t(size_t size, size_t align) { return cxx_new_aligned(size, align, 0); }
EXPORT void *_ZnamSt11align_val_t(size_t size, size_t align) { return cxx_new_aligned(size, align, 0); }
EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const nothrow_t *nt) { (void)nt; return cxx_new_aligned(size, align, 1); }
EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const nothrow_t *nt) { (void)nt; return cxx_new_aligned(size, align, 1); }

EXPORT void _ZdlPv(void *p) { free_fast(p, "operator delete"); }
EXPORT void _ZdaPv(void *p) { free_fast(p, "operator delete[]"); }
EXPORT void _ZdlPvm(void *p, size_t size) { free_fast_sized(p, size, 0, "operator delete"); }
EXPORT void _ZdaPvm(void *p, size_t size) { free_fast_sized(p, size, 0, "operator delete[]"); }
EXPORT void _ZdlPvRKSt9nothrow_t(void *p, const nothrow_t *nt) { (void)nt; free_fast(p, "operator delete"); }
EXPORT void _ZdaPvRKSt9nothrow_t(void *p, const nothrow_t *nt) { (void)nt; free_fast(p, "operator delete[]"); }
EXPORT void _ZdlPvSt11align_val_t(void *p, size_t align) { free_fast_sized(p, FREE_NO_SIZE, align, "operator delete"); }
EXPORT void _ZdaPvSt11align_val_t(void *p, size_t align) { free_fast_sized(p, FREE_NO_SIZE, align, "operator delete[]"); }
EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t size, size_t align) { free_fast_sized(p, size, align, "operator delete"); }
EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t size, size_t align) { free_fast_sized(p, size, align, "operator delete[]"); }
EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const nothrow_t *nt) { (void)align; (void)nt; free_fast(p, "operator delete"); }
EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const nothrow_t *nt) { (void)align; (void)nt; free_fast(p, "operator delete[]"); }
