/* Fault injection: the nth mmap/mremap (os_fail_reserve_after) or madvise
 * (os_fail_purge_after) the allocator makes fails, for n = 1, 2, ... until
 * a scenario makes fewer calls than n.
 *
 * Each (scenario, n) runs in a forked child, so a crash is reported as
 * such and every run starts from the same state.  In the child: blocks are
 * allocated and filled before the fault is armed; then every step of the
 * scenario runs with the fault armed, and each call must either succeed
 * (non-NULL, aligned, usable size >= request, every byte writable; calloc
 * memory zero) or fail the documented way: NULL with errno ENOMEM
 * (posix_memalign: returns ENOMEM, *out and errno untouched); a failed
 * realloc leaves the old block, its usable size and its contents intact.
 * After the run, with the fault disarmed, the earlier blocks and every block
 * that was handed out must still hold their patterns, and the same scenario
 * must then succeed in full (normal service once the OS gives memory
 * again); freeing everything brings live_usable back to where it was.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"
#include "check.h"
#include "tidemalloc.h"
#include "platform/os.h"
#include "core/heap.h"

#define MIB ((size_t)1 << 20)
#define MAX_BLOCKS 256

struct blk {
    unsigned char *p;
    size_t size;
    uint64_t seed;
};

static struct blk blocks[MAX_BLOCKS];
static int nblocks;
static uint64_t seed_counter = 1;
static int failures_seen; /* calls that returned the documented failure */

/* Pattern over a block: all bytes up to 1 MiB, else each page's first 64
 * bytes and the last 4 KiB (huge blocks stay cheap). */
static void fill_blk(struct blk *b)
{
    if (b->size <= MIB) {
        pattern_fill(b->p, b->size, b->seed);
        return;
    }
    for (size_t off = 0; off + 64 <= b->size - 4096; off += 4096)
        pattern_fill(b->p + off, 64, b->seed + off);
    pattern_fill(b->p + b->size - 4096, 4096, b->seed ^ 0xabc);
}

static void check_blk(const struct blk *b, size_t limit)
{
    if (b->size <= MIB) {
        CHECK_PATTERN(b->p, limit < b->size ? limit : b->size, b->seed);
        return;
    }
    for (size_t off = 0; off + 64 <= b->size - 4096 && off + 64 <= limit; off += 4096)
        CHECK_PATTERN(b->p + off, 64, b->seed + off);
    if (limit >= b->size)
        CHECK_PATTERN(b->p + b->size - 4096, 4096, b->seed ^ 0xabc);
}

static void keep(void *p, size_t size, size_t align)
{
    CHECK(p != NULL);
    CHECK_ALIGNED(p, align);
    CHECK_GE(tide_malloc_usable_size(p), size);
    CHECK(nblocks < MAX_BLOCKS);
    struct blk *b = &blocks[nblocks++];
    b->p = p;
    b->size = size;
    b->seed = mix64(seed_counter++);
    fill_blk(b);
}

static size_t nat_align(size_t n)
{
    return n >= 16 ? 16 : n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1;
}

/* A call that returned NULL: must be ENOMEM. */
static void failed(int err, const char *what)
{
    CHECK_MSG(err == ENOMEM, "%s failed with errno %d, expected ENOMEM", what, err);
    failures_seen++;
}

static void step_malloc(size_t n)
{
    errno = 0;
    void *p = tide_malloc(n);
    if (p)
        keep(p, n, nat_align(n));
    else
        failed(errno, "malloc");
}

static void step_calloc(size_t count, size_t each)
{
    errno = 0;
    unsigned char *p = tide_calloc(count, each);
    if (!p) {
        failed(errno, "calloc");
        return;
    }
    size_t n = count * each;
    if (n <= 4 * MIB)
        CHECK_BYTES(p, n, 0);
    else
        for (size_t off = 0; off < n; off += 4096)
            CHECK_BYTES(p + off, 1, 0);
    keep(p, n, nat_align(n));
}

/* realloc the most recent block to n: success keeps the prefix, failure
 * leaves the block whole. */
static void step_realloc_last(size_t n)
{
    CHECK(nblocks > 0);
    struct blk *b = &blocks[nblocks - 1];
    size_t usable = tide_malloc_usable_size(b->p);
    errno = 0;
    unsigned char *q = tide_realloc(b->p, n);
    if (!q) {
        failed(errno, "realloc");
        CHECK_EQ(tide_malloc_usable_size(b->p), usable);
        check_blk(b, SIZE_MAX);
        return;
    }
    /* The prefix the old pattern covered must have moved along. */
    struct blk old = *b;
    old.p = q;
    check_blk(&old, n);
    nblocks--;
    keep(q, n, nat_align(n));
}

