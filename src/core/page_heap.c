/* page heap — 64 MiB regions split into page runs: first fit, dirty-page
 * accounting, purging by the decay policy, the slab-run cache, and
 * unmapping regions that emptied (page_heap.h explains the policy).
 *
 * Invariant (checked by validate_locked in the TIDE_DEBUG build): under the
 * lock, each region's free and dirty counts equal its bitmaps, every dirty
 * page is free, the run tree summarises the free bitmap, and the heap's
 * dirty count is its regions' plus the slab-run cache's. Pages being purged
 * are claimed (not free) while the lock is dropped around madvise.
 */
#include "page_heap.h"
#include "platform/lock.h"

#include <pthread.h>
#include <string.h>

#include "bitmap.h"
#include "debug.h"
#include "decay.h"
#include "limit.h"
#include "meta.h"
#include "platform/os.h"
#include "pagemap.h"

#include <mitigation_hooks.h>

#define MAX_REGIONS 4096
#define PURGE_BATCH 32
/* The slab-run cache: runs of up to the longest slab, at most 64 MiB. */
#define SLAB_CACHE_RUN_PAGES 16
#define SLAB_CACHE_PAGES ((size_t)16384)

static struct {
    pthread_mutex_t lock;
    region_t *regions[MAX_REGIONS]; /* oldest first */
    size_t nregions;
    size_t peak_mapped_pages;       /* the most the regions ever held at once */
    size_t peak_resident_pages;     /* the most active + dirty pages ever */
    size_t purging_pages;           /* claimed for a purge whose madvise is under way */
    region_t *spare_regions;        /* descriptors of unmapped regions */
    span_t *free_descs;
    size_t active_pages, dirty_pages;
    uint64_t purged_pages, purge_calls;
    decay_t decay;
    bool decay_ready;
    size_t dirty_cap_pages;
    span_t *slab_cache[SLAB_CACHE_RUN_PAGES + 1]; /* by length, newest first */
    size_t slab_cache_pages;
} ph = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- span descriptors ---- */

static span_t *desc_alloc_locked(void)
{
    if (!ph.free_descs) {
        enum { BATCH = 64 };
        span_t *batch = meta_alloc(sizeof(span_t) * BATCH);
        if (!batch)
            return NULL;
        for (int i = 0; i < BATCH; i++) {
            batch[i].next = ph.free_descs;
            ph.free_descs = &batch[i];
        }
    }
    span_t *s = ph.free_descs;
    ph.free_descs = s->next;
    memset(s, 0, sizeof *s);
    s->bin = SPAN_NO_BIN;
    return s;
}

static void desc_free_locked(span_t *s)
{
    s->kind = SPAN_NONE;
    s->next = ph.free_descs;
    ph.free_descs = s;
}

span_t *page_heap_desc_alloc(void)
{
    lock_acquire(&ph.lock);
    span_t *s = desc_alloc_locked();
    lock_release(&ph.lock);
    return s;
}

void page_heap_desc_free(span_t *s)
{
    lock_acquire(&ph.lock);
    desc_free_locked(s);
    lock_release(&ph.lock);
}

static void slab_cache_flush_locked(void);

/* ---- validation (TIDE_DEBUG) ---- */

/* Under the lock, at any time (a purge in flight holds its pages claimed):
 * each region's counts match its bitmaps, dirty pages are free pages, no
 * bit is set past the reservation, the run tree summarises the free bitmap
 * exactly, and the heap's dirty count is the regions' plus the slab-run
 * cache's. */
static void validate_locked(void)
{
    size_t dirty = 0;
    for (size_t k = 0; k < ph.nregions; k++) {
        const region_t *r = ph.regions[k];
        DEBUG_REQUIRE(bm_count(r->free_bits, 0, REGION_PAGES) == r->free_pages, "region free_pages = free bits");
        DEBUG_REQUIRE(bm_count(r->dirty_bits, 0, REGION_PAGES) == r->dirty_pages, "region dirty_pages = dirty bits");
        DEBUG_REQUIRE(r->pages == REGION_PAGES || bm_count(r->free_bits, r->pages, REGION_PAGES) == 0,
                      "no free page past a partial region's reservation");
        for (size_t w = 0; w < REGION_PAGES / 64; w++)
            DEBUG_REQUIRE((r->dirty_bits[w] & ~r->free_bits[w]) == 0, "every dirty page is free");
        run_tree_t fresh;
        memset(&fresh, 0, sizeof fresh);
        rt_update(&fresh, r->free_bits, 0, REGION_PAGES);
        for (size_t i = 1; i < 2 * RT_WORDS; i++)
            DEBUG_REQUIRE(fresh.node[i].pre == r->tree.node[i].pre && fresh.node[i].suf == r->tree.node[i].suf &&
                              fresh.node[i].max == r->tree.node[i].max,
                          "the run tree summarises the free bitmap");
        dirty += r->dirty_pages;
    }
    DEBUG_REQUIRE(dirty + ph.slab_cache_pages == ph.dirty_pages, "dirty pages = regions' + slab-run cache's");
}

