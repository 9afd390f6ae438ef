/* tidemalloc tests — the allocation API the conformance tests are written
 * against: the standard names, served by one of
 *
 *   TIDE_TEST_LINKED    the binary links libtidemalloc.so, so malloc & co.
 *                       resolve there (tidemalloc-specific checks enabled);
 *   TIDE_TEST_PREFIXED  the names are macros for tide_* (prefixed.h),
 *                       linked with tidemalloc_prefixed;
 *   neither             plain glibc: the reference run that checks the
 *                       tests themselves.
 */
#ifndef TIDE_TEST_ALLOC_API_H
#define TIDE_TEST_ALLOC_API_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(TIDE_TEST_PREFIXED)
#include "prefixed.h"
#define TIDE_TEST_MODE "prefixed"
#define TIDE_TEST_HAVE_TIDE_API 1
#else
#if defined(TIDE_TEST_LINKED)
#include "tidemalloc.h"
#define TIDE_TEST_MODE "linked"
#define TIDE_TEST_HAVE_TIDE_API 1
#else
#define TIDE_TEST_MODE "glibc"
#define TIDE_TEST_HAVE_TIDE_API 0
#endif

#ifdef __cplusplus
extern "C" {
#endif
/* glibc's aliases, exported by libc.so.6 and (must be) by libtidemalloc. */
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
#ifdef __cplusplus
}
#endif

#if defined(TIDE_TEST_LINKED)
/* C23 sized deallocation; glibc 2.36 does not have it yet. */
#ifdef __cplusplus
extern "C" {
#endif
extern void free_sized(void *, size_t);
extern void free_aligned_sized(void *, size_t, size_t);
#ifdef __cplusplus
}
#endif
#else
/* glibc reference: the sized frees degrade to free(). */
#define free_sized(p, n) ((void)(n), free(p))
#define free_aligned_sized(p, a, n) ((void)(a), (void)(n), free(p))
#endif
#endif /* !TIDE_TEST_PREFIXED */

#include "check.h"
#include "runner.h"

static inline size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* The alignment any block of n bytes must have: 16 for n >= 16 (glibc's
 * documented guarantee on 64-bit), otherwise the largest power of two not
 * above n (enough for any object that fits). */
static inline size_t min_align_for(size_t n)
{
    if (n >= 16)
        return 16;
    size_t a = 1;
    while (a * 2 <= n)
        a *= 2;
    return a;
}

#endif
