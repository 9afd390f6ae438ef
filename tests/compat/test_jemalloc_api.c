/* jemalloc's interface on tidemalloc (src/compat/, docs/COMPAT.md): every
 * mallctl name read, and written where writable, each documented error, the
 * MIB calls, the *allocx calls with their flags, and malloc_stats_print. */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "check.h"
#include "runner.h"
#include "tidemalloc.h"

/* jemalloc.h's declarations (programs carry their own; so does this). */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
int mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp);
int mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
void malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque, const char *opts);
void *mallocx(size_t size, int flags);
void *rallocx(void *ptr, size_t size, int flags);
size_t xallocx(void *ptr, size_t size, size_t extra, int flags);
size_t sallocx(const void *ptr, int flags);
void dallocx(void *ptr, int flags);
void sdallocx(void *ptr, size_t size, int flags);
size_t nallocx(size_t size, int flags);

#define MALLOCX_LG_ALIGN(la) ((int)(la))
#define MALLOCX_ZERO ((int)0x40)
#define MALLOCX_TCACHE(tc) ((int)(((tc) + 2) << 8))
#define MALLOCX_TCACHE_NONE MALLOCX_TCACHE(-1)
#define MALLOCX_ARENA(a) ((int)(((unsigned)(a) + 1) << 20))
#define ARENAS_ALL 4096

enum kind { K_BOOL, K_UNSIGNED, K_U32, K_SIZE, K_SSIZE, K_U64, K_STR, K_VOID };
static const size_t kind_size[] = { sizeof(bool), sizeof(unsigned), sizeof(uint32_t), sizeof(size_t),
                                    sizeof(ssize_t), sizeof(uint64_t), sizeof(const char *), 0 };

typedef struct name_case {
    const char *name;
    enum kind kind;
    bool writable;
} name_case_t;

/* Every name tidemalloc answers (docs/COMPAT.md has the same list). */
static const name_case_t names[] = {
    { "version", K_STR, false },
    { "epoch", K_U64, true },
    { "background_thread", K_BOOL, true },
    { "max_background_threads", K_SIZE, false },
    { "config.debug", K_BOOL, false },
    { "config.malloc_conf", K_STR, false },
    { "config.prof", K_BOOL, false },
    { "config.stats", K_BOOL, false },
    { "opt.abort", K_BOOL, false },
    { "opt.background_thread", K_BOOL, false },
    { "opt.dirty_decay_ms", K_SSIZE, false },
    { "opt.dss", K_STR, false },
    { "opt.junk", K_STR, false },
    { "opt.lg_prof_interval", K_SSIZE, false },
    { "opt.lg_prof_sample", K_SIZE, false },
    { "opt.lg_tcache_max", K_SSIZE, false },
    { "opt.muzzy_decay_ms", K_SSIZE, false },
    { "opt.narenas", K_UNSIGNED, false },
    { "opt.prof", K_BOOL, false },
    { "opt.prof_active", K_BOOL, false },
    { "opt.prof_final", K_BOOL, false },
    { "opt.prof_gdump", K_BOOL, false },
    { "opt.prof_leak", K_BOOL, false },
    { "opt.prof_prefix", K_STR, false },
    { "opt.stats_print", K_BOOL, false },
    { "opt.tcache", K_BOOL, false },
    { "opt.tcache_max", K_SIZE, false },
    { "opt.zero", K_BOOL, false },
    { "thread.arena", K_UNSIGNED, true },
    { "thread.tcache.enabled", K_BOOL, true },
    { "thread.tcache.flush", K_VOID, false },
    { "arenas.narenas", K_UNSIGNED, false },
    { "arenas.page", K_SIZE, false },
    { "arenas.quantum", K_SIZE, false },
    { "arenas.nbins", K_UNSIGNED, false },
    { "arenas.nlextents", K_UNSIGNED, false },
    { "arenas.tcache_max", K_SIZE, false },
    { "arenas.dirty_decay_ms", K_SSIZE, true },
    { "arenas.muzzy_decay_ms", K_SSIZE, false },
    { "arenas.bin.0.size", K_SIZE, false },
    { "arenas.bin.0.nregs", K_U32, false },
    { "arenas.bin.0.slab_size", K_SIZE, false },
    { "arena.0.purge", K_VOID, false },
    { "arena.0.decay", K_VOID, false },
    { "arena.0.dirty_decay_ms", K_SSIZE, true },
    { "arena.0.muzzy_decay_ms", K_SSIZE, false },
    { "stats.allocated", K_SIZE, false },
    { "stats.active", K_SIZE, false },
    { "stats.metadata", K_SIZE, false },
    { "stats.resident", K_SIZE, false },
    { "stats.mapped", K_SIZE, false },
    { "stats.retained", K_SIZE, false },
    { "stats.background_thread.num_threads", K_SIZE, false },
    { "stats.arenas.0.nthreads", K_UNSIGNED, false },
    { "stats.arenas.0.pactive", K_SIZE, false },
    { "stats.arenas.0.pdirty", K_SIZE, false },
    { "stats.arenas.0.pmuzzy", K_SIZE, false },
    { "stats.arenas.0.mapped", K_SIZE, false },
    { "stats.arenas.0.retained", K_SIZE, false },
    { "stats.arenas.0.resident", K_SIZE, false },
    { "stats.arenas.0.dirty_decay_ms", K_SSIZE, false },
    { "stats.arenas.0.muzzy_decay_ms", K_SSIZE, false },
    { "stats.arenas.0.small.allocated", K_SIZE, false },
    { "stats.arenas.0.large.allocated", K_SIZE, false },
    { "stats.arenas.0.bins.0.curregs", K_SIZE, false },
    { "stats.arenas.0.bins.0.curslabs", K_SIZE, false },
    { "prof.active", K_BOOL, true },
    { "prof.dump", K_STR, false }, /* write-only */
    { "prof.interval", K_U64, false },
    { "prof.lg_sample", K_SIZE, false },
};