/* ---- the dirty-pages hook ---- */

static void (*dirty_hook)(void);

void page_heap_on_dirty(void (*fn)(void))
{
    __atomic_store_n(&dirty_hook, fn, __ATOMIC_RELEASE);
    mitigation_on_dirty_hook(fn);
}

/* Called with the lock released: the hook may take its own locks. */
static void dirty_appeared(void)
{
    void (*fn)(void) = __atomic_load_n(&dirty_hook, __ATOMIC_ACQUIRE);
    if (fn)
        fn();
}

/* ---- regions ---- */

static void ensure_policy_locked(uint64_t now)
{
    if (!ph.decay_ready) {
        decay_init(&ph.decay, PAGE_HEAP_DECAY_MS_DEFAULT, now);
        ph.dirty_cap_pages = PAGE_HEAP_DIRTY_MAX_DEFAULT >> OS_PAGE_SHIFT;
        ph.decay_ready = true;
    }
}

/* Smallest partial region tried when a whole one cannot be reserved. */
#define REGION_MIN_PAGES ((size_t)16)

/* A new region able to hold a run of need_pages.  Short of address space
 * (ulimit -v, RLIMIT_AS) a whole region may not fit where a smaller one
 * does: then a partial region is reserved, halving down to the request.
 * Its pages past the reservation are never free (nor walked). */
static region_t *region_new_locked(size_t need_pages)
{
    if (ph.nregions == MAX_REGIONS)
        return NULL;
    size_t pages = REGION_PAGES;
    char *base = os_reserve(pages << OS_PAGE_SHIFT, OS_PAGE_SIZE);
    while (!base && pages / 2 >= need_pages && pages / 2 >= REGION_MIN_PAGES) {
        pages /= 2;
        base = os_reserve(pages << OS_PAGE_SHIFT, OS_PAGE_SIZE);
    }
    if (!base)
        return NULL;
    region_t *r = ph.spare_regions;
    if (r)
        ph.spare_regions = *(region_t **)r;
    else
        r = meta_alloc(sizeof *r);
    if (!r) {
        os_release(base, pages << OS_PAGE_SHIFT);
        return NULL;
    }
    memset(r, 0, sizeof *r);
    r->base = base;
    r->pages = pages;
    r->free_pages = pages;
    bm_assign(r->free_bits, 0, pages, 1);
    rt_update(&r->tree, r->free_bits, 0, REGION_PAGES);
    /* Regions are kept, and searched, oldest first: a region made because
     * the others are too fragmented for a request is then the last resort,
     * not the first choice. (mmap places each new mapping below the last;
     * ordered by address, first fit would fill the new region's fresh
     * pages while the freed ones wait in the old regions.) */
    ph.regions[ph.nregions++] = r;
    size_t mapped = 0;
    for (size_t k = 0; k < ph.nregions; k++)
        mapped += ph.regions[k]->pages;
    if (mapped > ph.peak_mapped_pages)
        ph.peak_mapped_pages = mapped;
    return r;
}

/* Pages being purged are resident until madvise returns: counted, or a
 * sample of the process's RSS taken meanwhile would put them outside the
 * allocator. */
static size_t resident_bytes_locked(void)
{
    return (ph.active_pages + ph.dirty_pages + ph.purging_pages) << OS_PAGE_SHIFT;
}

static void decay_locked(uint64_t now);

/* Clean pages became active: under a soft limit the charge rose, so the
 * dirty pages it still allows may be fewer (limit_dirty_cap). */
