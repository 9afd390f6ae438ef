/* tidemalloc tests — failure reporting for check.h. */
#include "check.h"
#include "runner.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile int check_failures;

/* Set by the runner while it executes a test case on its own thread. */
jmp_buf *volatile check_recover;
pthread_t check_recover_thread;

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

void check_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "%s:%d: CHECK failed: %s", file, line, expr);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    if (fmt != NULL && (size_t)n < sizeof buf - 4) {
        buf[n++] = ' ';
        buf[n++] = '(';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 2, fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
        if ((size_t)n > sizeof buf - 3)
            n = (int)sizeof buf - 3;
        buf[n++] = ')';
    }
    buf[n++] = '\n';
    write_all(2, buf, (size_t)n);
    check_failures++;

    jmp_buf *env = check_recover;
    if (env != NULL && pthread_equal(pthread_self(), check_recover_thread))
        longjmp(*env, 1);
    _exit(1);
}

size_t read_until_eof(int fd, void *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t r = read(fd, (char *)buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    return n;
}

const char *check_errno_name(int e)
{
    switch (e) {
    case 0: return "0";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EOVERFLOW: return "EOVERFLOW";
    case EAGAIN: return "EAGAIN";
    case ERANGE: return "ERANGE";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    default: return "?";
    }
}
