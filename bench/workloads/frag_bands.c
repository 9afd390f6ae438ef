/* frag-bands-mt: multi-threaded churn whose sizes move from band to band.
 *
 * A service whose traffic changes shape: --live bytes (256 MiB) are held in
 * --pools pools (4) of equal budget. The fill is round 0 and uses every size;
 * then, in each of --rounds rounds (24), every pool loses a random --free
 * fraction (30%) of its objects and is refilled, up to its budget again, with
 * objects from one size band. The band rotates round by round: round r uses
 * band r mod 4, where
 *
 *   band 0 "all"     --min .. --max              (16 B .. 64 KiB)
 *   band 1 "small"   --min .. --small-max        (16 B .. 256 B)
 *   band 2 "medium"  --small-max+1 .. --medium-max (257 B .. 4 KiB)
 *   band 3 "large"   --medium-max+1 .. --max     (4 KiB+1 .. 64 KiB)
 *
 * so rounds 1, 2, 3, 4 are small, medium, large, all, and 24 rounds are six
 * cycles. Sizes are log-uniform within a band.
 *
 * --threads threads (4) do the work. In round r, pool q is churned by thread
 * ((q - r) mod P) mod T: with 4 threads and 4 pools, thread t takes pool
 * (t + r) mod 4, a different pool every round, so a block is usually freed by
 * a thread other than the one that allocated it (about 88% of the frees with
 * the defaults; the result line counts them).
 *
 * Every pool has its own random stream, so the sizes, the objects freed and
 * their order depend on --seed only, not on the threads or their timing.
 * Each object starts with a small header (its requested size and the thread
 * that allocated it); the program sums the requested sizes, so it knows its
 * live bytes exactly.
 *
 * RSS (/proc/self/smaps_rollup) is sampled after the fill and after every
 * round. Then the threads go idle -- they stay alive, blocked, like a
 * server's thread pool in a quiet period -- and the main thread samples every
 * --interval-ms for --idle-ms (2000). Reported, each as (RSS - RSS at start)
 * / live (the runner's ratio) and as RSS / live (abs_*): at the end of the
 * churn, the largest after any round, and after the idle period.
 *
 * --ideal=1 runs nothing on the allocator: it plays the same rounds (pool
 * after pool in each round, one thread) on ideal_fit.h's simulated best-fit
 * heap, which hands back every page the moment its last live byte goes, and
 * reports that heap's resident pages over live bytes after every round. No
 * allocator that keeps blocks where it put them should expect to do much
 * better, so the figure tells how far the targets can be met at all.
 */
#include "common.h"
#include "ideal_fit.h"

enum { BAND_ALL, BAND_SMALL, BAND_MEDIUM, BAND_LARGE, NBANDS };
static const char *const band_name[NBANDS] = {"all", "small", "medium", "large"};

/* What a live object starts with (objects are at least 16 bytes). */
typedef struct {
    uint32_t size;   /* requested size */
    uint32_t thread; /* thread that allocated it */
} obj_hdr;

typedef struct {
    void **p;         /* the objects (harness memory) */
    uint32_t *dry_sz; /* sizes, during the dry run only */
    uint64_t *ideal_at; /* addresses in the ideal heap (--ideal only) */
    uint64_t n;       /* objects held */
    uint64_t cap;     /* slots in p */
    uint64_t max_n;   /* most objects held at once (dry run) */
    uint64_t live;    /* requested bytes held */
    uint64_t budget;  /* refill up to this */
    rng_t r;
    char pad[CACHE_LINE];
} pool_t;

typedef struct {
    uint64_t id;
    uint64_t allocs, frees, cross_frees;
    char pad[CACHE_LINE];
} thr_t;

static pool_t *g_pool;
static ideal_fit_t g_ideal;
static thr_t *g_thr;
static uint64_t g_pools, g_threads, g_rounds, g_seed;
static uint64_t g_lo[NBANDS], g_hi[NBANDS];
static uint64_t g_free_threshold; /* free an object if (rng >> 32) < this */
static barrier_t g_bar;
static pthread_barrier_t g_idle_bar;