static void grew_locked(void)
{
    if (__builtin_expect(limit_soft() != 0, 0) && ph.dirty_pages) {
        uint64_t now = os_now_ms();
        ensure_policy_locked(now);
        decay_locked(now);
    }
}

/* Only fresh pages raise active + dirty: call after active_pages grows. */
static void note_resident_peak_locked(void)
{
    if (ph.active_pages + ph.dirty_pages > ph.peak_resident_pages)
        ph.peak_resident_pages = ph.active_pages + ph.dirty_pages;
}

static void region_delete_locked(size_t i)
{
    region_t *r = ph.regions[i];
    os_release(r->base, r->pages << OS_PAGE_SHIFT);
    memmove(&ph.regions[i], &ph.regions[i + 1], (ph.nregions - i - 1) * sizeof(region_t *));
    ph.nregions--;
    *(region_t **)r = ph.spare_regions;
    ph.spare_regions = r;
}

/* First free run of n pages (aligned) in r; SIZE_MAX if none. */
static size_t region_find(region_t *r, size_t n, size_t align)
{
    if (align <= 1)
        return rt_first_fit(&r->tree, r->free_bits, n);
    /* Aligned runs are rare: walk the free runs. */
    size_t page0 = (uintptr_t)r->base >> OS_PAGE_SHIFT;
    size_t pos = 0;
    while (pos < REGION_PAGES) {
        size_t a = bm_next(r->free_bits, REGION_PAGES, pos, 1);
        if (a == REGION_PAGES)
            break;
        size_t b = bm_next(r->free_bits, REGION_PAGES, a, 0);
        size_t start = ((page0 + a + align - 1) & ~(align - 1)) - page0;
        if (start + n <= b)
            return start;
        pos = b;
    }
    return SIZE_MAX;
}

/* Take [i, i+n) out of the free pages; returns how many were dirty. */
static size_t claim_locked(region_t *r, size_t i, size_t n)
{
    bm_assign(r->free_bits, i, i + n, 0);
    rt_update(&r->tree, r->free_bits, i, i + n);
    size_t dirty = bm_count(r->dirty_bits, i, i + n);
    if (dirty) {
        bm_assign(r->dirty_bits, i, i + n, 0);
        r->dirty_pages -= dirty;
        ph.dirty_pages -= dirty;
    }
    r->free_pages -= n;
    return dirty;
}

/* Put [i, i+n) back as free pages, dirty or clean. */
static void release_locked(region_t *r, size_t i, size_t n, bool dirty)
{
    bm_assign(r->free_bits, i, i + n, 1);
    if (dirty) {
        bm_assign(r->dirty_bits, i, i + n, 1);
        r->dirty_pages += n;
        ph.dirty_pages += n;
    }
    r->free_pages += n;
    rt_update(&r->tree, r->free_bits, i, i + n);
}

/* The hard limit on taking n pages at idx of r (SIZE_MAX: in a region not
 * yet mapped): its clean pages are what it adds to the charge, its dirty
 * ones being resident already. Counting them costs a pass over the dirty
 * bits, so only a run that could not fit even if all were clean pays it. */
__attribute__((noinline)) static bool admit_run_near_limit(const region_t *r, size_t idx, size_t n)
{
    size_t heap = resident_bytes_locked();
    if (limit_fits(heap, n << OS_PAGE_SHIFT))
        return true;
    size_t grow = idx == SIZE_MAX ? n : n - bm_count(r->dirty_bits, idx, idx + n);
    return grow == 0 || limit_admit(heap, grow << OS_PAGE_SHIFT);
}

static inline bool admit_run_locked(const region_t *r, size_t idx, size_t n)
{
    return __builtin_expect(limit_hard() == 0, 1) || admit_run_near_limit(r, idx, n);
}

