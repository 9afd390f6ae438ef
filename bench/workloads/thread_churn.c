/* thread-churn: many short-lived threads.
 *
 * Thread pools that grow and shrink, or a thread per request: threads are
 * created a few at a time; each allocates a small working set, churns it
 * briefly, frees most of it and exits, leaving a tenth of its blocks to the
 * main thread, which frees them after the thread is gone. Allocators with
 * expensive per-thread heaps pay on every start and exit, and can keep the
 * dead threads' memory around.
 */
#include "common.h"

typedef struct {
    void **left;      /* blocks left to the main thread */
    uint32_t *left_sz;
    uint64_t nleft;
    uint64_t seed;
    uint64_t bytes_peak;
} job_t;

static uint64_t g_objs, g_churn, g_min, g_max;

static void *job(void *arg)
{
    job_t *j = arg;
    rng_t r;
    rng_seed(&r, j->seed);
    void *p[1024];
    uint32_t s[1024];
    uint64_t live = 0, peak = 0;
    for (uint64_t i = 0; i < g_objs; i++) {
        s[i] = (uint32_t)rng_logsize(&r, g_min, g_max);
        p[i] = xmalloc(s[i]);
        touch(p[i], s[i], (unsigned char)i);
        live += s[i];
    }
    peak = live;
    for (uint64_t i = 0; i < g_churn; i++) {
        uint64_t k = rng_below(&r, g_objs);
        free(p[k]);
        live -= s[k];
        s[k] = (uint32_t)rng_logsize(&r, g_min, g_max);
        p[k] = xmalloc(s[k]);
        touch(p[k], s[k], (unsigned char)i);
        live += s[k];
        if (live > peak)
            peak = live;
    }
    j->nleft = 0;
    for (uint64_t i = 0; i < g_objs; i++) {
        if (i % 10 == 0) {
            j->left[j->nleft] = p[i];
            j->left_sz[j->nleft++] = s[i];
        } else {
            free(p[i]);
        }
    }
    j->bytes_peak = peak;
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t nthreads = 4000, concurrent = 4, seed = 7;
    g_objs = 256;
    g_churn = 2000;
    g_min = 16;
    g_max = 4096;
    opt_t opts[] = {
        {"threads", OPT_U64, &nthreads, "threads started over the run"},
        {"concurrent", OPT_U64, &concurrent, "threads alive at once"},
        {"objects", OPT_U64, &g_objs, "blocks each thread keeps (at most 1024)"},
        {"churn", OPT_U64, &g_churn, "replacements each thread makes"},
        {"min", OPT_U64, &g_min, "smallest request"},
        {"max", OPT_U64, &g_max, "largest request"},
        {"seed", OPT_U64, &seed, "random seed"},
        {NULL, 0, NULL, NULL},
    };
    bench_init();
    parse_opts(argc, argv, "Many short-lived threads that allocate, churn and exit.", opts);
    if (!nthreads || !concurrent || !g_objs || g_objs > 1024 || !g_min || g_max < g_min) {
        fprintf(stderr, "bad parameters\n");
        return 2;
    }
    uint64_t nleft_max = g_objs / 10 + 1;
    job_t *jobs = harness_alloc(concurrent * sizeof(job_t));
    pthread_t *th = harness_alloc(concurrent * sizeof(pthread_t));
    for (uint64_t i = 0; i < concurrent; i++) {
        jobs[i].left = harness_alloc(nleft_max * sizeof(void *));
        jobs[i].left_sz = harness_alloc(nleft_max * sizeof(uint32_t));
    }
    bench_rebase();

    uint64_t started = 0, peak_live = 0;
    uint64_t t0 = now_ns();
    while (started < nthreads) {
        uint64_t n = nthreads - started < concurrent ? nthreads - started : concurrent;
        for (uint64_t i = 0; i < n; i++) {
            jobs[i].seed = seed * 1000003 + started + i;
            xpthread_create(&th[i], job, &jobs[i]);
        }
        uint64_t wave = 0;
        for (uint64_t i = 0; i < n; i++) {
            pthread_join(th[i], NULL);
            wave += jobs[i].bytes_peak;
        }
        if (wave > peak_live)
            peak_live = wave;
        /* the blocks the dead threads left behind */
        for (uint64_t i = 0; i < n; i++)
            for (uint64_t k = 0; k < jobs[i].nleft; k++)
                free(jobs[i].left[k]);
        started += n;
    }
    double ms = (double)(now_ns() - t0) / 1e6;
    emit_result("workload=thread-churn threads=%llu work_ms=%.1f peak_live=%llu "
           "threads_per_s=%.1f",
           (unsigned long long)nthreads, ms, (unsigned long long)peak_live,
           (double)nthreads / ms * 1e3);
    return 0;
}
