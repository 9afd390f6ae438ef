/* malloc before main and during exit: constructors (several priorities)
 * allocate, an atexit handler and destructors allocate and free, blocks
 * cross from constructors to destructors, and the process exits cleanly
 * while other threads are still allocating.
 *
 * Success is exit status 0 *and* the final "lifecycle: exit path OK" line
 * printed by the last destructor (the CTest registration requires it).
 * Any failure along the way _exit()s with status 1.
 *
 *   lifecycle [--expect-tidemalloc]
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define FAIL(msg)                                                              \
    do {                                                                       \
        static const char m_[] = "lifecycle: FAILED: " msg "\n";              \
        if (write(2, m_, sizeof m_ - 1) < 0) {                                 \
        }                                                                      \
        _exit(1);                                                              \
    } while (0)

static void *early_block;           /* from the first constructor */
static size_t early_size = 100000;
static void *early_small[100];
static int atexit_ran, ctor_ran, ctor2_ran;
static char *early_env_copy;
static atomic_int spinning;

static int malloc_is_tidemalloc(void)
{
    Dl_info info;
    void *sym = dlsym(RTLD_DEFAULT, "malloc");
    return sym != NULL && dladdr(sym, &info) != 0 && info.dli_fname != NULL &&
           strstr(info.dli_fname, "libtidemalloc") != NULL;
}

__attribute__((constructor(101))) static void first_ctor(void)
{
    early_block = malloc(early_size);
    if (early_block == NULL)
        FAIL("malloc in constructor(101)");
    pattern_fill(early_block, early_size, 101);
    for (int i = 0; i < 100; i++) {
        early_small[i] = calloc(1, (size_t)i + 1);
        if (early_small[i] == NULL || bytes_check(early_small[i], (size_t)i + 1, 0) != SIZE_MAX)
            FAIL("calloc in constructor(101)");
        memset(early_small[i], i, (size_t)i + 1);
    }
    ctor_ran = 1;
}

__attribute__((constructor(200))) static void second_ctor(void)
{
    if (!ctor_ran)
        FAIL("constructor order");
    /* Free half of the early blocks and reallocate others before main. */
    for (int i = 0; i < 100; i += 2) {
        free(early_small[i]);
        early_small[i] = NULL;
    }
    for (int i = 1; i < 100; i += 2) {
        early_small[i] = realloc(early_small[i], (size_t)i * 100 + 1);
        if (early_small[i] == NULL)
            FAIL("realloc in constructor(200)");
        if (bytes_check(early_small[i], (size_t)i + 1, (unsigned char)i) != SIZE_MAX)
            FAIL("realloc lost contents in constructor(200)");
    }
    const char *path = getenv("PATH");
    early_env_copy = strdup(path ? path : "none");
    if (early_env_copy == NULL)
        FAIL("strdup in constructor(200)");
    ctor2_ran = 1;
}

static void exit_handler(void)
{
    /* Everything allocated before main is still intact. */
    if (pattern_check(early_block, early_size, 101) != SIZE_MAX)
        FAIL("constructor block damaged at exit");
    void *p[64];
    for (int i = 0; i < 64; i++) {
        p[i] = malloc((size_t)i * 1000 + 1);
        if (p[i] == NULL)
            FAIL("malloc in atexit handler");
        pattern_fill(p[i], (size_t)i * 1000 + 1, (uint64_t)i);
    }
    for (int i = 0; i < 64; i++) {
        if (pattern_check(p[i], (size_t)i * 1000 + 1, (uint64_t)i) != SIZE_MAX)
            FAIL("block damaged in atexit handler");
        free(p[i]);
    }
    void *big = calloc(1, 5u << 20);
    if (big == NULL || bytes_check(big, 5u << 20, 0) != SIZE_MAX)
        FAIL("calloc in atexit handler");
    free(big);
    atexit_ran = 1;
}

static void late_exit_handler(void)
{
    /* Registered from within main after exit_handler: runs first. */
    char *s = NULL;
    if (asprintf(&s, "%s-%d", "late", 42) < 0 || s == NULL)
        FAIL("asprintf in atexit handler");
    free(s);
}

__attribute__((destructor(200))) static void first_dtor(void)
{
    if (!atexit_ran)
        FAIL("atexit handler did not run before the destructors");
    for (int i = 1; i < 100; i += 2) {
        if (bytes_check(early_small[i], (size_t)i + 1, (unsigned char)i) != SIZE_MAX)
            FAIL("constructor block damaged in destructor");
        free(early_small[i]);
    }
    void *p = malloc(777);
    if (p == NULL)
        FAIL("malloc in destructor(200)");
    memset(p, 7, 777);
    free(p);
}

__attribute__((destructor(101))) static void last_dtor(void)
{
    if (pattern_check(early_block, early_size, 101) != SIZE_MAX)
        FAIL("constructor block damaged in last destructor");
    free(early_block);
    free(early_env_copy);
    void *p = aligned_alloc(4096, 8192);
    if (p == NULL || (uintptr_t)p % 4096 != 0)
        FAIL("aligned_alloc in destructor(101)");
    free(p);
    static const char ok[] = "lifecycle: exit path OK\n";
    if (write(1, ok, sizeof ok - 1) < 0)
        _exit(1);
}

static void *spinner(void *arg)
{
    /* Allocates until the process is gone. */
    test_rng r = {(uint64_t)(uintptr_t)arg};
    void *keep[32] = {0};
    atomic_fetch_add(&spinning, 1);
    for (unsigned long i = 0;; i++) {
        int k = (int)(i % 32);
        free(keep[k]);
        keep[k] = malloc(1 + rng_below(&r, 3000));
        if (keep[k] == NULL)
            FAIL("malloc in spinning thread");
        ((volatile char *)keep[k])[0] = 1;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (!ctor_ran || !ctor2_ran)
        FAIL("constructors did not run");
    if (argc > 1 && strcmp(argv[1], "--expect-tidemalloc") == 0 && !malloc_is_tidemalloc())
        FAIL("malloc does not resolve to libtidemalloc");
    if (atexit(exit_handler) != 0 || atexit(late_exit_handler) != 0)
        FAIL("atexit");
    /* Threads still allocating when exit() runs the handlers above. */
    for (int i = 0; i < 2; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, spinner, (void *)(uintptr_t)(i + 1)) != 0)
            FAIL("pthread_create");
        pthread_detach(t);
    }
    while (atomic_load(&spinning) < 2)
        usleep(1000);
    usleep(20000);
    printf("lifecycle: main done\n");
    return 0; /* exit(): handlers, destructors, while the spinners spin */
}
