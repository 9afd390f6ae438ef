/* Multithreaded stress: N threads allocate blocks of random sizes
 * (1 B .. 64 KiB, mostly small) through malloc, calloc, aligned_alloc and
 * realloc, fill each with a pattern derived from (pointer, size, thread),
 * keep some, free some, and hand a share to other threads through two kinds
 * of queue (a mutex-protected ring and a lock-free list).  Whoever frees a
 * block first verifies every byte of its pattern.  At the end every block
 * ever allocated must have been verified exactly once.
 *
 *   stress [--threads=N | --threads=2x] [--ops=TOTAL] [--seed=S]
 *          [--max-seconds=T]
 *
 * --threads=2x means twice the online CPUs.  TOTAL operations are split
 * evenly over the threads, so the work does not grow with the thread
 * count; --max-seconds stops early (reported, not a failure) so a slow
 * instrumented build stays bounded.
 */
#define _GNU_SOURCE 1
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc_api.h"

enum {
    SLOTS = 384,        /* blocks each thread keeps live */
    RING = 4096,        /* capacity of each thread's mutex queue */
    DRAIN_EVERY = 32,   /* ops between looks at the incoming queues */
};

struct msg {
    void *ptr;
    size_t size;
    unsigned tid;
    unsigned kind;      /* 0 = malloc/realloc, 1 = calloc, 2 = aligned */
};

struct lf_node {
    struct lf_node *next;
    struct msg m;
};

struct inbox {
    pthread_mutex_t lock;
    size_t head, count;
    struct msg ring[RING];
    _Atomic(struct lf_node *) lf_head;
};

struct worker {
    pthread_t thread;
    unsigned tid;
    uint64_t seed;
    uint64_t ops;
    /* results */
    uint64_t allocated, verified, sent, received, reallocs, ops_done;
};

static unsigned nthreads;
static struct inbox *inboxes;
static atomic_int stop_now;
static double deadline;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t block_seed(const void *p, size_t n, unsigned tid)
{
    return mix64((uint64_t)(uintptr_t)p ^ ((uint64_t)n << 20) ^ ((uint64_t)tid << 52));
}

static void verify_and_free(const struct msg *m, uint64_t *verified)
{
    size_t off = pattern_check(m->ptr, m->size, block_seed(m->ptr, m->size, m->tid));
    if (off != SIZE_MAX)
        check_fail(__FILE__, __LINE__, "block pattern intact",
                   "block %p size %zu from thread %u (kind %u): byte %zu is 0x%02x, expected 0x%02x",
                   m->ptr, m->size, m->tid, m->kind, off, ((unsigned char *)m->ptr)[off],
                   pattern_byte(block_seed(m->ptr, m->size, m->tid), off));
    if (malloc_usable_size(m->ptr) < m->size)
        check_fail(__FILE__, __LINE__, "malloc_usable_size(p) >= size",
                   "block %p size %zu usable %zu", m->ptr, m->size, malloc_usable_size(m->ptr));
    free(m->ptr);
    (*verified)++;
}

static size_t pick_size(test_rng *r)
{
    uint64_t k = rng_below(r, 100);
    if (k < 70)
        return 1 + rng_below(r, 128);
    if (k < 90)
        return 129 + rng_below(r, 2048 - 128);
    if (k < 98)
        return 2049 + rng_below(r, 16384 - 2048);
    return 16385 + rng_below(r, 65536 - 16384);
}

static struct msg new_block(test_rng *r, unsigned tid)
{
    struct msg m;
    m.size = pick_size(r);
    m.tid = tid;
    uint64_t k = rng_below(r, 100);
    if (k < 85) {
        m.kind = 0;
        m.ptr = malloc(m.size);
    } else if (k < 95) {
        m.kind = 1;
        m.ptr = calloc(1, m.size);
        if (m.ptr != NULL) {
            size_t off = bytes_check(m.ptr, m.size, 0);
            if (off != SIZE_MAX)
                check_fail(__FILE__, __LINE__, "calloc memory is zero",
                           "block %p size %zu: byte %zu is 0x%02x", m.ptr, m.size, off,
                           ((unsigned char *)m.ptr)[off]);
        }
    } else {
        size_t align = (size_t)32 << rng_below(r, 8); /* 32 .. 4096 */
        m.kind = 2;
        m.ptr = aligned_alloc(align, m.size);
        if (m.ptr != NULL && (uintptr_t)m.ptr % align != 0)
            check_fail(__FILE__, __LINE__, "aligned_alloc alignment", "%p not aligned to %zu",
                       m.ptr, align);
    }
    if (m.ptr == NULL)
        check_fail(__FILE__, __LINE__, "allocation succeeded", "size %zu kind %u", m.size, m.kind);
    if (m.size >= 16 && (uintptr_t)m.ptr % 16 != 0)
        check_fail(__FILE__, __LINE__, "16-byte alignment", "%p size %zu", m.ptr, m.size);
    pattern_fill(m.ptr, m.size, block_seed(m.ptr, m.size, tid));
    return m;
}