static bool write_only(const name_case_t *n) { return strcmp(n->name, "prof.dump") == 0; }

TEST(every_name_reads_with_its_own_size)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const name_case_t *n = &names[i];
        if (n->kind == K_VOID || write_only(n))
            continue;
        union { uint64_t u; const char *s; unsigned char bytes[16]; } buf = { 0 };
        size_t len = kind_size[n->kind];
        int r = mallctl(n->name, &buf, &len, NULL, 0);
        CHECK_MSG(r == 0, "%s: %d", n->name, r);
        CHECK_MSG(len == kind_size[n->kind], "%s", n->name);
        if (n->kind == K_STR)
            CHECK_MSG(buf.s != NULL, "%s", n->name);
    }
}

TEST(a_wrong_length_is_einval_and_reads_what_fits)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const name_case_t *n = &names[i];
        if (n->kind == K_VOID || write_only(n) || kind_size[n->kind] == 1)
            continue;
        unsigned char buf[16];
        memset(buf, 0xee, sizeof buf);
        size_t len = 1;
        CHECK_MSG(mallctl(n->name, buf, &len, NULL, 0) == EINVAL, "%s", n->name);
        CHECK_MSG(len == 1 && buf[1] == 0xee, "%s: read past the length", n->name);
        len = kind_size[n->kind] + 1;
        CHECK_MSG(mallctl(n->name, buf, &len, NULL, 0) == EINVAL, "%s", n->name);
    }
}

TEST(read_only_names_refuse_writes)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const name_case_t *n = &names[i];
        if (n->writable || write_only(n))
            continue;
        uint64_t v = 0;
        size_t size = n->kind == K_VOID ? sizeof v : kind_size[n->kind];
        CHECK_MSG(mallctl(n->name, NULL, NULL, &v, size) == EPERM, "%s", n->name);
    }
}

TEST(void_names_refuse_reads_and_run)
{
    size_t v, len = sizeof v;
    CHECK(mallctl("arena.0.purge", &v, &len, NULL, 0) == EPERM);
    CHECK(mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0);
    CHECK(mallctl("arena.0.decay", NULL, NULL, NULL, 0) == 0);
    /* prof.dump is write-only */
    const char *p = NULL;
    len = sizeof p;
    CHECK(mallctl("prof.dump", &p, &len, NULL, 0) == EPERM);
}

