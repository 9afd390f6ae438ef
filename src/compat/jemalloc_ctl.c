/* jemalloc_ctl — mallctl, mallctlnametomib and mallctlbymib, answered from
 * tidemalloc's own state, so that programs written for jemalloc (Redis's
 * INFO memory and MEMORY PURGE, tikv-jemalloc-ctl, RocksDB) read the truth
 * under LD_PRELOAD instead of a jemalloc that never allocated.
 *
 * Invariants:
 *   - The names form a tree like jemalloc's: a MIB holds, per component,
 *     the child's position in its parent (named) or the number (indexed),
 *     so a MIB from mallctlnametomib stays valid for the process's life.
 *   - Errors are jemalloc's documented ones: ENOENT for a name tidemalloc
 *     cannot honour (every name not in the tree below, and indices out of
 *     range), EINVAL for a length that is not the value's size (reading as
 *     much as fits, as jemalloc does), EPERM for writing a read-only value
 *     or reading a write-only one, EFAULT where a write could not be done.
 *   - There is one arena, 0: the whole process. Arena index
 *     MALLCTL_ARENAS_ALL (4096), and arenas.narenas itself (jemalloc's
 *     older "all arenas" index, which Redis uses), mean the same arena.
 * The names, their types and what each maps to: docs/COMPAT.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "tidemalloc.h"

#include "api/alloc_fast.h"
#include "api/init.h"
#include "config/config.h"
#include "core/central.h"
#include "core/page_heap.h"
#include "core/size_class.h"
#include "jemalloc_flags.h"
#include "platform/os.h"
#include "platform/textbuf.h"
#include "prof/prof.h"
#include "prof/prof_internal.h"

#define EXPORT __attribute__((visibility("default")))
#define CTL_DEPTH_MAX 7

/* One call's arguments, and the indices met on the way to the leaf. */
typedef struct ctl_call {
    void *oldp;
    size_t *oldlenp;
    void *newp;
    size_t newlen;
    size_t index[CTL_DEPTH_MAX]; /* the numbers of indexed components, in order */
} ctl_call_t;

typedef int (*ctl_leaf_fn)(ctl_call_t *c);

typedef struct ctl_node {
    const char *name;              /* NULL: the indexed child "<i>" */
    const struct ctl_node *children;
    unsigned nchildren;
    ctl_leaf_fn leaf;
    size_t index_limit;            /* indexed: valid indices are below this... */
    bool index_all;                /* ...or JE_ARENAS_ALL, or 1 (= narenas) */
} ctl_node_t;

/* ---- reading and writing values, jemalloc's way ---- */

static int read_value(ctl_call_t *c, const void *v, size_t size)
{
    if (!c->oldp || !c->oldlenp)
        return 0;
    if (*c->oldlenp != size) {
        size_t n = *c->oldlenp < size ? *c->oldlenp : size;
        memcpy(c->oldp, v, n);
        *c->oldlenp = n;
        return EINVAL;
    }
    memcpy(c->oldp, v, size);
    return 0;
}

static bool writes(const ctl_call_t *c) { return c->newp != NULL || c->newlen != 0; }

static int read_only(ctl_call_t *c, const void *v, size_t size)
{
    return writes(c) ? EPERM : read_value(c, v, size);
}

/* The new value, if one is given (*written), into *v; 0 or EINVAL. */
static int new_value(const ctl_call_t *c, void *v, size_t size, bool *written)
{
    *written = false;
    if (!c->newp)
        return c->newlen ? EINVAL : 0;
    if (c->newlen != size)
        return EINVAL;
    memcpy(v, c->newp, size);
    *written = true;
    return 0;
}

/* A read-write value: the old one out, then the new one (if any) in. */
static int exchange(ctl_call_t *c, const void *old, void *v, size_t size, bool *written)
{
    int r = read_value(c, old, size);
    return r ? r : new_value(c, v, size, written);
}

