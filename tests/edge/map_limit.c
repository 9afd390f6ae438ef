/* Running out of mappings (vm.max_map_count): the test fills the limit
 * with one-page file mappings, then checks that a request needing a new
 * mapping returns NULL with ENOMEM (or succeeds where the allocator has
 * another way, as glibc does with brk), that frees keep working and keep
 * errno, that nothing is lost (under tidemalloc its own count of live bytes
 * comes back to where it was), and that service resumes once mappings are
 * released. The same binary runs on glibc, the reference. */
#define _GNU_SOURCE
#include "runner.h"
#include "check.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tidemalloc.h"

#define SENTINEL 4242
#define MAX_FILLERS 300000

static void **fillers;
static size_t nfillers;

/* One-page private mappings of one file at offset 0: neighbours never
 * merge (their file offsets are not contiguous), so each costs one map. */
static void fill_mappings(void)
{
    fillers = mmap(NULL, MAX_FILLERS * sizeof(void *), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(fillers != MAP_FAILED);
    int fd = memfd_create("map_limit", MFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 4096) == 0);
    while (nfillers < MAX_FILLERS) {
        void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            CHECK_EQ(errno, ENOMEM);
            break;
        }
        fillers[nfillers++] = p;
    }
    close(fd);
    CHECK_LT(nfillers, MAX_FILLERS);
}

static void release_fillers(size_t n)
{
    while (n-- > 0 && nfillers > 0)
        munmap(fillers[--nfillers], 4096);
}

/* tidemalloc's own live bytes, when the allocator is tidemalloc. */
static int live_bytes(uint64_t *out)
{
    int (*get)(tide_stats_t *) = (int (*)(tide_stats_t *))dlsym(RTLD_DEFAULT, "tide_stats_get");
    tide_stats_t st;
    if (!get || get(&st) != 0)
        return 0;
    *out = st.live_usable;
    return 1;
}

TEST(at_the_mapping_limit)
{
    uint64_t live_before = 0;
    int have_stats = live_bytes(&live_before);
    enum { SMALL = 2000, LARGE = 40, HUGE = 4 };
    static void *small[SMALL], *large[LARGE], *huge[HUGE];
    for (int i = 0; i < SMALL; i++)
        CHECK_NOT_NULL(small[i] = malloc(16 + (size_t)(i % 50) * 40));
    for (int i = 0; i < LARGE; i++)
        CHECK_NOT_NULL(large[i] = malloc(20000 + (size_t)i * 30000));
    for (int i = 0; i < HUGE; i++) {
        CHECK_NOT_NULL(huge[i] = malloc((size_t)(40 + i) << 20));
        memset(huge[i], 5, 4096);
    }

    fill_mappings();
    /* A new mapping is needed: NULL with ENOMEM, or memory that works. */
    int refused = 0;
    for (int i = 0; i < 8; i++) {
        errno = SENTINEL;
        void *p = malloc((size_t)(64 + i) << 20);
        if (p == NULL) {
            CHECK_EQ(errno, ENOMEM);
            refused++;
        } else {
            memset(p, 6, 1u << 20);
            free(p);
        }
    }
    /* Growing a huge block: in place, moved, or refused with it intact. */
    errno = SENTINEL;
    void *grown = realloc(huge[0], 90u << 20);
    if (grown) {
        huge[0] = grown;
    } else {
        CHECK_EQ(errno, ENOMEM);
        CHECK_EQ(((unsigned char *)huge[0])[4095], 5);
    }
    /* Frees keep working, and keep errno, whatever munmap says. */
    for (int i = 0; i < SMALL; i++) {
        errno = SENTINEL;
        free(small[i]);
        CHECK_EQ(errno, SENTINEL);
    }
    for (int i = 0; i < LARGE; i++) {
        errno = SENTINEL;
        free(large[i]);
        CHECK_EQ(errno, SENTINEL);
    }
    for (int i = 0; i < HUGE; i++) {
        errno = SENTINEL;
        free(huge[i]);
        CHECK_EQ(errno, SENTINEL);
    }
    /* Service resumes once mappings are released. */
    release_fillers(nfillers);
    void *p = malloc(64u << 20);
    CHECK_NOT_NULL(p);
    memset(p, 7, 1u << 20);
    free(p);
    uint64_t live_after = 0;
    if (have_stats) {
        CHECK(live_bytes(&live_after));
        /* Nothing the test allocated is still counted live, nothing twice. */
        CHECK_LE(live_after, live_before + (1u << 20));
        CHECK_GE(live_after + (1u << 20), live_before);
    }
    printf("    %zu file mappings filled the limit; %d of 8 new huge requests refused\n", nfillers, refused);
    munmap(fillers, MAX_FILLERS * sizeof(void *));
}
