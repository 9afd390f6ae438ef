/* tide run [--allocator A] [--interval-ms N] [--out DIR] [--quiet] -- CMD ARGS...
 *
 * Starts CMD with the chosen allocator preloaded and a pipe on which the
 * allocator (tidemalloc's stats_fd, or the glibc shim) writes statistics
 * lines; every N ms sums smaps_rollup over CMD's process tree and the latest
 * statistics line of each process into a row of DIR/timeline.csv; at the end
 * writes DIR/summary.txt and DIR/report.html and prints a summary. Exits
 * with CMD's status (128+N if killed by signal N; 126/127 if it could not
 * be run; 125 if tide itself failed). */
#include "tide.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TIDE_MULTIARCH
#define TIDE_MULTIARCH "x86_64-linux-gnu"
#endif
#define SYSLIB "/usr/lib/" TIDE_MULTIARCH "/"

/* The stats pipe's write end goes to this fd or above in the command, out
 * of the way of the low numbers programs and scripts use themselves. */
#define STATS_FD_MIN 100

static void run_usage(FILE *f)
{
    fputs("usage: tide run [options] [--] COMMAND [ARGS...]\n"
          "\n"
          "Runs COMMAND with the chosen allocator and samples it, with its child\n"
          "processes, every interval: RSS, anonymous and LazyFree memory, and the\n"
          "allocator's own figures (live bytes, free bytes it holds).\n"
          "\n"
          "options:\n"
          "  -a, --allocator A    tide (default), glibc, jemalloc, mimalloc, tcmalloc,\n"
          "                       none (no preload, no statistics) or PATH.so\n"
          "  -i, --interval-ms N  sample every N ms (default 100)\n"
          "  -o, --out DIR        write DIR/timeline.csv, DIR/summary.txt and\n"
          "                       DIR/report.html (default ./tide-run)\n"
          "  -q, --quiet          print no summary at the end\n"
          "  -h, --help           this text\n"
          "\n"
          "Exit status: COMMAND's; 128+N if it was killed by signal N; 127 if it was\n"
          "not found, 126 if it could not be executed; 125 if tide itself failed.\n"
          "A program may report its own live bytes by writing lines\n"
          "'app-stats pid=PID live=BYTES' to the fd in $TIDE_STATS_FD.\n",
          f);
}

typedef struct alloc_choice {
    const char *name;     /* as given or canonical */
    char *library;        /* to preload, or NULL */
    enum stats_kind kind; /* statistics expected */
} alloc_choice_t;

static int resolve_allocator(const char *name, alloc_choice_t *a, char *err, size_t errsize)
{
    static const struct {
        const char *name, *package;
        const char *files[3];
    } sys[] = {
        { "jemalloc", "libjemalloc2", { SYSLIB "libjemalloc.so.2" } },
        { "mimalloc", "libmimalloc2.0", { SYSLIB "libmimalloc.so.2.0", SYSLIB "libmimalloc.so.2" } },
        { "tcmalloc", "libtcmalloc-minimal4", { SYSLIB "libtcmalloc_minimal.so.4" } },
    };
    memset(a, 0, sizeof *a);
    a->name = name;
    if (strcmp(name, "none") == 0)
        return 0;
    if (strcmp(name, "tide") == 0 || strcmp(name, "glibc") == 0) {
        char *dir = exe_dir();
        bool tide = name[0] == 't';
        char *lib = xasprintf("%s/%s", dir, tide ? "libtidemalloc.so" : "libtide_glibc_shim.so");
        free(dir);
        if (access(lib, R_OK) != 0) {
            snprintf(err, errsize, "%s not found (%s): build it with `make build`", lib,
                     strerror(errno));
            free(lib);
            return -1;
        }
        a->library = lib;
        a->kind = tide ? STATS_TIDE : STATS_GLIBC;
        return 0;
    }
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
        if (strcmp(name, sys[i].name) != 0)
            continue;
        for (size_t j = 0; j < 3 && sys[i].files[j]; j++)
            if (access(sys[i].files[j], R_OK) == 0) {
                a->library = xstrdup(sys[i].files[j]);
                return 0;
            }
        snprintf(err, errsize,
                 "%s is not installed (no %s): install the Debian package %s "
                 "(apt-get install %s)",
                 name, sys[i].files[0], sys[i].package, sys[i].package);
        return -1;
    }
    if (strchr(name, '/') || strstr(name, ".so")) {
        char real[PATH_MAX];
        if (!realpath(name, real) || access(real, R_OK) != 0) {
            snprintf(err, errsize, "allocator library %s: %s", name, strerror(errno));
            return -1;
        }
        a->library = xstrdup(real);
        return 0;
    }
    snprintf(err, errsize,
             "unknown allocator '%s': expected tide, glibc, jemalloc, mimalloc, tcmalloc, "
             "none or a path to a .so",
             name);
    return -1;
}

