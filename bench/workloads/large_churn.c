/* large-churn: large allocations freed and reallocated in a loop.
 *
 * In the spirit of malloc-large: a handful of blocks between 64 KiB and
 * 4 MiB (log-uniform) stay live; each step frees a random one and allocates
 * a replacement of a new size, writing one byte per page as a program
 * filling a buffer would. Allocators that return freed large blocks to the
 * OS at once pay a page fault per page on every reuse.
 */
#include "common.h"

int main(int argc, char **argv)
{
    uint64_t ops = 40000, live_n = 32, min = 64 << 10, max = 4 << 20, seed = 4;
    opt_t opts[] = {
        {"ops", OPT_U64, &ops, "replacements"},
        {"live", OPT_U64, &live_n, "blocks kept live"},
        {"min", OPT_U64, &min, "smallest request"},
        {"max", OPT_U64, &max, "largest request"},
        {"seed", OPT_U64, &seed, "random seed"},
        {NULL, 0, NULL, NULL},
    };
    bench_init();
    parse_opts(argc, argv, "Large-block churn, 64 KiB to 4 MiB (malloc-large style).", opts);
    if (live_n == 0 || min == 0 || max < min) {
        fprintf(stderr, "bad parameters\n");
        return 2;
    }
    void **slot = harness_alloc(live_n * sizeof(void *));
    size_t *sz = harness_alloc(live_n * sizeof(size_t));
    bench_rebase();

    rng_t r;
    rng_seed(&r, seed);
    uint64_t live = 0, peak = 0, bytes = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < live_n; i++) {
        sz[i] = rng_logsize(&r, min, max);
        slot[i] = xmalloc(sz[i]);
        touch(slot[i], sz[i], 1);
        live += sz[i];
    }
    peak = live;
    for (uint64_t i = 0; i < ops; i++) {
        uint64_t j = rng_below(&r, live_n);
        free(slot[j]);
        live -= sz[j];
        sz[j] = rng_logsize(&r, min, max);
        slot[j] = xmalloc(sz[j]);
        touch(slot[j], sz[j], (unsigned char)i);
        live += sz[j];
        bytes += sz[j];
        if (live > peak)
            peak = live;
    }
    for (uint64_t i = 0; i < live_n; i++)
        free(slot[i]);
    double ms = (double)(now_ns() - t0) / 1e6;
    emit_result("workload=large-churn ops=%llu work_ms=%.1f peak_live=%llu gib_allocated=%.2f "
           "kops_per_s=%.2f",
           (unsigned long long)ops, ms, (unsigned long long)peak,
           (double)bytes / (1 << 30), (double)ops / ms);
    return 0;
}