TEST(unknown_names_and_indices_are_enoent)
{
    static const char *const bad[] = {
        "", "nonsense", "stats", "stats.allocated.x", "stats.nonsense", "arenas.create",
        "arena.0.reset", "arena.0.destroy", "arena.2.purge", "arena.x.purge", "arenas.bin.35.size",
        "arenas.bin.-1.size", "arenas.lextent.0.size", "tcache.create", "thread.allocated",
        "thread.allocatedp", "stats.arenas.7.pactive", "stats.arenas.0.bins.999.curregs",
        "prof.reset", "opt.nonsense", "version.", ".version", "stats..allocated",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t v, len = sizeof v;
        CHECK_MSG(mallctl(bad[i], &v, &len, NULL, 0) == ENOENT, "'%s'", bad[i]);
    }
}

TEST(every_arena_index_meaning_all_is_accepted)
{
    unsigned narenas;
    size_t len = sizeof narenas;
    CHECK(mallctl("arenas.narenas", &narenas, &len, NULL, 0) == 0);
    CHECK_CMP_U(narenas, ==, 1);
    char name[64];
    /* Redis: arena.<narenas>.purge; jemalloc 5: MALLCTL_ARENAS_ALL */
    snprintf(name, sizeof name, "arena.%u.purge", narenas);
    CHECK(mallctl(name, NULL, NULL, NULL, 0) == 0);
    snprintf(name, sizeof name, "arena.%d.purge", ARENAS_ALL);
    CHECK(mallctl(name, NULL, NULL, NULL, 0) == 0);
    size_t pactive;
    len = sizeof pactive;
    snprintf(name, sizeof name, "stats.arenas.%d.pactive", ARENAS_ALL);
    CHECK(mallctl(name, &pactive, &len, NULL, 0) == 0);
    CHECK(pactive > 0);
}

TEST(mibs_round_trip_for_every_name)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const name_case_t *n = &names[i];
        size_t mib[8], miblen = 8;
        CHECK_MSG(mallctlnametomib(n->name, mib, &miblen) == 0, "%s", n->name);
        size_t dots = 1;
        for (const char *c = n->name; *c; c++)
            dots += *c == '.';
        CHECK_MSG(miblen == dots, "%s: %zu components", n->name, miblen);
        if (n->kind == K_VOID || write_only(n) || strcmp(n->name, "thread.tcache.flush") == 0)
            continue;
        uint64_t a[2] = { 0, 0 }, b[2] = { 0, 0 };
        size_t la = kind_size[n->kind], lb = la;
        CHECK(mallctl(n->name, a, &la, NULL, 0) == 0);
        CHECK_MSG(mallctlbymib(mib, miblen, b, &lb, NULL, 0) == 0, "%s", n->name);
        if (n->kind == K_STR || n->kind == K_BOOL || n->kind == K_UNSIGNED)
            CHECK_MSG(memcmp(a, b, la) == 0, "%s", n->name);
    }
}

TEST(a_mib_prefix_is_reused_for_every_bin)
{
    size_t mib[4], miblen = 4;
    CHECK(mallctlnametomib("arenas.bin.0.size", mib, &miblen) == 0);
    CHECK_CMP_U(miblen, ==, 4);
    unsigned nbins;
    size_t len = sizeof nbins;
    CHECK(mallctl("arenas.nbins", &nbins, &len, NULL, 0) == 0);
    size_t last = 0;
    for (unsigned i = 0; i < nbins; i++) {
        mib[2] = i;
        size_t size;
        len = sizeof size;
        CHECK(mallctlbymib(mib, miblen, &size, &len, NULL, 0) == 0);
        CHECK_CMP_U(size, >, last);
        CHECK_CMP_U(nallocx(size, 0), ==, size); /* a class size is its own usable size */
        last = size;
    }
    mib[2] = nbins;
    len = sizeof last;
    CHECK(mallctlbymib(mib, miblen, &last, &len, NULL, 0) == ENOENT);
    /* a prefix is a MIB too, but not a value */
    size_t pre[3], prelen = 3;
    CHECK(mallctlnametomib("arenas.bin.0", pre, &prelen) == 0);
    CHECK_CMP_U(prelen, ==, 3);
    len = sizeof last;
    CHECK(mallctlbymib(pre, prelen, &last, &len, NULL, 0) == ENOENT);
    /* too short a MIB buffer for the name */
    size_t shortmib[2], shortlen = 2;
    CHECK(mallctlnametomib("arenas.bin.0.size", shortmib, &shortlen) == ENOENT);
}

