/* The byte sampler: its estimates are unbiased (live requested bytes for
 * small, mixed and large blocks come out within a few standard errors of the
 * truth), freed samples leave the estimate, resized blocks are re-sampled,
 * and sampling changes nothing an allocation returns. Runs on the prefixed
 * API with a 16 KiB mean interval so that a few thousand samples decide. */
#define _GNU_SOURCE
#include "runner.h"
#include "check.h"
#include "tidemalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t live_requested(void)
{
    tide_stats_t s;
    tide_stats_get(&s);
    return s.live_requested;
}

/* |estimate - truth| <= 8% of truth: with ~4000+ samples the relative
 * standard error is under 2%. */
static void check_close(uint64_t est, uint64_t truth)
{
    uint64_t diff = est > truth ? est - truth : truth - est;
    CHECK_MSG(diff * 100 <= truth * 8, "estimate %llu, truth %llu", (unsigned long long)est,
              (unsigned long long)truth);
}

static void setup(void)
{
    CHECK_EQ(tide_config_set("stats_sample", "true"), 0);
    CHECK_EQ(tide_config_set("lg_prof_sample", "14"), 0);
}

static void run_sizes(size_t (*size_of)(unsigned i, uint64_t *rng), unsigned n)
{
    setup();
    uint64_t base = live_requested();
    void **blocks = calloc(n, sizeof *blocks);
    size_t *sizes = calloc(n, sizeof *sizes);
    uint64_t truth = 0, rng = 12345;
    for (unsigned i = 0; i < n; i++) {
        sizes[i] = size_of(i, &rng);
        blocks[i] = tide_malloc(sizes[i]);
        CHECK(blocks[i] != NULL);
        memset(blocks[i], (int)i, sizes[i]);
        truth += sizes[i];
    }
    check_close(live_requested() - base, truth);
    /* Free every other block: the estimate follows. */
    uint64_t kept = 0;
    for (unsigned i = 0; i < n; i++) {
        if (i % 2) {
            CHECK_EQ(((unsigned char *)blocks[i])[sizes[i] - 1], (unsigned char)i);
            tide_free(blocks[i]);
        } else {
            kept += sizes[i];
        }
    }
    check_close(live_requested() - base, kept);
    for (unsigned i = 0; i < n; i += 2)
        tide_free(blocks[i]);
    /* Every sample freed: back to where it was, up to rounding. */
    uint64_t after = live_requested();
    CHECK_MSG(after <= base + 1 && after + 1 >= base, "after %llu, before %llu", (unsigned long long)after,
              (unsigned long long)base);
    free(blocks);
    free(sizes);
}

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static size_t small_24(unsigned i, uint64_t *rng) { (void)i; (void)rng; return 24; }
static size_t mixed(unsigned i, uint64_t *rng) { (void)i; return 1 + next(rng) % 2000; }
static size_t large(unsigned i, uint64_t *rng) { (void)i; return 16384 + next(rng) % 300000; }

/* 24-byte requests live in 32-byte blocks: the estimate is of the 24. */
TEST(small_blocks_unbiased) { run_sizes(small_24, 3000000); }
TEST(mixed_sizes_unbiased) { run_sizes(mixed, 100000); }
TEST(large_blocks_unbiased) { run_sizes(large, 3000); }

TEST(realloc_resamples)
{
    setup();
    uint64_t base = live_requested();
    enum { N = 2000 };
    static void *b[N];
    uint64_t truth = 0;
    for (int i = 0; i < N; i++) {
        b[i] = tide_malloc(40000);
        memset(b[i], 7, 40000);
    }
    for (int i = 0; i < N; i++) {
        b[i] = tide_realloc(b[i], 60000);
        CHECK(b[i] != NULL);
        CHECK_EQ(((unsigned char *)b[i])[39999], 7);
        truth += 60000;
    }
    check_close(live_requested() - base, truth);
    for (int i = 0; i < N; i++)
        tide_free(b[i]);
}