/* ---- signals ---- */

static volatile sig_atomic_t forward_sig;

static void on_sigchld(int sig)
{
    (void)sig; /* only to interrupt ppoll */
}

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    /* A signal from the terminal (SI_KERNEL) reached COMMAND too, being in
     * our process group; one sent to tide alone (kill) is passed on. Either
     * way tide keeps sampling until COMMAND ends, then writes its report. */
    if (si->si_code != SI_KERNEL)
        forward_sig = sig;
}

static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NHANDLED (sizeof handled / sizeof handled[0])
/* Dispositions tide started with, given back to COMMAND: a signal ignored
 * for tide (nohup, a background job) stays ignored for COMMAND. */
static struct sigaction orig_handled[NHANDLED], orig_pipe, orig_chld;

/* ---- sampling ---- */

/* A sample is taken in two steps: at its time T the process tree and each
 * process's smaps_rollup are read (RSS is a snapshot); later, once each
 * process that reports statistics has written a line stamped after T (or
 * after a few intervals at most), each process is matched with its figures
 * at T and the row is written. */
typedef struct proc_mem {
    pid_t pid;
    mem_t mem;
    uint64_t t; /* monotonic ms when its smaps_rollup was read */
} proc_mem_t;

typedef struct pending {
    uint64_t t; /* monotonic ms of the sample */
    proc_mem_t *procs;
    size_t n;
} pending_t;

typedef struct run_ctx {
    int stats_rfd;
    stats_table_t stats;
    uint64_t t0, interval;
    pid_t *pids;
    size_t pids_cap;
    pending_t *queue; /* samples taken, not yet written, oldest first */
    size_t nqueue, queue_cap;
    uint64_t max_delay; /* how long a sample may wait for its lines */
    pid_t *keep;        /* scratch: pids whose statistics are still needed */
    size_t keep_cap;
    FILE *csv;
    size_t samples;
} run_ctx_t;