static void send_block(struct worker *w, test_rng *r, const struct msg *m)
{
    unsigned to = (unsigned)rng_below(r, nthreads - 1);
    if (to >= w->tid)
        to++;
    struct inbox *in = &inboxes[to];
    if (rng_below(r, 2) == 0) {
        /* Lock-free: a malloc'd node pushed on the receiver's list. */
        struct lf_node *n = malloc(sizeof *n);
        if (n == NULL)
            check_fail(__FILE__, __LINE__, "node allocation", NULL);
        n->m = *m;
        struct lf_node *old = atomic_load_explicit(&in->lf_head, memory_order_relaxed);
        do
            n->next = old;
        while (!atomic_compare_exchange_weak_explicit(&in->lf_head, &old, n, memory_order_release,
                                                      memory_order_relaxed));
        w->sent++;
        return;
    }
    pthread_mutex_lock(&in->lock);
    if (in->count < RING) {
        in->ring[(in->head + in->count) % RING] = *m;
        in->count++;
        pthread_mutex_unlock(&in->lock);
        w->sent++;
        return;
    }
    pthread_mutex_unlock(&in->lock);
    verify_and_free(m, &w->verified); /* receiver is behind: free it here */
}

static uint64_t drain(struct inbox *in, uint64_t *verified)
{
    uint64_t got = 0;
    struct msg local[64];
    for (;;) {
        size_t n = 0;
        pthread_mutex_lock(&in->lock);
        while (in->count > 0 && n < 64) {
            local[n++] = in->ring[in->head];
            in->head = (in->head + 1) % RING;
            in->count--;
        }
        pthread_mutex_unlock(&in->lock);
        for (size_t i = 0; i < n; i++)
            verify_and_free(&local[i], verified);
        got += n;
        if (n < 64)
            break;
    }
    struct lf_node *list = atomic_exchange_explicit(&in->lf_head, NULL, memory_order_acquire);
    while (list != NULL) {
        struct lf_node *next = list->next;
        verify_and_free(&list->m, verified);
        free(list);
        list = next;
        got++;
    }
    return got;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    test_rng r = {w->seed};
    struct msg slot[SLOTS];
    memset(slot, 0, sizeof slot);

    for (uint64_t op = 0; op < w->ops; op++) {
        if ((op & 1023) == 0 && (atomic_load(&stop_now) || now_s() > deadline)) {
            atomic_store(&stop_now, 1);
            break;
        }
        struct msg *s = &slot[rng_below(&r, SLOTS)];
        if (s->ptr != NULL) {
            uint64_t k = rng_below(&r, 100);
            if (k < 30 && nthreads > 1) {
                /* Hand it to another thread, which verifies and frees it. */
                send_block(w, &r, s);
            } else if (k < 40 && s->kind != 2) {
                /* Grow or shrink it in place or elsewhere; the prefix stays. */
                size_t n = pick_size(&r);
                size_t keep = n < s->size ? n : s->size;
                uint64_t old_seed = block_seed(s->ptr, s->size, s->tid);
                unsigned char *q = realloc(s->ptr, n);
                if (q == NULL)
                    check_fail(__FILE__, __LINE__, "realloc succeeded", "size %zu", n);
                size_t off = pattern_check(q, keep, old_seed);
                if (off != SIZE_MAX)
                    check_fail(__FILE__, __LINE__, "realloc kept contents",
                               "%zu -> %zu bytes: byte %zu differs", s->size, n, off);
                s->ptr = q;
                s->size = n;
                s->kind = 0;
                pattern_fill(q, n, block_seed(q, n, s->tid));
                w->reallocs++;
                w->ops_done++;
                continue;
            } else {
                verify_and_free(s, &w->verified);
            }
        }
        *s = new_block(&r, w->tid);
        w->allocated++;
        w->ops_done++;
        if (op % DRAIN_EVERY == 0)
            w->received += drain(&inboxes[w->tid], &w->verified);
    }
    for (int i = 0; i < SLOTS; i++)
        if (slot[i].ptr != NULL)
            verify_and_free(&slot[i], &w->verified);
    w->received += drain(&inboxes[w->tid], &w->verified);
    return NULL;
}

