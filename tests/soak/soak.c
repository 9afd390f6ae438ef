/* Soak: a long, steady multithreaded workload whose resident memory must
 * stop growing once it has warmed up.
 *
 *   soak [--minutes=M | --seconds=S] [--threads=N | --threads=2x]
 *        [--sample-ms=MS] [--tolerance-pct=P] [--slack-mib=MIB] [--seed=X]
 *
 * Each of N threads (default: twice the online CPUs) owns SLOTS slots.  An
 * operation picks a random slot: an empty slot gets a new block (malloc,
 * calloc checked zero, aligned_alloc, posix_memalign or realloc(NULL)); a
 * full one is verified and freed, or reallocated (prefix verified, tail
 * refilled), or handed to another thread through that thread's inbox, which
 * verifies it and frees it (or reallocates it first).  Every block carries a
 * pattern derived from (pointer, size, thread) that is checked byte for byte
 * before it is freed or reallocated.
 *
 * The size mix changes every min(15 s, run / 16) (tiny objects, a general
 * mix, medium and large blocks, small with a few big page runs), so slabs of one class empty out while others
 * fill: what must not happen is RSS ratcheting up phase after phase.  The
 * live set itself is bounded by construction (slots x largest size per
 * phase).
 *
 * The main thread samples RSS (/proc/self/statm) every --sample-ms and
 * prints one line per sample.  The RSS of this workload swings with the
 * size mix (freed pages stay dirty for decay_ms), so the criterion compares
 * windows that each span many whole cycles of the four mixes:
 *   warm-up   = the first quarter of the run (not judged);
 *   reference = the second quarter;  late = the last half;
 *   pass iff, with tol = P % and slack = MIB MiB (defaults 10 %, 16 MiB),
 *     mean(late)   <= mean(reference) * (1 + tol) + slack   (no creep),
 *     p90(late)    <= p90(reference)  * (1 + tol) + slack   (the upper
 *                     envelope does not rise),
 *     max(late)    <= max(first half) * (1 + tol) + slack   (no new peak).
 * Also: every allocated block was verified exactly once, no allocation
 * failed, no pattern was damaged.
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
    SLOTS = 1024,
    RING = 2048,
    NPHASES = 4,
    MAX_SAMPLES = 1 << 16,
};

struct blk {
    void *ptr;
    size_t size;
    unsigned tid;
};

struct inbox {
    pthread_mutex_t lock;
    size_t head, count;
    struct blk ring[RING];
};

struct worker {
    pthread_t thread;
    unsigned tid;
    uint64_t seed;
    struct blk slots[SLOTS];
    uint64_t allocated, verified, sent, received, reallocs, ops;
};

static unsigned nthreads;
static struct inbox *inboxes;
static struct worker *workers;
static atomic_int stop_now;
static double t_start;
static double phase_seconds;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (size_t)res * page_size();
}

static uint64_t block_seed(const void *p, size_t n, unsigned tid)
{
    return mix64((uint64_t)(uintptr_t)p ^ ((uint64_t)n << 20) ^ ((uint64_t)tid << 52));
}

static void verify(const struct blk *b)
{
    uint64_t seed = block_seed(b->ptr, b->size, b->tid);
    size_t off = pattern_check(b->ptr, b->size, seed);
    if (off != SIZE_MAX)
        check_fail(__FILE__, __LINE__, "block pattern intact",
                   "block %p size %zu from thread %u: byte %zu is 0x%02x, expected 0x%02x",
                   b->ptr, b->size, b->tid, off, ((unsigned char *)b->ptr)[off],
                   pattern_byte(seed, off));
    size_t usable = malloc_usable_size(b->ptr);
    if (usable < b->size)
        check_fail(__FILE__, __LINE__, "malloc_usable_size(p) >= size",
                   "block %p size %zu usable %zu", b->ptr, b->size, usable);
}

static unsigned current_phase(void)
{
    return (unsigned)((now_s() - t_start) / phase_seconds) % NPHASES;
}

static size_t pick_size(test_rng *r, unsigned phase)
{
    uint64_t k = rng_below(r, 1000);
    switch (phase) {
    case 0: /* tiny objects */
        return 1 + rng_below(r, k < 900 ? 64 : 512);
    case 1: /* a general mix */
        if (k < 700)
            return 1 + rng_below(r, 256);
        if (k < 950)
            return 257 + rng_below(r, 4096 - 256);
        return 4097 + rng_below(r, 32768 - 4096);
    case 2: /* medium and large blocks */
        if (k < 750)
            return 512 + rng_below(r, 1536);
        if (k < 995)
            return 16385 + rng_below(r, 131072 - 16384);
        return 131073 + rng_below(r, (1u << 20) - 131072);
    default: /* mostly small, a few big page runs */
        if (k < 998)
            return 16 + rng_below(r, 1024);
        return (256u << 10) + rng_below(r, (2u << 20) - (256u << 10));
    }
}