TEST(stats_agree_with_tide_stats)
{
    void *keep = malloc(3 << 20);
    memset(keep, 1, 3 << 20);
    uint64_t epoch = 1;
    size_t len = sizeof epoch;
    CHECK(mallctl("epoch", &epoch, &len, &epoch, len) == 0);
    size_t allocated, active, resident, mapped, metadata, retained;
    len = sizeof(size_t);
    CHECK(mallctl("stats.allocated", &allocated, &len, NULL, 0) == 0);
    CHECK(mallctl("stats.active", &active, &len, NULL, 0) == 0);
    CHECK(mallctl("stats.resident", &resident, &len, NULL, 0) == 0);
    CHECK(mallctl("stats.mapped", &mapped, &len, NULL, 0) == 0);
    CHECK(mallctl("stats.metadata", &metadata, &len, NULL, 0) == 0);
    CHECK(mallctl("stats.retained", &retained, &len, NULL, 0) == 0);
    tide_stats_t s;
    CHECK(tide_stats_get(&s) == 0);
    CHECK_CMP_U(allocated, ==, s.live_usable);
    CHECK_CMP_U(active, ==, s.active);
    CHECK_CMP_U(mapped, ==, s.mapped);
    CHECK_CMP_U(metadata, ==, s.metadata);
    CHECK_CMP_U(retained, ==, s.retained);
    /* dirty pages come and go with the background thread */
    CHECK_CMP_U(resident, >=, s.active + s.metadata);
    CHECK(allocated >= (3u << 20) && allocated <= active && active <= resident);
    size_t small, large;
    CHECK(mallctl("stats.arenas.0.small.allocated", &small, &len, NULL, 0) == 0);
    CHECK(mallctl("stats.arenas.0.large.allocated", &large, &len, NULL, 0) == 0);
    CHECK_CMP_U(small + large, ==, allocated);
    CHECK(large >= (3u << 20));
    free(keep);
}

TEST(writes_reach_the_options)
{
    ssize_t old, v = 250, now;
    size_t len = sizeof old;
    CHECK(mallctl("arenas.dirty_decay_ms", &old, &len, &v, sizeof v) == 0);
    CHECK(mallctl("opt.dirty_decay_ms", &now, &len, NULL, 0) == 0);
    CHECK_CMP_U(now, ==, 250);
    CHECK(mallctl("arena.0.dirty_decay_ms", NULL, NULL, &old, sizeof old) == 0);
    CHECK(mallctl("arena.0.dirty_decay_ms", &now, &len, NULL, 0) == 0);
    CHECK_CMP_U(now, ==, old);
    CHECK(mallctl("arenas.dirty_decay_ms", NULL, NULL, &v, 4) == EINVAL);
    ssize_t bad = -5;
    CHECK(mallctl("arenas.dirty_decay_ms", NULL, NULL, &bad, sizeof bad) == EINVAL);

    bool on, off = false, yes = true;
    len = sizeof on;
    CHECK(mallctl("background_thread", &on, &len, &off, sizeof off) == 0);
    CHECK(mallctl("background_thread", &on, &len, NULL, 0) == 0);
    CHECK(!on);
    CHECK(mallctl("background_thread", NULL, NULL, &yes, sizeof yes) == 0);
    CHECK(mallctl("background_thread", &on, &len, NULL, 0) == 0);
    CHECK(on);
    size_t nthreads;
    len = sizeof nthreads;
    CHECK(mallctl("stats.background_thread.num_threads", &nthreads, &len, NULL, 0) == 0);
    CHECK_CMP_U(nthreads, ==, 1);

    len = sizeof on;
    CHECK(mallctl("thread.tcache.enabled", NULL, NULL, &yes, sizeof yes) == 0);
    CHECK(mallctl("thread.tcache.enabled", NULL, NULL, &off, sizeof off) == EPERM);
    unsigned arena = 0, other = 3;
    len = sizeof arena;
    CHECK(mallctl("thread.arena", &arena, &len, &arena, sizeof arena) == 0);
    CHECK(mallctl("thread.arena", NULL, NULL, &other, sizeof other) == EFAULT);

    uint64_t e1, e2, one = 1;
    len = sizeof e1;
    CHECK(mallctl("epoch", &e1, &len, NULL, 0) == 0);
    CHECK(mallctl("epoch", &e2, &len, &one, sizeof one) == 0);
    CHECK_CMP_U(e2, ==, e1 + 1);
}

