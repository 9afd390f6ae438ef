/* xmalloc-pc: producer/consumer where every free is remote.
 *
 * In the spirit of the xmalloc test: producer threads allocate blocks and
 * pass them, in batches through a shared bounded queue, to consumer threads
 * that read and free them. No block is ever freed by the thread that
 * allocated it, so this measures the cross-thread free path and how well
 * memory freed elsewhere flows back to the producers.
 */
#include "common.h"

#define BATCH_MAX 256

typedef struct {
    void *p[BATCH_MAX];
    uint32_t sz[BATCH_MAX];
    uint32_t n;
} batch_t;

static batch_t *g_ring;
static uint64_t g_cap, g_head, g_tail, g_count;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_not_full = PTHREAD_COND_INITIALIZER, g_not_empty = PTHREAD_COND_INITIALIZER;
static uint64_t g_producers_left;
static uint64_t g_ops, g_batch, g_min, g_max, g_seed;
static atomic_llong g_live, g_peak;
static atomic_ullong g_bad;

static void note_live(long long d)
{
    long long v = atomic_fetch_add(&g_live, d) + d;
    long long p = atomic_load_explicit(&g_peak, memory_order_relaxed);
    while (v > p && !atomic_compare_exchange_weak(&g_peak, &p, v)) {
    }
}

static void *producer(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    rng_t r;
    rng_seed(&r, g_seed * 77 + id);
    static _Thread_local batch_t b;
    uint64_t made = 0;
    while (made < g_ops) {
        long long bytes = 0;
        b.n = 0;
        while (b.n < g_batch && made < g_ops) {
            size_t s = rng_logsize(&r, g_min, g_max);
            char *p = xmalloc(s);
            touch(p, s, (unsigned char)s);
            b.p[b.n] = p;
            b.sz[b.n++] = (uint32_t)s;
            bytes += (long long)s;
            made++;
        }
        note_live(bytes);
        pthread_mutex_lock(&g_lock);
        while (g_count == g_cap)
            pthread_cond_wait(&g_not_full, &g_lock);
        g_ring[g_tail] = b;
        g_tail = (g_tail + 1) % g_cap;
        g_count++;
        pthread_cond_signal(&g_not_empty);
        pthread_mutex_unlock(&g_lock);
    }
    pthread_mutex_lock(&g_lock);
    g_producers_left--;
    pthread_cond_broadcast(&g_not_empty);
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    static _Thread_local batch_t b;
    for (;;) {
        pthread_mutex_lock(&g_lock);
        while (g_count == 0 && g_producers_left)
            pthread_cond_wait(&g_not_empty, &g_lock);
        if (g_count == 0) {
            pthread_mutex_unlock(&g_lock);
            break;
        }
        b = g_ring[g_head];
        g_head = (g_head + 1) % g_cap;
        g_count--;
        pthread_cond_signal(&g_not_full);
        pthread_mutex_unlock(&g_lock);
        long long bytes = 0;
        for (uint32_t i = 0; i < b.n; i++) {
            unsigned char *c = b.p[i];
            if (c[0] != (unsigned char)b.sz[i] || c[b.sz[i] - 1] != (unsigned char)b.sz[i])
                atomic_fetch_add(&g_bad, 1);
            bytes += b.sz[i];
            free(c);
        }
        note_live(-bytes);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t producers = 2, consumers = 2, queue = 64;
    g_ops = 4000000;
    g_batch = 64;
    g_min = 8;
    g_max = 512;
    g_seed = 6;
    opt_t opts[] = {
        {"producers", OPT_U64, &producers, "allocating threads"},
        {"consumers", OPT_U64, &consumers, "freeing threads"},
        {"ops", OPT_U64, &g_ops, "blocks per producer"},
        {"batch", OPT_U64, &g_batch, "blocks per hand-off (at most 256)"},
        {"queue", OPT_U64, &queue, "batches the queue holds"},
        {"min", OPT_U64, &g_min, "smallest request"},
        {"max", OPT_U64, &g_max, "largest request"},
        {"seed", OPT_U64, &g_seed, "random seed"},
        {NULL, 0, NULL, NULL},
    };
    bench_init();
    parse_opts(argc, argv, "Producer/consumer hand-off: every free is remote (xmalloc style).", opts);
    if (!producers || !consumers || !queue || !g_batch || g_batch > BATCH_MAX || !g_min || g_max < g_min) {
        fprintf(stderr, "bad parameters\n");
        return 2;
    }
    g_cap = queue;
    g_ring = harness_alloc(queue * sizeof(batch_t));
    pthread_t *th = harness_alloc((producers + consumers) * sizeof(pthread_t));
    bench_rebase();

    g_producers_left = producers;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < consumers; i++)
        xpthread_create(&th[i], consumer, NULL);
    for (uint64_t i = 0; i < producers; i++)
        xpthread_create(&th[consumers + i], producer, (void *)(uintptr_t)i);
    for (uint64_t i = 0; i < producers + consumers; i++)
        pthread_join(th[i], NULL);
    double ms = (double)(now_ns() - t0) / 1e6;
    if (atomic_load(&g_bad)) {
        fprintf(stderr, "%llu blocks came back corrupted\n", (unsigned long long)atomic_load(&g_bad));
        return 6;
    }
    emit_result("workload=xmalloc-pc producers=%llu consumers=%llu work_ms=%.1f peak_live=%lld "
           "mops_per_s=%.3f",
           (unsigned long long)producers, (unsigned long long)consumers, ms, (long long)atomic_load(&g_peak), (double)(g_ops * producers) / ms / 1e3);
    return 0;
}
