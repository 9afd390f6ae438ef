#define _GNU_SOURCE
#include "stats_socket.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tidemalloc.h"

#include "platform/os.h"
#include "platform/report.h"
#include "platform/textbuf.h"

static int listen_fd = -1;
static bool serving;

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

/* The request is one line: "text", "json" or "prof_dump" (anything else:
 * text). */
static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        char req[16] = { 0 };
        struct timeval tv = { 1, 0 };
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t n = recv(c, req, sizeof req - 1, 0);
        if (n >= 9 && memcmp(req, "prof_dump", 9) == 0) {
            serve_prof_dump(c);
        } else {
            int format = n >= 4 && memcmp(req, "json", 4) == 0 ? TIDE_STATS_JSON : TIDE_STATS_TEXT;
            tide_stats_print(c, format);
        }
        close(c);
    }
    return NULL;
}

int stats_socket_start(void)
{
    if (__atomic_exchange_n(&serving, true, __ATOMIC_ACQ_REL))
        return 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int len = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "tidemalloc.%d", (int)getpid());
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
    if (bind(fd, (struct sockaddr *)&addr, alen) != 0 || listen(fd, 8) != 0) {
        close(fd);
        goto fail;
    }
    listen_fd = fd;
    bool started = os_thread_start(serve, 64 * 1024);
    if (started)
        return 0;
    close(fd);
    listen_fd = -1;
fail:
    report_warning("stats_socket: could not serve statistics (socket or thread failed)");
    __atomic_store_n(&serving, false, __ATOMIC_RELEASE);
    return -1;
}

void stats_socket_fork_child(void)
{
    /* The serving thread did not survive; the socket belongs to the parent. */
    if (listen_fd >= 0)
        close(listen_fd);
    listen_fd = -1;
    serving = false;
}
