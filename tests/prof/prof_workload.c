/* A program whose allocation sites are known, for the heap-profile tests:
 * hot_site keeps 20 MB live (200,000 x 100 B), cold_site 2 MB, and
 * churn_site allocates and frees 64 MB in 4 KiB blocks.
 *   prof_workload [--sleep-ms=N] [--manual-dump]
 * --manual-dump calls tide_prof_dump (found with dlsym, so the program runs
 * the same under any allocator) and prints the path it wrote. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOT 200000
#define COLD 20000

void *hot_blocks[HOT];
void *cold_blocks[COLD];

__attribute__((noinline)) void *hot_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void *cold_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void churn_site(void)
{
    for (int i = 0; i < 16384; i++) {
        char *p = malloc(4096);
        p[0] = (char)i;
        free(p);
    }
}

int main(int argc, char **argv)
{
    long sleep_ms = 0;
    int manual = 0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--sleep-ms=", 11) == 0)
            sleep_ms = atol(argv[i] + 11);
        else if (strcmp(argv[i], "--manual-dump") == 0)
            manual = 1;
    }
    for (int i = 0; i < HOT; i++) {
        hot_blocks[i] = hot_site(100);
        memset(hot_blocks[i], 1, 100);
        if (i % 10 == 0)
            cold_blocks[i / 10] = cold_site(100);
    }
    churn_site();
    if (sleep_ms) {
        struct timespec ts = { sleep_ms / 1000, (sleep_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (manual) {
        int (*dump)(char *, size_t) = (int (*)(char *, size_t))dlsym(RTLD_DEFAULT, "tide_prof_dump");
        char path[512];
        int err = dump ? dump(path, sizeof path) : -1;
        if (err)
            printf("manual dump failed: %d\n", err);
        else
            printf("manual dump: %s\n", path);
    }
    puts("prof_workload: done");
    return 0;
}