TEST(prof_active_switches_the_profiler_and_prof_dump_writes_where_asked)
{
    bool on = true, now;
    size_t len = sizeof now;
    CHECK(mallctl("prof.active", &now, &len, NULL, 0) == 0);
    CHECK(!now);
    /* never on yet: prof.dump has nothing to write */
    const char *never = "/tmp/never-written.heap";
    CHECK(mallctl("prof.dump", NULL, NULL, &never, sizeof never) == ENOENT);
    CHECK(access(never, F_OK) != 0);
    CHECK(mallctl("prof.active", NULL, NULL, &on, sizeof on) == 0);
    CHECK(tide_prof_active() == 1);
    enum { N = 2000 };
    static void *keep[N];
    for (int i = 0; i < N; i++)
        keep[i] = malloc(4000); /* 8 MB: the sampler must catch some */
    char path[] = "/tmp/tide-mallctl-dump.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    const char *p = path;
    CHECK(mallctl("prof.dump", NULL, NULL, &p, sizeof p) == 0);
    char head[64] = { 0 };
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    CHECK(fread(head, 1, sizeof head - 1, f) > 0);
    fclose(f);
    unlink(path);
    CHECK_MSG(strncmp(head, "heap_v2/", 8) == 0, "%s", head);
    bool off = false;
    CHECK(mallctl("prof.active", &now, &len, &off, sizeof off) == 0);
    CHECK(now);
    CHECK(tide_prof_active() == 0);
    const char *bad = "/nonexistent-dir/x.heap";
    CHECK(mallctl("prof.dump", NULL, NULL, &bad, sizeof bad) == EFAULT);
    for (int i = 0; i < N; i++)
        free(keep[i]);
}

TEST(purge_returns_dirty_pages)
{
    ssize_t keep = 600000;
    CHECK(mallctl("arenas.dirty_decay_ms", NULL, NULL, &keep, sizeof keep) == 0);
    enum { N = 64 };
    void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = malloc(256 << 10);
        memset(p[i], 1, 256 << 10);
    }
    for (int i = 0; i < N; i++)
        free(p[i]);
    size_t pdirty, len = sizeof pdirty;
    CHECK(mallctl("stats.arenas.0.pdirty", &pdirty, &len, NULL, 0) == 0);
    CHECK_CMP_U(pdirty, >=, (size_t)N * 64 / 2);
    CHECK(mallctl("arena.1.purge", NULL, NULL, NULL, 0) == 0);
    CHECK(mallctl("stats.arenas.0.pdirty", &pdirty, &len, NULL, 0) == 0);
    CHECK_CMP_U(pdirty, ==, 0);
    ssize_t normal = 1000;
    CHECK(mallctl("arenas.dirty_decay_ms", NULL, NULL, &normal, sizeof normal) == 0);
}

