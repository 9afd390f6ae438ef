#define _GNU_SOURCE
/* The pressure trigger, against the real kernel and without touching a
 * cgroup: with a soft limit far above what the process holds (so the curve
 * lets every dirty page stay) and a long decay, 24 MiB of freed pages stay
 * dirty; then the process thrashes its own file pages (MADV_PAGEOUT, then
 * reading them back), which the kernel counts as a memory stall. The
 * allocator's PSI trigger must wake it, count the stall and purge every
 * dirty page; once the stall is over, freed pages stay dirty again.
 * CTest sets TIDE_CONF=limit_soft:64G,decay_ms:600000.
 * Exit 77 (skip) where the kernel has no PSI, or no stall could be caused
 * (no page cache to thrash, e.g. a tmpfs working directory). */
#include "tidemalloc.h"

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)
#define TRIGGER "some 200000 2000000" /* the allocator's own (mem_limits.c) */
#define FILE_BYTES (256 * MiB)

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static tide_limit_stats_t limits(void)
{
    tide_limit_stats_t l;
    if (tide_stats_limit(&l) != 0)
        fail("tide_stats_limit");
    return l;
}

static size_t dirty(void)
{
    tide_stats_t s;
    tide_stats_get(&s);
    return (size_t)s.dirty;
}

/* Frees n touched 1 MiB blocks: large runs, which stay dirty. */
static void make_dirty(size_t n)
{
    void *v[64];
    for (size_t i = 0; i < n; i++) {
        v[i] = malloc(MiB);
        if (!v[i])
            fail("malloc");
        memset(v[i], 0x5a, MiB);
    }
    for (size_t i = 0; i < n; i++)
        free(v[i]);
}

static int arm(void)
{
    int fd = open("/proc/pressure/memory", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (write(fd, TRIGGER, sizeof TRIGGER) != (ssize_t)sizeof TRIGGER) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool fired(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLPRI };
    return poll(&p, 1, 0) > 0 && (p.revents & POLLPRI);
}

int main(void)
{
    /* The background thread arms the trigger on its first tick. */
    tide_limit_stats_t l = limits();
    for (int i = 0; i < 300 && !l.pressure_trigger; i++) {
        usleep(10 * 1000);
        l = limits();
    }
    if (l.soft == 0)
        fail("no soft limit: TIDE_CONF should set limit_soft");
    int mine = arm();
    if (!l.pressure_trigger) {
        if (mine >= 0)
            fail("the test can arm a PSI trigger on /proc/pressure/memory, the allocator did not");
        printf("SKIP: this kernel takes no PSI trigger on /proc/pressure/memory\n");
        return 77;
    }
    if (mine < 0)
        fail("the allocator armed a trigger the test cannot");

    make_dirty(24);
    usleep(300 * 1000);
    if (dirty() < 20 * MiB)
        fail("the 24 MiB freed did not stay dirty (%zu bytes): the test shows nothing", dirty());
    uint64_t events0 = limits().pressure_events;

    /* The file's pages: read twice so they are the working set, paged out,
     * read back (a refault of the working set is a stall). Its own, in the
     * working directory, which is on a disk (ctest runs in the build tree). */
    char path[] = "psi_wake.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, (off_t)FILE_BYTES) != 0)
        fail("a %zu MiB file in the working directory", FILE_BYTES / MiB);
    unlink(path);
    volatile char *p = mmap(NULL, FILE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        fail("mmap");
    for (size_t i = 0; i < FILE_BYTES; i += 4096)
        p[i] = (char)i;
    msync((void *)p, FILE_BYTES, MS_SYNC);

    double t0 = now_s(), seen_at = 0;
    unsigned sum = 0;
    int rounds = 0;
    for (; now_s() - t0 < 20; rounds++) {
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < FILE_BYTES; i += 4096)
                sum += (unsigned char)p[i];
        if (madvise((void *)p, FILE_BYTES, MADV_PAGEOUT) != 0) {
            printf("SKIP: MADV_PAGEOUT is not available\n");
            return 77;
        }
        for (size_t i = 0; i < FILE_BYTES; i += 4096)
            sum += (unsigned char)p[i];
        if (!seen_at && fired(mine))
            seen_at = now_s();
        l = limits();
        if (l.pressure_events > events0)
            break;
    }
    munmap((void *)p, FILE_BYTES);
    close(fd);
    if (!seen_at && l.pressure_events == events0) {
        printf("SKIP: no memory stall in 20 s of thrashing (%d rounds, sum %u): "
               "the working directory may not be backed by a disk\n", rounds, sum);
        return 77;
    }
    if (l.pressure_events == events0)
        fail("the kernel reported a stall (to the test's trigger) but the allocator counted none in %.1f s",
             now_s() - t0);
    printf("stall reported to the allocator after %.2f s of thrashing (%d rounds)\n", now_s() - t0, rounds);

    /* The wake purges every dirty page. */
    double t1 = now_s();
    while (dirty() > 0 && now_s() - t1 < 5)
        usleep(10 * 1000);
    if (dirty() > 0)
        fail("%zu dirty bytes 5 s after the stall", dirty());
    printf("dirty 0 after %.0f ms; pressure_now %llu\n", (now_s() - t1) * 1000,
           (unsigned long long)limits().pressure_now);

    /* The stall over, the curve applies again: freed pages stay dirty. */
    t1 = now_s();
    while (limits().pressure_now && now_s() - t1 < 30)
        usleep(50 * 1000);
    if (limits().pressure_now)
        fail("still under pressure 30 s after the thrashing stopped");
    printf("pressure over %.1f s after the thrashing stopped\n", now_s() - t1);
    make_dirty(16);
    usleep(300 * 1000);
    if (dirty() < 12 * MiB)
        fail("after the stall freed pages are still purged at once (dirty %zu)", dirty());
    printf("PASS: %llu stall(s) reported; dirty kept again after it (%zu MiB)\n",
           (unsigned long long)limits().pressure_events, dirty() / MiB);
    return 0;
}