TEST(sampled_blocks_behave_like_others)
{
    setup();
    /* Sample everything: every block is a sample, and still obeys the API. */
    CHECK_EQ(tide_config_set("lg_prof_sample", "0"), 0);
    for (size_t n = 0; n < 3000; n += 7) {
        unsigned char *p = tide_calloc(1, n);
        CHECK(p != NULL);
        CHECK_EQ((uintptr_t)p % 16, 0);
        for (size_t k = 0; k < n; k++)
            CHECK_EQ(p[k], 0);
        CHECK_GE(tide_malloc_usable_size(p), n);
        memset(p, 0xab, n);
        p = tide_realloc(p, n + 100);
        for (size_t k = 0; k < n; k++)
            CHECK_EQ(p[k], 0xab);
        void *q;
        CHECK_EQ(tide_posix_memalign(&q, 256, n + 1), 0);
        CHECK_EQ((uintptr_t)q % 256, 0);
        tide_free(q);
        tide_free(p);
    }
    CHECK_EQ(tide_config_set("lg_prof_sample", "19"), 0);
}


/* ---- the sampler's unwinder agrees with glibc's backtrace() ---- */
#include <execinfo.h>
#include <pthread.h>
#include "prof/prof_unwind.h"

static int frames_fast, frames_glibc, frames_same;

__attribute__((noinline)) static void compare_here(void)
{
    uintptr_t fast[80];
    void *slow[80];
    int n = prof_unwind(fast, 80);
    int m = backtrace(slow, 80);
    frames_fast = n;
    frames_glibc = m;
    if (getenv("TEST_PROF_DUMP_FRAMES")) {
        for (int i = 0; i < (n > m ? n : m); i++)
            fprintf(stderr, "%2d fast %#lx glibc %#lx\n", i, i < n ? (unsigned long)fast[i] : 0ul,
                    i < m ? (unsigned long)(uintptr_t)slow[i] : 0ul);
    }
    /* Entry 0 differs (two call sites in this function), and a sanitizer's
     * backtrace() interceptor adds its own frame first: line the two up at
     * our caller's return address; from there they must be the same, to
     * the end of the stack. */
    int j = 0;
    while (n > 1 && j < m && (uintptr_t)slow[j] != fast[1])
        j++;
    frames_glibc = m - j + 1;
    frames_same = 0;
    for (int i = 1; i < n && j < m && fast[i] == (uintptr_t)slow[j]; i++, j++)
        frames_same++;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void depth3(int k) { if (k) depth3(k - 1); else compare_here(); __asm__ volatile(""); }

static void check_agreement(void)
{
    CHECK_GE(frames_fast, 4);
    CHECK_EQ(frames_fast, frames_glibc);
    CHECK_EQ(frames_same, frames_fast - 1);
}

TEST(unwinder_matches_backtrace)
{
    depth3(10);
    check_agreement();
}

static void *in_thread(void *arg)
{
    (void)arg;
    depth3(3);
    return NULL;
}

TEST(unwinder_matches_backtrace_in_a_thread)
{
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, in_thread, NULL), 0);
    pthread_join(t, NULL);
    check_agreement();
}

/* Several threads sampling at once (stack capture on): the profiler's lock,
 * the unwinder's shared cache and the sample records under contention.
 * Also run under TSan (label stress in the sanitizer builds). */
static void *sample_a_lot(void *arg)
{
    uint64_t rng = (uintptr_t)arg;
    void *keep[64] = { 0 };
    for (int i = 0; i < 20000; i++) {
        unsigned k = (unsigned)(next(&rng) % 64);
        tide_free(keep[k]);
        keep[k] = tide_malloc(1 + next(&rng) % 3000);
        CHECK(keep[k] != NULL);
    }
    for (int k = 0; k < 64; k++)
        tide_free(keep[k]);
    return NULL;
}

TEST(threads_sample_concurrently)
{
    CHECK_EQ(tide_config_set("prof", "true"), 0);
    CHECK_EQ(tide_config_set("prof_final", "false"), 0);
    CHECK_EQ(tide_config_set("lg_prof_sample", "12"), 0);
    uint64_t before = live_requested();
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, sample_a_lot, (void *)(i * 7919 + 1)), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    /* Everything sampled was freed again. */
    uint64_t after = live_requested();
    CHECK_MSG(after <= before + 1 && after + 1 >= before, "after %llu, before %llu", (unsigned long long)after,
              (unsigned long long)before);
    CHECK_EQ(tide_config_set("prof", "false"), 0);
    CHECK_EQ(tide_config_set("lg_prof_sample", "19"), 0);
}
