#define _GNU_SOURCE
/* The blog's two waves, then a churn, under any allocator (tests/conformance/
 * soft_limit.sh runs it under glibc, tidemalloc, and tidemalloc with a soft
 * limit). Prints "after_free RSS" once the first wave is freed and
 * "churn_max RSS" over the churn, in bytes; with --check-limit, under
 * tidemalloc with a soft limit, also fails unless no dirty page stays
 * while the charge is within 1/16 of the limit.
 *   soft_limit_waves MIB_PER_WAVE [--check-limit] */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tidemalloc.h"

static size_t rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long total = 0, res = 0;
    if (!f || fscanf(f, "%lu %lu", &total, &res) != 2)
        exit(2);
    fclose(f);
    return res * (size_t)sysconf(_SC_PAGESIZE);
}

static int check_limit;
static int violations;

/* Near the soft limit (within 1/16 without the dirty pages), nothing may
 * stay dirty. */
static void check_dirty(void)
{
    if (!check_limit)
        return;
    /* Looked up, not linked: the same binary runs on plain glibc. */
    static int (*get_limit)(tide_limit_stats_t *);
    static int (*get_stats)(tide_stats_t *);
    if (!get_limit) {
        *(void **)&get_limit = dlsym(RTLD_DEFAULT, "tide_stats_limit");
        *(void **)&get_stats = dlsym(RTLD_DEFAULT, "tide_stats_get");
        if (!get_limit || !get_stats) {
            fprintf(stderr, "soft_limit_waves: --check-limit needs tidemalloc preloaded\n");
            exit(1);
        }
    }
    tide_limit_stats_t l;
    tide_stats_t s;
    get_limit(&l);
    get_stats(&s);
    if (!l.soft) {
        fprintf(stderr, "soft_limit_waves: no soft limit in force\n");
        exit(1);
    }
    uint64_t base = l.charge > s.dirty ? l.charge - s.dirty : 0;
    if (base >= l.soft - l.soft / 16 && s.dirty != 0) {
        if (!violations++)
            fprintf(stderr, "soft_limit_waves: %llu dirty bytes with the charge %llu near the limit %llu\n",
                    (unsigned long long)s.dirty, (unsigned long long)l.charge, (unsigned long long)l.soft);
    }
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 48;
    check_limit = argc > 2 && strcmp(argv[2], "--check-limit") == 0;
    size_t n = (mib << 20) / 1000;
    char **w1 = malloc(n * sizeof *w1), **w2 = malloc(n * sizeof *w2);
    for (size_t i = 0; i < n; i++) {
        w1[i] = malloc(1000);
        memset(w1[i], 1, 1000);
    }
    for (size_t i = 0; i < n; i++) {
        w2[i] = malloc(1000);
        memset(w2[i], 2, 1000);
        if (i % 4096 == 0)
            check_dirty();
    }
    for (size_t i = 0; i < n; i++) {
        free(w1[i]);
        if (i % 4096 == 0)
            check_dirty();
    }
    printf("after_free %zu\n", rss());
    /* Churn: the second wave's slots replaced at random by blocks of 800 B
     * to 1 KiB, so about as many bytes stay live. (Sizes over a wide range,
     * 200 B to 1.8 KB, leave free space inside slabs, which is active
     * memory no purge returns: RSS then exceeds a soft limit with no
     * dirty page at all, under tidemalloc as under glibc.) */
    size_t churn_max = 0, live = n * 1000;
    size_t *sizes = malloc(n * sizeof *sizes);
    for (size_t i = 0; i < n; i++)
        sizes[i] = 1000;
    uint64_t x = 88172645463325252ull;
    for (size_t op = 0; op < 4 * n; op++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t i = x % n;
        size_t want = 800 + (x >> 32) % 225;
        if (live - sizes[i] + want > (mib << 20) + (mib << 20) / 8)
            want = 100;
        free(w2[i]);
        live -= sizes[i];
        w2[i] = malloc(want);
        memset(w2[i], 3, want);
        sizes[i] = want;
        live += want;
        if (op % 4096 == 0) {
            size_t r = rss();
            if (r > churn_max)
                churn_max = r;
            check_dirty();
        }
    }
    printf("churn_max %zu\n", churn_max);
    for (size_t i = 0; i < n; i++)
        free(w2[i]);
    free(w1);
    free(w2);
    free(sizes);
    return violations ? 1 : 0;
}