/* Read whatever the stats pipe holds; false once every writer has gone. */
static bool drain(run_ctx_t *c)
{
    char buf[16384];
    for (;;) {
        ssize_t r = read(c->stats_rfd, buf, sizeof buf);
        if (r > 0) {
            stats_feed(&c->stats, buf, (size_t)r, mono_ms());
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        return r != 0; /* EAGAIN: empty for now */
    }
}

static void acc(uint64_t *dst, uint64_t v)
{
    if (v == UNKNOWN)
        return;
    *dst = *dst == UNKNOWN ? v : *dst + v;
}

/* Write a sample as a row of timeline.csv. */
static void write_row(run_ctx_t *c, const pending_t *p)
{
    sample_t s;
    memset(&s, 0, sizeof s);
    s.t_ms = p->t - c->t0;
    s.free_held = s.tide_active = s.tide_dirty = s.tide_mapped = UNKNOWN;
    s.tide_metadata = s.tide_purged = UNKNOWN;
    s.glibc_arenas = s.glibc_free = s.glibc_system = s.glibc_mmap = UNKNOWN;
    uint64_t live = 0, biggest_glibc = 0;
    for (size_t i = 0; i < p->n; i++) {
        const mem_t *m = &p->procs[i].mem;
        s.procs++;
        s.rss += m->rss;
        s.pss += m->pss;
        s.anon += m->anon;
        s.lazyfree += m->lazyfree;
        proc_stats_t ps;
        stats_at(&c->stats, p->procs[i].pid, p->procs[i].t, c->interval, &ps);
        proc_hist_t *h = stats_find(&c->stats, p->procs[i].pid);
        uint64_t l = UNKNOWN;
        if (ps.alloc_kind != STATS_NONE)
            l = ps.live;
        else if (h && h->has_app)
            l = h->app_live;
        if (l == UNKNOWN) {
            s.unreported_rss += m->rss;
            continue;
        }
        s.reporting++;
        live += l;
        if (ps.alloc_kind == STATS_NONE)
            continue;
        acc(&s.free_held, ps.free_held);
        if (ps.alloc_kind == STATS_TIDE) {
            acc(&s.tide_active, ps.tide_active);
            acc(&s.tide_dirty, ps.tide_dirty);
            acc(&s.tide_mapped, ps.tide_mapped);
            acc(&s.tide_metadata, ps.tide_metadata);
            acc(&s.tide_purged, ps.tide_purged);
        } else {
            acc(&s.glibc_arenas, ps.glibc_arenas);
            acc(&s.glibc_free, ps.glibc_free);
            acc(&s.glibc_system, ps.glibc_system);
            acc(&s.glibc_mmap, ps.glibc_mmap);
            if (m->rss >= biggest_glibc) { /* per-arena list: largest process */
                biggest_glibc = m->rss;
                s.glibc_arena_free = ps.glibc_arena_free;
            }
        }
    }
    s.live = s.reporting ? live : UNKNOWN;
    csv_write_row(c->csv, &s);
    fflush(c->csv);
    c->samples++;
}

/* Every process of the sample that reports statistics has a line stamped
 * at or after its moment (processes that never reported are not waited
 * for), or the sample has waited long enough. */
static bool ready(run_ctx_t *c, const pending_t *p, uint64_t now)
{
    if (now >= p->t + c->max_delay)
        return true;
    for (size_t i = 0; i < p->n; i++) {
        proc_hist_t *h = stats_find(&c->stats, p->procs[i].pid);
        if (h && h->nlines && h->line[h->nlines - 1].alloc_t_ms < p->procs[i].t)
            return false;
    }
    return true;
}

/* Write the samples that are ready, in order (all of them if `all`). */
static void flush_samples(run_ctx_t *c, uint64_t now, bool all)
{
    size_t done = 0;
    while (done < c->nqueue && (all || ready(c, &c->queue[done], now))) {
        write_row(c, &c->queue[done]);
        free(c->queue[done].procs);
        done++;
    }
    if (done) {
        memmove(c->queue, c->queue + done, (c->nqueue - done) * sizeof *c->queue);
        c->nqueue -= done;
    }
}

static void keep_pid(run_ctx_t *c, size_t *n, pid_t pid)
{
    if (*n == c->keep_cap) {
        c->keep_cap = c->keep_cap ? c->keep_cap * 2 : 64;
        c->keep = xrealloc(c->keep, c->keep_cap * sizeof *c->keep);
    }
    c->keep[(*n)++] = pid;
}

static void take_sample(run_ctx_t *c, uint64_t now)
{
    drain(c);
    flush_samples(c, now, false);
    size_t n = proctree_list(getpid(), &c->pids, &c->pids_cap);
    pending_t p = { now, NULL, 0 };
    for (size_t i = 0; i < n; i++) {
        mem_t m;
        uint64_t t = mono_ms();
        if (smaps_read(c->pids[i], &m) != 0)
            continue;
        if (!p.procs)
            p.procs = xmalloc(n * sizeof *p.procs);
        p.procs[p.n++] = (proc_mem_t){ c->pids[i], m, t };
    }
    /* Statistics of processes gone from the tree are dropped, unless a
     * sample still waiting to be written needs them. */
    size_t nk = 0;
    for (size_t i = 0; i < n; i++)
        keep_pid(c, &nk, c->pids[i]);
    for (size_t q = 0; q < c->nqueue; q++)
        for (size_t i = 0; i < c->queue[q].n; i++)
            keep_pid(c, &nk, c->queue[q].procs[i].pid);
    stats_prune(&c->stats, c->keep, nk);
    if (p.n == 0) {
        free(p.procs); /* nothing alive yet, or only zombies: no row */
        return;
    }
    if (c->nqueue == c->queue_cap) {
        c->queue_cap = c->queue_cap ? c->queue_cap * 2 : 8;
        c->queue = xrealloc(c->queue, c->queue_cap * sizeof *c->queue);
    }
    c->queue[c->nqueue++] = p;
}

/* ---- the command ---- */

static bool bad_preload_path(const char *p)
{
    return strpbrk(p, " :\t\n") != NULL;
}

static void child_exec(char **cmd, const alloc_choice_t *a, int wfd, uint64_t interval,
                       int errfd, const sigset_t *orig_mask)
{
    for (size_t i = 0; i < NHANDLED; i++)
        sigaction(handled[i], &orig_handled[i], NULL);
    sigaction(SIGPIPE, &orig_pipe, NULL);
    sigaction(SIGCHLD, &orig_chld, NULL);
    sigprocmask(SIG_SETMASK, orig_mask, NULL);
    fcntl(wfd, F_SETFD, 0); /* the stats pipe stays open across exec */

    char num[32];
    snprintf(num, sizeof num, "%d", wfd);
    setenv("TIDE_STATS_FD", num, 1);
    if (a->library) {
        const char *old = getenv("LD_PRELOAD");
        char *pre = old && *old ? xasprintf("%s %s", a->library, old) : xstrdup(a->library);
        setenv("LD_PRELOAD", pre, 1);
    }
    if (a->kind == STATS_TIDE) {
        const char *old = getenv("TIDE_CONF");
        char *conf = xasprintf("%s%sstats_fd:%d,stats_interval_ms:%llu", old ? old : "",
                               old && *old ? "," : "", wfd, (unsigned long long)interval);
        setenv("TIDE_CONF", conf, 1);
    } else if (a->kind == STATS_GLIBC) {
        setenv("TIDE_SHIM_FD", num, 1);
        snprintf(num, sizeof num, "%llu", (unsigned long long)interval);
        setenv("TIDE_SHIM_INTERVAL_MS", num, 1);
    }
    execvp(cmd[0], cmd);
    int e = errno;
    if (write(errfd, &e, sizeof e) < 0) {
        /* nothing more to do: the parent sees status 127 */
    }
    _exit(127);
}

int cmd_run(int argc, char **argv)
{
    const char *alloc_name = "tide", *out = "tide-run";
    uint64_t interval = 100;
    bool quiet = false;
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0')
            break;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            run_usage(stdout);
            return 0;
        }
        if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
            quiet = true;
            continue;
        }
        const char *val = NULL, *opt = arg;
        size_t optlen = strlen(arg);
        const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        if (eq) {
            optlen = (size_t)(eq - arg);
            val = eq + 1;
        }
