/* demo_workload — the two-wave workload of `make demo`.
 *
 *   demo_workload [-v] [--report-live] [-t THREADS] [MIB_PER_WAVE [SLEEP_MS]]
 *
 * Allocates a first wave of 1,000-byte objects (MIB_PER_WAVE MiB, default
 * 256), then a second wave of the same size above it, frees the first wave
 * and sleeps SLEEP_MS (default 4000) ms. Live bytes at the end: the second
 * wave, MIB_PER_WAVE MiB. An allocator that cannot give back memory below
 * data still in use keeps both waves resident.
 *
 * -t THREADS splits the work: each thread makes and frees its share of
 * both waves (under glibc, in an arena of its own), then the main thread
 * holds the second waves for SLEEP_MS. -v prints the phases to stderr. --report-live writes the program's own
 * live bytes as 'app-stats pid=P live=B' lines to the fd in $TIDE_STATS_FD
 * (what `tide run` uses when the allocator reports no live bytes). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stats_line_keys.h" /* the app-stats line, as tide reads it */

#define OBJ 1000

static bool verbose;
static int live_fd = -1;
static uint64_t live_bytes; /* updated by the main thread only */

static void say(const char *what)
{
    if (verbose)
        fprintf(stderr, "demo_workload: %s (live %.1f MiB)\n", what,
                (double)live_bytes / (1 << 20));
    if (live_fd < 0)
        return;
    /* Named as the line's keys: the header's list puts them in order. */
    unsigned long long pid = (unsigned long long)getpid(), live = live_bytes;
#define KEY_FORMAT(id, name) " " name "=%llu"
#define KEY_FIGURE(id, name) , id
    dprintf(live_fd, TIDE_APP_STATS_LINE_TAG TIDE_APP_STATS_LINE_KEYS(KEY_FORMAT) "\n"
                         TIDE_APP_STATS_LINE_KEYS(KEY_FIGURE));
#undef KEY_FORMAT
#undef KEY_FIGURE
}

static char **wave(size_t n, char tag)
{
    char **p = malloc(n * sizeof *p);
    if (!p) {
        perror("demo_workload: malloc");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        p[i] = malloc(OBJ);
        if (!p[i]) {
            perror("demo_workload: malloc");
            exit(1);
        }
        memset(p[i], tag, OBJ); /* touch it: resident, as real data is */
        __asm__ volatile("" : : "r"(p[i]) : "memory");
    }
    return p;
}

static void nap(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

typedef struct job {
    size_t n;
    char **second;
} job_t;

static void *two_waves(void *arg)
{
    job_t *j = arg;
    char **first = wave(j->n, 'a');
    j->second = wave(j->n, 'b');
    for (size_t i = 0; i < j->n; i++)
        free(first[i]);
    free(first);
    return NULL;
}

static void usage(void)
{
    fputs("usage: demo_workload [-v] [--report-live] [-t THREADS] [MIB_PER_WAVE [SLEEP_MS]]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    long mib = 256, sleep_ms = 4000, threads = 0;
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        char *e;
        if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "--report-live") == 0) {
            const char *fd = getenv("TIDE_STATS_FD");
            live_fd = fd ? atoi(fd) : -1;
        } else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            threads = strtol(argv[++i], &e, 10);
            if (*e || threads < 1 || threads > 256)
                usage();
        } else if (pos < 2) {
            long v = strtol(argv[i], &e, 10);
            if (*e || v < 0)
                usage();
            if (pos++ == 0)
                mib = v;
            else
                sleep_ms = v;
        } else {
            usage();
        }
    }
    size_t n = (size_t)mib * (1u << 20) / OBJ;
    size_t nt = threads ? (size_t)threads : 1;
    job_t *jobs = calloc(nt, sizeof *jobs);
    if (!jobs)
        return 1;

    if (!threads) {
        /* In steps, to say what happens when. */
        jobs[0].n = n;
        char **first = wave(n, 'a');
        live_bytes += n * (uint64_t)OBJ;
        say("first wave allocated");
        jobs[0].second = wave(n, 'b');
        live_bytes += n * (uint64_t)OBJ;
        say("second wave allocated");
        for (size_t i = 0; i < n; i++)
            free(first[i]);
        free(first);
        live_bytes -= n * (uint64_t)OBJ;
        say("first wave freed");
    } else {
        pthread_t *tid = calloc(nt, sizeof *tid);
        if (!tid)
            return 1;
        for (size_t t = 0; t < nt; t++) {
            jobs[t].n = n / nt;
            if (pthread_create(&tid[t], NULL, two_waves, &jobs[t]) != 0) {
                fputs("demo_workload: pthread_create failed\n", stderr);
                return 1;
            }
        }
        for (size_t t = 0; t < nt; t++)
            pthread_join(tid[t], NULL);
        free(tid);
        live_bytes = (uint64_t)(n / nt) * nt * OBJ;
        say("threads done: both waves made, first freed");
    }

    nap(sleep_ms);
    say("done sleeping");

    for (size_t t = 0; t < nt; t++)
        for (size_t i = 0; i < jobs[t].n; i++)
            if (jobs[t].second[i][i % OBJ] != 'b') {
                fputs("demo_workload: second wave corrupted\n", stderr);
                return 1;
            }
    return 0;
}
