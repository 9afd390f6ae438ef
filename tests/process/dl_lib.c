/* A shared library for the dlopen test: it allocates in its constructor,
 * hands out malloc'd memory, frees memory the program allocated, and
 * checks its constructor's blocks in its destructor. */
#define _GNU_SOURCE 1
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define EXPORT __attribute__((visibility("default")))

static void *ctor_blocks[50];
static char *ctor_string;
static int ctor_count;

__attribute__((constructor)) static void dl_ctor(void)
{
    for (int i = 0; i < 50; i++) {
        ctor_blocks[i] = malloc((size_t)i * 321 + 1);
        if (ctor_blocks[i] == NULL)
            _exit(41);
        pattern_fill(ctor_blocks[i], (size_t)i * 321 + 1, (uint64_t)i + 1000);
    }
    ctor_string = strdup("allocated in the library constructor");
    if (ctor_string == NULL)
        _exit(42);
    ctor_count++;
}

__attribute__((destructor)) static void dl_dtor(void)
{
    for (int i = 0; i < 50; i++) {
        if (pattern_check(ctor_blocks[i], (size_t)i * 321 + 1, (uint64_t)i + 1000) != SIZE_MAX)
            _exit(43);
        free(ctor_blocks[i]);
    }
    free(ctor_string);
}

/* A malloc'd block of n bytes filled with pattern(seed); the caller frees. */
EXPORT void *dl_make(size_t n, uint64_t seed)
{
    void *p = malloc(n);
    if (p != NULL)
        pattern_fill(p, n, seed);
    return p;
}

/* realloc a caller's block. */
EXPORT void *dl_grow(void *p, size_t n)
{
    return realloc(p, n);
}

/* Verify and free a block the caller allocated; returns 0 if intact. */
EXPORT int dl_take(void *p, size_t n, uint64_t seed)
{
    int bad = pattern_check(p, n, seed) != SIZE_MAX;
    free(p);
    return bad;
}

EXPORT char *dl_ctor_string(void)
{
    return strdup(ctor_string);
}

EXPORT int dl_ctor_count(void)
{
    return ctor_count;
}

/* Blocks the constructor allocated are still intact. */
EXPORT int dl_check_ctor_blocks(void)
{
    for (int i = 0; i < 50; i++)
        if (pattern_check(ctor_blocks[i], (size_t)i * 321 + 1, (uint64_t)i + 1000) != SIZE_MAX)
            return 1;
    return 0;
}
