/* Every entry point serves memory that any other entry point can release,
 * and (when linked against libtidemalloc.so) every one of them — including
 * glibc's __libc_* aliases — resolves into libtidemalloc, as do the
 * allocations glibc makes internally (strdup, getline, ...). */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "alloc_api.h"


/* Allocate n bytes through entry point `how`. */
static void *alloc_via(int how, size_t n)
{
    void *p = NULL;
    switch (how) {
    case 0: return malloc(opaque_size(n));
    case 1: return calloc(opaque_size(n), 1);
    case 2: return realloc(NULL, opaque_size(n));
    case 3: return reallocarray(NULL, opaque_size(n), 1);
    case 4: return posix_memalign(&p, 64, opaque_size(n)) == 0 ? p : NULL;
    case 5: return aligned_alloc(128, opaque_size(n));
    case 6: return memalign(256, opaque_size(n));
    case 7: return valloc(opaque_size(n));
    case 8: return pvalloc(opaque_size(n));
    case 9: return __libc_malloc(opaque_size(n));
    case 10: return __libc_calloc(1, opaque_size(n));
    case 11: return __libc_realloc(NULL, opaque_size(n));
    case 12: return __libc_memalign(64, opaque_size(n));
    case 13: return __libc_valloc(opaque_size(n));
    case 14: return __libc_pvalloc(opaque_size(n));
    }
    return NULL;
}
#define N_ALLOC 15
static const char *const alloc_names[N_ALLOC] = {
    "malloc", "calloc", "realloc(NULL)", "reallocarray(NULL)", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc", "__libc_malloc",
    "__libc_calloc", "__libc_realloc(NULL)", "__libc_memalign", "__libc_valloc",
    "__libc_pvalloc",
};
static const size_t alloc_align[N_ALLOC] = {16, 16, 16, 16, 64, 128, 256, 4096, 4096, 16, 16, 16, 64, 4096, 4096};

/* Release p (n bytes requested through `how_alloc`) through entry point
 * `how`; returns 0 if that entry point cannot take this block (sized frees
 * need the original size and alignment). */
static int free_via(int how, void *p, int how_alloc, size_t n)
{
    switch (how) {
    case 0: free(p); return 1;
    case 1: __libc_free(p); return 1;
    case 2: {
        /* realloc to a bigger size, then free. */
        void *q = realloc(p, opaque_size(n + 5000));
        CHECK_NOT_NULL(q);
        CHECK_PATTERN(q, n, n + (size_t)how_alloc);
        free(q);
        return 1;
    }
    case 3: {
        void *q = __libc_realloc(p, opaque_size(n / 2 + 1));
        CHECK_NOT_NULL(q);
        CHECK_PATTERN(q, n / 2 + 1, n + (size_t)how_alloc);
        __libc_free(q);
        return 1;
    }
    case 4:
        if (how_alloc >= 4 && how_alloc <= 8)
            return 0;
        if (how_alloc >= 12)
            return 0;
        free_sized(p, n);
        return 1;
    case 5:
        if (how_alloc != 5)
            return 0;
        free_aligned_sized(p, 128, n);
        return 1;
    }
    return 0;
}
#define N_FREE 6

TEST(every_entry_point_pairs_with_every_free)
{
    static const size_t sizes[] = {1, 24, 100, 3000, 70000, 1u << 20};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int a = 0; a < N_ALLOC; a++) {
            for (int f = 0; f < N_FREE; f++) {
                size_t n = sizes[s];
                /* aligned_alloc wants a multiple of the alignment for the
                 * free_aligned_sized pairing. */
                if (a == 5)
                    n = (n + 127) / 128 * 128;
                void *p = alloc_via(a, n);
                CHECK_MSG(p != NULL, "%s(%zu) failed", alloc_names[a], n);
                CHECK_ALIGNED(p, alloc_align[a]);
                CHECK_GE(malloc_usable_size(p), n);
                if (a == 1 || a == 10)
                    CHECK_BYTES(p, n, 0);
                pattern_fill(p, n, n + (size_t)a);
                if (!free_via(f, p, a, n))
                    free(p);
            }
        }
    }
}

TEST(zero_sized_requests_from_every_entry_point)
{
    for (int a = 0; a < N_ALLOC; a++) {
        void *p = alloc_via(a, 0);
        void *q = alloc_via(a, 0);
        /* posix_memalign may return NULL for size 0; nobody else may. */
        if (a != 4) {
            CHECK_MSG(p != NULL, "%s(0) returned NULL", alloc_names[a]);
            CHECK_MSG(q != NULL, "%s(0) returned NULL", alloc_names[a]);
        }
        if (p != NULL && q != NULL)
            CHECK_MSG(p != q, "%s(0) returned %p twice", alloc_names[a], p);
        free(p);
        free(q);
    }
}

#if defined(TIDE_TEST_LINKED)

static const char *const interposed[] = {
    "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc", "malloc_usable_size",
    "free_sized", "free_aligned_sized",
    "__libc_malloc", "__libc_free", "__libc_calloc", "__libc_realloc",
    "__libc_memalign", "__libc_valloc", "__libc_pvalloc",
    /* C++ operator new/delete, every form (Itanium mangling, LP64). */
    "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
    "_ZnwmSt11align_val_t", "_ZnamSt11align_val_t",
    "_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZnamSt11align_val_tRKSt9nothrow_t",
    "_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm",
    "_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t",
    "_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t",
    "_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t",
    "_ZdlPvSt11align_val_tRKSt9nothrow_t", "_ZdaPvSt11align_val_tRKSt9nothrow_t",
};

