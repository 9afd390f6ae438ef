/* dlopen a library that allocates in its constructor and exchanges
 * malloc'd memory with the program in both directions; dlclose and reopen
 * it.  This program is not linked against tidemalloc: CTest runs it with
 * LD_PRELOAD=libtidemalloc.so (and checks that malloc resolves there).
 *
 *   dl_main PATH/TO/libtide_dltest.so [--expect-tidemalloc]
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

typedef void *(*make_fn)(size_t, uint64_t);
typedef void *(*grow_fn)(void *, size_t);
typedef int (*take_fn)(void *, size_t, uint64_t);
typedef char *(*str_fn)(void);
typedef int (*int_fn)(void);

struct lib {
    void *h;
    make_fn make;
    grow_fn grow;
    take_fn take;
    str_fn ctor_string;
    int_fn ctor_count, check_ctor_blocks;
};

static void *sym(void *h, const char *name)
{
    void *s = dlsym(h, name);
    CHECK_MSG(s != NULL, "dlsym(%s): %s", name, dlerror());
    return s;
}

static struct lib open_lib(const char *path)
{
    struct lib l;
    l.h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CHECK_MSG(l.h != NULL, "dlopen(%s): %s", path, dlerror());
    l.make = (make_fn)sym(l.h, "dl_make");
    l.grow = (grow_fn)sym(l.h, "dl_grow");
    l.take = (take_fn)sym(l.h, "dl_take");
    l.ctor_string = (str_fn)sym(l.h, "dl_ctor_string");
    l.ctor_count = (int_fn)sym(l.h, "dl_ctor_count");
    l.check_ctor_blocks = (int_fn)sym(l.h, "dl_check_ctor_blocks");
    return l;
}

static const char *libpath;
static void *survivor;        /* allocated by the library, outlives dlclose */
static size_t survivor_size = 50000;

static void exchange(struct lib *l, uint64_t salt)
{
    CHECK_EQ(l->ctor_count(), 1);
    CHECK_EQ(l->check_ctor_blocks(), 0);
    char *s = l->ctor_string();
    CHECK(s != NULL && strcmp(s, "allocated in the library constructor") == 0);
    free(s);
    for (size_t n = 1; n < 400000; n = n * 3 + 1) {
        /* Library allocates, program verifies, grows and frees. */
        unsigned char *p = l->make(n, n + salt);
        CHECK_NOT_NULL(p);
        CHECK_PATTERN(p, n, n + salt);
        CHECK_GE(malloc_usable_size(p), n);
        p = realloc(p, n * 2);
        CHECK_NOT_NULL(p);
        CHECK_PATTERN(p, n, n + salt);
        free(p);
        /* Program allocates, library grows, verifies and frees. */
        p = malloc(n);
        CHECK_NOT_NULL(p);
        pattern_fill(p, n, n ^ salt);
        p = l->grow(p, n + 100);
        CHECK_NOT_NULL(p);
        CHECK_EQ(l->take(p, n, n ^ salt), 0);
    }
}

static void *thread_main(void *arg)
{
    struct lib *l = arg;
    exchange(l, 77);
    return NULL;
}

int main(int argc, char **argv)
{
    CHECK_MSG(argc >= 2, "usage: dl_main LIB [--expect-tidemalloc]");
    libpath = argv[1];
    if (argc > 2 && strcmp(argv[2], "--expect-tidemalloc") == 0) {
        Dl_info info;
        void *m = dlsym(RTLD_DEFAULT, "malloc");
        CHECK(m != NULL && dladdr(m, &info) != 0 && info.dli_fname != NULL);
        CHECK_MSG(strstr(info.dli_fname, "libtidemalloc") != NULL,
                  "malloc resolves to %s, not libtidemalloc (run with LD_PRELOAD)", info.dli_fname);
    }

    struct lib l = open_lib(libpath);
    exchange(&l, 1);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, thread_main, &l), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    survivor = l.make(survivor_size, 4242);
    CHECK_NOT_NULL(survivor);
    CHECK_EQ(dlclose(l.h), 0);

    /* Reopen: constructor runs again, allocating anew. */
    l = open_lib(libpath);
    exchange(&l, 2);
    CHECK_PATTERN(survivor, survivor_size, 4242);
    CHECK_EQ(l.take(survivor, survivor_size, 4242), 0);
    CHECK_EQ(dlclose(l.h), 0);

    printf("dl_main: OK\n");
    return 0;
}
