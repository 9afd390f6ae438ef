/* frag_workload — programs whose fragmentation has a known owner, for the
 * pinned-bytes tests (tests/prof/frag.sh).
 *
 *   keeper  waves of 64-byte objects: survivor_site allocates every 10th and
 *           keeps it, transient_site the other nine, freed after the wave.
 *           Before the waves, dense_site fills whole slabs of the same class
 *           and keeps them (more live bytes than the survivors, but in full
 *           slabs: it pins next to nothing). survivor_site pins the rest.
 *   none    the same waves with no survivors: nothing is pinned.
 *   mixed   eight size classes, a random quarter of each wave kept: the
 *           pinned estimate against the allocator's own count.
 *
 * With HOLD_MS (a second argument) it then holds its memory that long.
 * Then it prints "frag free=<bytes> partly_used=<slabs>" from
 * tide_stats_frag and "dump <path>" from tide_prof_dump (both found with
 * dlsym, so that the program runs under LD_PRELOAD). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tidemalloc.h"

#define WAVE 20000

static void *keep[1 << 20];
static size_t nkeep;

__attribute__((noinline)) void *survivor_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void *transient_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void *dense_site(size_t n) { return malloc(n); }

static void waves(int nwaves, int keep_every, size_t size)
{
    static void *tmp[WAVE];
    for (int w = 0; w < nwaves; w++) {
        size_t nt = 0;
        for (int i = 0; i < WAVE; i++) {
            if (keep_every && i % keep_every == 0)
                keep[nkeep++] = survivor_site(size);
            else
                tmp[nt++] = transient_site(size);
        }
        for (size_t i = 0; i < nt; i++)
            free(tmp[i]);
    }
}

static void mixed(int nwaves)
{
    static const size_t sizes[] = { 24, 48, 100, 200, 500, 1000, 2000, 5000 };
    static void *tmp[WAVE];
    uint64_t x = 88172645463325252ull;
    for (int w = 0; w < nwaves; w++) {
        size_t nt = 0;
        for (int i = 0; i < WAVE / 4; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t size = sizes[x % 8];
            if ((x >> 8) % 4 == 0)
                keep[nkeep++] = survivor_site(size);
            else
                tmp[nt++] = transient_site(size);
        }
        for (size_t i = 0; i < nt; i++)
            free(tmp[i]);
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "keeper";
    if (strcmp(mode, "keeper") == 0 || strcmp(mode, "none") == 0) {
        for (int i = 0; i < 4 * WAVE; i++) /* 5 MiB of full slabs */
            keep[nkeep++] = dense_site(64);
        waves(20, strcmp(mode, "keeper") == 0 ? 10 : 0, 64);
    } else if (strcmp(mode, "mixed") == 0) {
        mixed(40);
    } else {
        fprintf(stderr, "usage: frag_workload keeper|none|mixed [HOLD_MS]\n");
        return 2;
    }
    if (argc > 2)
        usleep((useconds_t)atoi(argv[2]) * 1000);
    int (*frag)(tide_frag_stats_t *, tide_frag_cell_t *, size_t, int) =
        (int (*)(tide_frag_stats_t *, tide_frag_cell_t *, size_t, int))dlsym(RTLD_DEFAULT, "tide_stats_frag");
    int (*dump)(char *, size_t) = (int (*)(char *, size_t))dlsym(RTLD_DEFAULT, "tide_prof_dump");
    if (!frag || !dump) {
        fprintf(stderr, "frag_workload: not running under tidemalloc\n");
        return 1;
    }
    tide_frag_stats_t s;
    frag(&s, NULL, 0, 0);
    char path[512];
    int err = dump(path, sizeof path);
    printf("frag free=%llu partly_used=%llu live=%llu\n", (unsigned long long)s.total.free_bytes,
           (unsigned long long)s.total.partly_used, (unsigned long long)s.total.live_bytes);
    if (err) {
        fprintf(stderr, "frag_workload: tide_prof_dump: error %d\n", err);
        return 1;
    }
    printf("dump %s\n", path);
    fflush(stdout);
    for (size_t i = 0; i < nkeep; i++)
        free(keep[i]);
    return 0;
}
