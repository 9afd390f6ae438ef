#define _GNU_SOURCE
/* The shared arenas fill each other's holes (core/central.c): blocks of
 * 5 KiB freed on one CPU leave half-empty slabs in that CPU's arena; a
 * thread on the other CPU then allocates as many blocks as were freed,
 * and they must come from those holes (the arena takes the partial slabs
 * over) rather than from new slabs, so the allocator's active pages do
 * not grow by their size. Runs enough threads to switch the arenas on.
 * Exit 77 where the process cannot run on two CPUs. */
#include "tidemalloc.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 5000
#define N 4096
#define MiB ((size_t)1 << 20)

static void *blocks[N];
static int cpus[2];

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        perror("sched_setaffinity");
        exit(1);
    }
}

static size_t active(void)
{
    tide_purge();
    tide_stats_t s;
    tide_stats_get(&s);
    return (size_t)s.active;
}

/* CPU 0: fill, then free every other block. */
static void *first(void *arg)
{
    (void)arg;
    pin(cpus[0]);
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(BLOCK);
        memset(blocks[i], 1, BLOCK);
    }
    for (int i = 0; i < N; i += 2) {
        free(blocks[i]);
        blocks[i] = NULL;
    }
    return NULL; /* its exit gives its cache back */
}

/* CPU 1: as many blocks as were freed. */
static void *second(void *arg)
{
    (void)arg;
    pin(cpus[1]);
    for (int i = 0; i < N; i += 2) {
        blocks[i] = malloc(BLOCK);
        memset(blocks[i], 2, BLOCK);
    }
    return NULL; /* its exit gives its cache back */
}

static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;

static void *idle_thread(void *arg)
{
    (void)arg;
    free(malloc(64)); /* a heap of its own, counted while it lives */
    pthread_mutex_lock(&hold);
    pthread_mutex_unlock(&hold);
    return NULL;
}

int main(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        printf("SKIP: fewer than two CPUs to run on\n");
        return 77;
    }
    int k = 0;
    for (int c = 0; c < CPU_SETSIZE && k < 2; c++)
        if (CPU_ISSET(c, &set))
            cpus[k++] = c;

    /* More than 4 thread heaps per CPU switch the arenas on. */
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    int idle = (int)(4 * ncpu + 4);
    pthread_t *t = calloc((size_t)idle, sizeof *t);
    pthread_mutex_lock(&hold);
    for (int i = 0; i < idle; i++)
        pthread_create(&t[i], NULL, idle_thread, NULL);
    usleep(100 * 1000);

    pthread_t a, b;
    pthread_create(&a, NULL, first, NULL);
    pthread_join(a, NULL);
    size_t before = active();
    pthread_create(&b, NULL, second, NULL);
    pthread_join(b, NULL);
    size_t after = active();
    pthread_mutex_unlock(&hold);
    for (int i = 0; i < idle; i++)
        pthread_join(t[i], NULL);

    size_t asked = (size_t)(N / 2) * BLOCK;
    printf("active %zu -> %zu KiB for %zu KiB asked on the other CPU\n", before >> 10, after >> 10, asked >> 10);
    if (after > before && after - before > asked / 4) {
        fprintf(stderr, "FAIL: active grew by %zu KiB: the other CPU's arena carved new slabs "
                        "instead of filling the %zu KiB of holes\n", (after - before) >> 10, asked >> 10);
        return 1;
    }
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    printf("PASS\n");
    return 0;
}
