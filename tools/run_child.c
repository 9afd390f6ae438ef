/* run_child — the command `tide run` starts: its environment, the signals
 * tide passes on to it, and waiting for it while the sampler keeps time.
 *
 * Invariants: the command gets back the signal dispositions and mask tide
 * started with (a signal ignored for tide, by nohup or a background job,
 * stays ignored for the command); the stats pipe's write end is open in the
 * command and nowhere in tide once it runs, so the pipe reads end-of-file
 * when the last process that inherited it is gone; and tide outlives the
 * command, reaping every orphan below it, until the command itself ends. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The stats pipe's write end goes to this fd or above in the command, out
 * of the way of the low numbers programs and scripts use themselves. */
#define STATS_FD_MIN 100

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
/* Dispositions tide started with, given back to COMMAND. */
static struct sigaction orig_handled[NHANDLED], orig_pipe, orig_chld;

/* Catch what tide must see while it samples, blocked until ppoll waits so
 * that none slips in between a check and the wait. */
static void signals_take(sigset_t *orig_mask)
{
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
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    for (size_t k = 0; k < NHANDLED; k++) {
        sigaction(handled[k], NULL, &orig_handled[k]);
        if (orig_handled[k].sa_handler == SIG_IGN)
            continue; /* ignored: leave it so, for tide and COMMAND */
        sigaction(handled[k], &sa, NULL);
        sigaddset(&block, handled[k]);
    }
    sigprocmask(SIG_BLOCK, &block, orig_mask);
}

static void signals_give_back(const sigset_t *orig_mask)
{
    for (size_t i = 0; i < NHANDLED; i++)
        sigaction(handled[i], &orig_handled[i], NULL);
    sigaction(SIGPIPE, &orig_pipe, NULL);
    sigaction(SIGCHLD, &orig_chld, NULL);
    sigprocmask(SIG_SETMASK, orig_mask, NULL);
}

/* ---- the command ---- */

/* In the forked child: the environment that makes the allocator write its
 * statistics to wfd, then exec. Only returns through _exit, with the
 * exec's errno written to errfd first. */
static void child_exec(char **cmd, const alloc_choice_t *a, int wfd, uint64_t interval,
                       int errfd, const sigset_t *orig_mask)
{
    signals_give_back(orig_mask);
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

/* The stats pipe, its write end moved up to STATS_FD_MIN; the error pipe
 * the child reports a failed exec on. Both close on exec. */
static int open_pipes(int *stats_rfd, int *stats_wfd, int ep[2])
{
    int sp[2];
    if (pipe2(sp, O_CLOEXEC) != 0 || pipe2(ep, O_CLOEXEC) != 0) {
        fprintf(stderr, "tide run: pipe: %s\n", strerror(errno));
        return -1;
    }
    fcntl(sp[0], F_SETPIPE_SZ, 1 << 20); /* best effort: room for bursts */
    int wfd = fcntl(sp[1], F_DUPFD_CLOEXEC, STATS_FD_MIN);
    if (wfd >= 0)
        close(sp[1]);
    else
        wfd = sp[1];
    fcntl(sp[0], F_SETFL, O_NONBLOCK);
    *stats_rfd = sp[0];
    *stats_wfd = wfd;
    return 0;
}

/* 0 once the child has exec'd; else its exec errno, the child reaped. */
static int exec_error(pid_t child, int errfd)
{
    int exec_errno = 0;
    ssize_t er;
    do
        er = read(errfd, &exec_errno, sizeof exec_errno);
    while (er < 0 && errno == EINTR);
    close(errfd);
    if (er != (ssize_t)sizeof exec_errno)
        return 0; /* closed on exec: it runs */
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    return exec_errno;
}

int child_start(char **cmd, const alloc_choice_t *a, uint64_t interval, child_t *c)
{
    memset(c, 0, sizeof *c);
    int wfd, ep[2];
    if (open_pipes(&c->stats_rfd, &wfd, ep) != 0)
        return TIDE_EXIT_OWN;
    signals_take(&c->orig_mask);

    fflush(NULL);
    c->start_ms = mono_ms();
    c->pid = fork();
    if (c->pid < 0) {
        fprintf(stderr, "tide run: fork: %s\n", strerror(errno));
        return TIDE_EXIT_OWN;
    }
    if (c->pid == 0) {
        close(ep[0]);
        close(c->stats_rfd);
        child_exec(cmd, a, wfd, interval, ep[1], &c->orig_mask);
    }
    close(wfd);
    close(ep[1]);
    int e = exec_error(c->pid, ep[0]);
    if (e) {
        fprintf(stderr, "tide run: cannot run '%s': %s\n", cmd[0], strerror(e));
        return e == ENOENT ? 127 : 126;
    }
    return 0;
}

/* Reap every child that has ended (orphans below tide come to it too);
 * true if one of them was the command. */
static bool reap(child_t *c, int *status, struct rusage *ru)
{
    bool ended = false;
    pid_t p;
    int st;
    struct rusage r;
    while ((p = wait4(-1, &st, WNOHANG, &r)) > 0) {
        if (p == c->pid) {
            *status = st;
            *ru = r;
            ended = true;
        }
    }
    return ended;
}

void child_watch(child_t *c, sampler_t *s, uint64_t interval, int *status, struct rusage *ru)
{
    /* Sample at start + k*interval until COMMAND ends. */
    uint64_t next = c->start_ms + interval;
    *status = 0;
    memset(ru, 0, sizeof *ru);
    bool done = false, pipe_open = true;
    while (!done) {
        uint64_t now = mono_ms();
        if (now >= next) {
            sampler_take(s, now);
            next += interval;
            now = mono_ms();
            if (next <= now) /* sampling fell behind: skip, don't burst */
                next = now + interval - (now - next) % interval;
        }
        uint64_t wait = next > now ? next - now : 0;
        struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000L };
        /* Once every writer has closed the pipe it polls ready for good:
         * from then on ppoll only keeps time. */
        struct pollfd pfd = { pipe_open ? c->stats_rfd : -1, POLLIN, 0 };
        int pr = ppoll(&pfd, 1, &ts, &c->orig_mask);
        if (pr > 0 && pfd.revents)
            pipe_open = sampler_drain(s);
        if (forward_sig) {
            kill(c->pid, forward_sig);
            forward_sig = 0;
        }
        done = reap(c, status, ru);
    }
}
