/* frag-waves: the two-wave fragmentation scenarios.
 *
 * --scenario=blog: the pattern from the Venice/jemalloc blog post. Allocate
 *   a wave of equal-size objects (1,000 bytes, 512 MiB in all), then a
 *   second wave just like it, then free the whole first wave and let the
 *   process sleep without calling the allocator. The second wave sits above
 *   the first in the address space, so an allocator that can only return the
 *   top of its heap keeps the first wave's memory.
 * --scenario=mixed: the same with sizes from 16 B to 64 KiB (log-uniform),
 *   and every 10th object of wave one survives, pinning pages all over the
 *   first wave's memory.
 *
 * Samples RSS (and Anonymous, LazyFree) from /proc/self/smaps_rollup while
 * the waves are built and every --interval-ms while sleeping. Reports the
 * ratio (RSS - RSS at start) / live bytes at the end, and how long after the
 * free it took for the ratio to come down to --target and stay there.
 */
#include "common.h"

int main(int argc, char **argv)
{
    const char *scenario = "blog";
    uint64_t wave = 512ull << 20, size = 1000, min = 16, max = 64 << 10, survive = 0, sleep_ms_ = 12000,
             interval = 200, seed = 8;
    double target = 1.10;
    int survive_set = 0;
    opt_t opts[] = {
        {"scenario", OPT_STR, &scenario, "blog (equal sizes) or mixed (16 B..64 KiB, survivors)"},
        {"wave", OPT_U64, &wave, "bytes requested per wave"},
        {"size", OPT_U64, &size, "object size (blog)"},
        {"min", OPT_U64, &min, "smallest object (mixed)"},
        {"max", OPT_U64, &max, "largest object (mixed)"},
        {"survive", OPT_U64, &survive, "every N-th wave-one object survives (0: none; mixed default 10)"},
        {"sleep-ms", OPT_U64, &sleep_ms_, "how long to sleep and sample after the free"},
        {"interval-ms", OPT_U64, &interval, "sampling interval while sleeping"},
        {"target", OPT_DBL, &target, "ratio target for the settle time"},
        {"seed", OPT_U64, &seed, "random seed"},
        {NULL, 0, NULL, NULL},
    };
    bench_init();
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--survive", 9))
            survive_set = 1;
    parse_opts(argc, argv, "Two-wave fragmentation scenarios (blog, mixed).", opts);
    int mixed = !strcmp(scenario, "mixed");
    if ((!mixed && strcmp(scenario, "blog")) || !wave || !size || !min || max < min || !interval) {
        fprintf(stderr, "bad parameters\n");
        return 2;
    }
    if (mixed && !survive_set)
        survive = 10;

    /* Pass 1: how many objects make a wave (same seed as pass 2). */
    rng_t r;
    uint64_t n[2] = {0, 0};
    rng_seed(&r, seed);
    for (int w = 0; w < 2; w++) {
        uint64_t sum = 0;
        while (sum < wave) {
            sum += mixed ? rng_logsize(&r, min, max) : size;
            n[w]++;
        }
    }
    void **p[2];
    uint32_t *sz[2];
    for (int w = 0; w < 2; w++) {
        p[w] = harness_alloc(n[w] * sizeof(void *));
        sz[w] = harness_alloc(n[w] * sizeof(uint32_t));
    }
    bench_rebase();
    emit_sample(0, "start");

    rng_seed(&r, seed);
    uint64_t live = 0, peak_live = 0;
    double peak_ratio = 0;
    uint64_t t_work = now_ns();
    static const char *const names[2] = {"wave1", "wave2"};
    for (int w = 0; w < 2; w++) {
        uint64_t step = n[w] / 16 + 1;
        for (uint64_t i = 0; i < n[w]; i++) {
            sz[w][i] = (uint32_t)(mixed ? rng_logsize(&r, min, max) : size);
            p[w][i] = xmalloc(sz[w][i]);
            memset(p[w][i], (int)(i & 0xff), sz[w][i]);
            live += sz[w][i];
            if (i % step == step - 1) {
                mem_t m = emit_sample(live, names[w]);
                double ra = mem_ratio(&m, live);
                if (ra > peak_ratio)
                    peak_ratio = ra;
            }
        }
        emit_sample(live, names[w]);
    }
    peak_live = live;
    mem_t before_free = emit_sample(live, "full");
    uint64_t survivors = 0;
    for (uint64_t i = 0; i < n[0]; i++) {
        if (survive && i % survive == 0) {
            survivors++;
            continue;
        }
        live -= sz[0][i];
        free(p[0][i]);
        p[0][i] = NULL;
    }
    uint64_t t_free = now_ns();
    double work_ms = (double)(t_free - t_work) / 1e6;

    /* Sleep: the process makes no allocator calls from here on. */
    double settle_ms = -1, first_ms = -1, ratio_end = 0, ratio_after = 0, min_ratio = 1e9;
    mem_t m = emit_sample(live, "freed");
    ratio_after = mem_ratio(&m, live);
    uint64_t slept = 0;
    for (;;) {
        double ra = mem_ratio(&m, live);
        double since = (double)(now_ns() - t_free) / 1e6;
        if (ra < min_ratio)
            min_ratio = ra;
        if (ra <= target) {
            if (settle_ms < 0)
                settle_ms = since;
            if (first_ms < 0)
                first_ms = since;
        } else {
            settle_ms = -1;
        }
        ratio_end = ra;
        if (slept >= sleep_ms_)
            break;
        sleep_ms(interval);
        slept += interval;
        m = emit_sample(live, "sleep");
    }
    emit_result("workload=frag-%s work_ms=%.1f peak_live=%llu live_end=%llu survivors=%llu "
           "rss_full=%llu rss_end=%llu lazyfree_end=%llu ratio=%.4f ratio_end=%.4f ratio_after_free=%.4f "
           "ratio_min=%.4f ratio_peak=%.4f target=%.3f settle_ms=%.0f first_below_ms=%.0f sleep_ms=%llu",
           scenario, work_ms, (unsigned long long)peak_live,
           (unsigned long long)live, (unsigned long long)survivors, (unsigned long long)before_free.rss,
           (unsigned long long)m.rss, (unsigned long long)m.lazyfree, ratio_end, ratio_end, ratio_after,
           min_ratio, peak_ratio, target, settle_ms, first_ms, (unsigned long long)slept);
    return 0; /* what is still live goes with the process, as in most programs */
}
