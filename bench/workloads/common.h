/* Shared helpers for the tidemalloc benchmark workloads.
 *
 * Every workload is a small C program linked against plain libc malloc; the
 * allocator under test is swapped in with LD_PRELOAD by bench/run.py.
 *
 * Output protocol (one record per line, read by the runner):
 *   sample t_ms=<ms> rss=<B> anon=<B> lazyfree=<B> live=<B> phase=<word>
 *   result workload=<name> key=value ...
 * Lines starting with '#' are comments. Sizes are bytes, times milliseconds.
 *
 * The harness keeps its own bookkeeping (pointer arrays, size arrays) out of
 * the allocator under test: harness_alloc() maps and pre-faults it before
 * the baseline RSS is read, so it is part of the baseline, not of the
 * allocator's overhead.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define BENCH_UNUSED __attribute__((unused))
#define CACHE_LINE 64

/* ---------------------------------------------------------------- time */

static BENCH_UNUSED uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t bench_t0_ns;

static BENCH_UNUSED double elapsed_ms(void)
{
    return (double)(now_ns() - bench_t0_ns) / 1e6;
}

static BENCH_UNUSED void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------- random */

/* splitmix64: tiny, fast, good enough for choosing sizes and slots. */
typedef struct {
    uint64_t s;
} rng_t;

static BENCH_UNUSED void rng_seed(rng_t *r, uint64_t seed)
{
    r->s = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
}

static BENCH_UNUSED uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static BENCH_UNUSED uint64_t rng_below(rng_t *r, uint64_t n)
{
    return n ? rng_next(r) % n : 0;
}

/* Uniform in [lo, hi]. */
static BENCH_UNUSED uint64_t rng_range(rng_t *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_below(r, hi - lo + 1);
}

static BENCH_UNUSED double rng_unit(rng_t *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Log-uniform in [lo, hi]: as many requests between 16 and 32 bytes as
 * between 32 KiB and 64 KiB, which is roughly how real programs behave. */
static BENCH_UNUSED size_t rng_logsize(rng_t *r, size_t lo, size_t hi)
{
    if (hi <= lo)
        return lo;
    double l = log((double)lo), h = log((double)hi + 1.0);
    size_t s = (size_t)exp(l + (h - l) * rng_unit(r));
    if (s < lo)
        s = lo;
    if (s > hi)
        s = hi;
    return s;
}

/* ----------------------------------------------------- harness memory */

/* Bookkeeping memory that must not come from the allocator under test. */
static BENCH_UNUSED void *harness_alloc(size_t bytes)
{
    if (bytes == 0)
        bytes = 1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "harness mmap of %zu bytes failed: %s\n", bytes, strerror(errno));
        exit(3);
    }
    memset(p, 0, bytes); /* pre-fault: it belongs to the baseline */
    return p;
}

static BENCH_UNUSED void harness_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes ? bytes : 1);
}

/* malloc that never returns NULL: a failed allocation ends the run with a
 * recognisable message (the runner reports it as an error). */
static BENCH_UNUSED void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p && n) {
        fprintf(stderr, "malloc(%zu) failed\n", n);
        exit(4);
    }
    return p;
}

static BENCH_UNUSED void *xrealloc(void *old, size_t n)
{
    void *p = realloc(old, n);
    if (!p && n) {
        fprintf(stderr, "realloc(%zu) failed\n", n);
        exit(4);
    }
    return p;
}

/* Write the block the way a program would: the first and last bytes, and
 * one byte in every page in between (so every page is really faulted in). */
static BENCH_UNUSED void touch(void *p, size_t n, unsigned char v)
{
    unsigned char *c = p;
    if (n == 0)
        return;
    c[0] = v;
    for (size_t off = 4096; off < n; off += 4096)
        c[off] = v;
    c[n - 1] = v;
}

/* --------------------------------------------------------- /proc reads */

typedef struct {
    uint64_t rss, anon, lazyfree; /* bytes */
} mem_t;

/* Reads /proc/self/smaps_rollup with raw syscalls into a static buffer, so
 * sampling never calls the allocator under test (the blog scenario needs a
 * process that truly stays out of malloc while it sleeps). Not thread-safe:
 * sample from one thread at a time. */
static BENCH_UNUSED uint64_t smaps_field(const char *buf, const char *key)
{
    const char *p = strstr(buf, key);
    if (!p)
        return 0;
    p += strlen(key);
    while (*p == ' ' || *p == '\t')
        p++;
    return strtoull(p, NULL, 10) * 1024ull; /* kB */
}

static BENCH_UNUSED int read_mem(mem_t *m)
{
    static char buf[8192];
    int fd = open("/proc/self/smaps_rollup", O_RDONLY | O_CLOEXEC);
    memset(m, 0, sizeof *m);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len >= sizeof buf - 1)
            break;
    }
    close(fd);
    buf[len] = 0;
    m->rss = smaps_field(buf, "\nRss:");
    m->anon = smaps_field(buf, "\nAnonymous:");
    m->lazyfree = smaps_field(buf, "\nLazyFree:");
    return 0;
}

static mem_t bench_base;

/* Peak RSS of this process (VmHWM). Not getrusage's ru_maxrss: Linux carries
 * that over exec from the forking parent (here, the Python runner). */
static BENCH_UNUSED uint64_t read_peak_rss(void)
{
    static char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    return smaps_field(buf, "\nVmHWM:");
}