static int no_value(ctl_call_t *c)
{
    return c->oldp || c->oldlenp || writes(c) ? EPERM : 0;
}

#define RO(fn, type, expr)                                                                         \
    static int fn(ctl_call_t *c)                                                                   \
    {                                                                                              \
        type v_ = (expr);                                                                          \
        return read_only(c, &v_, sizeof v_);                                                       \
    }

/* ---- the figures ---- */

static uint64_t ctl_epoch = 1;

static tide_stats_t snapshot(void)
{
    tide_stats_t s;
    tide_stats_get(&s);
    return s;
}

/* jemalloc's resident: active pages, unused dirty pages and metadata. */
static size_t resident_bytes(void)
{
    tide_stats_t s = snapshot();
    return (size_t)(s.active + s.dirty + s.metadata);
}

/* Bytes in small blocks in use (blocks in threads' caches are free). */
static size_t small_allocated(void)
{
    tide_class_stats_t k[SC_COUNT];
    tide_stats_classes(k, SC_COUNT);
    size_t sum = 0;
    for (unsigned i = 0; i < SC_COUNT; i++)
        sum += (size_t)(k[i].blocks_in_use * k[i].block_size);
    size_t cached = central_cached_bytes();
    return sum > cached ? sum - cached : 0;
}

/* The rest of stats.allocated: large and huge blocks. */
static size_t large_allocated(void)
{
    size_t all = (size_t)snapshot().live_usable, small = small_allocated();
    return all > small ? all - small : 0;
}

static tide_class_stats_t class_stats(size_t i)
{
    tide_class_stats_t k[SC_COUNT];
    tide_stats_classes(k, SC_COUNT);
    return k[i];
}

static ssize_t decay_ms(void) { return (ssize_t)OPT(decay_ms); }

static const char *copy_string(char *buf, const char *field, size_t cap)
{
    config_string(field, buf, cap);
    return buf;
}

/* ---- leaves ---- */

RO(ctl_version, const char *, TIDE_VERSION)

static int ctl_epoch_rw(ctl_call_t *c)
{
    uint64_t v;
    bool w;
    int r = new_value(c, &v, sizeof v, &w);
    if (r)
        return r;
    /* The statistics are read live: a new epoch only counts. */
    if (w)
        __atomic_add_fetch(&ctl_epoch, 1, __ATOMIC_RELAXED);
    uint64_t e = __atomic_load_n(&ctl_epoch, __ATOMIC_RELAXED);
    return read_value(c, &e, sizeof e);
}

static int set_option(const char *key, const char *value)
{
    return tide_config_set(key, value) == 0 ? 0 : EFAULT;
}

static int ctl_background_thread(ctl_call_t *c)
{
    bool old = OPT(background_thread), v, w;
    int r = exchange(c, &old, &v, sizeof v, &w);
    if (r || !w)
        return r;
    return set_option("background_thread", v ? "true" : "false");
}

/* One background thread: the count can be read, not changed. */
RO(ctl_max_background_threads, size_t, 1)

static int ctl_decay_ms_rw(ctl_call_t *c)
{
    ssize_t old = decay_ms(), v;
    bool w;
    int r = exchange(c, &old, &v, sizeof v, &w);
    if (r || !w)
        return r;
    if (v < -1)
        return EINVAL;
    /* jemalloc's -1 (never purge on time): the longest decay there is. */
    char text[24];
    textbuf_t t = { .fd = -1 };
    tb_u64(&t, v < 0 ? (uint64_t)UINT32_MAX * 1000 : (uint64_t)v);
    memcpy(text, t.buf, t.n);
    text[t.n] = 0;
    return set_option("decay_ms", text);
}

RO(ctl_decay_ms_ro, ssize_t, decay_ms())
/* tidemalloc purges with MADV_DONTNEED only: there are no muzzy pages. */
RO(ctl_muzzy_decay_ms, ssize_t, 0)

RO(ctl_config_malloc_conf, const char *, "")
RO(ctl_false, bool, false)
RO(ctl_true, bool, true)