TEST(bins_describe_the_classes)
{
    unsigned nbins;
    size_t len = sizeof nbins;
    CHECK(mallctl("arenas.nbins", &nbins, &len, NULL, 0) == 0);
    void *keep[100];
    for (int i = 0; i < 100; i++)
        keep[i] = malloc(100);
    size_t usable = malloc_usable_size(keep[0]);
    char name[80];
    for (unsigned i = 0; i < nbins; i++) {
        size_t size, slab, curregs, curslabs;
        uint32_t nregs;
        len = sizeof size;
        snprintf(name, sizeof name, "arenas.bin.%u.size", i);
        CHECK(mallctl(name, &size, &len, NULL, 0) == 0);
        snprintf(name, sizeof name, "arenas.bin.%u.slab_size", i);
        CHECK(mallctl(name, &slab, &len, NULL, 0) == 0);
        len = sizeof nregs;
        snprintf(name, sizeof name, "arenas.bin.%u.nregs", i);
        CHECK(mallctl(name, &nregs, &len, NULL, 0) == 0);
        CHECK_CMP_U((size_t)nregs * size, <=, slab);
        CHECK(nregs >= 1);
        len = sizeof curregs;
        snprintf(name, sizeof name, "stats.arenas.%d.bins.%u.curregs", ARENAS_ALL, i);
        CHECK(mallctl(name, &curregs, &len, NULL, 0) == 0);
        snprintf(name, sizeof name, "stats.arenas.0.bins.%u.curslabs", i);
        CHECK(mallctl(name, &curslabs, &len, NULL, 0) == 0);
        if (size == usable) {
            CHECK_CMP_U(curregs, >=, 100);
            CHECK(curslabs >= 1);
        }
    }
    for (int i = 0; i < 100; i++)
        free(keep[i]);
}

TEST(allocx_honours_alignment_and_zeroing)
{
    for (int lg = 0; lg <= 16; lg++) {
        for (size_t size = 1; size < (1u << 20); size = size * 3 + 7) {
            int flags = MALLOCX_LG_ALIGN(lg);
            void *p = mallocx(size, flags);
            CHECK(p != NULL);
            CHECK_MSG(((uintptr_t)p & (((uintptr_t)1 << lg) - 1)) == 0, "lg %d size %zu", lg, size);
            CHECK_CMP_U(sallocx(p, 0), >=, size);
            CHECK_MSG(nallocx(size, flags) == sallocx(p, 0), "lg %d size %zu: %zu vs %zu", lg, size,
                      nallocx(size, flags), sallocx(p, 0));
            memset(p, 0xab, size);
            dallocx(p, flags);
        }
    }
    for (size_t size = 8; size < (4u << 20); size *= 3) {
        unsigned char *p = mallocx(size, MALLOCX_ZERO);
        CHECK(p != NULL);
        for (size_t i = 0; i < size; i += 61)
            CHECK(p[i] == 0);
        memset(p, 0x5a, size);
        /* jemalloc's rule: zeroed from the old usable size on */
        size_t old = sallocx(p, 0);
        unsigned char *q = rallocx(p, size * 2, MALLOCX_ZERO | MALLOCX_LG_ALIGN(6));
        CHECK(q != NULL);
        CHECK(((uintptr_t)q & 63) == 0);
        for (size_t i = 0; i < size; i += 61)
            CHECK(q[i] == 0x5a);
        for (size_t i = old; i < size * 2; i += 61)
            CHECK(q[i] == 0);
        sdallocx(q, size * 2, 0);
    }
}

TEST(xallocx_keeps_the_block_and_says_its_size)
{
    void *p = mallocx(100, 0);
    size_t usable = sallocx(p, 0);
    CHECK_CMP_U(xallocx(p, 50, 0, 0), ==, usable);
    CHECK_CMP_U(xallocx(p, 1 << 20, 0, 0), ==, usable); /* could not grow: the old size */
    dallocx(p, 0);
}