static int in_tidemalloc(const void *addr, const char **where)
{
    Dl_info info;
    *where = "(unknown)";
    if (addr == NULL || dladdr(addr, &info) == 0 || info.dli_fname == NULL)
        return 0;
    *where = info.dli_fname;
    return strstr(info.dli_fname, "libtidemalloc") != NULL;
}

TEST(every_entry_point_resolves_to_tidemalloc)
{
    /* The global lookup scope (what the program and libc bind to). */
    for (size_t k = 0; k < sizeof interposed / sizeof interposed[0]; k++) {
        void *sym = dlsym(RTLD_DEFAULT, interposed[k]);
        const char *where;
        CHECK_MSG(sym != NULL, "%s is not defined at all", interposed[k]);
        CHECK_MSG(in_tidemalloc(sym, &where), "%s resolves to %s", interposed[k], where);
    }
    /* And the library really defines each of them itself. */
    void *h = dlopen("libtidemalloc.so", RTLD_NOW | RTLD_NOLOAD);
    CHECK_MSG(h != NULL, "libtidemalloc.so is not loaded: %s", dlerror());
    for (size_t k = 0; k < sizeof interposed / sizeof interposed[0]; k++) {
        void *sym = dlsym(h, interposed[k]);
        const char *where;
        CHECK_MSG(sym != NULL && in_tidemalloc(sym, &where),
                  "libtidemalloc.so does not export %s", interposed[k]);
    }
    dlclose(h);
}

TEST(the_program_calls_tidemalloc)
{
    /* The addresses this program's own calls bind to. */
    void *(*volatile m)(size_t) = malloc;
    void (*volatile f)(void *) = free;
    void *(*volatile lm)(size_t) = __libc_malloc;
    const char *where;
    CHECK_MSG(in_tidemalloc((const void *)m, &where), "malloc -> %s", where);
    CHECK_MSG(in_tidemalloc((const void *)f, &where), "free -> %s", where);
    CHECK_MSG(in_tidemalloc((const void *)lm, &where), "__libc_malloc -> %s", where);
}

TEST(live_memory_is_accounted_by_tidemalloc)
{
    tide_stats_t before, during, after;
    CHECK_EQ(tide_stats_get(&before), 0);
    void *p = malloc(opaque_size(8u << 20));
    void *q = __libc_malloc(opaque_size(8u << 20));
    CHECK_NOT_NULL(p);
    CHECK_NOT_NULL(q);
    memset(p, 1, 8u << 20);
    memset(q, 2, 8u << 20);
    CHECK_EQ(tide_stats_get(&during), 0);
    CHECK_GE(during.live_usable, before.live_usable + (16u << 20));
    free(p);
    __libc_free(q);
    CHECK_EQ(tide_stats_get(&after), 0);
    CHECK_LE(after.live_usable + (16u << 20), during.live_usable);
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

TEST(glibc_internal_allocations_are_tidemallocs)
{
    /* Blocks glibc allocates on the caller's behalf come from the
     * interposed malloc: tidemalloc's free takes them (it aborts on a
     * pointer it did not hand out) and tidemalloc accounts for them. */
    tide_stats_t before, during;
    CHECK_EQ(tide_stats_get(&before), 0);

    static char big[1u << 20];
    memset(big, 'x', sizeof big - 1);
    char *s = strdup(big);
    CHECK_NOT_NULL(s);
    CHECK_EQ(strlen(s), sizeof big - 1);
    CHECK_EQ(tide_stats_get(&during), 0);
    CHECK_GE(during.live_usable, before.live_usable + sizeof big);
    CHECK_GE(malloc_usable_size(s), sizeof big);
    free(s);

    char *t = strndup("hello, world", 5);
    CHECK(t != NULL && strcmp(t, "hello") == 0);
    free(t);

    char *a = NULL;
    CHECK_EQ(asprintf(&a, "%d-%s-%0500d", 42, "x", 7), 505);
    CHECK_NOT_NULL(a);
    free(a);

    char *buf = NULL;
    size_t len = 0;
    FILE *ms = open_memstream(&buf, &len);
    CHECK_NOT_NULL(ms);
    for (int i = 0; i < 20000; i++)
        fprintf(ms, "%d,", i);
    CHECK_EQ(fclose(ms), 0);
    CHECK_GE(len, 20000);
    CHECK_GE(malloc_usable_size(buf), len);
    free(buf);

    FILE *f = fmemopen((void *)"line one\nline two is longer\n", 28, "r");
    CHECK_NOT_NULL(f);
    char *line = NULL;
    size_t cap = 0;
    CHECK_EQ(getline(&line, &cap, f), 9);
    CHECK_EQ(getline(&line, &cap, f), 19);
    CHECK_GE(malloc_usable_size(line), cap);
    free(line);
    fclose(f);

    char *rp = realpath("/", NULL);
    CHECK(rp != NULL && strcmp(rp, "/") == 0);
    free(rp);

    char *cwd = getcwd(NULL, 0);
    CHECK_NOT_NULL(cwd);
    free(cwd);

    /* qsort's merge buffer, on a large array. */
    enum { NI = 200000 };
    int *v = malloc(NI * sizeof(int));
    CHECK_NOT_NULL(v);
    for (int i = 0; i < NI; i++)
        v[i] = (int)(mix64((uint64_t)i) % 1000000);
    qsort(v, NI, sizeof(int), cmp_int);
    for (int i = 1; i < NI; i++)
        CHECK(v[i - 1] <= v[i]);
    free(v);
}

#endif /* TIDE_TEST_LINKED */
