/* libtide_glibc_shim.so — preloaded by `tide run --allocator glibc`.
 *
 * With TIDE_SHIM_FD=N in the environment, a thread started by the
 * constructor calls glibc's own report, malloc_info(), every
 * TIDE_SHIM_INTERVAL_MS (default 100) and writes one line to fd N:
 *
 *   glibc-stats pid=P t_ms=T arenas=N free=B system=B mmap=B
 *               arena_free=F0,F1,... arena_system=S0,S1,...
 *
 * (the keys and their order: TIDE_GLIBC_STATS_LINE_KEYS in
 * src/service/stats_line_keys.h, which tools/statsline.c reads by too).
 *
 * free: bytes in free chunks of all arenas (fast bins, other bins and the
 * top chunk); system: bytes the arenas got from the OS; mmap: bytes in
 * chunks mmapped on their own. Live bytes are system - free + mmap.
 *
 * The thread never calls malloc: malloc_info writes through a stream made
 * once, in the constructor, whose buffer and output are our own mmaps, so
 * glibc never gives the thread an arena of its own to report on.
 *
 * Each process reports under its own pid. A fork child that does not exec
 * reports nothing (it has no reporting thread, and starting one there could
 * break programs that need a single-threaded child); after exec the
 * constructor runs again. Links against libc only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stats_line_keys.h"

#define MAX_ARENAS 1024
#define LINE_MAX_BYTES 4000 /* under PIPE_BUF: one write, never interleaved */

static int shim_fd = -1;
static dev_t shim_dev;
static ino_t shim_ino;
static pid_t shim_pid;
static unsigned long shim_interval_ms = 100;
static FILE *shim_fp;
static char shim_stdio_buf[8192];
static char *out_buf;
static size_t out_len, out_cap;
static volatile int shim_stop;

static size_t arena_free[MAX_ARENAS], arena_system[MAX_ARENAS];

/* The stream's sink: append to out_buf, growing it with mremap. */
static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
    (void)cookie;
    if (out_len + n > out_cap) {
        size_t cap = out_cap;
        while (out_len + n > cap)
            cap *= 2;
        void *p = mremap(out_buf, out_cap, cap, MREMAP_MAYMOVE);
        if (p == MAP_FAILED)
            return -1;
        out_buf = p;
        out_cap = cap;
    }
    memcpy(out_buf + out_len, buf, n);
    out_len += n;
    return (ssize_t)n;
}

static size_t attr(const char *line, const char *end, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = line; p + nl < end; p++)
        if (memcmp(p, name, nl) == 0 && p[nl] == '=' && p[nl + 1] == '"')
            return strtoull(p + nl + 2, NULL, 10);
    return 0;
}

static int has(const char *line, const char *end, const char *s)
{
    size_t n = strlen(s);
    for (const char *p = line; p + n <= end; p++)
        if (memcmp(p, s, n) == 0)
            return 1;
    return 0;
}

static size_t append(char *buf, size_t len, const char *fmt, unsigned long long v)
{
    if (len >= LINE_MAX_BYTES)
        return len;
    int r = snprintf(buf + len, LINE_MAX_BYTES - len, fmt, v);
    return r < 0 ? len : len + (size_t)r;
}

/* Write the whole line, or nothing; 0 if the reader is still there. */
static int emit(const char *line, size_t len)
{
    struct stat st;
    /* The program may have closed our fd and reused its number. */
    if (fstat(shim_fd, &st) != 0 || st.st_dev != shim_dev || st.st_ino != shim_ino)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(shim_fd, line + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1; /* EPIPE: tide is gone (SIGPIPE is blocked here) */
        off += (size_t)w;
    }
    return 0;
}

static unsigned long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000u + (unsigned long long)ts.tv_nsec / 1000000u;
}

/* One line's figures, named as the line's keys so that the header's list
 * puts them on the line in its order; a key added there fails to compile
 * here until it has a figure. */
typedef struct glibc_figures {
    unsigned long long pid, t_ms, arenas, free, system, mmap;
} glibc_figures_t;

/* The glibc-stats line for fig and the first `shown` arenas, newline
 * included, into line (LINE_MAX_BYTES + 64 bytes); its length. */
