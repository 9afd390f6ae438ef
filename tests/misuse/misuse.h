/* One heap misuse per program (tests/misuse/README.md). Each program
 * commits its misuse and then exits 0: an allocator that does not catch it
 * lets the program finish ("silent"). Written against the standard names
 * only, so that any allocator can be preloaded under it. */
#ifndef MISUSE_H
#define MISUSE_H

#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exit status of a program whose misuse needs an entry point the
 * allocator does not have (free_sized on glibc 2.36, say). */
#define MISUSE_UNSUPPORTED 77

/* Exit status of a program whose misuse the allocator prevented without
 * a report (freed memory cleared: the information leaks). run.sh counts
 * it as caught ("prevented"). */
#define MISUSE_PREVENTED 3

/* What the information-leak programs store and look for. */
#define MISUSE_SECRET "tidemalloc-misuse-secret-0123456789"

/* Hide a pointer's origin from the optimiser. */
static inline void *opaque(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

/* Keep a load from being optimised away. */
static volatile unsigned char misuse_sink;

/* Whether n bytes at p hold 8 consecutive bytes of MISUSE_SECRET. */
static inline int misuse_holds_secret(const char *p, size_t n)
{
    const size_t k = sizeof MISUSE_SECRET - 1;
    for (size_t i = 0; i + 8 <= n; i++)
        for (size_t j = 0; j + 8 <= k; j++)
            if (memcmp(p + i, MISUSE_SECRET + j, 8) == 0)
                return 1;
    return 0;
}

/* Free a 48-byte block; while `again` hands blocks of its size out (its
 * memory among them, with most allocators), write through the stale
 * pointer; then use and free the new blocks (reuse_*_stale). */
static inline int misuse_reuse_stale(void *(*again)(void))
{
    char *p = opaque(malloc(48));
    memset(p, 'x', 48);
    free(p);
    char *q[64];
    for (int i = 0; i < 64; i++) {
        q[i] = opaque(again());
        memset(q[i], 'q', 48);
    }
    ((volatile char *)opaque(p))[8] = 's'; /* stale: may be one of q */
    for (int i = 0; i < 64; i++)
        free(q[i]);
    return 0;
}

typedef void (*free_sized_fn)(void *, size_t);
typedef void (*free_aligned_sized_fn)(void *, size_t, size_t);

/* C23's free_sized and free_aligned_sized, if the allocator in use has
 * them (looked up at run time: glibc 2.36 does not). */
static inline free_sized_fn find_free_sized(void)
{
    return (free_sized_fn)dlsym(RTLD_DEFAULT, "free_sized");
}

static inline free_aligned_sized_fn find_free_aligned_sized(void)
{
    return (free_aligned_sized_fn)dlsym(RTLD_DEFAULT, "free_aligned_sized");
}

#endif
