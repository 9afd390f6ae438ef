/* false-sharing: does the allocator put different threads' objects on one
 * cache line?
 *
 * --mode=thrash (cache-thrash): every thread repeatedly allocates a small
 *   object, writes it many times and frees it. An allocator that hands
 *   neighbouring bytes to different threads makes the cores fight over the
 *   line (active false sharing).
 * --mode=scratch (cache-scratch): the main thread allocates one small object
 *   per worker, back to back, and hands them over; each worker frees its
 *   object first, then does the thrash loop. An allocator that gives the
 *   freed object back to the worker keeps the workers on the main thread's
 *   shared line (passive false sharing).
 */
#include "common.h"

static uint64_t g_iters, g_writes, g_size;
static barrier_t g_start;

typedef struct {
    void *handed;
    uint64_t sum;
    char pad[CACHE_LINE];
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    barrier_wait(&g_start);
    if (w->handed)
        free(w->handed);
    for (uint64_t i = 0; i < g_iters; i++) {
        volatile unsigned char *p = xmalloc(g_size);
        for (uint64_t k = 0; k < g_writes; k++) {
            p[k % g_size] = (unsigned char)(p[0] + 1);
        }
        w->sum += p[0];
        free((void *)p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t threads = 2;
    const char *mode = "thrash";
    g_iters = 100000;
    g_writes = 500;
    g_size = 8;
    opt_t opts[] = {
        {"mode", OPT_STR, &mode, "thrash or scratch"},
        {"threads", OPT_U64, &threads, "worker threads"},
        {"iters", OPT_U64, &g_iters, "malloc/free per worker"},
        {"writes", OPT_U64, &g_writes, "writes to each object"},
        {"size", OPT_U64, &g_size, "object size"},
        {NULL, 0, NULL, NULL},
    };
    bench_init();
    parse_opts(argc, argv, "False sharing between threads (cache-thrash / cache-scratch).", opts);
    int scratch = !strcmp(mode, "scratch");
    if ((!scratch && strcmp(mode, "thrash")) || !threads || !g_size) {
        fprintf(stderr, "bad parameters\n");
        return 2;
    }
    worker_t *w = harness_alloc(threads * sizeof(worker_t));
    pthread_t *th = harness_alloc(threads * sizeof(pthread_t));
    bench_rebase();

    barrier_init(&g_start, (unsigned)threads + 1);
    for (uint64_t i = 0; i < threads; i++) {
        if (scratch) {
            w[i].handed = xmalloc(g_size);
            memset(w[i].handed, 0, g_size);
        }
        xpthread_create(&th[i], worker, &w[i]);
    }
    uint64_t t0 = now_ns();
    barrier_wait(&g_start);
    for (uint64_t i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double ms = (double)(now_ns() - t0) / 1e6;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < threads; i++)
        sum += w[i].sum;
    emit_result("workload=cache-%s threads=%llu work_ms=%.1f peak_live=%llu "
           "mwrites_per_s=%.2f checksum=%llu",
           mode, (unsigned long long)threads, ms, (unsigned long long)(threads * g_size), (double)(threads * g_iters * g_writes) / ms / 1e3,
           (unsigned long long)(sum & 0xffff));
    return 0;
}
