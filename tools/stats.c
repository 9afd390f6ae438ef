/* tide stats PID — read a running tidemalloc process's statistics without
 * stopping it: the process serves them on the abstract unix socket
 * "tidemalloc.<pid>" when started with TIDE_CONF=stats_socket:true. */
#include "tide.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void stats_usage(FILE *f)
{
    fputs("usage: tide stats [--json] PID\n"
          "\n"
          "Print the statistics of a running process that uses tidemalloc, without\n"
          "stopping it. The process must have been started with\n"
          "TIDE_CONF=stats_socket:true (it then answers on the abstract unix socket\n"
          "\"tidemalloc.PID\"). Fields are described in docs/STATS.md.\n",
          f);
}

int cmd_stats(int argc, char **argv)
{
    int json = 0;
    const char *pid_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            stats_usage(stdout);
            return 0;
        } else if (!pid_arg)
            pid_arg = argv[i];
        else {
            stats_usage(stderr);
            return 2;
        }
    }
    char *end = NULL;
    long pid = pid_arg ? strtol(pid_arg, &end, 10) : 0;
    if (!pid_arg || *end || pid <= 0) {
        fprintf(stderr, "tide stats: expected a process id, got '%s'\n", pid_arg ? pid_arg : "");
        return 2;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "tide stats: socket: %s\n", strerror(errno));
        return 1;
    }
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int len = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "tidemalloc.%ld", pid);
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
    if (connect(fd, (struct sockaddr *)&addr, alen) != 0) {
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            fprintf(stderr, "tide stats: no process %ld\n", pid);
        else
            fprintf(stderr, "tide stats: process %ld does not serve tidemalloc statistics: start it "
                            "with TIDE_CONF=stats_socket:true (and LD_PRELOAD=libtidemalloc.so)\n", pid);
        close(fd);
        return 1;
    }
    const char *req = json ? "json\n" : "text\n";
    if (write(fd, req, strlen(req)) < 0) {
        fprintf(stderr, "tide stats: write: %s\n", strerror(errno));
        close(fd);
        return 1;
    }
    char buf[4096];
    ssize_t n;
    size_t total = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        fwrite(buf, 1, (size_t)n, stdout);
        total += (size_t)n;
    }
    close(fd);
    if (total == 0) {
        fprintf(stderr, "tide stats: process %ld closed the connection without statistics\n", pid);
        return 1;
    }
    return 0;
}
