/* A server in miniature, for run_verdicts.sh: it builds 64 MiB of live
 * 1000-byte objects, serves (replaces a few objects every millisecond) for
 * SERVE_MS, then shuts down: frees nine tenths of them and exits 400 ms
 * later, before the allocator returns the freed pages. */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N (64 << 10)

static void *obj[N];

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    long serve_ms = argc > 1 ? atol(argv[1]) : 1500;
    for (int i = 0; i < N; i++)
        memset(obj[i] = malloc(1000), 1, 1000);
    unsigned x = 1;
    for (long end = now_ms() + serve_ms; now_ms() < end;) {
        for (int k = 0; k < 16; k++) {
            x = x * 1103515245 + 12345;
            int i = (int)(x % N);
            free(obj[i]);
            memset(obj[i] = malloc(1000), 2, 1000);
        }
        usleep(1000);
    }
    for (int i = 0; i < N; i++)
        if (i % 10) {
            free(obj[i]);
            obj[i] = NULL;
        }
    /* Long enough for several samples of the shutdown even on a loaded
     * machine (the test samples every 50 ms). */
    usleep(1200 * 1000);
    return 0;
}
