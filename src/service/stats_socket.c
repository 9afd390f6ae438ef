/* stats socket — serves `tide stats PID` and `tide prof dump PID` on the
 * abstract Unix socket "tidemalloc.<pid>" when stats_socket:true, or on a
 * filesystem path (stats_socket:/run/tide/%p.sock, %p the PID) that a
 * tool outside the process's network namespace (a container's) can reach.
 *
 * Invariant: one serving thread at most; a request that does not arrive in
 * a second is answered as text, so a stuck client cannot stop the next one.
 * After fork the child serves nothing (the socket is the parent's).
 */
#define _GNU_SOURCE
#include "stats_socket.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tidemalloc.h"

#include "config/config.h"
#include "platform/os.h"
#include "platform/report.h"
#include "platform/textbuf.h"
#include "prof/prof.h"
#include "top_line.h"

static int listen_fd = -1;
static bool serving;
/* The filesystem socket this process made, removed at exit ("" if none). */
static char bound_path[sizeof options.stats_socket_path + 24];

/* A profile dump on request: "OK <path>" or "ERR <reason>". */
static void serve_prof_dump(int c)
{
    char path[512];
    int err = tide_prof_dump(path, sizeof path);
    textbuf_t t = { .fd = c };
    if (err == 0) {
        tb_str(&t, "OK ");
        tb_str(&t, path);
    } else {
        tb_str(&t, "ERR ");
        tb_str(&t, err == ENOENT ? "profiling is off (start the program with TIDE_CONF=prof:true)"
                                 : "the profile could not be written (see the program's stderr)");
    }
    tb_str(&t, "\n");
    tb_flush(&t);
}

/* "prof_start [rate]" or "prof_stop": "OK <state>" or "ERR <reason>". */
static void serve_prof_switch(int c, const char *arg, bool start)
{
    uint64_t rate = 0;
    bool bad = false;
    for (; arg && *arg == ' '; arg++)
        ;
    for (; arg && *arg >= '0' && *arg <= '9'; arg++)
        rate = rate * 10 + (uint64_t)(*arg - '0');
    bad = arg && *arg && *arg != '\n';
    int err = bad ? EINVAL : start ? tide_prof_start(rate) : tide_prof_stop();
    textbuf_t t = { .fd = c };
    if (err == 0) {
        tb_str(&t, start ? "OK profiling, one sample per " : "OK stopped");
        if (start) {
            tb_u64(&t, prof_sample_bytes());
            tb_str(&t, " bytes allocated on average");
        }
    } else {
        tb_str(&t, err == EINVAL ? "ERR the rate must be a power of two (bytes)" : "ERR the profiler could not be switched");
    }
    tb_str(&t, "\n");
    tb_flush(&t);
}

/* The request is one line: "text", "json", "prometheus", "prof_dump",
 * "prof_start [<mean sample bytes>]", "prof_stop" or "top" (anything
 * else: text). */
static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int c = os_accept(listen_fd, 1000);
        if (c < 0)
            continue;
        char req[64] = { 0 };
        long n = os_read(c, req, sizeof req - 1);
        if (n >= 9 && memcmp(req, "prof_dump", 9) == 0) {
            serve_prof_dump(c);
        } else if (n >= 10 && memcmp(req, "prof_start", 10) == 0) {
            serve_prof_switch(c, req + 10, true);
        } else if (n >= 9 && memcmp(req, "prof_stop", 9) == 0) {
            serve_prof_switch(c, NULL, false);
        } else if (n >= 3 && memcmp(req, "top", 3) == 0) {
            top_line_write(c);
        } else {
            int format = n >= 4 && memcmp(req, "json", 4) == 0 ? TIDE_STATS_JSON
                       : n >= 10 && memcmp(req, "prometheus", 10) == 0 ? TIDE_STATS_PROMETHEUS
                                                                      : TIDE_STATS_TEXT;
            tide_stats_print(c, format);
        }
        os_close(c);
    }
    return NULL;
}

int stats_socket_start(void)
{
    if (__atomic_exchange_n(&serving, true, __ATOMIC_ACQ_REL))
        return 0;
    char path[sizeof options.stats_socket_path];
    config_string(options.stats_socket_path, path, sizeof path);
    textbuf_t name = { .fd = -1 };
    if (path[0]) {
        for (const char *c = path; *c; c++) {
            if (c[0] == '%' && c[1] == 'p') {
                tb_u64(&name, (uint64_t)os_getpid());
                c++;
            } else {
                tb_put(&name, c, 1);
            }
        }
    } else {
        tb_str(&name, "tidemalloc.");
        tb_u64(&name, (uint64_t)os_getpid());
    }
    tb_put(&name, "", 1);
    int fd = path[0] ? os_listen_path(name.buf) : os_listen_abstract(name.buf);
    if (fd < 0)
        goto fail;
    listen_fd = fd;
    bool started = os_thread_start(serve, 64 * 1024);
    if (started) {
        if (path[0] && name.n <= sizeof bound_path)
            memcpy(bound_path, name.buf, name.n);
        return 0;
    }
    os_close(fd);
    listen_fd = -1;
fail:
    report_warning(path[0] ? "stats_socket: could not serve statistics on the path (missing directory, no permission, or the path is over 107 characters)"
                           : "stats_socket: could not serve statistics (socket or thread failed)");
    __atomic_store_n(&serving, false, __ATOMIC_RELEASE);
    return -1;
}

void stats_socket_fork_child(void)
{
    /* The serving thread did not survive; the socket belongs to the parent. */
    if (listen_fd >= 0)
        os_close(listen_fd);
    listen_fd = -1;
    serving = false;
    bound_path[0] = 0; /* the parent's, not ours to remove */
}

void stats_socket_exit(void)
{
    if (bound_path[0])
        os_unlink(bound_path);
}