static size_t format_line(char *line, size_t size, const glibc_figures_t *fig, size_t shown)
{
#define KEY_FORMAT(id, name) " " name "=%llu"
#define KEY_FIGURE(id, name) , fig->id
    int len0 = snprintf(line, size,
                        TIDE_GLIBC_STATS_LINE_TAG TIDE_GLIBC_STATS_LINE_NUMBER_KEYS(KEY_FORMAT)
                            TIDE_GLIBC_STATS_LINE_NUMBER_KEYS(KEY_FIGURE));
#undef KEY_FORMAT
#undef KEY_FIGURE
    size_t len = len0 > 0 ? (size_t)len0 : 0;
    /* Per-arena lists, each only if it fits whole in one atomic write. Each
     * list key names the array that holds its values. */
#define LIST_KEY(id, name) " " name "=",
#define LIST_VALUES(id, name) id,
    static const char *const names[] = { TIDE_GLIBC_STATS_LINE_LIST_KEYS(LIST_KEY) };
    const size_t *const lists[] = { TIDE_GLIBC_STATS_LINE_LIST_KEYS(LIST_VALUES) };
#undef LIST_KEY
#undef LIST_VALUES
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        size_t mark = len;
        size_t nn = strlen(names[l]);
        memcpy(line + len, names[l], nn + 1);
        len += nn;
        for (size_t i = 0; i < shown; i++)
            len = append(line, len, i ? ",%llu" : "%llu", lists[l][i]);
        if (len >= LINE_MAX_BYTES - 1) {
            len = mark;
            break;
        }
    }
    line[len++] = '\n';
    return len;
}

static int report(void)
{
    out_len = 0;
    /* malloc_info takes each arena's lock in turn, and may wait for them
     * while threads allocate: the figures belong to the middle of the call. */
    unsigned long long t_start = now_ms();
    if (malloc_info(0, shim_fp) != 0 || fflush(shim_fp) != 0)
        return 0; /* try again next time */
    unsigned long long t_ms = (t_start + now_ms()) / 2;

    size_t n = 0, mmap_bytes = 0, total_free = 0, total_system = 0;
    int in_heap = 0;
    const char *p = out_buf, *end = out_buf + out_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (has(p, le, "<heap nr=")) {
            in_heap = 1;
            if (n < MAX_ARENAS)
                arena_free[n] = arena_system[n] = 0;
        } else if (has(p, le, "</heap>")) {
            in_heap = 0;
            n++;
        } else if (in_heap && n < MAX_ARENAS) {
            if (has(p, le, "<total type=\"fast\"") || has(p, le, "<total type=\"rest\""))
                arena_free[n] += attr(p, le, "size");
            else if (has(p, le, "<system type=\"current\""))
                arena_system[n] = attr(p, le, "size");
        } else if (!in_heap && has(p, le, "<total type=\"mmap\"")) {
            mmap_bytes = attr(p, le, "size");
        }
        p = le + 1;
    }
    size_t shown = n < MAX_ARENAS ? n : MAX_ARENAS;
    for (size_t i = 0; i < shown; i++) {
        total_free += arena_free[i];
        total_system += arena_system[i];
    }

    glibc_figures_t fig = { (unsigned long long)shim_pid, t_ms, n, total_free, total_system,
                            mmap_bytes };
    char line[LINE_MAX_BYTES + 64];
    return emit(line, format_line(line, sizeof line, &fig, shown));
}

static void *reporter(void *arg)
{
    (void)arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!shim_stop && getpid() == shim_pid) {
        if (report() != 0)
            break;
        next.tv_sec += (time_t)(shim_interval_ms / 1000);
        next.tv_nsec += (long)(shim_interval_ms % 1000) * 1000000L;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (next.tv_sec < now.tv_sec || (next.tv_sec == now.tv_sec && next.tv_nsec < now.tv_nsec))
            next = now; /* a slow report: carry on from now, no burst to catch up */
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
    }
    return NULL;
}

static void in_fork_child(void)
{
    shim_stop = 1; /* the reporter thread did not come along */
}

__attribute__((constructor)) static void shim_init(void)
{
    const char *fds = getenv("TIDE_SHIM_FD");
    if (!fds || !*fds)
        return;
    char *e;
    long fd = strtol(fds, &e, 10);
    struct stat st;
    if (*e || fd < 0 || fd > 1 << 30 || fstat((int)fd, &st) != 0)
        return;
    const char *iv = getenv("TIDE_SHIM_INTERVAL_MS");
    if (iv && *iv) {
        unsigned long v = strtoul(iv, &e, 10);
        if (!*e && v > 0 && v <= 3600000)
            shim_interval_ms = v;
    }
    /* Another allocator preloaded or linked in: glibc's arenas would be
     * empty and "live" meaningless, so report nothing. */
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    void *lm = dlsym(RTLD_DEFAULT, "__libc_malloc");
    if (!m || !lm || m != lm)
        return;

    out_cap = 1 << 16;
    out_buf = mmap(NULL, out_cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (out_buf == MAP_FAILED)
        return;
    cookie_io_functions_t io = { .write = sink_write };
    shim_fp = fopencookie(NULL, "w", io);
    if (!shim_fp || setvbuf(shim_fp, shim_stdio_buf, _IOFBF, sizeof shim_stdio_buf) != 0)
        return;
    shim_fd = (int)fd;
    shim_dev = st.st_dev;
    shim_ino = st.st_ino;
    shim_pid = getpid();
    pthread_atfork(NULL, NULL, in_fork_child);

    /* The thread blocks every signal: the program's handlers never run on
     * it, and a write to a closed pipe fails with EPIPE instead of killing
     * the program with SIGPIPE. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t t;
    pthread_create(&t, &attr, reporter, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}
