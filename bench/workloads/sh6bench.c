/* sh6bench: mixed sizes in batches, freed in changing orders.
 *
 * In the spirit of MicroQuill's sh6bench: each round allocates a batch of
 * blocks whose sizes mix many tiny, some medium and a few larger requests,
 * then frees the batch in reverse order, in allocation order, or odd-then-
 * even, depending on the round. Every K-th block survives into the next
 * round, so generations of blocks are interleaved on the same pages.
 */
#include "common.h"

static size_t mixed_size(rng_t *r, size_t max)
{
    uint64_t p = rng_below(r, 100);
    size_t s;
    if (p < 70)
        s = (size_t)rng_range(r, 1, 64);
    else if (p < 95)
        s = (size_t)rng_range(r, 65, 1000);
    else
        s = (size_t)rng_range(r, 1001, max > 1001 ? max : 1001);
    return s > max ? max : s;
}

int main(int argc, char **argv)
{
    uint64_t rounds = 400, batch = 50000, max = 10000, keep = 16, seed = 2;
    opt_t opts[] = {
        {"rounds", OPT_U64, &rounds, "batches to allocate and free"},
        {"batch", OPT_U64, &batch, "blocks per batch"},
        {"max", OPT_U64, &max, "largest request"},
        {"keep", OPT_U64, &keep, "every K-th block survives one more round (0: none)"},
        {"seed", OPT_U64, &seed, "random seed"},
        {NULL, 0, NULL, NULL},
    };
    bench_init();
    parse_opts(argc, argv, "Mixed-size batches freed in changing orders (sh6bench style).", opts);
    if (batch == 0 || max == 0) {
        fprintf(stderr, "bad parameters\n");
        return 2;
    }
    void **cur = harness_alloc(batch * sizeof(void *));
    uint32_t *csz = harness_alloc(batch * sizeof(uint32_t));
    void **old = harness_alloc(batch * sizeof(void *));
    uint32_t *osz = harness_alloc(batch * sizeof(uint32_t));
    bench_rebase();

    rng_t r;
    rng_seed(&r, seed);
    uint64_t nold = 0, old_bytes = 0, live = 0, peak = 0, allocs = 0;
    uint64_t t0 = now_ns();
    for (uint64_t round = 0; round < rounds; round++) {
        for (uint64_t i = 0; i < batch; i++) {
            csz[i] = (uint32_t)mixed_size(&r, max);
            cur[i] = xmalloc(csz[i]);
            touch(cur[i], csz[i], (unsigned char)i);
            live += csz[i];
        }
        allocs += batch;
        if (live > peak)
            peak = live;
        /* last round's survivors go now */
        for (uint64_t i = 0; i < nold; i++)
            free(old[i]);
        live -= old_bytes;
        nold = old_bytes = 0;
        /* pick this round's survivors */
        if (keep) {
            for (uint64_t i = 0; i < batch; i += keep) {
                old[nold] = cur[i];
                osz[nold++] = csz[i];
                old_bytes += csz[i];
                cur[i] = NULL;
            }
        }
        switch (round % 3) {
        case 0: /* LIFO */
            for (uint64_t i = batch; i-- > 0;)
                if (cur[i]) {
                    live -= csz[i];
                    free(cur[i]);
                }
            break;
        case 1: /* FIFO */
            for (uint64_t i = 0; i < batch; i++)
                if (cur[i]) {
                    live -= csz[i];
                    free(cur[i]);
                }
            break;
        default: /* odd, then even */
            for (int pass = 0; pass < 2; pass++)
                for (uint64_t i = pass ? 0 : 1; i < batch; i += 2)
                    if (cur[i]) {
                        live -= csz[i];
                        free(cur[i]);
                    }
            break;
        }
    }
    for (uint64_t i = 0; i < nold; i++)
        free(old[i]);
    (void)osz;
    double ms = (double)(now_ns() - t0) / 1e6;
    emit_result("workload=sh6bench rounds=%llu allocs=%llu work_ms=%.1f peak_live=%llu "
           "mops_per_s=%.3f",
           (unsigned long long)rounds, (unsigned long long)allocs, ms, (unsigned long long)peak, (double)allocs / ms / 1e3);
    return 0;
}