/* run-wide figures, kept by thread 0 */
static uint64_t g_peak_live, g_max_round;
static double g_max_ratio, g_max_abs;
static uint64_t g_work_end_ns;

static void seed_pools(void)
{
    for (uint64_t q = 0; q < g_pools; q++)
        rng_seed(&g_pool[q].r, g_seed * 1000003ull + q);
}

static int band_of_round(uint64_t round)
{
    return (int)(round % NBANDS);
}

static uint64_t pool_thread(uint64_t q, uint64_t round)
{
    return ((q + g_pools - round % g_pools) % g_pools) % g_threads;
}

/* One round of one pool: free a random --free fraction of its objects (the
 * survivors keep their order), then refill the pool to its budget from the
 * band. In the dry run (me == NULL) only the sizes are followed, to learn how
 * many slots each pool will need; the random stream is used identically. */
static void churn_pool(pool_t *pl, int band, thr_t *me)
{
    uint64_t w = 0, lo = g_lo[band], hi = g_hi[band];
    if (me) {
        for (uint64_t i = 0; i < pl->n; i++) {
            void *o = pl->p[i];
            if ((rng_next(&pl->r) >> 32) >= g_free_threshold) {
                pl->p[w++] = o;
                continue;
            }
            const obj_hdr *h = o;
            pl->live -= h->size;
            me->frees++;
            me->cross_frees += h->thread != me->id;
            free(o);
        }
        pl->n = w;
        while (pl->live < pl->budget) {
            uint32_t sz = (uint32_t)rng_logsize(&pl->r, lo, hi);
            unsigned char *o = xmalloc(sz);
            memset(o, (int)(pl->n & 0xff), sz);
            obj_hdr h = {sz, (uint32_t)me->id};
            memcpy(o, &h, sizeof h);
            pl->p[pl->n++] = o;
            pl->live += sz;
            me->allocs++;
        }
    } else {
        for (uint64_t i = 0; i < pl->n; i++) {
            uint32_t s = pl->dry_sz[i];
            if ((rng_next(&pl->r) >> 32) >= g_free_threshold) {
                if (pl->ideal_at)
                    pl->ideal_at[w] = pl->ideal_at[i];
                pl->dry_sz[w++] = s;
            } else {
                pl->live -= s;
                if (pl->ideal_at)
                    ideal_free(&g_ideal, pl->ideal_at[i], s);
            }
        }
        pl->n = w;
        while (pl->live < pl->budget) {
            uint32_t sz = (uint32_t)rng_logsize(&pl->r, lo, hi);
            if (pl->ideal_at)
                pl->ideal_at[pl->n] = ideal_alloc(&g_ideal, sz);
            pl->dry_sz[pl->n++] = sz;
            pl->live += sz;
        }
        if (pl->n > pl->max_n)
            pl->max_n = pl->n;
    }
}

static uint64_t live_now(void)
{
    uint64_t s = 0;
    for (uint64_t q = 0; q < g_pools; q++)
        s += g_pool[q].live;
    return s;
}

static double abs_ratio(const mem_t *m, uint64_t live)
{
    return live ? (double)m->rss / (double)live : 0.0;
}

static void *worker(void *arg)
{
    thr_t *me = arg;
    for (uint64_t round = 0; round <= g_rounds; round++) {
        int band = band_of_round(round);
        for (uint64_t q = 0; q < g_pools; q++)
            if (pool_thread(q, round) == me->id)
                churn_pool(&g_pool[q], band, me);
        barrier_wait(&g_bar);
        if (me->id == 0) {
            uint64_t live = live_now();
            mem_t m = emit_sample(live, round ? "churn" : "fill");
            if (live > g_peak_live)
                g_peak_live = live;
            if (round) {
                double ra = mem_ratio(&m, live), ab = abs_ratio(&m, live);
                if (ra > g_max_ratio) {
                    g_max_ratio = ra;
                    g_max_round = round;
                }
                if (ab > g_max_abs)
                    g_max_abs = ab;
            }
            if (round == g_rounds) /* after the figures above: main reads them next */
                __atomic_store_n(&g_work_end_ns, now_ns(), __ATOMIC_RELEASE);
        }
        barrier_wait(&g_bar);
    }
    /* idle: blocked (no spinning, no allocator calls) until main has
     * sampled the quiet period */
    pthread_barrier_wait(&g_idle_bar);
    return NULL;
}