#define IS(s) (optlen == strlen(s) && strncmp(opt, s, optlen) == 0)
        bool a = IS("-a") || IS("--allocator"), iv = IS("-i") || IS("--interval-ms"),
             o = IS("-o") || IS("--out");
#undef IS
        if (!a && !iv && !o) {
            fprintf(stderr, "tide run: unknown option '%s'\n\n", arg);
            run_usage(stderr);
            return TIDE_EXIT_OWN;
        }
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tide run: %s needs a value\n", arg);
                return TIDE_EXIT_OWN;
            }
            val = argv[++i];
        }
        if (a) {
            alloc_name = val;
        } else if (o) {
            out = val;
        } else if (!parse_u64(val, strlen(val), &interval) || interval == 0 ||
                   interval > 3600000) {
            fprintf(stderr, "tide run: --interval-ms wants a whole number of ms from 1 "
                            "to 3600000, not '%s'\n", val);
            return TIDE_EXIT_OWN;
        }
    }
    if (i >= argc) {
        fputs("tide run: no command given\n\n", stderr);
        run_usage(stderr);
        return TIDE_EXIT_OWN;
    }
    char **cmd = argv + i;

    char err[PATH_MAX + 256];
    alloc_choice_t alloc;
    if (resolve_allocator(alloc_name, &alloc, err, sizeof err) != 0) {
        fprintf(stderr, "tide run: %s\n", err);
        return TIDE_EXIT_OWN;
    }
    if (alloc.library && bad_preload_path(alloc.library)) {
        fprintf(stderr, "tide run: %s: LD_PRELOAD cannot hold a path with spaces or colons\n",
                alloc.library);
        return TIDE_EXIT_OWN;
    }
    if (mkdir_p(out) != 0) {
        fprintf(stderr, "tide run: cannot create %s: %s\n", out, strerror(errno));
        return TIDE_EXIT_OWN;
    }
    char *csv_path = xasprintf("%s/timeline.csv", out);
    run_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.csv = fopen(csv_path, "we");
    if (!ctx.csv) {
        fprintf(stderr, "tide run: cannot write %s: %s\n", csv_path, strerror(errno));
        return TIDE_EXIT_OWN;
    }
    csv_write_header(ctx.csv);
    fflush(ctx.csv);

    int sp[2], ep[2];
    if (pipe2(sp, O_CLOEXEC) != 0 || pipe2(ep, O_CLOEXEC) != 0) {
        fprintf(stderr, "tide run: pipe: %s\n", strerror(errno));
        return TIDE_EXIT_OWN;
    }
    fcntl(sp[0], F_SETPIPE_SZ, 1 << 20); /* best effort: room for bursts */
    int wfd = fcntl(sp[1], F_DUPFD_CLOEXEC, STATS_FD_MIN);
    if (wfd >= 0)
        close(sp[1]);
    else
        wfd = sp[1];
    ctx.stats_rfd = sp[0];
    fcntl(sp[0], F_SETFL, O_NONBLOCK);

    /* Orphaned grandchildren stay ours to sample (and to reap). */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &orig_pipe);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, &orig_chld);
    sa.sa_flags = SA_SIGINFO;
    sa.sa_sigaction = on_fatal;
    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    for (size_t k = 0; k < NHANDLED; k++) {
        sigaction(handled[k], NULL, &orig_handled[k]);
        if (orig_handled[k].sa_handler == SIG_IGN)
            continue; /* ignored: leave it so, for tide and COMMAND */
        sigaction(handled[k], &sa, NULL);
        sigaddset(&block, handled[k]);
    }
    sigprocmask(SIG_BLOCK, &block, &orig);

    fflush(NULL);
    uint64_t t0 = mono_ms();
    ctx.t0 = t0;
    ctx.interval = interval;
    ctx.max_delay = interval * 4 > 1000 ? interval * 4 : 1000;
    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "tide run: fork: %s\n", strerror(errno));
        return TIDE_EXIT_OWN;
    }
    if (child == 0) {
        close(ep[0]);
        close(sp[0]);
        child_exec(cmd, &alloc, wfd, interval, ep[1], &orig);
    }
    close(wfd);
    close(ep[1]);
    int exec_errno = 0;
    ssize_t er;
    do
        er = read(ep[0], &exec_errno, sizeof exec_errno);
    while (er < 0 && errno == EINTR);
    close(ep[0]);
    if (er == (ssize_t)sizeof exec_errno) {
        int st;
        while (waitpid(child, &st, 0) < 0 && errno == EINTR)
            ;
        fprintf(stderr, "tide run: cannot run '%s': %s\n", cmd[0], strerror(exec_errno));
        fclose(ctx.csv);
        return exec_errno == ENOENT ? 127 : 126;
    }

    /* Sample at t0 + k*interval until COMMAND ends. */
    uint64_t next = t0 + interval;
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    bool done = false, pipe_open = true;
    while (!done) {
        uint64_t now = mono_ms();
        if (now >= next) {
            take_sample(&ctx, now);
            next += interval;
            now = mono_ms();
            if (next <= now) /* sampling fell behind: skip, don't burst */
                next = now + interval - (now - next) % interval;
        }
        uint64_t wait = next > now ? next - now : 0;
        struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000L };
        /* Once every writer has closed the pipe it polls ready for good:
         * from then on ppoll only keeps time. */
        struct pollfd pfd = { pipe_open ? ctx.stats_rfd : -1, POLLIN, 0 };
        int pr = ppoll(&pfd, 1, &ts, &orig);
        if (pr > 0 && pfd.revents)
            pipe_open = drain(&ctx);
        if (forward_sig) {
            kill(child, forward_sig);
            forward_sig = 0;
        }
        pid_t p;
        int st;
        struct rusage r;
        while ((p = wait4(-1, &st, WNOHANG, &r)) > 0) {
            if (p == child) {
                status = st;
                ru = r;
                done = true;
            }
        }
    }
    uint64_t duration = mono_ms() - t0;
    drain(&ctx);
    flush_samples(&ctx, mono_ms(), true);
    close(ctx.stats_rfd);
    if (fclose(ctx.csv) != 0) {
        fprintf(stderr, "tide run: writing %s: %s\n", csv_path, strerror(errno));
        return TIDE_EXIT_OWN;
    }
    sigprocmask(SIG_SETMASK, &orig, NULL);

    run_meta_t meta;
    memset(&meta, 0, sizeof meta);
    meta.allocator = (char *)alloc.name;
    meta.library = alloc.library ? alloc.library : (char *)"";
    meta.command = join_command(cmd);
    meta.interval_ms = interval;
    meta.duration_ms = duration;
    meta.hwm = ru.ru_maxrss > 0 ? (uint64_t)ru.ru_maxrss * 1024u : UNKNOWN;
    int rc;
    if (WIFEXITED(status)) {
        rc = WEXITSTATUS(status);
        meta.exit_desc = xasprintf("exited with status %d", rc);
    } else if (WIFSIGNALED(status)) {
        rc = 128 + WTERMSIG(status);
        meta.exit_desc = xasprintf("killed by signal %d (%s)", WTERMSIG(status),
                                   strsignal(WTERMSIG(status)));
    } else {
        rc = TIDE_EXIT_OWN;
        meta.exit_desc = xstrdup("ended in an unknown way");
    }
    meta.exit_status = rc;
    char *meta_path = xasprintf("%s/summary.txt", out);
    if (meta_write(meta_path, &meta) != 0) {
        fprintf(stderr, "tide run: cannot write %s: %s\n", meta_path, strerror(errno));
        return TIDE_EXIT_OWN;
    }

    run_data_t run;
    if (run_load(out, &run) != 0)
        return TIDE_EXIT_OWN;
    char *html = xasprintf("%s/report.html", out);
    char *title = xasprintf("tide run: %s", meta.command);
    if (report_write_html(html, title, &run, 1) != 0)
        return TIDE_EXIT_OWN;

    if (!quiet) {
        const summary_t *s = &run.sum;
        char b1[32], b2[32];
        fprintf(stderr, "\ntide run: %s under %s: %s after %.1f s, %zu samples every %llu ms\n",
                meta.command, alloc.name, meta.exit_desc, (double)duration / 1000.0,
                s->samples, (unsigned long long)interval);
        if (s->samples) {
            fprintf(stderr, "  peak RSS     %s (at %.1f s)", fmt_bytes(s->peak_rss, b1, sizeof b1),
                    (double)s->peak_t_ms / 1000.0);
            if (s->hwm != UNKNOWN && s->hwm > s->peak_rss + s->peak_rss / 20)
                fprintf(stderr, "; the largest process peaked at %s between samples",
                        fmt_bytes(s->hwm, b2, sizeof b2));
            fprintf(stderr, "\n  final RSS    %s\n", fmt_bytes(s->final_rss, b1, sizeof b1));
            if (s->final_live != UNKNOWN) {
                fprintf(stderr, "  final live   %s\n", fmt_bytes(s->final_live, b1, sizeof b1));
                fprintf(stderr, "  not live     %.0f%% of RSS (%s)\n", s->not_live_pct,
                        fmt_bytes(s->not_live, b1, sizeof b1));
            } else {
                fprintf(stderr, "  final live   unknown under %s\n", alloc.name);
            }
        }
        fprintf(stderr, "  diagnosis    %s\n", s->diagnosis);
        fprintf(stderr, "  wrote        %s, %s\n", csv_path, html);
    }
    run_unload(&run);
    stats_free(&ctx.stats);
    free(ctx.pids);
    free(ctx.keep);
    free(ctx.queue);
    free(meta.command);
    free(meta.exit_desc);
    free(meta_path);
    free(csv_path);
    free(html);
    free(title);
    free(alloc.library);
    return rc;
}
