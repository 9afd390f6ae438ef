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

/* Hide a pointer's origin from the optimiser. */
static inline void *opaque(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

/* Keep a load from being optimised away. */
static volatile unsigned char misuse_sink;

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