/* Pages holding a live byte of the ideal heap, in bytes. */
static uint64_t ideal_resident(uint64_t *pages_seen, uint64_t npages)
{
    memset(pages_seen, 0, (npages + 63) / 64 * sizeof(uint64_t));
    uint64_t n = 0;
    for (uint64_t q = 0; q < g_pools; q++) {
        const pool_t *pl = &g_pool[q];
        for (uint64_t i = 0; i < pl->n; i++) {
            uint64_t a = pl->ideal_at[i] / 4096, b = (pl->ideal_at[i] + pl->dry_sz[i] - 1) / 4096;
            for (uint64_t pg = a; pg <= b; pg++) {
                uint64_t bit = 1ull << (pg % 64);
                n += !(pages_seen[pg / 64] & bit);
                pages_seen[pg / 64] |= bit;
            }
        }
    }
    return n * 4096;
}

/* --ideal: the rounds on the ideal heap (see the top). */
static int run_ideal(uint64_t min)
{
    if (ideal_init(&g_ideal)) {
        fprintf(stderr, "ideal heap: mmap failed: %s\n", strerror(errno));
        return 3;
    }
    uint64_t npages = IDEAL_SPACE_UNITS * IDEAL_UNIT / 4096;
    uint64_t *seen = ideal_map((npages + 63) / 64 * sizeof(uint64_t));
    seed_pools();
    for (uint64_t q = 0; q < g_pools; q++) {
        pool_t *pl = &g_pool[q];
        uint64_t cap = pl->budget / min + 2;
        pl->dry_sz = ideal_map(cap * sizeof(uint32_t));
        pl->ideal_at = ideal_map(cap * sizeof(uint64_t));
        if (!pl->dry_sz || !pl->ideal_at || !seen) {
            fprintf(stderr, "ideal heap: mmap failed: %s\n", strerror(errno));
            return 3;
        }
    }
    double max_ratio = 0, end_ratio = 0;
    uint64_t max_round = 0, live = 0, resident = 0;
    for (uint64_t round = 0; round <= g_rounds; round++) {
        for (uint64_t q = 0; q < g_pools; q++)
            churn_pool(&g_pool[q], band_of_round(round), NULL);
        live = live_now();
        resident = ideal_resident(seen, npages);
        end_ratio = (double)resident / (double)live;
        printf("ideal round=%llu band=%s live=%llu resident=%llu ratio=%.4f span=%llu\n",
               (unsigned long long)round, band_name[band_of_round(round)], (unsigned long long)live,
               (unsigned long long)resident, end_ratio, (unsigned long long)(g_ideal.top * IDEAL_UNIT));
        if (round && end_ratio > max_ratio) {
            max_ratio = end_ratio;
            max_round = round;
        }
    }
    emit_result("workload=frag-bands-ideal pools=%llu rounds=%llu live_end=%llu resident_end=%llu "
                "ideal_ratio_churn_end=%.4f ideal_ratio_max_churn=%.4f max_round=%llu",
                (unsigned long long)g_pools, (unsigned long long)g_rounds, (unsigned long long)live,
                (unsigned long long)resident, end_ratio, max_ratio, (unsigned long long)max_round);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t live_target = 256ull << 20, idle_ms = 2000, interval = 200;
    uint64_t min = 16, small_max = 256, medium_max = 4096, max = 64 << 10;
    double free_frac = 0.30, target = 1.30, idle_target = 1.15;
    uint64_t ideal = 0;
    g_pools = 4;
    g_threads = 4;
    g_rounds = 24;
    g_seed = 11;
    opt_t opts[] = {
        {"live", OPT_U64, &live_target, "bytes held live, split evenly among the pools"},
        {"pools", OPT_U64, &g_pools, "pools of objects"},
        {"threads", OPT_U64, &g_threads, "threads (at most --pools); in round r pool q is churned by thread ((q - r) mod pools) mod threads"},
        {"rounds", OPT_U64, &g_rounds, "churn rounds after the fill; round r uses band r mod 4 (1 small, 2 medium, 3 large, 0 all)"},
        {"free", OPT_DBL, &free_frac, "fraction of each pool's objects freed per round"},
        {"min", OPT_U64, &min, "smallest object (bands small and all)"},
        {"small-max", OPT_U64, &small_max, "largest small object"},
        {"medium-max", OPT_U64, &medium_max, "largest medium object"},
        {"max", OPT_U64, &max, "largest object (bands large and all)"},
        {"idle-ms", OPT_U64, &idle_ms, "idle period after the churn (threads alive, blocked)"},
        {"interval-ms", OPT_U64, &interval, "sampling interval while idle"},
        {"target", OPT_DBL, &target, "ratio target at the end of the churn (reported by the runner)"},
        {"idle-target", OPT_DBL, &idle_target, "ratio target after the idle period"},
        {"seed", OPT_U64, &g_seed, "random seed"},
        {"ideal", OPT_U64, &ideal, "1: play the rounds on a simulated ideal best-fit heap instead (see the top)"},
        {NULL, 0, NULL, NULL},
    };
    bench_init();
    parse_opts(argc, argv, "Multi-threaded churn of 4 pools, refilled from rotating size bands.", opts);
    if (!live_target || !g_pools || g_pools > 1024 || !g_threads || g_threads > g_pools || min < sizeof(obj_hdr) ||
        !(min <= small_max && small_max < medium_max && medium_max < max) || max > UINT32_MAX ||
        free_frac < 0 || free_frac > 1 || !interval) {
        fprintf(stderr, "bad parameters (need threads <= pools, %zu <= min <= small-max < medium-max < max)\n",
                sizeof(obj_hdr));
        return 2;
    }
    g_lo[BAND_ALL] = min, g_hi[BAND_ALL] = max;
    g_lo[BAND_SMALL] = min, g_hi[BAND_SMALL] = small_max;
    g_lo[BAND_MEDIUM] = small_max + 1, g_hi[BAND_MEDIUM] = medium_max;
    g_lo[BAND_LARGE] = medium_max + 1, g_hi[BAND_LARGE] = max;
    g_free_threshold = (uint64_t)(free_frac * 4294967296.0);

    g_pool = harness_alloc(g_pools * sizeof(pool_t));
    for (uint64_t q = 0; q < g_pools; q++)
        g_pool[q].budget = live_target / g_pools + (q < live_target % g_pools);
    if (ideal)
        return run_ideal(min);
    g_thr = harness_alloc(g_threads * sizeof(thr_t));
    pthread_t *th = harness_alloc(g_threads * sizeof(pthread_t));

    /* Dry run: the same rounds on sizes alone, to size the slot arrays, so
     * that they are mapped and touched before the start RSS is read. The
     * scratch arrays are reserved, not touched, and unmapped again. */
    seed_pools();
    uint64_t scratch_cap = 0;
    for (uint64_t q = 0; q < g_pools; q++) {
        pool_t *pl = &g_pool[q];
        scratch_cap = pl->budget / min + 2;
        pl->dry_sz = mmap(NULL, scratch_cap * sizeof(uint32_t), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (pl->dry_sz == MAP_FAILED) {
            fprintf(stderr, "scratch mmap failed: %s\n", strerror(errno));
            return 3;
        }
        for (uint64_t round = 0; round <= g_rounds; round++)
            churn_pool(pl, band_of_round(round), NULL);
        munmap(pl->dry_sz, scratch_cap * sizeof(uint32_t));
        pl->dry_sz = NULL;
        pl->cap = pl->max_n;
        pl->n = pl->live = 0;
    }
    uint64_t harness_bytes = 0;
    for (uint64_t q = 0; q < g_pools; q++) {
        g_pool[q].p = harness_alloc(g_pool[q].cap * sizeof(void *));
        harness_bytes += g_pool[q].cap * sizeof(void *);
    }
    seed_pools();
    bench_rebase();
    printf("# pools=%llu threads=%llu slot arrays %llu bytes; bands:", (unsigned long long)g_pools,
           (unsigned long long)g_threads, (unsigned long long)harness_bytes);
    for (int b = 0; b < NBANDS; b++)
        printf(" %s=%llu..%llu", band_name[b], (unsigned long long)g_lo[b], (unsigned long long)g_hi[b]);
    printf("\n");
    emit_sample(0, "start");

    barrier_init(&g_bar, (unsigned)g_threads);
    pthread_barrier_init(&g_idle_bar, NULL, (unsigned)g_threads + 1);
    uint64_t t0 = now_ns();
    for (uint64_t t = 0; t < g_threads; t++) {
        g_thr[t].id = t;
        xpthread_create(&th[t], worker, &g_thr[t]);
    }
    /* The workers are done once the last round's sample is out; wait for it
     * without disturbing them (this thread only sleeps). */
    while (!__atomic_load_n(&g_work_end_ns, __ATOMIC_ACQUIRE))
        sleep_ms(1);
    double work_ms = (double)(g_work_end_ns - t0) / 1e6;
    uint64_t live = live_now();
    mem_t m = emit_sample(live, "done");
    double ratio_churn_end = mem_ratio(&m, live), abs_churn_end = abs_ratio(&m, live);
    uint64_t rss_churn_end = m.rss;

    uint64_t idle0 = now_ns(), idle_ns = idle_ms * 1000000ull;
    for (;;) {
        uint64_t el = now_ns() - idle0;
        if (el >= idle_ns)
            break;
        uint64_t left_ms = (idle_ns - el + 999999) / 1000000;
        sleep_ms(left_ms < interval ? left_ms : interval);
        m = emit_sample(live, "idle");
    }
    double ratio_idle = mem_ratio(&m, live), abs_idle = abs_ratio(&m, live);
    pthread_barrier_wait(&g_idle_bar);
    for (uint64_t t = 0; t < g_threads; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&g_idle_bar);

    uint64_t allocs = 0, frees = 0, cross = 0, objects = 0;
    for (uint64_t t = 0; t < g_threads; t++) {
        allocs += g_thr[t].allocs;
        frees += g_thr[t].frees;
        cross += g_thr[t].cross_frees;
    }
    for (uint64_t q = 0; q < g_pools; q++)
        objects += g_pool[q].n;
    emit_result("workload=frag-bands-mt threads=%llu pools=%llu rounds=%llu objects=%llu allocs=%llu frees=%llu "
                "cross_frees=%llu work_ms=%.1f peak_live=%llu live_end=%llu harness_bytes=%llu "
                "rss_churn_end=%llu rss_end=%llu lazyfree_end=%llu idle_ms=%llu "
                "ratio=%.4f ratio_churn_end=%.4f ratio_max_churn=%.4f max_round=%llu ratio_idle=%.4f ratio_end=%.4f "
                "abs_ratio_churn_end=%.4f abs_ratio_max_churn=%.4f abs_ratio_idle=%.4f target=%.3f idle_target=%.3f",
                (unsigned long long)g_threads, (unsigned long long)g_pools, (unsigned long long)g_rounds,
                (unsigned long long)objects, (unsigned long long)allocs, (unsigned long long)frees,
                (unsigned long long)cross, work_ms, (unsigned long long)g_peak_live, (unsigned long long)live,
                (unsigned long long)harness_bytes, (unsigned long long)rss_churn_end, (unsigned long long)m.rss,
                (unsigned long long)m.lazyfree, (unsigned long long)idle_ms, ratio_churn_end, ratio_churn_end,
                g_max_ratio, (unsigned long long)g_max_round, ratio_idle, ratio_idle, abs_churn_end, g_max_abs,
                abs_idle, target, idle_target);
    return 0;
}