static void step_aligned(int form, size_t align, size_t n)
{
    void *p = NULL;
    if (form == 0) {
        errno = 4242;
        void *out = &failures_seen;
        int rc = tide_posix_memalign(&out, align, n);
        if (rc != 0) {
            /* ENOMEM, returned and in errno, as glibc does. */
            CHECK_ERRNO(rc, ENOMEM);
            CHECK_EQ(errno, ENOMEM);
            CHECK(out == (void *)&failures_seen);
            failures_seen++;
            return;
        }
        p = out;
    } else {
        errno = 0;
        p = form == 1 ? tide_aligned_alloc(align, n)
          : form == 2 ? tide_memalign(align, n)
          : form == 3 ? tide_valloc(n)
                      : tide_pvalloc(n);
        if (!p) {
            failed(errno, "aligned form");
            return;
        }
        if (form >= 3)
            align = 4096;
        if (form == 4)
            n = (n + 4095) & ~(size_t)4095;
    }
    keep(p, n, align);
}

static void *thread_first_alloc(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    errno = 0;
    void *p = tide_malloc(n);
    if (!p) {
        CHECK_MSG(errno == ENOMEM, "a new thread's first malloc: errno %d", errno);
        return NULL;
    }
    memset(p, 0x3c, n);
    return p;
}

static void step_thread(size_t n)
{
    pthread_t t;
    void *p = NULL;
    CHECK(pthread_create(&t, NULL, thread_first_alloc, (void *)(uintptr_t)n) == 0);
    CHECK(pthread_join(t, &p) == 0);
    if (!p) {
        failures_seen++;
        return;
    }
    CHECK_BYTES(p, n, 0x3c);
    keep(p, n, nat_align(n));
}

/* ---- scenarios: every entry point, at sizes that reach each layer ---- */

static void scenario_small(void)
{
    static const size_t sizes[] = { 0, 1, 8, 24, 100, 1000, 1024, 1500, 4000, 9000, 14336 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int k = 0; k < 3; k++)
            step_malloc(sizes[i]);
    step_calloc(10, 100);
    step_calloc(1, 14000);
    step_thread(64);
    step_thread(20000);
}

static void scenario_large(void)
{
    for (int i = 0; i < 24; i++)
        step_malloc((size_t)3 * MIB + (size_t)i * 4096); /* crosses into new regions */
    step_malloc(100000);
    step_calloc(1000, 1000);
    step_calloc(1, 20 * MIB);
}

static void scenario_huge(void)
{
    step_malloc(40 * MIB);
    step_calloc(45, MIB);
    step_malloc(33 * MIB + 1);
    step_aligned(0, 64 * MIB, 1000);    /* alignment beyond a region: own mapping */
    step_aligned(1, 16 * MIB, 40 * MIB);
}

static void scenario_realloc(void)
{
    step_malloc(100);
    step_realloc_last(200);         /* small -> small */
    step_realloc_last(50000);       /* small -> large */
    step_realloc_last(5 * MIB);     /* large grows */
    step_realloc_last(40 * MIB);    /* large -> huge */
    step_realloc_last(60 * MIB);    /* huge grows (mremap) */
    step_realloc_last(34 * MIB);    /* huge shrinks (mremap) */
    step_realloc_last(2 * MIB);     /* huge -> large */
    step_realloc_last(10);          /* large -> small */
    step_malloc(3 * MIB);
    step_realloc_last(3 * MIB + 100 * 4096);
}

static void scenario_aligned(void)
{
    static const size_t aligns[] = { 32, 256, 4096, 65536, 2 * MIB, 8 * MIB };
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        step_aligned(0, aligns[i], 100);
        step_aligned(1, aligns[i], 70000);
        step_aligned(2, aligns[i], 3 * MIB);
    }
    step_aligned(3, 0, 100);
    step_aligned(3, 0, 5 * MIB);
    step_aligned(4, 0, 1);
    step_aligned(4, 0, 40 * MIB);
}

static void scenario_all(void)
{
    scenario_small();
    scenario_large();
    scenario_huge();
    scenario_realloc();
    scenario_aligned();
}

static void scenario_fill(void)
{
    /* Page runs well past one region: new regions are mapped. */
    for (int i = 0; i < 60; i++)
        step_malloc(3 * MIB);
    for (int i = 0; i < 20; i++)
        step_calloc(1, 2 * MIB);
}