static int parse_opt(const char *arg, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) == 0 && arg[n] == '=') {
        *val = arg + n + 1;
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    nthreads = (unsigned)(2 * cpus);
    uint64_t total_ops = 3000000, seed = 12345;
    double max_seconds = 60;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (parse_opt(argv[i], "--threads", &v)) {
            if (strcmp(v, "2x") == 0)
                nthreads = (unsigned)(2 * cpus);
            else
                nthreads = (unsigned)strtoul(v, NULL, 0);
        } else if (parse_opt(argv[i], "--ops", &v)) {
            total_ops = strtoull(v, NULL, 0);
        } else if (parse_opt(argv[i], "--seed", &v)) {
            seed = strtoull(v, NULL, 0);
        } else if (parse_opt(argv[i], "--max-seconds", &v)) {
            max_seconds = strtod(v, NULL);
        } else {
            fprintf(stderr, "usage: %s [--threads=N|2x] [--ops=N] [--seed=S] [--max-seconds=T]\n",
                    argv[0]);
            return 2;
        }
    }
    if (nthreads < 2 || nthreads > 4096) {
        fprintf(stderr, "need 2..4096 threads\n");
        return 2;
    }

    inboxes = calloc(nthreads, sizeof *inboxes);
    struct worker *w = calloc(nthreads, sizeof *w);
    CHECK(inboxes != NULL && w != NULL);
    for (unsigned t = 0; t < nthreads; t++) {
        pthread_mutex_init(&inboxes[t].lock, NULL);
        atomic_init(&inboxes[t].lf_head, NULL);
        w[t].tid = t;
        w[t].seed = mix64(seed * 1000003 + t);
        w[t].ops = total_ops / nthreads;
    }

    double t0 = now_s();
    deadline = t0 + max_seconds;
    for (unsigned t = 0; t < nthreads; t++)
        CHECK_EQ(pthread_create(&w[t].thread, NULL, worker_main, &w[t]), 0);
    for (unsigned t = 0; t < nthreads; t++)
        CHECK_EQ(pthread_join(w[t].thread, NULL), 0);

    /* Blocks sent to threads that had already finished: the main thread
     * verifies and frees them (more cross-thread frees). */
    uint64_t main_verified = 0, leftovers = 0;
    for (unsigned t = 0; t < nthreads; t++)
        leftovers += drain(&inboxes[t], &main_verified);
    double t1 = now_s();

    uint64_t allocated = 0, verified = main_verified, sent = 0, received = leftovers, reallocs = 0, ops = 0;
    for (unsigned t = 0; t < nthreads; t++) {
        allocated += w[t].allocated;
        verified += w[t].verified;
        sent += w[t].sent;
        received += w[t].received;
        reallocs += w[t].reallocs;
        ops += w[t].ops_done;
    }
    printf("stress: %u threads, %llu ops in %.2f s%s: %llu blocks allocated, %llu verified+freed, "
           "%llu sent to other threads, %llu received (%llu by main), %llu reallocs\n",
           nthreads, (unsigned long long)ops, t1 - t0,
           atomic_load(&stop_now) ? " (stopped at --max-seconds)" : "",
           (unsigned long long)allocated, (unsigned long long)verified, (unsigned long long)sent,
           (unsigned long long)received, (unsigned long long)leftovers, (unsigned long long)reallocs);
    CHECK_EQ(verified, allocated);
    CHECK_EQ(received, sent);
    CHECK_GT(sent, 0);
    for (unsigned t = 0; t < nthreads; t++) {
        CHECK_EQ(inboxes[t].count, 0);
        CHECK_NULL(atomic_load(&inboxes[t].lf_head));
        CHECK_GT(w[t].allocated, 0);
    }
    free(inboxes);
    free(w);
    printf("stress: OK\n");
    return 0;
}
