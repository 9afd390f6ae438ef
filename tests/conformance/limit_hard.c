#define _GNU_SOURCE
/* The hard limit (TIDE_CONF=limit_hard:64M, set by CTest): past it every
 * entry point returns NULL with ENOMEM (posix_memalign returns ENOMEM)
 * instead of growing, the program carries on (freeing makes room again),
 * each failure is counted, and only the first prints a line, naming the
 * limit. */
#include "runner.h"
#include "check.h"
#include "tidemalloc.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIMIT ((size_t)64 << 20)
#define BIG ((size_t)80 << 20)   /* one request past the limit: a huge block */
#define CHUNK ((size_t)1 << 20)  /* large blocks that fill up to it */

static uint64_t failures(void)
{
    tide_limit_stats_t l;
    CHECK_EQ(tide_stats_limit(&l), 0);
    CHECK_EQ(l.hard, LIMIT);
    return l.failures;
}

/* Fill up to the limit with 1 MiB blocks, touched; returns how many. */
static size_t fill(void **v, size_t cap)
{
    size_t n = 0;
    while (n < cap && (v[n] = malloc(CHUNK)) != NULL) {
        memset(v[n], 1, CHUNK);
        n++;
    }
    CHECK_EQ(errno, ENOMEM);
    return n;
}

TEST(every_entry_point_fails_with_enomem_past_the_limit)
{
    const char *conf = getenv("TIDE_CONF");
    CHECK_MSG(conf && strstr(conf, "limit_hard:64M"), "run with TIDE_CONF=limit_hard:64M (got %s)", conf ? conf : "nothing");
    uint64_t f0 = failures();
    void *p;
    errno = 0;
    CHECK_NULL(malloc(BIG));
    CHECK_ERRNO(errno, ENOMEM);
    errno = 0;
    CHECK_NULL(calloc(BIG / 4096, 4096));
    CHECK_ERRNO(errno, ENOMEM);
    errno = 0;
    CHECK_NULL(realloc(NULL, BIG));
    CHECK_ERRNO(errno, ENOMEM);
    errno = 0;
    CHECK_NULL(reallocarray(NULL, BIG / 16, 16));
    CHECK_ERRNO(errno, ENOMEM);
    p = (void *)1;
    CHECK_EQ(posix_memalign(&p, 4096, BIG), ENOMEM);
    CHECK(p == (void *)1); /* untouched */
    errno = 0;
    CHECK_NULL(aligned_alloc(65536, BIG));
    CHECK_ERRNO(errno, ENOMEM);
    errno = 0;
    CHECK_NULL(memalign(4096, BIG));
    CHECK_ERRNO(errno, ENOMEM);
    errno = 0;
    CHECK_NULL(valloc(BIG));
    CHECK_ERRNO(errno, ENOMEM);
    errno = 0;
    CHECK_NULL(pvalloc(BIG));
    CHECK_ERRNO(errno, ENOMEM);
    CHECK_EQ(failures(), f0 + 9);
}

TEST(small_blocks_and_realloc_fail_and_the_program_carries_on)
{
    static void *v[128];
    uint64_t f0 = failures();
    size_t n = fill(v, 128);
    CHECK_GT(n, 32); /* most of the 64 MiB */
    CHECK_LT(n, 64);
    /* a small block needs a new slab: refused too, once every page is taken */
    void *small[4096];
    size_t ns = 0;
    errno = 0;
    while (ns < 4096 && (small[ns] = malloc(8000)) != NULL)
        ns++;
    CHECK_LT(ns, 4096);
    CHECK_ERRNO(errno, ENOMEM);
    /* realloc that must grow fails and leaves the block as it was */
    errno = 0;
    CHECK_NULL(realloc(v[0], 32 * CHUNK));
    CHECK_ERRNO(errno, ENOMEM);
    CHECK_BYTES(v[0], CHUNK, 1);
    CHECK_GE(failures(), f0 + 3);
    /* Carrying on: free half, and allocations succeed again. */
    for (size_t i = 0; i < ns; i++)
        free(small[i]);
    for (size_t i = 0; i < n; i += 2)
        free(v[i]);
    void *again = malloc(4 * CHUNK);
    CHECK_NOT_NULL(again);
    memset(again, 2, 4 * CHUNK);
    void *tiny = malloc(100);
    CHECK_NOT_NULL(tiny);
    free(again);
    free(tiny);
    for (size_t i = 1; i < n; i += 2)
        free(v[i]);
}

TEST(purges_before_refusing)
{
    /* Fill, free everything (dirty pages, decay_ms is long), then a huge
     * block that fits only once those pages are purged must succeed. */
    static void *v[128];
    size_t n = fill(v, 128);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    tide_stats_t s;
    tide_stats_get(&s);
    CHECK_GT(s.dirty, (uint64_t)32 << 20);
    void *p = malloc(48 << 20);
    CHECK_NOT_NULL(p);
    memset(p, 3, 48 << 20);
    free(p);
}

TEST(first_failure_prints_one_line_naming_the_limit)
{
    /* A fresh process (exec: a fork would inherit this one's "already
     * said"), its stderr into a pipe, failing nine times. */
    int fd[2];
    CHECK(pipe(fd) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        execl("/proc/self/exe", "limit_hard", "every_entry_point_fails_with_enomem_past_the_limit", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char buf[8192];
    size_t got = 0;
    ssize_t r;
    while ((r = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)r;
    buf[got] = 0;
    close(fd[0]);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %s", buf);
    size_t lines = 0;
    for (char *q = buf; (q = strstr(q, "tidemalloc: limit_hard")) != NULL; q++)
        lines++;
    CHECK_MSG(lines == 1, "expected one limit line, got %zu: %s", lines, buf);
    CHECK_MSG(strstr(buf, "tidemalloc: limit_hard 67108864 (64 MiB, the option) reached: a request of ") != NULL,
              "%s", buf);
    CHECK(strstr(buf, "ENOMEM") != NULL);
}