static const struct {
    const char *name;
    void (*fn)(void);
} scenarios[] = {
    { "small", scenario_small },     { "large", scenario_large },
    { "huge", scenario_huge },       { "realloc", scenario_realloc },
    { "aligned", scenario_aligned }, { "fill", scenario_fill },
    { "all", scenario_all },
};

static void free_from(int first)
{
    for (int i = first; i < nblocks; i++) {
        check_blk(&blocks[i], SIZE_MAX);
        if (i % 3 == 0)
            tide_free_sized(blocks[i].p, blocks[i].size);
        else
            tide_free(blocks[i].p);
    }
    nblocks = first;
}

static void free_all(void)
{
    free_from(0);
}

static uint64_t live_usable(void)
{
    tide_stats_t st;
    CHECK_EQ(tide_stats_get(&st), 0);
    return st.live_usable;
}

enum { CHILD_OK = 0, CHILD_NOT_REACHED = 3, CHILD_OK_SAW_ENOMEM = 4 };

/* In a child (a fresh process): earlier blocks, the armed run, checks,
 * the disarmed rerun.  With `early`, the fault is armed before the very
 * first allocation (the first region, metadata chunk, page-map leaf and
 * thread heap are what fail), and the earlier blocks are made while armed. */
static void child_run(void (*scenario)(void), int purge_fault, unsigned n, int early)
{
    unsigned long calls0 = purge_fault ? os_purge_calls() : os_reserve_calls();
    if (early && !purge_fault)
        os_fail_reserve_after(n);
    /* Earlier state: small, large and huge blocks, some freed (dirty pages). */
    step_malloc(50);
    step_malloc(300000);
    step_malloc(36 * MIB);
    for (int i = 0; i < 8; i++)
        step_malloc(2 * MIB);
    for (int i = 0; i < 4; i++) {
        tide_free(blocks[nblocks - 1].p);
        nblocks--;
    }
    int earlier = nblocks;
    if (failures_seen && !early)
        _exit(10);
    uint64_t live0 = live_usable();

    if (purge_fault) {
        os_fail_purge_after(n);
        scenario();
        free_from(earlier);
        /* Purging everything now makes madvise calls the fault can hit. */
        tide_purge();
        os_fail_purge_after(0);
    } else {
        if (!early)
            os_fail_reserve_after(n);
        scenario();
        os_fail_reserve_after(0);
    }
    unsigned long calls = (purge_fault ? os_purge_calls() : os_reserve_calls()) - calls0;

    for (int i = 0; i < nblocks; i++)
        check_blk(&blocks[i], SIZE_MAX);
    int saw_failure = failures_seen > 0;
    /* Normal service: the whole scenario again, every call must succeed. */
    int before = failures_seen;
    scenario_all();
    CHECK_MSG(failures_seen == before, "%d calls failed after the fault was disarmed",
              failures_seen - before);
    /* Free all but the earlier blocks: the live figure returns. */
    for (int i = earlier; i < nblocks; i++) {
        check_blk(&blocks[i], SIZE_MAX);
        tide_free(blocks[i].p);
    }
    nblocks = earlier;
    /* Frees of blocks owned by exited threads count until collected
     * (docs/STATS.md); tide_purge collects them. */
    tide_purge();
    CHECK_EQ(live_usable(), live0);
    free_all();
    tide_purge();
    if (purge_fault) {
        tide_stats_t st;
        CHECK_EQ(tide_stats_get(&st), 0);
        CHECK_EQ(st.dirty, 0); /* a purge that failed is retried later */
    }
    if (calls < n)
        _exit(CHILD_NOT_REACHED);
    _exit(saw_failure ? CHILD_OK_SAW_ENOMEM : CHILD_OK);
}

/* The child side: TIDE_FAULT_CHILD="scenario,n,purge,early" in the
 * environment makes this binary run one child and exit before main. */
__attribute__((constructor)) static void fault_child_entry(void)
{
    const char *spec = getenv("TIDE_FAULT_CHILD");
    if (!spec)
        return;
    char name[32];
    unsigned n;
    int purge, early;
    if (sscanf(spec, "%31[^,],%u,%d,%d", name, &n, &purge, &early) != 4)
        _exit(20);
    /* This constructor may run before tidemalloc's own (static linking
     * leaves the order open), which registers the thread-exit hook; without
     * it exited threads' heaps are never orphaned and collected. */
    heap_setup_exit_hook();
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(scenarios[i].name, name) == 0)
            child_run(scenarios[i].fn, purge, n, early);
    _exit(21);
}

