#include "tide.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void oom(void)
{
    fputs("tide: out of memory\n", stderr);
    exit(TIDE_EXIT_OWN);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        oom();
    return d;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        oom();
    return s;
}

const char *fmt_bytes(uint64_t b, char *buf, size_t size)
{
    if (b == UNKNOWN)
        snprintf(buf, size, "unknown");
    else if (b >= ((uint64_t)1 << 30))
        snprintf(buf, size, "%.2f GiB", (double)b / (double)((uint64_t)1 << 30));
    else if (b >= ((uint64_t)1 << 20))
        snprintf(buf, size, "%.1f MiB", (double)b / (double)((uint64_t)1 << 20));
    else if (b >= 1024)
        snprintf(buf, size, "%.0f KiB", (double)b / 1024.0);
    else
        snprintf(buf, size, "%llu B", (unsigned long long)b);
    return buf;
}

uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int mkdir_p(const char *path)
{
    char *p = xstrdup(path);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int r = 0;
    if (mkdir(p, 0777) != 0) {
        struct stat st;
        if (errno != EEXIST || stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            if (errno == EEXIST)
                errno = ENOTDIR;
            r = -1;
        }
    }
    free(p);
    return r;
}

char *exe_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return xstrdup(".");
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == buf)
        slash[1] = '\0';
    else
        *slash = '\0';
    return xstrdup(buf);
}

bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - 1 - d) / 10) /* UINT64_MAX itself means unknown */
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool parse_size(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    unsigned shift = 0;
    if (n > 1 && strchr("KMG", s[n - 1])) {
        shift = s[n - 1] == 'K' ? 10 : s[n - 1] == 'M' ? 20 : 30;
        n--;
    }
    uint64_t v;
    if (!parse_u64(s, n, &v) || v > (UINT64_MAX >> shift))
        return false;
    *out = v << shift;
    return true;
}

static bool needs_quotes(const char *s)
{
    if (!*s)
        return true;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789-_./=:,+@%", *s))
            return true;
    return false;
}

char *join_command(char *const argv[])
{
    size_t cap = 64, len = 0;
    char *out = xmalloc(cap);
    out[0] = '\0';
    for (size_t i = 0; argv[i]; i++) {
        const char *a = argv[i];
        size_t need = len + 4 * strlen(a) + 4;
        if (need > cap) {
            cap = need * 2;
            out = xrealloc(out, cap);
        }
        if (i)
            out[len++] = ' ';
        if (!needs_quotes(a)) {
            len += (size_t)sprintf(out + len, "%s", a);
            continue;
        }
        out[len++] = '\'';
        for (; *a; a++) {
            if (*a == '\'') {
                memcpy(out + len, "'\\''", 4);
                len += 4;
            } else if (*a == '\n') {
                out[len++] = ' '; /* keep summary.txt one line per key */
            } else {
                out[len++] = *a;
            }
        }
        out[len++] = '\'';
        out[len] = '\0';
    }
    return out;
}

void html_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* The target is a PID (the abstract socket "tidemalloc.<pid>") or, when it
 * holds a '/', the path of a socket made with stats_socket:/dir/%p.sock
 * (reachable from outside the process's network namespace). */
int socket_request(const char *cmd, const char *pid_arg, const char *request, const char *hint, int *status)
{
    bool by_path = pid_arg && strchr(pid_arg, '/') != NULL;
    char *end = NULL;
    long pid = pid_arg && !by_path ? strtol(pid_arg, &end, 10) : 0;
    *status = 2;
    if (!pid_arg || (!by_path && (*end || pid <= 0))) {
        fprintf(stderr, "%s: expected a process id or a socket path, got '%s'\n", cmd, pid_arg ? pid_arg : "");
        return -1;
    }
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    socklen_t alen;
    if (by_path) {
        if (strlen(pid_arg) >= sizeof addr.sun_path) {
            fprintf(stderr, "%s: socket path too long: %s\n", cmd, pid_arg);
            return -1;
        }
        strcpy(addr.sun_path, pid_arg);
        alen = sizeof addr;
    } else {
        int len = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "tidemalloc.%ld", pid);
        alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
    }
    *status = 1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "%s: socket: %s\n", cmd, strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, alen) != 0) {
        if (by_path)
            fprintf(stderr, "%s: cannot connect to %s: %s (is the process running with TIDE_CONF=stats_socket:PATH?)\n",
                    cmd, pid_arg, strerror(errno));
        else if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            fprintf(stderr, "%s: no process %ld\n", cmd, pid);
        else
            fprintf(stderr, "%s: process %ld %s (and LD_PRELOAD=libtidemalloc.so)\n", cmd, pid, hint);
        close(fd);
        return -1;
    }
    size_t n = strlen(request);
    if (write(fd, request, n) != (ssize_t)n) {
        fprintf(stderr, "%s: write: %s\n", cmd, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
