/* fork() while other threads allocate: every child can allocate, free,
 * create a thread and exit; nothing deadlocks (each child gets a deadline,
 * enforced with alarm()); the parent's threads keep working throughout.
 *
 *   fork [--forks=N] [--threads=N]
 */
#define _GNU_SOURCE 1
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc_api.h"

static atomic_int stop;
static atomic_ulong parent_ops;
static volatile pid_t current_child;

struct shared_box {
    pthread_mutex_t lock;
    void *ptr;
    size_t size;
    uint64_t seed;
};
/* A block passed between the workers (cross-thread frees around forks). */
static struct shared_box box = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

static void *worker(void *arg)
{
    test_rng r = {(uint64_t)(uintptr_t)arg * 7777 + 1};
    enum { K = 64 };
    void *p[K] = {0};
    size_t sz[K] = {0};
    uint64_t seed[K] = {0};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        int i = (int)rng_below(&r, K);
        if (p[i] != NULL) {
            size_t off = pattern_check(p[i], sz[i], seed[i]);
            if (off != SIZE_MAX)
                check_fail(__FILE__, __LINE__, "worker block intact", "size %zu offset %zu", sz[i], off);
            if (rng_below(&r, 8) == 0) {
                /* Swap with the shared box: someone else frees ours. */
                pthread_mutex_lock(&box.lock);
                void *bp = box.ptr;
                size_t bs = box.size;
                uint64_t bseed = box.seed;
                box.ptr = p[i];
                box.size = sz[i];
                box.seed = seed[i];
                pthread_mutex_unlock(&box.lock);
                if (bp != NULL) {
                    if (pattern_check(bp, bs, bseed) != SIZE_MAX)
                        check_fail(__FILE__, __LINE__, "shared block intact", "size %zu", bs);
                    free(bp);
                }
            } else {
                free(p[i]);
            }
        }
        uint64_t k = rng_below(&r, 100);
        sz[i] = k < 80 ? 1 + rng_below(&r, 256) : k < 98 ? 1 + rng_below(&r, 8192)
                                                         : 1 + rng_below(&r, 1u << 20);
        p[i] = k % 10 == 0 ? calloc(1, sz[i]) : malloc(sz[i]);
        if (p[i] == NULL)
            check_fail(__FILE__, __LINE__, "worker allocation", "size %zu", sz[i]);
        seed[i] = rng_next(&r);
        pattern_fill(p[i], sz[i], seed[i]);
        atomic_fetch_add_explicit(&parent_ops, 1, memory_order_relaxed);
    }
    for (int i = 0; i < K; i++)
        free(p[i]);
    return NULL;
}

static void *child_thread(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    void *p[16];
    for (int i = 0; i < 16; i++) {
        p[i] = malloc(n + (size_t)i * 100);
        if (p[i] == NULL)
            return (void *)1;
        pattern_fill(p[i], n + (size_t)i * 100, (uint64_t)i);
    }
    for (int i = 0; i < 16; i++) {
        if (pattern_check(p[i], n + (size_t)i * 100, (uint64_t)i) != SIZE_MAX)
            return (void *)2;
        free(p[i]);
    }
    return NULL;
}