/* Runs scenario for n = 1.. until the child says the nth call never came,
 * each in a fresh process (this binary re-executed).  Returns how many n
 * were exercised. */
static unsigned sweep(const char *name, int purge_fault, int early, unsigned max_n)
{
    unsigned n, visible = 0;
    const char *kind = purge_fault ? "madvise" : "mmap/mremap";
    for (n = 1; n <= max_n; n++) {
        char spec[64];
        snprintf(spec, sizeof spec, "%s,%u,%d,%d", name, n, purge_fault, early);
        fflush(NULL);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            setenv("TIDE_FAULT_CHILD", spec, 1);
            execl("/proc/self/exe", "test_faults", (char *)NULL);
            _exit(22);
        }
        int st;
        CHECK(waitpid(pid, &st, 0) == pid);
        if (WIFSIGNALED(st))
            CHECK_MSG(0, "%s: %s fault at call %u: child killed by signal %d", spec, kind, n,
                      WTERMSIG(st));
        CHECK_MSG(WIFEXITED(st), "%s: odd wait status %d", spec, st);
        if (WEXITSTATUS(st) == CHILD_NOT_REACHED)
            break;
        CHECK_MSG(WEXITSTATUS(st) == CHILD_OK || WEXITSTATUS(st) == CHILD_OK_SAW_ENOMEM,
                  "%s: %s fault at call %u: child exited %d", spec, kind, n, WEXITSTATUS(st));
        visible += WEXITSTATUS(st) == CHILD_OK_SAW_ENOMEM;
    }
    printf("    %s (%s): %s failure injected at each of calls 1..%u; "
           "%u runs saw a call fail with ENOMEM, the others absorbed it\n", name,
           early ? "armed from the first allocation" : "armed after earlier blocks", kind, n - 1,
           visible);
    CHECK_GT(n, 1);
    return n - 1;
}

TEST(reserve_fault_from_first_allocation)
{
    sweep("all", 0, 1, 300);
}

TEST(reserve_fault_small_and_thread_start)
{
    sweep("small", 0, 1, 300);
}

TEST(reserve_fault_large)
{
    sweep("large", 0, 0, 300);
}

TEST(reserve_fault_new_regions)
{
    sweep("fill", 0, 0, 300);
}

TEST(reserve_fault_huge)
{
    sweep("huge", 0, 0, 300);
}

TEST(reserve_fault_realloc)
{
    sweep("realloc", 0, 0, 300);
}

TEST(reserve_fault_aligned)
{
    sweep("aligned", 0, 0, 300);
}

TEST(purge_fault)
{
    sweep("all", 1, 0, 300);
}

/* Without fork: the nth call fails in this very process, which then goes
 * on serving (state left behind by a failure is not hidden by a fresh
 * child). */
TEST(reserve_fault_in_process)
{
    int rounds = 0;
    for (unsigned n = 1; n <= 12; n++) {
        os_fail_reserve_after(n);
        scenario_all();
        os_fail_reserve_after(0);
        for (int i = 0; i < nblocks; i++)
            check_blk(&blocks[i], SIZE_MAX);
        free_all();
        rounds++;
    }
    int before = failures_seen;
    scenario_all();
    CHECK_EQ(failures_seen, before);
    free_all();
    CHECK_EQ(rounds, 12);
}

/* A failed reservation that the allocator gets around (a smaller region)
 * leaves errno as it was: the call succeeded. */
TEST(absorbed_reserve_failure_leaves_errno_alone)
{
    void *held[16];
    int n = 0, absorbed = 0;
    for (; n < 16 && !absorbed; n++) {
        unsigned long calls = os_reserve_calls();
        errno = 0;
        os_fail_reserve_after(1);
        held[n] = tide_malloc(16 * MIB);
        int err = errno;
        os_fail_reserve_after(0);
        if (held[n] && os_reserve_calls() > calls + 1) { /* failed, then got one */
            CHECK_MSG(err == 0, "malloc succeeded with errno %d", err);
            absorbed = 1;
        }
        if (!held[n])
            held[n] = tide_malloc(16 * MIB);
        CHECK(held[n] != NULL);
    }
    CHECK_MSG(absorbed, "no new region was needed in %d allocations", n);
    for (int i = 0; i < n; i++)
        tide_free(held[i]);
}