RO(ctl_opt_background_thread, bool, OPT(background_thread))
RO(ctl_opt_dss, const char *, "disabled") /* no sbrk, ever */
RO(ctl_opt_junk, const char *, "false")
RO(ctl_one_unsigned, unsigned, 1)
RO(ctl_opt_tcache_max, size_t, SC_SMALL_MAX)
RO(ctl_opt_lg_tcache_max, ssize_t, 63 - __builtin_clzl(SC_SMALL_MAX))
RO(ctl_opt_prof, bool, OPT(prof))
RO(ctl_opt_lg_prof_sample, size_t, (size_t)OPT(lg_prof_sample))
RO(ctl_opt_lg_prof_interval, ssize_t, (ssize_t)OPT(lg_prof_interval))
RO(ctl_opt_prof_final, bool, OPT(prof_final))
RO(ctl_opt_prof_leak, bool, OPT(prof_leak))
RO(ctl_opt_prof_gdump, bool, OPT(prof_gdump))
RO(ctl_opt_stats_print, bool, OPT(stats_print))

static char prof_prefix_copy[sizeof options.prof_prefix];
RO(ctl_opt_prof_prefix, const char *, copy_string(prof_prefix_copy, options.prof_prefix, sizeof prof_prefix_copy))

/* Thread caches are always on: reading says so, and only "on" can be
 * written. */
static int ctl_thread_tcache_enabled(ctl_call_t *c)
{
    bool on = true, v, w;
    int r = exchange(c, &on, &v, sizeof v, &w);
    return r ? r : w && !v ? EPERM : 0;
}

#define ACTION(fn, stmt)                                                                           \
    static int fn(ctl_call_t *c)                                                                   \
    {                                                                                              \
        int r_ = no_value(c);                                                                      \
        if (r_ == 0)                                                                               \
            stmt;                                                                                  \
        return r_;                                                                                 \
    }

ACTION(ctl_thread_tcache_flush, alloc_flush_thread_caches())

static int ctl_thread_arena(ctl_call_t *c)
{
    unsigned zero = 0, v;
    bool w;
    int r = exchange(c, &zero, &v, sizeof v, &w);
    return r ? r : w && v != 0 ? EFAULT : 0;
}

RO(ctl_arenas_page, size_t, OS_PAGE_SIZE)
RO(ctl_arenas_quantum, size_t, 16)
RO(ctl_arenas_nbins, unsigned, SC_COUNT)
RO(ctl_arenas_nlextents, unsigned, 0) /* large blocks are page runs, not classes */
RO(ctl_bin_size, size_t, sc_block_size[c->index[0]])
RO(ctl_bin_nregs, uint32_t, (uint32_t)(((size_t)sc_slab_pages[c->index[0]] << OS_PAGE_SHIFT) / sc_block_size[c->index[0]]))
RO(ctl_bin_slab_size, size_t, (size_t)sc_slab_pages[c->index[0]] << OS_PAGE_SHIFT)

ACTION(ctl_arena_purge, tide_purge())
ACTION(ctl_arena_decay, page_heap_decay_tick()) /* what the decay clock owes, now */

RO(ctl_stats_allocated, size_t, (size_t)snapshot().live_usable)
RO(ctl_stats_active, size_t, (size_t)snapshot().active)
RO(ctl_stats_metadata, size_t, (size_t)snapshot().metadata)
RO(ctl_stats_resident, size_t, resident_bytes())
RO(ctl_stats_mapped, size_t, (size_t)snapshot().mapped)
RO(ctl_stats_retained, size_t, (size_t)snapshot().retained)
RO(ctl_stats_bg_threads, size_t, OPT(background_thread) ? 1 : 0)

