/* tide top PID — a live view of a running tidemalloc process, refreshed
 * every second through its stats socket (the "top" request,
 * src/service/top_line.c): RSS (from /proc/PID/smaps_rollup), live, dirty,
 * pinned and metadata bytes with their trend over the last minute,
 * per-class utilization, and with profiling on the top sites by live and by
 * pinned bytes. q quits; when the process goes away, tide top says so and
 * exits with status 0.
 *
 * Invariant: the terminal is put back as it was on every way out (q, the
 * process gone, a signal). */
#include "tide.h"
#include "prof.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define HISTORY 60 /* samples: a minute at the default interval */
#define CLASSES_MAX 64
#define SITES_MAX 10

enum { F_RSS, F_LIVE, F_DIRTY, F_PINNED, F_META, F_N };
static const char *const field_names[F_N] = { "RSS", "live", "dirty", "pinned", "metadata" };

typedef struct top_class {
    uint64_t size, live, carved, free;
} top_class_t;

typedef struct top_site {
    char by[8];
    uint64_t live, pinned, pc; /* pc: the return address into the allocating function */
    char name[200];             /* the process's own (dladdr) name, until symbolized */
} top_site_t;

typedef struct top_snap {
    uint64_t v[F_N];
    uint64_t active, mapped, cached, period;
    bool prof, mid_run;
    top_class_t cls[CLASSES_MAX];
    size_t ncls;
    top_site_t sites[SITES_MAX];
    size_t nsites;
} top_snap_t;

static struct termios saved_tty;
static bool tty_raw;

static void tty_restore(void)
{
    if (tty_raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
        tty_raw = false;
        fputs("\033[?25h", stdout); /* the cursor back */
        fflush(stdout);
    }
}

static void on_signal(int sig)
{
    tty_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void tty_setup(void)
{
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) != 0)
        return;
    struct termios t = saved_tty;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
        tty_raw = true;
        atexit(tty_restore);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
    }
}

static uint64_t kv(const char *line, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *p = strstr(line, pat);
    return p ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

static void symbolize(const char *pid_arg, top_snap_t *s);

/* One "top" answer into *s; 0, 1 if the process is gone, -1 (after a
 * message) if it does not answer like tidemalloc. */
static int fetch(const char *pid_arg, top_snap_t *s, bool first)
{
    memset(s, 0, sizeof *s);
    pid_t pid = (pid_t)atol(pid_arg);
    int status;
    if (!first) { /* a process that went away is the normal end, not an error */
        if (kill(pid, 0) != 0 && errno == ESRCH)
            return 1;
    }
    int fd = socket_request("tide top", pid_arg, "top\n",
                            "does not serve tidemalloc statistics: start it with TIDE_CONF=stats_socket:true", &status);
    if (fd < 0)
        return !first && kill(pid, 0) != 0 ? 1 : -1;
    FILE *f = fdopen(fd, "r");
    char line[512];
    bool head = false, end = false;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "tide-top ", 9) == 0) {
            head = true;
            s->v[F_LIVE] = kv(line, "live");
            s->v[F_DIRTY] = kv(line, "dirty");
            s->v[F_PINNED] = kv(line, "free_partly");
            s->v[F_META] = kv(line, "metadata");
            s->active = kv(line, "active");
            s->mapped = kv(line, "mapped");
            s->cached = kv(line, "cached");
            s->prof = kv(line, "prof") != 0;
            s->period = kv(line, "period");
            s->mid_run = kv(line, "mid_run") != 0;
        } else if (strncmp(line, "class ", 6) == 0 && s->ncls < CLASSES_MAX) {
            s->cls[s->ncls++] = (top_class_t){ kv(line, "size"), kv(line, "live"), kv(line, "carved"), kv(line, "free") };
        } else if (strncmp(line, "site ", 5) == 0 && s->nsites < SITES_MAX) {
            top_site_t *t = &s->sites[s->nsites++];
            const char *by = strstr(line, " by="), *name = strstr(line, " name=");
            snprintf(t->by, sizeof t->by, "%.*s", by ? (int)strcspn(by + 4, " ") : 0, by ? by + 4 : "");
            snprintf(t->name, sizeof t->name, "%s", name ? name + 6 : "?");
            t->live = kv(line, "live");
            t->pinned = kv(line, "pinned");
            const char *pc = strstr(line, " pc=");
            t->pc = pc ? strtoull(pc + 4, NULL, 16) : 0;
        } else if (strcmp(line, "end") == 0) {
            end = true;
        }
    }
    if (f)
        fclose(f);
    else
        close(fd);
    if (!head || !end) {
        if (!first && kill(pid, 0) != 0)
            return 1;
        fprintf(stderr, "tide top: process %s answered without a complete 'top' report (a tidemalloc older than "
                        "this tool?)\n", pid_arg);
        return -1;
    }
    mem_t m;
    if (smaps_read(pid, &m) != 0)
        return 1;
    s->v[F_RSS] = m.rss;
    symbolize(pid_arg, s);
    return 0;
}