TEST(caches_and_arenas_tidemalloc_lacks_are_refused)
{
    errno = 0;
    CHECK(mallocx(64, MALLOCX_TCACHE(3)) == NULL);
    CHECK(errno == EINVAL);
    CHECK(mallocx(64, MALLOCX_ARENA(5)) == NULL);
    CHECK(nallocx(64, MALLOCX_ARENA(5)) == 0);
    CHECK(nallocx(64, MALLOCX_LG_ALIGN(50)) == 0);
    void *p = mallocx(64, MALLOCX_TCACHE_NONE | MALLOCX_ARENA(0));
    CHECK(p != NULL);
    void *q = rallocx(p, 128, MALLOCX_ARENA(9));
    CHECK(q == NULL); /* refused, p untouched */
    dallocx(p, MALLOCX_TCACHE_NONE);
}

typedef struct sink {
    char text[1 << 16];
    size_t n, calls;
} sink_t;

static void collect(void *ctx, const char *s)
{
    sink_t *k = ctx;
    size_t len = strlen(s);
    if (k->n + len < sizeof k->text) {
        memcpy(k->text + k->n, s, len + 1);
        k->n += len;
    }
    k->calls++;
}

TEST(malloc_stats_print_writes_tidemallocs_report)
{
    static sink_t k;
    k.n = 0;
    malloc_stats_print(collect, &k, NULL);
    CHECK(k.calls >= 1);
    CHECK(strstr(k.text, "tidemalloc " TIDE_VERSION " statistics") != NULL);
    CHECK(strstr(k.text, "live_usable") != NULL);
    CHECK(strstr(k.text, "size class") != NULL);
    k.n = 0;
    malloc_stats_print(collect, &k, "b");
    CHECK(strstr(k.text, "size class") == NULL);
    k.n = 0;
    malloc_stats_print(collect, &k, "J");
    CHECK(k.text[0] == '{' && strstr(k.text, "\"live_usable\": ") && strstr(k.text, "\"classes\": ["));
    CHECK(k.text[k.n - 2] == '}');
}

/* A program probing the interface (names it guesses, MIBs it makes up,
 * buffers of any size, NULLs) gets working calls or clean errors. */
TEST(probing_gets_answers_or_clean_errors_never_a_crash)
{
    static const char *const parts[] = { "stats", "arenas", "arena", "opt", "thread", "prof", "config",
                                         "0", "1", "4096", "34", "35", "bin", "bins", "size", "purge",
                                         "tcache", "flush", "allocated", "x", "" };
    const size_t np = sizeof parts / sizeof parts[0];
    char name[128];
    unsigned calls = 0;
    for (size_t a = 0; a < np; a++)
        for (size_t b = 0; b < np; b++)
            for (size_t c = 0; c < np; c += 3) {
                snprintf(name, sizeof name, "%s.%s.%s", parts[a], parts[b], parts[c]);
                for (size_t len = 0; len <= 16; len += 4) {
                    unsigned char buf[16];
                    size_t l = len;
                    int r = mallctl(name, len ? buf : NULL, len ? &l : NULL, NULL, 0);
                    CHECK_MSG(r == 0 || r == ENOENT || r == EINVAL || r == EPERM, "%s: %d", name, r);
                    calls++;
                }
            }
    uint64_t seed = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        size_t mib[8], miblen = 1 + (size_t)(i % 7);
        for (size_t k = 0; k < miblen; k++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            mib[k] = seed % (k == 0 ? 16 : 5000);
        }
        unsigned char buf[16];
        size_t l = (size_t)(seed >> 40) % 17;
        int r = mallctlbymib(mib, miblen, buf, &l, NULL, 0);
        CHECK(r == 0 || r == ENOENT || r == EINVAL || r == EPERM);
        calls++;
    }
    CHECK(mallctl(NULL, NULL, NULL, NULL, 0) == EINVAL);
    CHECK(mallctlnametomib("stats.allocated", NULL, NULL) == EINVAL);
    CHECK(mallctlbymib(NULL, 2, NULL, NULL, NULL, 0) == EINVAL);
    size_t v;
    CHECK(mallctl("stats.allocated", &v, NULL, NULL, 0) == 0); /* no length: nothing is read */
    CHECK(calls > 20000);
}
