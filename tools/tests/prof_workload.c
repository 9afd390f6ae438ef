/* A program with known allocation sites, for the `tide prof` tests.
 *
 *   prof_workload run SECONDS   hot_site keeps 16 MiB (4 KiB objects),
 *                               warm_site 4 MiB (1 KiB objects), churn
 *                               allocates and frees; then it sleeps
 *                               SECONDS and exits (frees nothing)
 *   prof_workload leak SECONDS  the same, then hot_site leaks 256 KiB
 *                               more every 20 ms for SECONDS
 *   prof_workload fixture OUT HOT WARM
 *                               writes a heap_v2 profile by hand: the
 *                               program's own stacks at those sites
 *                               (glibc's backtrace), HOT and WARM raw
 *                               samples of 4096 bytes, a freed stack, and
 *                               MAPPED_LIBRARIES from /proc/self/maps
 */
#define _DEFAULT_SOURCE
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PERIOD 524288

static FILE *fixture;
static int hot_n, warm_n;

/* Write the caller's stack (without this frame) with its counts. */
__attribute__((noinline)) static void note(unsigned long objs, unsigned long bytes,
                                           unsigned long aobjs, unsigned long abytes)
{
    void *pc[64];
    int n = backtrace(pc, 64);
    fprintf(fixture, "@");
    for (int i = 1; i < n; i++)
        fprintf(fixture, " %p", pc[i]);
    fprintf(fixture, "\n  t*: %lu: %lu [%lu: %lu]\n  t0: %lu: %lu [%lu: %lu]\n",
            objs, bytes, aobjs, abytes, objs, bytes, aobjs, abytes);
}

static void **keep;
#define KEEP_MAX (1 << 18)
static size_t nkeep;

__attribute__((noinline)) void hot_site(size_t count)
{
    for (size_t i = 0; i < count; i++) {
        keep[nkeep++] = malloc(4096); /* HOT */
        memset(keep[nkeep - 1], 1, 64);
    }
    if (fixture) note((unsigned long)hot_n, 4096ul * hot_n, (unsigned long)hot_n, 4096ul * hot_n); /* HOT-FIXTURE */
}

__attribute__((noinline)) void warm_site(size_t count)
{
    for (size_t i = 0; i < count; i++) {
        keep[nkeep++] = malloc(1024); /* WARM */
        memset(keep[nkeep - 1], 2, 64);
    }
    if (fixture) note((unsigned long)warm_n, 4096ul * warm_n, (unsigned long)warm_n, 4096ul * warm_n);
}

__attribute__((noinline)) void churn(size_t count)
{
    for (size_t i = 0; i < count; i++) {
        void *p = malloc(2048);
        memset(p, 3, 64);
        free(p);
    }
    if (fixture) note(0, 0, 10, 40960);
}

__attribute__((noinline)) void grow(void)
{
    hot_site(fixture ? 0 : 4096);
    warm_site(fixture ? 0 : 4096);
    churn(fixture ? 0 : 20000);
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    keep = calloc(KEEP_MAX, sizeof *keep);
    if (argc == 5 && strcmp(argv[1], "fixture") == 0) {
        fixture = fopen(argv[2], "w");
        if (!fixture)
            return 1;
        hot_n = atoi(argv[3]);
        warm_n = atoi(argv[4]);
        unsigned long objs = (unsigned long)(hot_n + warm_n);
        fprintf(fixture, "heap_v2/%d\n  t*: %lu: %lu [%lu: %lu]\n  t0: %lu: %lu [%lu: %lu]\n", PERIOD,
                objs, 4096 * objs, objs + 10, 4096 * objs + 40960,
                objs, 4096 * objs, objs + 10, 4096 * objs + 40960);
        grow();
        fprintf(fixture, "\nMAPPED_LIBRARIES:\n");
        FILE *m = fopen("/proc/self/maps", "r");
        char line[4096];
        while (m && fgets(line, sizeof line, m))
            fputs(line, fixture);
        fclose(m);
        return fclose(fixture) != 0;
    }
    if (argc == 3 && strcmp(argv[1], "run") == 0) {
        grow();
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        sleep((unsigned)atoi(argv[2]));
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "leak") == 0) {
        grow();
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        for (int i = 0; i < atoi(argv[2]) * 50 && nkeep + 64 < KEEP_MAX; i++) {
            hot_site(64);
            usleep(20000);
        }
        return 0;
    }
    fprintf(stderr, "usage: prof_workload run|leak SECONDS | fixture OUT HOT WARM\n");
    return 2;
}