/* The values over the history as a row of characters, low to high. */
static void spark(const uint64_t *h, size_t n, char *out)
{
    static const char ramp[] = " .:-=+*#%@";
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        lo = h[i] < lo ? h[i] : lo;
        hi = h[i] > hi ? h[i] : hi;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = hi > lo ? ramp[(h[i] - lo) * 9 / (hi - lo)] : ramp[hi ? 5 : 0];
    out[n] = 0;
}

/* Names by pc, kept across refreshes: addr2line runs once per new pc. */
static struct named {
    uint64_t pc;
    char *name;
} *names;
static size_t nnames;

/* Name every site's function with addr2line through the process's
 * mappings ("func (file:line)"), as tide prof does; then merge the sites
 * of one function (stacks differ above it). */
static void symbolize(const char *pid_arg, top_snap_t *s)
{
    profile_t p;
    memset(&p, 0, sizeof p);
    p.return_addresses = true;
    for (size_t i = 0; i < s->nsites; i++) {
        bool known = false;
        for (size_t k = 0; k < nnames && !known; k++)
            known = names[k].pc == s->sites[i].pc;
        if (known || !s->sites[i].pc)
            continue;
        p.stacks = xrealloc(p.stacks, (p.n + 1) * sizeof *p.stacks);
        p.stacks[p.n] = (pstack_t){ .pc = xmalloc(sizeof(uint64_t)), .depth = 1 };
        p.stacks[p.n++].pc[0] = s->sites[i].pc;
    }
    char *maps = xasprintf("/proc/%s/maps", pid_arg);
    if (p.n && profile_maps_read(maps, &p) == 0) {
        symtab_t *t = symtab_build(&p);
        for (size_t i = 0; i < p.n; i++) {
            sym_t y = symtab_get(t, p.stacks[i].pc[0]);
            names = xrealloc(names, (nnames + 1) * sizeof *names);
            names[nnames].pc = p.stacks[i].pc[0];
            names[nnames++].name = y.loc ? xasprintf("%s (%s)", y.func, y.loc) : xstrdup(y.func);
        }
        symtab_free(t);
    }
    free(maps);
    profile_free(&p);
    size_t m = 0;
    for (size_t i = 0; i < s->nsites; i++) {
        top_site_t *x = &s->sites[i];
        for (size_t k = 0; k < nnames; k++)
            if (names[k].pc == x->pc)
                snprintf(x->name, sizeof x->name, "%s", names[k].name);
        size_t j = 0;
        while (j < m && !(strcmp(s->sites[j].by, x->by) == 0 && strcmp(s->sites[j].name, x->name) == 0))
            j++;
        if (j < m) {
            s->sites[j].live += x->live;
            s->sites[j].pinned += x->pinned;
        } else {
            s->sites[m++] = *x;
        }
    }
    s->nsites = m;
}

