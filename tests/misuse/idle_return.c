/* The hardened build gives its kept guarded memory back while the program
 * idles (mitigation kept_decay, src/hardened/secure_decay.c): run under
 * LD_PRELOAD of either hardened level with TIDE_CONF=decay_ms:500.
 *
 * Frees 48 MiB of small blocks (their slabs become empty and are kept,
 * guard in place) and 24 MiB of large blocks (their runs are kept), checks
 * that most of it is still resident (kept: the test would prove nothing
 * otherwise), then makes no allocator call for 3 s (decay_ms + its last
 * bucket + the background thread's wake-up, with room for a loaded
 * machine) and checks that the resident set fell back to within 8 MiB of
 * where it was before the blocks were allocated. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long rss_mib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
        exit(2);
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE) >> 20;
}

#define SMALL 49152 /* blocks of 1000 B: 48 MiB or so */
#define LARGE 12    /* blocks of 2 MiB */

static char *small[SMALL], *large[LARGE];

int main(void)
{
    long base = rss_mib();
    for (int i = 0; i < SMALL; i++)
        memset(small[i] = malloc(1000), 1, 1000);
    for (int i = 0; i < LARGE; i++)
        memset(large[i] = malloc(2 << 20), 1, 2 << 20);
    long peak = rss_mib();
    for (int i = 0; i < SMALL; i++)
        free(small[i]);
    for (int i = 0; i < LARGE; i++)
        free(large[i]);
    long freed = rss_mib();
    struct timespec idle = { 3, 0 };
    nanosleep(&idle, NULL);
    long after = rss_mib();
    printf("rss MiB: before %ld, allocated %ld, just freed %ld, after 3 s idle %ld\n", base, peak, freed,
           after);
    if (freed - base < 32) {
        printf("FAIL: freed memory was not kept (%ld MiB resident above the start)\n", freed - base);
        return 1;
    }
    if (after - base > 8) {
        printf("FAIL: %ld MiB still resident after 3 s idle (decay_ms 500)\n", after - base);
        return 1;
    }
    printf("1 passed, 0 failed\n");
    return 0;
}