span_t *page_heap_alloc(size_t npages, size_t align_pages)
{
    if (npages == 0 || npages > REGION_PAGES)
        return NULL;
    if (align_pages == 0)
        align_pages = 1;
    lock_acquire(&ph.lock);
    region_t *r = NULL;
    size_t idx = SIZE_MAX;
    for (int pass = 0; pass < 2 && idx == SIZE_MAX; pass++) {
        /* The second pass, after the slab-run cache went back to the
         * regions: cached runs must never make the heap grow. */
        if (pass == 1) {
            if (ph.slab_cache_pages == 0)
                break;
            slab_cache_flush_locked();
        }
        for (size_t k = 0; k < ph.nregions && idx == SIZE_MAX; k++) {
            r = ph.regions[k];
            if (r->free_pages >= npages && rt_longest(&r->tree) >= npages)
                idx = region_find(r, npages, align_pages);
        }
    }
    if (!admit_run_locked(r, idx, npages)) {
        lock_release(&ph.lock);
        return NULL;
    }
    if (idx == SIZE_MAX) {
        r = region_new_locked(npages + align_pages - 1);
        if (r)
            idx = region_find(r, npages, align_pages);
    }
    span_t *s = NULL;
    if (idx != SIZE_MAX && (s = desc_alloc_locked()) != NULL) {
        size_t dirty = claim_locked(r, idx, npages);
        ph.active_pages += npages;
        note_resident_peak_locked();
        s->start = r->base + (idx << OS_PAGE_SHIFT);
        s->npages = npages;
        s->region = r;
        s->clean = dirty == 0;
        if (dirty < npages)
            grew_locked();
    }
    if (TIDE_DEBUG)
        validate_locked();
    lock_release(&ph.lock);
    return s;
}

/* n active pages have just become dirty: the decay policy hears of them
 * (and may purge). Returns whether to wake the background thread: they are the first
 * dirty pages since it last found none. */
static bool dirtied_locked(size_t n, uint64_t now, bool was_clean)
{
    ph.active_pages -= n;
    decay_note(&ph.decay, n, now);
    decay_locked(now);
    return was_clean && ph.dirty_pages > 0;
}

void page_heap_free(span_t *s)
{
    region_t *r = s->region;
    size_t idx = (size_t)(s->start - r->base) >> OS_PAGE_SHIFT;
    size_t n = s->npages;
    uint64_t now = os_now_ms();
    lock_acquire(&ph.lock);
    ensure_policy_locked(now);
    bool was_clean = ph.dirty_pages == 0;
    release_locked(r, idx, n, true);
    desc_free_locked(s);
    bool wake = dirtied_locked(n, now, was_clean);
    if (TIDE_DEBUG)
        validate_locked();
    lock_release(&ph.lock);
    if (wake)
        dirty_appeared();
}

void page_heap_desc_reuse(span_t *s)
{
    char *start = s->start;
    size_t npages = s->npages;
    region_t *r = s->region;
    memset(s, 0, sizeof *s);
    s->start = start;
    s->npages = npages;
    s->region = r;
    s->bin = SPAN_NO_BIN;
}

/* ---- the slab-run cache ---- */

span_t *page_heap_alloc_slab(size_t npages, bool *mapped)
{
    *mapped = false;
    if (npages <= SLAB_CACHE_RUN_PAGES) {
        lock_acquire(&ph.lock);
        span_t *s = ph.slab_cache[npages];
        if (s) {
            ph.slab_cache[npages] = s->next;
            ph.slab_cache_pages -= npages;
            ph.dirty_pages -= npages;
            ph.active_pages += npages;
        }
        lock_release(&ph.lock);
        if (s) {
            page_heap_desc_reuse(s);
            *mapped = true;
            return s;
        }
    }
    return page_heap_alloc(npages, 1);
}

void page_heap_free_slab(span_t *s)
{
    size_t n = s->npages;
    if (n <= SLAB_CACHE_RUN_PAGES) {
        uint64_t now = os_now_ms();
        lock_acquire(&ph.lock);
        if (ph.slab_cache_pages + n <= SLAB_CACHE_PAGES) {
            ensure_policy_locked(now);
            /* The page map still leads here: make every free of a pointer
             * into it fail the owner test and be reported. */
            span_set_owner_fast(s, 0);
            s->kind = SPAN_NONE;
            s->next = ph.slab_cache[n];
            ph.slab_cache[n] = s;
            ph.slab_cache_pages += n;
            bool was_clean = ph.dirty_pages == 0;
            ph.dirty_pages += n;
            bool wake = dirtied_locked(n, now, was_clean);
            lock_release(&ph.lock);
            if (wake)
                dirty_appeared();
            return;
        }
        lock_release(&ph.lock);
    }
    pagemap_set(s->start, n, &span_none);
    page_heap_free(s);
}