/* Runs in the child: allocate a bit of everything, then _exit. */
static void child_work(int iter)
{
    alarm(20); /* a deadlocked child dies instead of hanging the test */
    test_rng r = {(uint64_t)iter};
    enum { K = 200 };
    static void *p[K];
    static size_t sz[K];
    for (int i = 0; i < K; i++) {
        sz[i] = i % 50 == 0 ? 100000 + rng_below(&r, 3u << 20) : 1 + rng_below(&r, 4000);
        p[i] = malloc(sz[i]);
        if (p[i] == NULL)
            _exit(10);
        pattern_fill(p[i], sz[i], (uint64_t)i);
    }
    /* Free a block the parent's threads had allocated: the child owns a
     * copy of it.  (trylock: a worker may have held the lock at the fork,
     * and it stays locked in the child.) */
    if (pthread_mutex_trylock(&box.lock) == 0) {
        if (box.ptr != NULL) {
            if (pattern_check(box.ptr, box.size, box.seed) != SIZE_MAX)
                _exit(11);
            free(box.ptr);
            box.ptr = NULL;
        }
        pthread_mutex_unlock(&box.lock);
    }
    for (int i = 0; i < K; i += 2) {
        if (pattern_check(p[i], sz[i], (uint64_t)i) != SIZE_MAX)
            _exit(12);
        p[i] = realloc(p[i], sz[i] * 2);
        if (p[i] == NULL)
            _exit(13);
        if (pattern_check(p[i], sz[i], (uint64_t)i) != SIZE_MAX)
            _exit(14);
    }
    void *c = calloc(1000, 100);
    if (c == NULL || bytes_check(c, 100000, 0) != SIZE_MAX)
        _exit(15);
    free(c);
    pthread_t t;
    void *ret = (void *)3;
    if (pthread_create(&t, NULL, child_thread, (void *)(uintptr_t)(100 + iter)) != 0)
        _exit(16);
    if (pthread_join(t, &ret) != 0 || ret != NULL)
        _exit(17);
    for (int i = 0; i < K; i++)
        free(p[i]);
    /* Grandchild: fork again from the single-threaded child. */
    if (iter % 10 == 0) {
        pid_t g = fork();
        if (g < 0)
            _exit(18);
        if (g == 0) {
            void *q = malloc(12345);
            if (q == NULL)
                _exit(1);
            memset(q, 1, 12345);
            free(q);
            _exit(0);
        }
        int st;
        if (waitpid(g, &st, 0) != g || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            _exit(19);
    }
    _exit(0);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "fork: timed out waiting for a child: deadlock after fork?\n";
    if (write(2, msg, sizeof msg - 1) < 0) {
    }
    if (current_child > 0)
        kill(current_child, SIGKILL);
    _exit(3);
}

int main(int argc, char **argv)
{
    int forks = 100, nthreads = 4;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--forks=", 8) == 0)
            forks = atoi(argv[i] + 8);
        else if (strncmp(argv[i], "--threads=", 10) == 0)
            nthreads = atoi(argv[i] + 10);
        else {
            fprintf(stderr, "usage: %s [--forks=N] [--threads=N]\n", argv[0]);
            return 2;
        }
    }
    signal(SIGALRM, on_alarm);
    pthread_t th[64];
    CHECK(nthreads >= 1 && nthreads <= 64);
    for (int i = 0; i < nthreads; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1)), 0);

    int failures = 0;
    for (int iter = 0; iter < forks; iter++) {
        /* Let the workers get going between forks. */
        unsigned long before = atomic_load(&parent_ops);
        while (atomic_load(&parent_ops) < before + 200)
            sched_yield();
        pid_t pid = fork();
        CHECK_MSG(pid >= 0, "fork failed at iteration %d", iter);
        if (pid == 0)
            child_work(iter);
        current_child = pid;
        alarm(30);
        int st = 0;
        CHECK_EQ(waitpid(pid, &st, 0), pid);
        alarm(0);
        current_child = 0;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            failures++;
            if (WIFSIGNALED(st))
                fprintf(stderr, "fork: child %d killed by signal %d (%s)%s\n", iter,
                        WTERMSIG(st), strsignal(WTERMSIG(st)),
                        WTERMSIG(st) == SIGALRM ? ": deadlocked after fork" : "");
            else
                fprintf(stderr, "fork: child %d exited with status %d\n", iter, WEXITSTATUS(st));
        }
        /* The parent can still allocate too. */
        void *q = malloc((size_t)iter * 1000 + 1);
        CHECK_NOT_NULL(q);
        free(q);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < nthreads; i++)
        CHECK_EQ(pthread_join(th[i], NULL), 0);
    free(box.ptr);
    printf("fork: %d forks with %d allocating threads, %lu parent allocations, %d failed children\n",
           forks, nthreads, atomic_load(&parent_ops), failures);
    CHECK_EQ(failures, 0);
    return 0;
}