static struct blk new_block(test_rng *r, unsigned tid, unsigned phase)
{
    struct blk b = { NULL, pick_size(r, phase), tid };
    uint64_t k = rng_below(r, 100);
    if (k < 70) {
        b.ptr = malloc(b.size);
    } else if (k < 82) {
        b.ptr = calloc(1, b.size);
        if (b.ptr != NULL) {
            size_t off = bytes_check(b.ptr, b.size, 0);
            if (off != SIZE_MAX)
                check_fail(__FILE__, __LINE__, "calloc memory is zero",
                           "block %p size %zu: byte %zu is 0x%02x", b.ptr, b.size, off,
                           ((unsigned char *)b.ptr)[off]);
        }
    } else if (k < 90) {
        size_t align = (size_t)32 << rng_below(r, 8);
        b.ptr = aligned_alloc(align, b.size);
        if (b.ptr && (uintptr_t)b.ptr % align)
            check_fail(__FILE__, __LINE__, "aligned_alloc alignment", "%p %zu", b.ptr, align);
    } else if (k < 95) {
        size_t align = (size_t)16 << rng_below(r, 10);
        int rc = posix_memalign(&b.ptr, align, b.size);
        if (rc != 0)
            check_fail(__FILE__, __LINE__, "posix_memalign", "returned %d for size %zu", rc, b.size);
        if ((uintptr_t)b.ptr % align)
            check_fail(__FILE__, __LINE__, "posix_memalign alignment", "%p %zu", b.ptr, align);
    } else {
        b.ptr = realloc(NULL, b.size);
    }
    if (b.ptr == NULL)
        check_fail(__FILE__, __LINE__, "allocation succeeded", "size %zu", b.size);
    pattern_fill(b.ptr, b.size, block_seed(b.ptr, b.size, tid));
    return b;
}

/* Verify b, realloc it to a new size, check the kept prefix, refill. */
static void realloc_block(struct blk *b, test_rng *r, unsigned tid, unsigned phase)
{
    verify(b);
    size_t n = pick_size(r, phase);
    uint64_t old_seed = block_seed(b->ptr, b->size, b->tid);
    void *q = realloc(b->ptr, n);
    if (q == NULL)
        check_fail(__FILE__, __LINE__, "realloc succeeded", "size %zu -> %zu", b->size, n);
    size_t keep = b->size < n ? b->size : n;
    size_t off = pattern_check(q, keep, old_seed);
    if (off != SIZE_MAX)
        check_fail(__FILE__, __LINE__, "realloc kept the prefix",
                   "%zu -> %zu bytes: byte %zu differs", b->size, n, off);
    b->ptr = q;
    b->size = n;
    b->tid = tid;
    pattern_fill(q, n, block_seed(q, n, tid));
}

static void release(struct worker *w, struct blk *b)
{
    verify(b);
    free(b->ptr);
    b->ptr = NULL;
    w->verified++;
}

static void drain(struct worker *w, test_rng *r)
{
    struct inbox *in = &inboxes[w->tid];
    struct blk local[64];
    for (;;) {
        size_t n = 0;
        pthread_mutex_lock(&in->lock);
        while (in->count > 0 && n < 64) {
            local[n++] = in->ring[in->head];
            in->head = (in->head + 1) % RING;
            in->count--;
        }
        pthread_mutex_unlock(&in->lock);
        for (size_t i = 0; i < n; i++) {
            w->received++;
            /* Some received blocks are reallocated here before the free:
             * a realloc by a thread that does not own the block. */
            if (rng_below(r, 4) == 0) {
                realloc_block(&local[i], r, w->tid, 1);
                w->reallocs++;
            }
            release(w, &local[i]);
        }
        if (n < 64)
            return;
    }
}