RO(ctl_sa_nthreads, unsigned, (unsigned)snapshot().threads)
RO(ctl_sa_pactive, size_t, (size_t)(snapshot().active >> OS_PAGE_SHIFT))
RO(ctl_sa_pdirty, size_t, (size_t)(snapshot().dirty >> OS_PAGE_SHIFT))
RO(ctl_sa_pmuzzy, size_t, 0)
RO(ctl_sa_small_allocated, size_t, small_allocated())
RO(ctl_sa_large_allocated, size_t, large_allocated())
RO(ctl_sa_bin_curregs, size_t, (size_t)class_stats(c->index[1]).blocks_in_use)
RO(ctl_sa_bin_curslabs, size_t, (size_t)class_stats(c->index[1]).slabs)

/* jemalloc's prof.active: sampling switched on and off while the program
 * runs (only what is allocated while it is on is sampled). */
static int ctl_prof_active(ctl_call_t *c)
{
    bool on = tide_prof_active() != 0, v, w;
    int r = exchange(c, &on, &v, sizeof v, &w);
    if (r || !w || v == on)
        return r;
    return (v ? tide_prof_start(0) : tide_prof_stop()) == 0 ? 0 : EFAULT;
}

/* prof.dump: NULL for the prof_prefix-named file, or a path to write the
 * heap_v2 profile to. */
static int ctl_prof_dump(ctl_call_t *c)
{
    if (c->oldp || c->oldlenp)
        return EPERM;
    const char *path = NULL;
    bool w;
    int r = new_value(c, &path, sizeof path, &w);
    if (r)
        return r;
    if (!OPT(prof) && !__atomic_load_n(&prof_ever_flag, __ATOMIC_RELAXED))
        return ENOENT; /* never on: nothing to write (a stopped profiler still dumps) */
    if (!path)
        return tide_prof_dump(NULL, 0) == 0 ? 0 : EFAULT;
    int fd = os_open_write(path);
    if (fd < 0)
        return EFAULT;
    bool ok = prof_write_heap_v2(fd);
    ok = os_close(fd) && ok;
    return ok ? 0 : EFAULT;
}

RO(ctl_prof_lg_sample, size_t, (size_t)OPT(lg_prof_sample))
RO(ctl_prof_interval, uint64_t, OPT(lg_prof_interval) < 0 ? 0 : (uint64_t)1 << OPT(lg_prof_interval))

/* ---- the tree, leaves first ---- */

#define LEAF(n, fn) { .name = n, .leaf = fn }
#define NODE(n, kids) { .name = n, .children = kids, .nchildren = sizeof kids / sizeof kids[0] }
#define INDEXED(kids, limit, all) { .children = kids, .nchildren = sizeof kids / sizeof kids[0], \
                                    .index_limit = limit, .index_all = all }

