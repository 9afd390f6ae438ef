/* frag-churn: constant live bytes, churned.
 *
 * A cache or an in-memory store at steady state: --live bytes (512 MiB) are
 * held in objects of random sizes (log-uniform, 16 B to 64 KiB; --dist=uniform
 * for uniform); each round
 * replaces a random --replace fraction (30%) of them with objects of new
 * random sizes, for --rounds rounds (40). With --threads > 1 the slots are
 * dealt out to the threads afresh each round, so a block is usually freed by
 * a different thread from the one that allocated it.
 *
 * RSS is sampled after every round and then every --interval-ms while the
 * process sleeps. Reports the ratio (RSS - RSS at start) / live bytes at the
 * end, and the largest ratio seen while churning.
 */
#include "common.h"

static void **g_p;
static uint32_t *g_sz;
static uint64_t g_n, g_threads, g_rounds, g_min, g_max, g_seed;
static double g_replace;
static int g_uniform; /* sizes uniform in [min, max] instead of log-uniform */

static uint32_t churn_size(rng_t *r)
{
    return (uint32_t)(g_uniform ? rng_range(r, g_min, g_max) : rng_logsize(r, g_min, g_max));
}
static barrier_t g_bar;
static double g_max_ratio_churn;
static uint64_t g_peak_live;

typedef struct {
    uint64_t id;
    long long live_delta;
    uint64_t ops;
    char pad[CACHE_LINE];
} thr_t;

static thr_t *g_thr;

static long long live_now(void)
{
    long long s = 0;
    for (uint64_t t = 0; t < g_threads; t++)
        s += g_thr[t].live_delta;
    return s;
}