static void hand_over(struct worker *w, test_rng *r, struct blk *b)
{
    unsigned to = nthreads > 1 ? (unsigned)rng_below(r, nthreads - 1) : 0;
    if (nthreads > 1 && to >= w->tid)
        to++;
    struct inbox *in = &inboxes[to];
    pthread_mutex_lock(&in->lock);
    if (in->count < RING) {
        in->ring[(in->head + in->count) % RING] = *b;
        in->count++;
        pthread_mutex_unlock(&in->lock);
        b->ptr = NULL;
        w->sent++;
        return;
    }
    pthread_mutex_unlock(&in->lock);
    release(w, b);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    test_rng r = { w->seed };
    unsigned phase = current_phase();
    while (!atomic_load_explicit(&stop_now, memory_order_relaxed)) {
        for (int burst = 0; burst < 256; burst++) {
            struct blk *b = &w->slots[rng_below(&r, SLOTS)];
            w->ops++;
            if (b->ptr == NULL) {
                *b = new_block(&r, w->tid, phase);
                w->allocated++;
                continue;
            }
            uint64_t k = rng_below(&r, 100);
            if (k < 45) {
                release(w, b);
            } else if (k < 60) {
                realloc_block(b, &r, w->tid, phase);
                w->reallocs++;
            } else if (k < 90 && nthreads > 1) {
                hand_over(w, &r, b);
            } else {
                verify(b);
            }
        }
        drain(w, &r);
        unsigned p = current_phase();
        if (p != phase) {
            /* A new phase: most old blocks go, so the old mix's slabs can
             * empty out. */
            for (size_t i = 0; i < SLOTS; i++)
                if (w->slots[i].ptr && rng_below(&r, 8) != 0)
                    release(w, &w->slots[i]);
            phase = p;
        }
    }
    return NULL;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

struct sample {
    double t;
    size_t rss;
};

static struct sample samples[MAX_SAMPLES];

int main(int argc, char **argv)
{
    double seconds = 60;
    unsigned sample_ms = 1000;
    double tolerance = 10, slack_mib = 16;
    uint64_t seed = 0x50a4;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    nthreads = (unsigned)(cpus > 0 ? 2 * cpus : 4);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--minutes=", 10) == 0)
            seconds = atof(a + 10) * 60;
        else if (strncmp(a, "--seconds=", 10) == 0)
            seconds = atof(a + 10);
        else if (strcmp(a, "--threads=2x") == 0)
            ;
        else if (strncmp(a, "--threads=", 10) == 0)
            nthreads = (unsigned)atoi(a + 10);
        else if (strncmp(a, "--sample-ms=", 12) == 0)
            sample_ms = (unsigned)atoi(a + 12);
        else if (strncmp(a, "--tolerance-pct=", 16) == 0)
            tolerance = atof(a + 16);
        else if (strncmp(a, "--slack-mib=", 12) == 0)
            slack_mib = atof(a + 12);
        else if (strncmp(a, "--seed=", 7) == 0)
            seed = strtoull(a + 7, NULL, 0);
        else {
            fprintf(stderr,
                    "usage: %s [--minutes=M | --seconds=S] [--threads=N|2x] [--sample-ms=MS]\n"
                    "          [--tolerance-pct=P] [--slack-mib=MIB] [--seed=X]\n",
                    argv[0]);
            return 2;
        }
    }
    if (nthreads < 1 || seconds < 4 || sample_ms < 10) {
        fprintf(stderr, "soak: need >= 1 thread, >= 4 s, >= 10 ms between samples\n");
        return 2;
    }
    printf("soak (%s): %u threads, %.0f s, RSS sample every %u ms, tolerance %.1f%% + %.0f MiB\n",
           TIDE_TEST_MODE, nthreads, seconds, sample_ms, tolerance, slack_mib);
    printf("# size mix changes every %.1f s; columns: t_s rss_mib\n",
           seconds / 16 < 15 ? seconds / 16 : 15);
    fflush(stdout);

    inboxes = calloc(nthreads, sizeof *inboxes);
    workers = calloc(nthreads, sizeof *workers);
    CHECK(inboxes != NULL && workers != NULL);
    phase_seconds = seconds / 16 < 15 ? seconds / 16 : 15;
    t_start = now_s();
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_mutex_init(&inboxes[i].lock, NULL);
        workers[i].tid = i;
        workers[i].seed = mix64(seed + i);
    }
    for (unsigned i = 0; i < nthreads; i++)
        CHECK(pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) == 0);

    size_t nsamples = 0;
    double end = t_start + seconds;
    while (now_s() < end && nsamples < MAX_SAMPLES) {
        usleep(sample_ms * 1000u);
        double t = now_s() - t_start;
        size_t rss = rss_bytes();
        samples[nsamples++] = (struct sample){ t, rss };
        printf("%8.1f %8.1f\n", t, (double)rss / (1 << 20));
        fflush(stdout);
    }
    atomic_store(&stop_now, 1);
    uint64_t allocated = 0, verified = 0, sent = 0, received = 0, reallocs = 0, ops = 0;
    for (unsigned i = 0; i < nthreads; i++)
        CHECK(pthread_join(workers[i].thread, NULL) == 0);
    /* Everything still in flight: inboxes, then slots. */
    for (unsigned i = 0; i < nthreads; i++) {
        test_rng r = { seed ^ 0xfeed };
        drain(&workers[i], &r);
    }
    for (unsigned i = 0; i < nthreads; i++) {
        struct worker *w = &workers[i];
        for (size_t s = 0; s < SLOTS; s++)
            if (w->slots[s].ptr)
                release(w, &w->slots[s]);
        allocated += w->allocated;
        verified += w->verified;
        sent += w->sent;
        received += w->received;
        reallocs += w->reallocs;
        ops += w->ops;
    }
    double elapsed = now_s() - t_start;
    printf("ops %llu (%.2f M/s), blocks allocated %llu, verified+freed %llu, "
           "sent to other threads %llu, received %llu, reallocs %llu\n",
           (unsigned long long)ops, (double)ops / elapsed / 1e6, (unsigned long long)allocated,
           (unsigned long long)verified, (unsigned long long)sent, (unsigned long long)received,
           (unsigned long long)reallocs);
    CHECK_EQ(allocated, verified);
    CHECK_EQ(sent, received);

    /* The RSS criterion (see the top of the file). */
    double t_ref = seconds / 4, t_late = seconds / 2;
    static size_t ref[MAX_SAMPLES], late[MAX_SAMPLES];
    size_t nref = 0, nlate = 0, first_max = 0, late_max = 0;
    double ref_sum = 0, late_sum = 0;
    for (size_t i = 0; i < nsamples; i++) {
        size_t rss = samples[i].rss;
        if (samples[i].t <= t_late && rss > first_max)
            first_max = rss;
        if (samples[i].t > t_ref && samples[i].t <= t_late) {
            ref[nref++] = rss;
            ref_sum += (double)rss;
        } else if (samples[i].t > t_late) {
            late[nlate++] = rss;
            late_sum += (double)rss;
            if (rss > late_max)
                late_max = rss;
        }
    }
    CHECK(nref > 0 && nlate > 0);
    qsort(ref, nref, sizeof ref[0], cmp_size);
    qsort(late, nlate, sizeof late[0], cmp_size);
    double mib = 1 << 20, k = 1 + tolerance / 100, slack = slack_mib * mib;
    double ref_mean = ref_sum / (double)nref, late_mean = late_sum / (double)nlate;
    double ref_p90 = (double)ref[nref * 9 / 10], late_p90 = (double)late[nlate * 9 / 10];
    printf("RSS (MiB): reference window (%.0f-%.0f s) mean %.1f p90 %.1f; last half mean %.1f "
           "p90 %.1f max %.1f; first-half max %.1f\n",
           t_ref, t_late, ref_mean / mib, ref_p90 / mib, late_mean / mib, late_p90 / mib,
           (double)late_max / mib, (double)first_max / mib);
    printf("limits (MiB): mean %.1f, p90 %.1f, max %.1f\n", (ref_mean * k + slack) / mib,
           (ref_p90 * k + slack) / mib, ((double)first_max * k + slack) / mib);
    int bad = 0;
    if (late_mean > ref_mean * k + slack) {
        printf("soak: FAILED: mean RSS crept up after warm-up\n");
        bad = 1;
    }
    if (late_p90 > ref_p90 * k + slack) {
        printf("soak: FAILED: the upper envelope of RSS rose after warm-up\n");
        bad = 1;
    }
    if ((double)late_max > (double)first_max * k + slack) {
        printf("soak: FAILED: RSS reached a new peak in the last half\n");
        bad = 1;
    }
    if (bad)
        return 1;
    printf("soak: OK (%.0f s)\n", elapsed);
    return 0;
}