/* Give the cached runs back to their regions as dirty free pages. */
static void slab_cache_flush_locked(void)
{
    for (size_t n = 1; n <= SLAB_CACHE_RUN_PAGES; n++) {
        while (ph.slab_cache[n]) {
            span_t *s = ph.slab_cache[n];
            ph.slab_cache[n] = s->next;
            pagemap_set(s->start, n, &span_none);
            region_t *r = s->region;
            ph.dirty_pages -= n; /* release_locked counts them again */
            release_locked(r, (size_t)(s->start - r->base) >> OS_PAGE_SHIFT, n, true);
            desc_free_locked(s);
        }
    }
    ph.slab_cache_pages = 0;
}

bool page_heap_resize(span_t *s, size_t npages)
{
    region_t *r = s->region;
    size_t idx = (size_t)(s->start - r->base) >> OS_PAGE_SHIFT;
    bool ok = true, wake = false;
    lock_acquire(&ph.lock);
    if (npages > s->npages) {
        size_t extra = npages - s->npages;
        size_t end = idx + s->npages;
        if (idx + npages <= r->pages && bm_count(r->free_bits, end, end + extra) == extra &&
            admit_run_locked(r, end, extra)) {
            size_t dirty = claim_locked(r, end, extra);
            if (dirty)
                s->clean = 0;
            ph.active_pages += extra;
            note_resident_peak_locked();
            s->npages = npages;
            if (dirty < extra)
                grew_locked();
        } else {
            ok = false;
        }
    } else if (npages < s->npages) {
        uint64_t now = os_now_ms();
        ensure_policy_locked(now);
        size_t cut = s->npages - npages;
        bool was_clean = ph.dirty_pages == 0;
        release_locked(r, idx + npages, cut, true);
        s->npages = npages;
        wake = dirtied_locked(cut, now, was_clean);
    }
    lock_release(&ph.lock);
    if (wake)
        dirty_appeared();
    return ok;
}

/* ---- purging ---- */

typedef struct { region_t *r; size_t a, b; } purge_range_t;

/* Purge dirty pages, youngest region and highest addresses first, until at
 * most `target` remain.
 * Drops the lock around madvise so other threads keep allocating. */
static void purge_to_locked(size_t target)
{
    /* The cache's pages count as dirty: only when purging every other
     * dirty page would not be enough do they become ordinary dirty pages
     * (and the first purged: the cache holds the heap's newest dirt, but
     * an idle process's allowance falls to zero). */
    if (ph.slab_cache_pages > target)
        slab_cache_flush_locked();
    for (int round = 0; round < 64 && ph.dirty_pages > target; round++) {
        purge_range_t batch[PURGE_BATCH];
        int nb = 0;
        size_t need = ph.dirty_pages - target;
        for (size_t k = ph.nregions; k-- > 0 && nb < PURGE_BATCH && need > 0;) {
            region_t *r = ph.regions[k];
            size_t pos = REGION_PAGES;
            while (r->dirty_pages > 0 && nb < PURGE_BATCH && need > 0) {
                size_t b = bm_prev_end(r->dirty_bits, pos, 1);
                if (b == 0)
                    break;
                size_t a = bm_prev_end(r->dirty_bits, b, 0);
                if (b - a > need)
                    a = b - need;
                claim_locked(r, a, b - a);
                need -= b - a;
                batch[nb++] = (purge_range_t){ r, a, b };
                pos = a;
            }
        }
        if (nb == 0)
            return;
        size_t inflight = 0;
        for (int i = 0; i < nb; i++)
            inflight += batch[i].b - batch[i].a;
        ph.purging_pages += inflight;
        lock_release(&ph.lock);
        bool ok[PURGE_BATCH];
        for (int i = 0; i < nb; i++)
            ok[i] = os_purge(batch[i].r->base + (batch[i].a << OS_PAGE_SHIFT),
                             (batch[i].b - batch[i].a) << OS_PAGE_SHIFT);
        lock_acquire(&ph.lock);
        ph.purging_pages -= inflight;
        bool failed = false;
        for (int i = 0; i < nb; i++) {
            size_t n = batch[i].b - batch[i].a;
            release_locked(batch[i].r, batch[i].a, n, !ok[i]);
            if (ok[i]) {
                ph.purged_pages += n;
                ph.purge_calls++;
            } else {
                failed = true;
            }
        }
        if (failed)
            return;
    }
    /* Unmap regions that are entirely free and purged, keeping the oldest. */
    for (size_t k = ph.nregions; k-- > 1;) {
        region_t *r = ph.regions[k];
        if (r->free_pages == r->pages && r->dirty_pages == 0)
            region_delete_locked(k);
    }
}

