/* consumer — a program built against an installed tidemalloc the way
 * docs/DEPLOY.md says (pkg-config, or CMake's find_package), checking that
 * what it got is tidemalloc:
 *   - malloc and tide_version are defined by one object, which is not libc:
 *     the installed libtidemalloc.so.0, or the program itself when linked
 *     with libtidemalloc.a;
 *   - the library is the release of the header (tide_version() ==
 *     TIDE_VERSION);
 *   - 8 MiB of blocks from malloc show up in tide_stats_get's live bytes,
 *     and leave them when freed.
 * Prints "consumer: malloc from OBJECT, tidemalloc VERSION" and exits 0, or
 * says what is wrong and exits 1. The test compares OBJECT with the path it
 * expects. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tidemalloc.h>

#define BLOCKS 8192
#define BLOCK 1024

static int fail(const char *what)
{
    fprintf(stderr, "consumer: %s\n", what);
    return 1;
}

static const char *object_of(void *addr)
{
    Dl_info info;
    if (!dladdr(addr, &info) || !info.dli_fname)
        return NULL;
    return info.dli_fname;
}

int main(void)
{
    /* Through a volatile pointer: the address the program's own calls use. */
    void *(*volatile m)(size_t) = malloc;
    const char *(*volatile v)(void) = tide_version;
    const char *malloc_obj = object_of((void *)m), *version_obj = object_of((void *)v);
    if (!malloc_obj || !version_obj)
        return fail("dladdr found no object for malloc or tide_version");
    if (strcmp(malloc_obj, version_obj) != 0) {
        fprintf(stderr, "consumer: malloc is from %s, tide_version from %s\n", malloc_obj,
                version_obj);
        return 1;
    }
    if (strstr(malloc_obj, "libc.so"))
        return fail("malloc resolves to the C library");
    if (strcmp(tide_version(), TIDE_VERSION) != 0) {
        fprintf(stderr, "consumer: library %s, header %s\n", tide_version(), TIDE_VERSION);
        return 1;
    }

    tide_stats_t before, during, after;
    if (tide_stats_get(&before) != 0)
        return fail("tide_stats_get failed");
    static void *blocks[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
        blocks[i] = m(BLOCK);
        if (!blocks[i])
            return fail("malloc returned NULL");
        memset(blocks[i], i & 0xff, BLOCK);
    }
    tide_stats_get(&during);
    for (int i = 0; i < BLOCKS; i++)
        free(blocks[i]);
    tide_stats_get(&after);
    uint64_t grew = during.live_usable - before.live_usable;
    if (grew < (uint64_t)BLOCKS * BLOCK) {
        fprintf(stderr, "consumer: live bytes grew by %llu for %d blocks of %d\n",
                (unsigned long long)grew, BLOCKS, BLOCK);
        return 1;
    }
    if (after.live_usable > before.live_usable + BLOCK * 16)
        return fail("freed blocks are still counted live");
    printf("consumer: malloc from %s, tidemalloc %s\n", malloc_obj, tide_version());
    return 0;
}