/* Prints one sample line and returns the RSS that was read. */
static BENCH_UNUSED mem_t emit_sample(uint64_t live, const char *phase)
{
    mem_t m;
    read_mem(&m);
    printf("sample t_ms=%.1f rss=%llu anon=%llu lazyfree=%llu live=%llu phase=%s\n", elapsed_ms(),
           (unsigned long long)m.rss, (unsigned long long)m.anon, (unsigned long long)m.lazyfree,
           (unsigned long long)live, phase);
    return m;
}

/* (RSS - baseline RSS) / live, the ratio every report uses. */
static BENCH_UNUSED double mem_ratio(const mem_t *m, uint64_t live)
{
    if (live == 0)
        return 0.0;
    double d = (double)m->rss - (double)bench_base.rss;
    return d / (double)live;
}

/* ------------------------------------------------------------ options */

typedef enum { OPT_U64, OPT_DBL, OPT_STR } opt_kind;

typedef struct {
    const char *name;
    opt_kind kind;
    void *dst;
    const char *help;
} opt_t;

static BENCH_UNUSED int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    switch (*end) {
    case 'k': case 'K': v *= 1024.0; end++; break;
    case 'm': case 'M': v *= 1024.0 * 1024.0; end++; break;
    case 'g': case 'G': v *= 1024.0 * 1024.0 * 1024.0; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'I')
        end++; /* accept KiB-style suffixes: 4MiB, 64KiB */
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static BENCH_UNUSED void usage(const char *prog, const char *about, const opt_t *opts, int code)
{
    FILE *f = code ? stderr : stdout;
    fprintf(f, "usage: %s [--option=value ...]\n%s\n\noptions:\n", prog, about);
    for (const opt_t *o = opts; o->name; o++) {
        char def[64];
        if (o->kind == OPT_U64)
            snprintf(def, sizeof def, "%llu", (unsigned long long)*(uint64_t *)o->dst);
        else if (o->kind == OPT_DBL)
            snprintf(def, sizeof def, "%g", *(double *)o->dst);
        else
            snprintf(def, sizeof def, "%s", *(const char **)o->dst);
        fprintf(f, "  --%-14s %s (default %s)\n", o->name, o->help, def);
    }
    fprintf(f, "Sizes accept K/M/G suffixes (binary): 64K, 4M, 512MiB.\n");
    exit(code);
}

/* Parses --name=value and --name value. Unknown options are an error. */
static BENCH_UNUSED void parse_opts(int argc, char **argv, const char *about, const opt_t *opts)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            usage(argv[0], about, opts, 0);
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], a);
            usage(argv[0], about, opts, 2);
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const opt_t *o;
        for (o = opts; o->name; o++)
            if (strlen(o->name) == nlen && !strncmp(o->name, a, nlen))
                break;
        if (!o->name) {
            fprintf(stderr, "%s: unknown option '%s'\n", argv[0], argv[i]);
            usage(argv[0], about, opts, 2);
        }
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val) {
            fprintf(stderr, "%s: option --%s needs a value\n", argv[0], o->name);
            exit(2);
        }
        int bad = 0;
        if (o->kind == OPT_U64)
            bad = parse_u64(val, (uint64_t *)o->dst);
        else if (o->kind == OPT_DBL) {
            char *end;
            *(double *)o->dst = strtod(val, &end);
            bad = (end == val || *end);
        } else
            *(const char **)o->dst = val;
        if (bad) {
            fprintf(stderr, "%s: bad value '%s' for --%s\n", argv[0], val, o->name);
            exit(2);
        }
    }
}

/* --------------------------------------------------------------- setup */

static char bench_stdout_buf[1 << 16];

/* Call first in main(): gives stdout a static buffer (so printing never
 * allocates), starts the clock and reads the baseline RSS. */
static BENCH_UNUSED void bench_init(void)
{
    setvbuf(stdout, bench_stdout_buf, _IOLBF, sizeof bench_stdout_buf);
    bench_t0_ns = now_ns();
    read_mem(&bench_base);
}

/* Re-reads the baseline (after the harness has mapped its arrays). */
static BENCH_UNUSED void bench_rebase(void)
{
    read_mem(&bench_base);
    printf("# baseline rss=%llu anon=%llu\n", (unsigned long long)bench_base.rss,
           (unsigned long long)bench_base.anon);
}

/* Prints the result line: "result <fmt...> base_rss=... peak_rss=...". */
static BENCH_UNUSED __attribute__((format(printf, 1, 2))) void emit_result(const char *fmt, ...)
{
    va_list ap;
    fputs("result ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(" base_rss=%llu peak_rss=%llu\n", (unsigned long long)bench_base.rss,
           (unsigned long long)read_peak_rss());
    fflush(stdout);
}

/* --------------------------------------------------------------- threads */

/* A reusable barrier that only spins and yields (no allocation). */
typedef struct {
    atomic_uint count;
    atomic_uint gen;
    unsigned n;
} barrier_t;

static BENCH_UNUSED void barrier_init(barrier_t *b, unsigned n)
{
    atomic_init(&b->count, 0);
    atomic_init(&b->gen, 0);
    b->n = n;
}

static BENCH_UNUSED void barrier_wait(barrier_t *b)
{
    unsigned g = atomic_load(&b->gen);
    if (atomic_fetch_add(&b->count, 1) + 1 == b->n) {
        atomic_store(&b->count, 0);
        atomic_fetch_add(&b->gen, 1);
        return;
    }
    while (atomic_load(&b->gen) == g)
        sched_yield();
}

static BENCH_UNUSED void xpthread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
    int e = pthread_create(t, NULL, fn, arg);
    if (e) {
        fprintf(stderr, "pthread_create failed: %s\n", strerror(e));
        exit(5);
    }
}

#endif