static void *churn(void *arg)
{
    thr_t *me = arg;
    rng_t r;
    rng_seed(&r, g_seed * 31 + me->id);
    /* initial fill: slot i belongs to thread i % T */
    for (uint64_t i = me->id; i < g_n; i += g_threads) {
        g_p[i] = xmalloc(g_sz[i]);
        memset(g_p[i], (int)(i & 0xff), g_sz[i]);
        me->live_delta += g_sz[i];
    }
    barrier_wait(&g_bar);
    if (me->id == 0) {
        uint64_t live = (uint64_t)live_now();
        mem_t m = emit_sample(live, "fill");
        double ra = mem_ratio(&m, live);
        g_peak_live = live;
        if (ra > g_max_ratio_churn)
            g_max_ratio_churn = ra;
    }
    barrier_wait(&g_bar);
    uint64_t threshold = (uint64_t)(g_replace * 4294967296.0);
    for (uint64_t round = 1; round <= g_rounds; round++) {
        /* this round, slot i is handled by thread (i + round) % T */
        uint64_t first = (me->id + g_threads - round % g_threads) % g_threads;
        for (uint64_t i = first; i < g_n; i += g_threads) {
            if ((rng_next(&r) >> 32) >= threshold)
                continue;
            free(g_p[i]);
            me->live_delta -= g_sz[i];
            g_sz[i] = churn_size(&r);
            g_p[i] = xmalloc(g_sz[i]);
            memset(g_p[i], (int)(round & 0xff), g_sz[i]);
            me->live_delta += g_sz[i];
            me->ops++;
        }
        barrier_wait(&g_bar);
        if (me->id == 0) {
            uint64_t live = (uint64_t)live_now();
            mem_t m = emit_sample(live, "churn");
            double ra = mem_ratio(&m, live);
            if (live > g_peak_live)
                g_peak_live = live;
            if (ra > g_max_ratio_churn)
                g_max_ratio_churn = ra;
        }
        barrier_wait(&g_bar);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t live_target = 512ull << 20, sleep_ms_ = 12000, interval = 200;
    const char *dist = "log";
    double target = 1.35;
    g_threads = 1;
    g_rounds = 40;
    g_min = 16;
    g_max = 64 << 10;
    g_seed = 9;
    g_replace = 0.30;
    opt_t opts[] = {
        {"live", OPT_U64, &live_target, "bytes held live"},
        {"replace", OPT_DBL, &g_replace, "fraction of objects replaced per round"},
        {"rounds", OPT_U64, &g_rounds, "churn rounds"},
        {"threads", OPT_U64, &g_threads, "threads (more than 1: frees cross threads)"},
        {"min", OPT_U64, &g_min, "smallest object"},
        {"max", OPT_U64, &g_max, "largest object"},
        {"dist", OPT_STR, &dist, "size distribution: log (log-uniform) or uniform"},
        {"sleep-ms", OPT_U64, &sleep_ms_, "how long to sleep and sample after the last round"},
        {"interval-ms", OPT_U64, &interval, "sampling interval while sleeping"},
        {"target", OPT_DBL, &target, "ratio target (reported as pass/fail by the runner)"},
        {"seed", OPT_U64, &g_seed, "random seed"},
        {NULL, 0, NULL, NULL},
    };
    bench_init();
    parse_opts(argc, argv, "Constant-live-bytes churn, single or multi-threaded.", opts);
    g_uniform = !strcmp(dist, "uniform");
    if ((!g_uniform && strcmp(dist, "log")) || !live_target || !g_threads || g_threads > 256 || !g_min || g_max < g_min || g_replace < 0 ||
        g_replace > 1 || !interval) {
        fprintf(stderr, "bad parameters\n");
        return 2;
    }
    /* the initial sizes decide the slot count */
    rng_t r;
    rng_seed(&r, g_seed);
    uint64_t sum = 0;
    uint64_t cap = live_target / g_min + 1;
    if (cap > (live_target / 64) * 4 + 1024)
        cap = (live_target / 64) * 4 + 1024; /* log-uniform sizes average far above 64 B */
    uint32_t *tmp = harness_alloc(cap * sizeof(uint32_t));
    while (sum < live_target && g_n < cap) {
        tmp[g_n] = churn_size(&r);
        sum += tmp[g_n++];
    }
    g_p = harness_alloc(g_n * sizeof(void *));
    g_sz = harness_alloc(g_n * sizeof(uint32_t));
    memcpy(g_sz, tmp, g_n * sizeof(uint32_t));
    harness_free(tmp, cap * sizeof(uint32_t));
    g_thr = harness_alloc(g_threads * sizeof(thr_t));
    pthread_t *th = harness_alloc(g_threads * sizeof(pthread_t));
    bench_rebase();
    emit_sample(0, "start");

    barrier_init(&g_bar, (unsigned)g_threads);
    uint64_t t0 = now_ns();
    for (uint64_t t = 0; t < g_threads; t++) {
        g_thr[t].id = t;
        xpthread_create(&th[t], churn, &g_thr[t]);
    }
    for (uint64_t t = 0; t < g_threads; t++)
        pthread_join(th[t], NULL);
    double work_ms = (double)(now_ns() - t0) / 1e6;
    uint64_t live = (uint64_t)live_now(), ops = 0;
    for (uint64_t t = 0; t < g_threads; t++)
        ops += g_thr[t].ops;

    mem_t m = emit_sample(live, "done");
    double ratio_churn_end = mem_ratio(&m, live);
    uint64_t slept = 0;
    while (slept < sleep_ms_) {
        sleep_ms(interval);
        slept += interval;
        m = emit_sample(live, "sleep");
    }
    double ratio_end = mem_ratio(&m, live);
    emit_result("workload=frag-churn threads=%llu rounds=%llu objects=%llu replaced=%llu work_ms=%.1f "
           "peak_live=%llu live_end=%llu rss_end=%llu lazyfree_end=%llu ratio=%.4f "
           "ratio_end=%.4f ratio_churn_end=%.4f ratio_max_churn=%.4f target=%.3f",
           (unsigned long long)g_threads, (unsigned long long)g_rounds, (unsigned long long)g_n,
           (unsigned long long)ops, work_ms, (unsigned long long)g_peak_live,
           (unsigned long long)live, (unsigned long long)m.rss, (unsigned long long)m.lazyfree, ratio_end,
           ratio_end, ratio_churn_end, g_max_ratio_churn, target);
    return 0;
}