static const ctl_node_t config_kids[] = {
    LEAF("debug", ctl_false), LEAF("malloc_conf", ctl_config_malloc_conf),
    LEAF("prof", ctl_true), LEAF("stats", ctl_true),
};
static const ctl_node_t opt_kids[] = {
    LEAF("abort", ctl_false), LEAF("background_thread", ctl_opt_background_thread),
    LEAF("dirty_decay_ms", ctl_decay_ms_ro), LEAF("dss", ctl_opt_dss),
    LEAF("junk", ctl_opt_junk), LEAF("lg_prof_interval", ctl_opt_lg_prof_interval),
    LEAF("lg_prof_sample", ctl_opt_lg_prof_sample), LEAF("lg_tcache_max", ctl_opt_lg_tcache_max),
    LEAF("muzzy_decay_ms", ctl_muzzy_decay_ms), LEAF("narenas", ctl_one_unsigned),
    LEAF("prof", ctl_opt_prof), LEAF("prof_active", ctl_opt_prof),
    LEAF("prof_final", ctl_opt_prof_final), LEAF("prof_gdump", ctl_opt_prof_gdump),
    LEAF("prof_leak", ctl_opt_prof_leak), LEAF("prof_prefix", ctl_opt_prof_prefix),
    LEAF("stats_print", ctl_opt_stats_print), LEAF("tcache", ctl_true),
    LEAF("tcache_max", ctl_opt_tcache_max), LEAF("zero", ctl_false),
};
static const ctl_node_t thread_tcache_kids[] = {
    LEAF("enabled", ctl_thread_tcache_enabled), LEAF("flush", ctl_thread_tcache_flush),
};
static const ctl_node_t thread_kids[] = {
    LEAF("arena", ctl_thread_arena), NODE("tcache", thread_tcache_kids),
};
static const ctl_node_t bin_kids[] = {
    LEAF("nregs", ctl_bin_nregs), LEAF("size", ctl_bin_size), LEAF("slab_size", ctl_bin_slab_size),
};
static const ctl_node_t arenas_bin[] = { INDEXED(bin_kids, SC_COUNT, false) };
static const ctl_node_t arenas_kids[] = {
    NODE("bin", arenas_bin), LEAF("dirty_decay_ms", ctl_decay_ms_rw),
    LEAF("muzzy_decay_ms", ctl_muzzy_decay_ms), LEAF("narenas", ctl_one_unsigned),
    LEAF("nbins", ctl_arenas_nbins), LEAF("nlextents", ctl_arenas_nlextents),
    LEAF("page", ctl_arenas_page), LEAF("quantum", ctl_arenas_quantum),
    LEAF("tcache_max", ctl_opt_tcache_max),
};
static const ctl_node_t arena_i_kids[] = {
    LEAF("decay", ctl_arena_decay), LEAF("dirty_decay_ms", ctl_decay_ms_rw),
    LEAF("muzzy_decay_ms", ctl_muzzy_decay_ms), LEAF("purge", ctl_arena_purge),
};
static const ctl_node_t arena_i[] = { INDEXED(arena_i_kids, 1, true) };
static const ctl_node_t sa_bin_kids[] = {
    LEAF("curregs", ctl_sa_bin_curregs), LEAF("curslabs", ctl_sa_bin_curslabs),
};
static const ctl_node_t sa_bins[] = { INDEXED(sa_bin_kids, SC_COUNT, false) };
static const ctl_node_t sa_small_kids[] = { LEAF("allocated", ctl_sa_small_allocated) };
static const ctl_node_t sa_large_kids[] = { LEAF("allocated", ctl_sa_large_allocated) };
static const ctl_node_t sa_kids[] = {
    NODE("bins", sa_bins), LEAF("dirty_decay_ms", ctl_decay_ms_ro),
    NODE("large", sa_large_kids), LEAF("mapped", ctl_stats_mapped),
    LEAF("muzzy_decay_ms", ctl_muzzy_decay_ms), LEAF("nthreads", ctl_sa_nthreads),
    LEAF("pactive", ctl_sa_pactive), LEAF("pdirty", ctl_sa_pdirty), LEAF("pmuzzy", ctl_sa_pmuzzy),
    LEAF("resident", ctl_stats_resident), LEAF("retained", ctl_stats_retained),
    NODE("small", sa_small_kids),
};
static const ctl_node_t stats_arenas[] = { INDEXED(sa_kids, 1, true) };
static const ctl_node_t stats_bg_kids[] = { LEAF("num_threads", ctl_stats_bg_threads) };
static const ctl_node_t stats_kids[] = {
    LEAF("active", ctl_stats_active), LEAF("allocated", ctl_stats_allocated),
    NODE("arenas", stats_arenas), NODE("background_thread", stats_bg_kids),
    LEAF("mapped", ctl_stats_mapped), LEAF("metadata", ctl_stats_metadata),
    LEAF("resident", ctl_stats_resident), LEAF("retained", ctl_stats_retained),
};
static const ctl_node_t prof_kids[] = {
    LEAF("active", ctl_prof_active), LEAF("dump", ctl_prof_dump),
    LEAF("interval", ctl_prof_interval), LEAF("lg_sample", ctl_prof_lg_sample),
};
static const ctl_node_t root_kids[] = {
    NODE("arena", arena_i), NODE("arenas", arenas_kids),
    LEAF("background_thread", ctl_background_thread), NODE("config", config_kids),
    LEAF("epoch", ctl_epoch_rw), LEAF("max_background_threads", ctl_max_background_threads),
    NODE("opt", opt_kids), NODE("prof", prof_kids), NODE("stats", stats_kids),
    NODE("thread", thread_kids), LEAF("version", ctl_version),
};
static const ctl_node_t root = NODE(NULL, root_kids);

