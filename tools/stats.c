/* tide stats PID — read a running tidemalloc process's statistics without
 * stopping it: the process serves them on the abstract unix socket
 * "tidemalloc.<pid>" when started with TIDE_CONF=stats_socket:true, or on
 * a path (stats_socket:/run/tide/%p.sock) given here instead of the PID. */
#include "tide.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void stats_usage(FILE *f)
{
    fputs("usage: tide stats [--json | --prometheus] PID|SOCKET-PATH\n"
          "\n"
          "Print the statistics of a running process that uses tidemalloc, without\n"
          "stopping it. The process must have been started with\n"
          "TIDE_CONF=stats_socket:true (it then answers on the abstract unix socket\n"
          "\"tidemalloc.PID\"), or with stats_socket:/dir/%p.sock: then give that\n"
          "path (from the host, for a process in a container). --prometheus prints\n"
          "Prometheus text exposition. Fields and metric names: docs/STATS.md.\n",
          f);
}

int cmd_stats(int argc, char **argv)
{
    const char *request = "text\n";
    const char *pid_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            request = "json\n";
        else if (strcmp(argv[i], "--prometheus") == 0)
            request = "prometheus\n";
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
    int status;
    int fd = socket_request("tide stats", pid_arg, request,
                            "does not serve tidemalloc statistics: start it with TIDE_CONF=stats_socket:true",
                            &status);
    if (fd < 0)
        return status;
    char buf[4096];
    ssize_t n;
    size_t total = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        fwrite(buf, 1, (size_t)n, stdout);
        total += (size_t)n;
    }
    close(fd);
    if (total == 0) {
        fprintf(stderr, "tide stats: process %s closed the connection without statistics\n", pid_arg);
        return 1;
    }
    return 0;
}