static void draw(const char *pid_arg, const top_snap_t *s, uint64_t hist[F_N][HISTORY], size_t nh, uint64_t interval)
{
    char b1[32], b2[32], line[HISTORY + 1];
    printf("\033[H\033[2J"); /* home, clear */
    printf("tide top %s — every %.1f s, q quits%s\n\n", pid_arg, (double)interval / 1000,
           s->prof ? "" : " (profiling off: tide prof start PID)");
    printf("%-9s %12s %13s  %s\n", "", "now", "last minute", "trend (oldest left)");
    for (int k = 0; k < F_N; k++) {
        int64_t d = nh ? (int64_t)s->v[k] - (int64_t)hist[k][0] : 0;
        spark(hist[k], nh, line);
        char delta[40];
        snprintf(delta, sizeof delta, "%c%s", d < 0 ? '-' : '+', fmt_bytes((uint64_t)(d < 0 ? -d : d), b2, sizeof b2));
        printf("%-9s %12s %13s  %s\n", field_names[k], fmt_bytes(s->v[k], b1, sizeof b1), delta, line);
    }
    printf("(pinned: free space inside partly used slabs; %s in threads' caches; active %s)\n\n",
           fmt_bytes(s->cached, b1, sizeof b1), fmt_bytes(s->active, b2, sizeof b2));
    printf("%10s %12s %12s %12s %6s\n", "class", "live", "carved", "free/pinned", "used");
    for (size_t i = 0; i < s->ncls; i++) {
        const top_class_t *c = &s->cls[i];
        printf("%8llu B %12s %12s %12s %5.0f%%\n", (unsigned long long)c->size, fmt_bytes(c->live, b1, sizeof b1),
               fmt_bytes(c->carved, b2, sizeof b2), fmt_bytes(c->free, line, sizeof line),
               c->carved ? 100.0 * (double)c->live / (double)c->carved : 0);
    }
    if (s->prof) {
        for (int by = 0; by < 2; by++) {
            printf("\ntop sites by %s bytes (estimates, one sample per %s)%s\n", by ? "pinned" : "live",
                   fmt_bytes(s->period, b1, sizeof b1), s->mid_run && !by ? ", since profiling started" : "");
            size_t shown = 0;
            for (size_t i = 0; i < s->nsites; i++) {
                const top_site_t *t = &s->sites[i];
                if (strcmp(t->by, by ? "pinned" : "live") != 0)
                    continue;
                printf("  %12s live %12s pinned  %s\n", fmt_bytes(t->live, b1, sizeof b1),
                       fmt_bytes(t->pinned, b2, sizeof b2), t->name);
                shown++;
            }
            if (!shown)
                printf("  (none)\n");
        }
    }
    fflush(stdout);
}

static void top_usage(FILE *f)
{
    fputs("usage: tide top [--interval-ms N] PID\n"
          "\n"
          "A live view of a process that uses tidemalloc and was started with\n"
          "TIDE_CONF=stats_socket:true: RSS, live, dirty, pinned and metadata bytes\n"
          "and their trend over the last minute, per-class utilization, and with\n"
          "profiling on (TIDE_CONF=prof:true, or tide prof start PID) the top sites by\n"
          "live and by pinned bytes. q quits.\n",
          f);
}

int cmd_top(int argc, char **argv)
{
    const char *pid_arg = NULL;
    uint64_t interval = 1000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            top_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--interval-ms") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (!parse_u64(v, strlen(v), &interval) || interval < 100 || interval > 60000) {
                fprintf(stderr, "tide top: --interval-ms wants 100 to 60000, got '%s'\n", v);
                return 2;
            }
            continue;
        }
        if (pid_arg || argv[i][0] == '-') {
            fprintf(stderr, "tide top: expected one process id, got '%s'\n", argv[i]);
            return 2;
        }
        pid_arg = argv[i];
    }
    static top_snap_t s;
    int r = fetch(pid_arg, &s, true);
    if (r != 0)
        return r < 0 ? (pid_arg && atol(pid_arg) > 0 ? 1 : 2) : 1;
    tty_setup();
    if (tty_raw)
        fputs("\033[?25l", stdout); /* no cursor */
    static uint64_t hist[F_N][HISTORY];
    size_t nh = 0;
    for (;;) {
        if (nh == HISTORY) {
            for (int k = 0; k < F_N; k++)
                memmove(hist[k], hist[k] + 1, (HISTORY - 1) * sizeof hist[k][0]);
            nh--;
        }
        for (int k = 0; k < F_N; k++)
            hist[k][nh] = s.v[k];
        nh++;
        draw(pid_arg, &s, hist, nh, interval);
        uint64_t until = mono_ms() + interval;
        for (uint64_t now; (now = mono_ms()) < until;) {
            struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
            int n = poll(&p, 1, (int)(until - now));
            if (n > 0 && (p.revents & POLLIN)) {
                char c;
                ssize_t got = read(STDIN_FILENO, &c, 1);
                if (got == 1 && (c == 'q' || c == 'Q')) {
                    tty_restore();
                    printf("\n");
                    return 0;
                }
                if (got <= 0) /* stdin closed: keep refreshing, no more keys */
                    p.fd = -1;
            } else if (n > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL))) {
                usleep((useconds_t)(until - now) * 1000);
            }
        }
        r = fetch(pid_arg, &s, false);
        if (r != 0) {
            tty_restore();
            if (r > 0) {
                printf("\ntide top: process %s exited\n", pid_arg);
                return 0;
            }
            return 1;
        }
    }
}