/* ---- lookups ---- */

static bool index_valid(const ctl_node_t *n, size_t i)
{
    return i < n->index_limit || (n->index_all && (i == JE_ARENAS_ALL || i == 1));
}

/* Parse a decimal component; false if it is not one. */
static bool parse_index(const char *s, size_t len, size_t *out)
{
    if (len == 0 || len > 12)
        return false;
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* Walk name into mib (at most *depth components); the node reached, or
 * NULL (ENOENT). */
static const ctl_node_t *lookup_name(const char *name, size_t *mib, size_t *depth)
{
    const ctl_node_t *n = &root;
    size_t k = 0;
    const char *p = name;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (k == *depth || n->nchildren == 0)
            return NULL;
        const ctl_node_t *next = NULL;
        if (n->children[0].name == NULL) {
            size_t i;
            if (!parse_index(p, len, &i) || !index_valid(&n->children[0], i))
                return NULL;
            mib[k] = i;
            next = &n->children[0];
        } else {
            for (unsigned j = 0; j < n->nchildren; j++)
                if (strlen(n->children[j].name) == len && memcmp(n->children[j].name, p, len) == 0) {
                    mib[k] = j;
                    next = &n->children[j];
                    break;
                }
            if (!next)
                return NULL;
        }
        n = next;
        k++;
        if (!dot)
            break;
        p = dot + 1;
    }
    *depth = k;
    return n;
}

/* Walk a MIB to its node, collecting the indices; NULL if it names none. */
static const ctl_node_t *lookup_mib(const size_t *mib, size_t miblen, ctl_call_t *c)
{
    const ctl_node_t *n = &root;
    size_t ni = 0;
    if (miblen == 0 || miblen > CTL_DEPTH_MAX)
        return NULL;
    for (size_t k = 0; k < miblen; k++) {
        if (n->nchildren == 0)
            return NULL;
        if (n->children[0].name == NULL) {
            if (!index_valid(&n->children[0], mib[k]))
                return NULL;
            c->index[ni++] = mib[k];
            n = &n->children[0];
        } else {
            if (mib[k] >= n->nchildren)
                return NULL;
            n = &n->children[mib[k]];
        }
    }
    return n;
}

EXPORT int mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp)
{
    if (!name || !mibp || !miblenp)
        return EINVAL;
    size_t depth = *miblenp < CTL_DEPTH_MAX ? *miblenp : CTL_DEPTH_MAX;
    size_t mib[CTL_DEPTH_MAX];
    if (!lookup_name(name, mib, &depth))
        return ENOENT;
    memcpy(mibp, mib, depth * sizeof mib[0]);
    *miblenp = depth;
    return 0;
}

EXPORT int mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp,
                        size_t newlen)
{
    if (!mib)
        return EINVAL;
    tide_init();
    ctl_call_t c = { .oldp = oldp, .oldlenp = oldlenp, .newp = newp, .newlen = newlen };
    const ctl_node_t *n = lookup_mib(mib, miblen, &c);
    if (!n || !n->leaf)
        return ENOENT;
    return n->leaf(&c);
}

EXPORT int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    size_t mib[CTL_DEPTH_MAX], depth = CTL_DEPTH_MAX;
    if (!name)
        return EINVAL;
    if (!lookup_name(name, mib, &depth))
        return ENOENT;
    return mallctlbymib(mib, depth, oldp, oldlenp, newp, newlen);
}
