/* Thousands of short-lived threads: each allocates and frees some blocks,
 * frees a block the main thread allocated, leaves some of its own for the
 * main thread to free, and has a pthread-key destructor (which runs during
 * thread exit) that frees and allocates.  Joined and detached threads.
 * Resident memory must not keep growing: RSS after the last thousand
 * threads is compared with RSS after the first thousand.
 *
 *   thread_churn [--threads=N] [--batch=N] [--rss-slack-mib=N]
 */
#define _GNU_SOURCE 1
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_api.h"

enum { LEFT = 3, OWN = 24 };

struct job {
    unsigned id;
    void *from_main;          /* allocated by main, freed by the thread */
    size_t from_main_size;
    void *left[LEFT];         /* allocated by the thread, freed by main */
    size_t left_size[LEFT];
    int done;
};

static pthread_key_t key;
static atomic_uint key_destructor_runs;
static _Thread_local void *tls_block;
static sem_t detached_slots;
static atomic_uint detached_done;

static size_t job_size(unsigned id, int i)
{
    uint64_t h = mix64((uint64_t)id * 64 + (uint64_t)i);
    if (h % 97 == 0)
        return 200000 + h % (1u << 20);
    if (h % 11 == 0)
        return 4097 + h % 60000;
    return 1 + h % 1024;
}

static void key_destructor(void *v)
{
    /* Runs while the thread exits; the allocator must still serve it. */
    unsigned id = *(unsigned *)v;
    if (pattern_check((char *)v + sizeof(unsigned), 200, id) != SIZE_MAX)
        check_fail(__FILE__, __LINE__, "key block intact", "thread %u", id);
    free(v);
    void *tmp = malloc(1000 + id % 3000);
    if (tmp == NULL)
        check_fail(__FILE__, __LINE__, "malloc in key destructor", NULL);
    memset(tmp, 0x5c, 1000 + id % 3000);
    free(tmp);
    if (tls_block != NULL) {
        free(tls_block);
        tls_block = NULL;
    }
    atomic_fetch_add(&key_destructor_runs, 1);
}

static void thread_body(struct job *j)
{
    void *own[OWN];
    for (int i = 0; i < OWN; i++) {
        size_t n = job_size(j->id, i);
        own[i] = (i % 5 == 0) ? calloc(1, n) : malloc(n);
        if (own[i] == NULL)
            check_fail(__FILE__, __LINE__, "allocation", "size %zu", n);
        if (i % 5 == 0 && bytes_check(own[i], n, 0) != SIZE_MAX)
            check_fail(__FILE__, __LINE__, "calloc zero", "size %zu", n);
        pattern_fill(own[i], n, (uint64_t)j->id * 100 + (uint64_t)i);
    }
    if (j->from_main != NULL) {
        if (pattern_check(j->from_main, j->from_main_size, j->id) != SIZE_MAX)
            check_fail(__FILE__, __LINE__, "main's block intact", "thread %u", j->id);
        free(j->from_main);
    }
    for (int i = 0; i < OWN; i++) {
        size_t n = job_size(j->id, i);
        if (pattern_check(own[i], n, (uint64_t)j->id * 100 + (uint64_t)i) != SIZE_MAX)
            check_fail(__FILE__, __LINE__, "own block intact", "thread %u block %d", j->id, i);
        if (i < LEFT) {
            j->left[i] = own[i];
            j->left_size[i] = n;
        } else {
            free(own[i]);
        }
    }
    unsigned *kv = malloc(sizeof(unsigned) + 200);
    if (kv == NULL)
        check_fail(__FILE__, __LINE__, "key block", NULL);
    *kv = j->id;
    pattern_fill(kv + 1, 200, j->id);
    pthread_setspecific(key, kv);
    tls_block = malloc(64);
    j->done = 1;
}

static void *joined_thread(void *arg)
{
    thread_body(arg);
    return NULL;
}

static void *detached_thread(void *arg)
{
    struct job *j = arg;
    thread_body(j);
    for (int i = 0; i < LEFT; i++)
        free(j->left[i]); /* nobody joins: clean up here */
    free(j);
    atomic_fetch_add(&detached_done, 1);
    sem_post(&detached_slots);
    return NULL;
}

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f == NULL)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * (size_t)sysconf(_SC_PAGESIZE);
}