static void decay_locked(uint64_t now)
{
    size_t allowed = decay_allowed(&ph.decay, now);
    if (allowed > ph.dirty_cap_pages)
        allowed = ph.dirty_cap_pages;
    if (__builtin_expect(limit_soft() != 0, 0)) {
        size_t pressure = limit_dirty_cap(limit_charge(ph.active_pages << OS_PAGE_SHIFT)) >> OS_PAGE_SHIFT;
        if (allowed > pressure)
            allowed = pressure;
    }
    if (ph.dirty_pages > allowed)
        purge_to_locked(allowed);
}

uint64_t page_heap_decay_tick(void)
{
    uint64_t now = os_now_ms();
    lock_acquire(&ph.lock);
    ensure_policy_locked(now);
    decay_locked(now);
    uint64_t next = ph.dirty_pages ? decay_next_change(&ph.decay) : UINT64_MAX;
    if (ph.dirty_pages && next == UINT64_MAX)
        next = now + ph.decay.bucket_ms; /* dirt that outlived its record */
    lock_release(&ph.lock);
    return mitigation_decay_tick(now, next);
}

void page_heap_purge_all(void)
{
    lock_acquire(&ph.lock);
    purge_to_locked(0);
    lock_release(&ph.lock);
}

void page_heap_set_policy(uint64_t decay_ms, size_t dirty_max_bytes)
{
    uint64_t now = os_now_ms();
    lock_acquire(&ph.lock);
    decay_init(&ph.decay, decay_ms, now);
    ph.dirty_cap_pages = dirty_max_bytes >> OS_PAGE_SHIFT;
    ph.decay_ready = true;
    decay_locked(now);
    lock_release(&ph.lock);
}

size_t page_heap_resident_bytes(void)
{
    lock_acquire(&ph.lock);
    size_t bytes = resident_bytes_locked();
    lock_release(&ph.lock);
    return bytes;
}

void page_heap_stats(page_heap_stats_t *out)
{
    lock_acquire(&ph.lock);
    out->active_pages = ph.active_pages;
    out->dirty_pages = ph.dirty_pages;
    out->regions = ph.nregions;
    out->mapped_pages = 0;
    for (size_t k = 0; k < ph.nregions; k++)
        out->mapped_pages += ph.regions[k]->pages;
    out->peak_mapped_pages = ph.peak_mapped_pages;
    out->peak_resident_pages = ph.peak_resident_pages;
    out->purged_pages = ph.purged_pages;
    out->purge_calls = ph.purge_calls;
    lock_release(&ph.lock);
}

void page_heap_walk(void (*fn)(const span_t *s, void *arg), void *arg)
{
    lock_acquire(&ph.lock);
    for (size_t k = 0; k < ph.nregions; k++) {
        region_t *r = ph.regions[k];
        size_t pos = 0;
        while ((pos = bm_next(r->free_bits, r->pages, pos, 0)) < r->pages) {
            const span_t *s = pagemap_lookup(r->base + (pos << OS_PAGE_SHIFT));
            if (s->kind == SPAN_SMALL || s->kind == SPAN_LARGE) {
                fn(s, arg);
                pos += s->npages;
            } else {
                pos++; /* pages being purged right now */
            }
        }
    }
    lock_release(&ph.lock);
}

void page_heap_fork_prepare(void) { pthread_mutex_lock(&ph.lock); }
void page_heap_fork_parent(void) { pthread_mutex_unlock(&ph.lock); }
void page_heap_fork_child(void)
{
    pthread_mutex_init(&ph.lock, NULL);
    /* A purge under way in the parent does not finish here: its pages stay
     * claimed (as they are in the parent until it returns), but they are
     * no longer on their way to being resident-counted. */
    ph.purging_pages = 0;
}

bool page_heap_owns(const void *p)
{
    lock_acquire(&ph.lock);
    bool found = false;
    for (size_t i = 0; i < ph.nregions && !found; i++)
        found = (const char *)p >= ph.regions[i]->base &&
                (const char *)p < ph.regions[i]->base + (REGION_PAGES << OS_PAGE_SHIFT);
    lock_release(&ph.lock);
    return found;
}
