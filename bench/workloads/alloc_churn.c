/* alloc-churn: single-threaded small-object churn.
 *
 * Modelled on the alloc-test and cfrac benchmarks: a working set of small
 * objects (log-uniform sizes, so mostly tiny) where random members are
 * replaced, interleaved with short bursts of temporaries that are freed in
 * reverse order, the way a bignum library allocates intermediate results.
 */
#include "common.h"

int main(int argc, char **argv)
{
    uint64_t ops = 20000000, live_n = 10000, min = 8, max = 256, burst_every = 8, burst_max = 8;
    uint64_t seed = 1;
    opt_t opts[] = {
        {"ops", OPT_U64, &ops, "working-set replacements"},
        {"live", OPT_U64, &live_n, "objects kept live"},
        {"min", OPT_U64, &min, "smallest request"},
        {"max", OPT_U64, &max, "largest request"},
        {"burst-every", OPT_U64, &burst_every, "a burst of temporaries every N replacements (0: none)"},
        {"burst-max", OPT_U64, &burst_max, "temporaries per burst, at most"},
        {"seed", OPT_U64, &seed, "random seed"},
        {NULL, 0, NULL, NULL},
    };
    bench_init();
    parse_opts(argc, argv, "Small-object churn (alloc-test / cfrac style).", opts);
    if (live_n == 0 || min == 0 || max < min || burst_max > 64) {
        fprintf(stderr, "bad parameters\n");
        return 2;
    }
    void **slot = harness_alloc(live_n * sizeof(void *));
    uint32_t *sz = harness_alloc(live_n * sizeof(uint32_t));
    bench_rebase();

    rng_t r;
    rng_seed(&r, seed);
    uint64_t live = 0, peak = 0, allocs = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < live_n; i++) {
        sz[i] = (uint32_t)rng_logsize(&r, min, max);
        slot[i] = xmalloc(sz[i]);
        touch(slot[i], sz[i], (unsigned char)i);
        live += sz[i];
        allocs++;
    }
    peak = live;
    uint64_t checksum = 0;
    for (uint64_t i = 0; i < ops; i++) {
        uint64_t j = rng_below(&r, live_n);
        checksum += ((unsigned char *)slot[j])[0];
        free(slot[j]);
        live -= sz[j];
        sz[j] = (uint32_t)rng_logsize(&r, min, max);
        slot[j] = xmalloc(sz[j]);
        touch(slot[j], sz[j], (unsigned char)i);
        live += sz[j];
        allocs++;
        if (live > peak)
            peak = live;
        if (burst_every && i % burst_every == 0) {
            void *tmp[64];
            unsigned k = (unsigned)rng_range(&r, 1, burst_max);
            for (unsigned t = 0; t < k; t++) {
                size_t n = 16 + 8 * (size_t)rng_below(&r, 15);
                tmp[t] = xmalloc(n);
                touch(tmp[t], n, (unsigned char)t);
            }
            while (k--) {
                checksum += ((unsigned char *)tmp[k])[0];
                free(tmp[k]);
            }
            allocs += 1; /* a burst counts once, like one bignum op */
        }
    }
    for (uint64_t i = 0; i < live_n; i++)
        free(slot[i]);
    double ms = (double)(now_ns() - t0) / 1e6;
    emit_result("workload=alloc-churn ops=%llu allocs=%llu work_ms=%.1f peak_live=%llu "
           "mops_per_s=%.3f checksum=%llu",
           (unsigned long long)ops, (unsigned long long)allocs, ms, (unsigned long long)peak, (double)allocs / ms / 1e3, (unsigned long long)(checksum & 0xffff));
    return 0;
}