int main(int argc, char **argv)
{
    unsigned total = 5000, batch = 4;
    unsigned long slack_mib = 16;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--threads=", 10) == 0)
            total = (unsigned)strtoul(argv[i] + 10, NULL, 0);
        else if (strncmp(argv[i], "--batch=", 8) == 0)
            batch = (unsigned)strtoul(argv[i] + 8, NULL, 0);
        else if (strncmp(argv[i], "--rss-slack-mib=", 16) == 0)
            slack_mib = strtoul(argv[i] + 16, NULL, 0);
        else {
            fprintf(stderr, "usage: %s [--threads=N] [--batch=N] [--rss-slack-mib=N]\n", argv[0]);
            return 2;
        }
    }
    CHECK(total >= 2000 && batch >= 1 && batch <= 64);
    CHECK_EQ(pthread_key_create(&key, key_destructor), 0);
    CHECK_EQ(sem_init(&detached_slots, 0, batch), 0);

    size_t rss_first = 0, rss_prev = 0, rss_max = 0;
    struct job jobs[64];
    pthread_t th[64];
    unsigned joined = 0;
    /* Phase 1: joined threads, `batch` at a time. */
    while (joined < total) {
        unsigned n = total - joined < batch ? total - joined : batch;
        for (unsigned k = 0; k < n; k++) {
            memset(&jobs[k], 0, sizeof jobs[k]);
            jobs[k].id = joined + k;
            jobs[k].from_main_size = 1 + (joined + k) % 5000;
            jobs[k].from_main = malloc(jobs[k].from_main_size);
            CHECK_NOT_NULL(jobs[k].from_main);
            pattern_fill(jobs[k].from_main, jobs[k].from_main_size, jobs[k].id);
            CHECK_EQ(pthread_create(&th[k], NULL, joined_thread, &jobs[k]), 0);
        }
        for (unsigned k = 0; k < n; k++) {
            CHECK_EQ(pthread_join(th[k], NULL), 0);
            CHECK(jobs[k].done);
            for (int i = 0; i < LEFT; i++) {
                CHECK_PATTERN(jobs[k].left[i], jobs[k].left_size[i], (uint64_t)jobs[k].id * 100 + (uint64_t)i);
                free(jobs[k].left[i]);
            }
        }
        unsigned before = joined;
        joined += n;
        if (joined / 1000 != before / 1000) {
            size_t rss = rss_bytes();
            if (rss_first == 0)
                rss_first = rss;
            rss_prev = rss;
            if (rss > rss_max)
                rss_max = rss;
            printf("thread_churn: %u threads joined, RSS %.1f MiB\n", joined, (double)rss / 1048576.0);
        }
    }
    CHECK_EQ(atomic_load(&key_destructor_runs), total);

    /* Phase 2: detached threads, at most `batch` alive at once. */
    unsigned detached = total / 4;
    for (unsigned k = 0; k < detached; k++) {
        sem_wait(&detached_slots);
        struct job *j = calloc(1, sizeof *j);
        CHECK_NOT_NULL(j);
        j->id = total + k;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        CHECK_EQ(pthread_create(&t, &attr, detached_thread, j), 0);
        pthread_attr_destroy(&attr);
    }
    for (unsigned k = 0; k < batch; k++)
        sem_wait(&detached_slots);
    CHECK_EQ(atomic_load(&detached_done), detached);
    /* The last detached threads may still be unwinding: give them a moment. */
    for (int i = 0; i < 200 && atomic_load(&key_destructor_runs) < total + detached; i++)
        usleep(5000);
    CHECK_EQ(atomic_load(&key_destructor_runs), total + detached);
    usleep(20000);
    size_t rss_end = rss_bytes();
    printf("thread_churn: %u detached threads done, RSS %.1f MiB\n", detached, (double)rss_end / 1048576.0);

    size_t slack = slack_mib << 20;
    CHECK_MSG(rss_prev <= rss_first + slack,
              "RSS grew from %.1f MiB (first 1000 threads) to %.1f MiB (last 1000)",
              (double)rss_first / 1048576.0, (double)rss_prev / 1048576.0);
    CHECK_MSG(rss_end <= rss_first + slack,
              "RSS grew from %.1f MiB (first 1000 threads) to %.1f MiB after detached threads",
              (double)rss_first / 1048576.0, (double)rss_end / 1048576.0);

#if defined(TIDE_TEST_LINKED)
    tide_stats_t st;
    CHECK_EQ(tide_stats_get(&st), 0);
    printf("thread_churn: tidemalloc: %ju thread heaps in use, %ju orphaned, %.1f MiB active, "
           "%.1f MiB mapped\n", (uintmax_t)st.threads, (uintmax_t)st.orphan_heaps,
           (double)st.active / 1048576.0, (double)st.mapped / 1048576.0);
    /* Heaps of exited threads are reused, not accumulated. */
    CHECK_LE(st.threads + st.orphan_heaps, 256);
#endif
    printf("thread_churn: OK (%u joined + %u detached threads)\n", total, detached);
    return 0;
}
