/* dlopen libtidemalloc.so itself into a plain program (glibc malloc stays
 * in charge of malloc) with RTLD_NOW | RTLD_LOCAL, and use the prefixed
 * API through dlsym: from the main thread, from a thread that existed
 * before the dlopen and from threads created after it.  Loading must not
 * fail (e.g. "cannot allocate memory in static TLS block").
 *
 *   dl_self PATH/TO/libtidemalloc.so
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tidemalloc.h"

static void *(*t_malloc)(size_t);
static void (*t_free)(void *);
static void *(*t_calloc)(size_t, size_t);
static void *(*t_realloc)(void *, size_t);
static void *(*t_aligned_alloc)(size_t, size_t);
static size_t (*t_usable)(const void *);
static int (*t_stats)(tide_stats_t *);

static sem_t loaded, early_done;

static void exercise(uint64_t salt)
{
    enum { N = 500 };
    void *p[N];
    size_t sz[N];
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++) {
            sz[i] = (size_t)(mix64(salt + (uint64_t)i + (uint64_t)round * N) % (i % 25 == 0 ? 300000 : 3000)) + 1;
            p[i] = i % 3 == 0 ? t_calloc(1, sz[i]) : i % 7 == 0 ? t_aligned_alloc(256, sz[i]) : t_malloc(sz[i]);
            CHECK_NOT_NULL(p[i]);
            if (i % 3 == 0)
                CHECK_BYTES(p[i], sz[i], 0);
            if (i % 7 == 0 && i % 3 != 0)
                CHECK_ALIGNED(p[i], 256);
            CHECK_GE(t_usable(p[i]), sz[i]);
            pattern_fill(p[i], sz[i], salt + (uint64_t)i);
        }
        for (int i = 0; i < N; i += 2) {
            CHECK_PATTERN(p[i], sz[i], salt + (uint64_t)i);
            p[i] = t_realloc(p[i], sz[i] * 2 + 1);
            CHECK_NOT_NULL(p[i]);
            CHECK_PATTERN(p[i], sz[i], salt + (uint64_t)i);
        }
        for (int i = 0; i < N; i++)
            t_free(p[i]);
    }
}

static void *early_thread(void *arg)
{
    (void)arg;
    /* Exists before the library is loaded; its TLS for it is set up late. */
    sem_wait(&loaded);
    exercise(1000);
    sem_post(&early_done);
    return NULL;
}

static void *late_thread(void *arg)
{
    exercise((uint64_t)(uintptr_t)arg);
    return NULL;
}

static void *must_sym(void *h, const char *name)
{
    void *s = dlsym(h, name);
    CHECK_MSG(s != NULL, "dlsym(%s): %s", name, dlerror());
    return s;
}

int main(int argc, char **argv)
{
    CHECK_MSG(argc == 2, "usage: dl_self PATH/TO/libtidemalloc.so");
    sem_init(&loaded, 0, 0);
    sem_init(&early_done, 0, 0);
    pthread_t early;
    CHECK_EQ(pthread_create(&early, NULL, early_thread, NULL), 0);

    /* The program's own malloc must be glibc's (nothing preloaded). */
    Dl_info info;
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    CHECK(m != NULL && dladdr(m, &info) != 0);
    CHECK_MSG(strstr(info.dli_fname, "libtidemalloc") == NULL,
              "run dl_self without LD_PRELOAD (malloc is in %s)", info.dli_fname);

    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    CHECK_MSG(h != NULL, "dlopen(%s, RTLD_NOW|RTLD_LOCAL) failed: %s", argv[1], dlerror());
    t_malloc = (void *(*)(size_t))must_sym(h, "tide_malloc");
    t_free = (void (*)(void *))must_sym(h, "tide_free");
    t_calloc = (void *(*)(size_t, size_t))must_sym(h, "tide_calloc");
    t_realloc = (void *(*)(void *, size_t))must_sym(h, "tide_realloc");
    t_aligned_alloc = (void *(*)(size_t, size_t))must_sym(h, "tide_aligned_alloc");
    t_usable = (size_t (*)(const void *))must_sym(h, "tide_malloc_usable_size");
    t_stats = (int (*)(tide_stats_t *))must_sym(h, "tide_stats_get");

    /* RTLD_LOCAL: the program's malloc is still glibc's. */
    m = dlsym(RTLD_DEFAULT, "malloc");
    CHECK(m != NULL && dladdr(m, &info) != 0);
    CHECK_MSG(strstr(info.dli_fname, "libtidemalloc") == NULL,
              "RTLD_LOCAL load changed the global malloc to %s", info.dli_fname);

    exercise(1);
    void *held = t_malloc(1u << 20);
    CHECK_NOT_NULL(held);
    memset(held, 3, 1u << 20);
    tide_stats_t st;
    CHECK_EQ(t_stats(&st), 0);
    CHECK_GE(st.live_usable, 1u << 20);
    t_free(held);

    sem_post(&loaded);
    sem_wait(&early_done);
    CHECK_EQ(pthread_join(early, NULL), 0);

    pthread_t late[4];
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&late[i], NULL, late_thread, (void *)(uintptr_t)(2000 + i)), 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_join(late[i], NULL), 0);

    /* glibc malloc and tidemalloc side by side. */
    void *g = malloc(1000), *t = t_malloc(1000);
    CHECK(g != NULL && t != NULL && g != t);
    free(g);
    t_free(t);
    printf("dl_self: OK\n");
    return 0;
}
