/* larson: a server simulation where blocks outlive the threads that made them.
 *
 * After Larson and Krishnan's server benchmark: T lanes each own an array of
 * slots holding blocks of random sizes. A lane's thread repeatedly frees a
 * random slot and allocates a replacement; after its share of the work it
 * starts a successor thread, hands it the array and exits. The successor
 * frees blocks its predecessor allocated, so most frees land on memory
 * another (often already dead) thread allocated.
 *
 * Two ways to end: after --ops replacements per lane in --generations
 * threads (the default), or, with --seconds=S, after S seconds with a
 * handover every --gen-ops replacements, the way the public benchmark runs
 * (a fixed time, judged by its throughput: a slow allocator then does less
 * work in as many threads rather than taking longer).
 */
#include "common.h"

typedef struct {
    void **slot;
    uint32_t *sz;
    uint64_t nslots, ops_left, ops_per_gen, live, peak, gens, done;
    rng_t r;
    char pad[CACHE_LINE];
} lane_t;

static uint64_t g_min, g_max;
static atomic_uint g_done;
static atomic_bool g_stop; /* --seconds: the time is up */

static void *lane_run(void *arg)
{
    lane_t *l = arg;
    uint64_t n = l->ops_left < l->ops_per_gen ? l->ops_left : l->ops_per_gen;
    uint64_t i = 0;
    for (; i < n; i++) {
        if ((i & 255) == 0 && atomic_load_explicit(&g_stop, memory_order_relaxed))
            break;
        uint64_t j = rng_below(&l->r, l->nslots);
        free(l->slot[j]);
        l->live -= l->sz[j];
        l->sz[j] = (uint32_t)rng_range(&l->r, g_min, g_max);
        l->slot[j] = xmalloc(l->sz[j]);
        touch(l->slot[j], l->sz[j], (unsigned char)i);
        l->live += l->sz[j];
        if (l->live > l->peak)
            l->peak = l->live;
    }
    l->ops_left -= i;
    l->done += i;
    if (l->ops_left && !atomic_load(&g_stop)) {
        /* hand the array to a fresh thread and leave */
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        l->gens++;
        int e = pthread_create(&t, &a, lane_run, l);
        pthread_attr_destroy(&a);
        if (e) {
            fprintf(stderr, "pthread_create failed: %s\n", strerror(e));
            exit(5);
        }
    } else {
        atomic_fetch_add(&g_done, 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t threads = 4, nslots = 2000, ops = 2000000, gens = 40, seed = 5, seconds = 0, gen_ops = 500000;
    g_min = 8;
    g_max = 1000;
    opt_t opts[] = {
        {"threads", OPT_U64, &threads, "lanes running at once"},
        {"slots", OPT_U64, &nslots, "live blocks per lane"},
        {"ops", OPT_U64, &ops, "replacements per lane"},
        {"generations", OPT_U64, &gens, "threads per lane over the run (handovers + 1)"},
        {"min", OPT_U64, &g_min, "smallest request"},
        {"max", OPT_U64, &g_max, "largest request"},
        {"seed", OPT_U64, &seed, "random seed"},
        {"seconds", OPT_U64, &seconds, "run for this long instead of --ops (0: off)"},
        {"gen-ops", OPT_U64, &gen_ops, "with --seconds: replacements per thread before its handover"},
        {NULL, 0, NULL, NULL},
    };
    bench_init();
    parse_opts(argc, argv, "Larson-style server simulation with thread handover.", opts);
    if (threads == 0 || nslots == 0 || gens == 0 || g_max < g_min || g_min == 0 || (seconds && !gen_ops)) {
        fprintf(stderr, "bad parameters\n");
        return 2;
    }
    lane_t *lanes = harness_alloc(threads * sizeof(lane_t));
    for (uint64_t t = 0; t < threads; t++) {
        lanes[t].slot = harness_alloc(nslots * sizeof(void *));
        lanes[t].sz = harness_alloc(nslots * sizeof(uint32_t));
    }
    bench_rebase();

    uint64_t t0 = now_ns();
    for (uint64_t t = 0; t < threads; t++) {
        lane_t *l = &lanes[t];
        l->nslots = nslots;
        l->ops_left = seconds ? UINT64_MAX : ops;
        l->ops_per_gen = seconds ? gen_ops : (ops + gens - 1) / gens;
        rng_seed(&l->r, seed * 1000 + t);
        /* the main thread fills every lane: the first generation already
         * frees blocks it did not allocate */
        for (uint64_t j = 0; j < nslots; j++) {
            l->sz[j] = (uint32_t)rng_range(&l->r, g_min, g_max);
            l->slot[j] = xmalloc(l->sz[j]);
            touch(l->slot[j], l->sz[j], 1);
            l->live += l->sz[j];
        }
        l->peak = l->live;
    }
    for (uint64_t t = 0; t < threads; t++) {
        pthread_t th;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &a, lane_run, &lanes[t])) {
            fprintf(stderr, "pthread_create failed\n");
            return 5;
        }
        pthread_attr_destroy(&a);
    }
    if (seconds) {
        sleep_ms(seconds * 1000);
        atomic_store(&g_stop, 1);
    }
    while (atomic_load(&g_done) < threads)
        sleep_ms(1);
    double ms = (double)(now_ns() - t0) / 1e6;
    uint64_t peak = 0, handovers = 0, done = 0;
    for (uint64_t t = 0; t < threads; t++) {
        peak += lanes[t].peak;
        handovers += lanes[t].gens;
        done += lanes[t].done;
        for (uint64_t j = 0; j < nslots; j++)
            free(lanes[t].slot[j]);
    }
    emit_result("workload=larson threads=%llu work_ms=%.1f peak_live=%llu handovers=%llu "
           "mops_per_s=%.3f",
           (unsigned long long)threads, ms, (unsigned long long)peak,
           (unsigned long long)handovers, (double)done / ms / 1e3);
    return 0;
}
