/* secure_large — the guard page of large and huge blocks, and the freed
 * large runs kept with their guard still protected (TIDE_SECURE=1 only).
 *
 * Owns the guard's life: protected at malloc, kept or unprotected at free,
 * moved when realloc resizes the block in place; and the kept runs.
 * Invariants:
 *  - a live large or huge block's run ends in its guard page (core/large.c
 *    asks for one page more, mitigation_large_pad), PROT_NONE when
 *    sec_guarded (an mprotect can fail: the block then goes unguarded), and
 *    mapped to the block's span in the page map, so that the fault handler
 *    finds the block from a fault there;
 *  - a kept run is in no page map entry (a second free finds it in the
 *    cache and is reported as one), its guard is still protected (the full
 *    level: the whole run), and it is kept at most decay_ms
 *    (secure_decay.c); before its pages go back to the page
 *    heap, which may hand them out as anything, the guard is made
 *    accessible again;
 *  - growing a page run in place moves the guard only once the run has
 *    grown, so a growth that fails (often: the next pages are taken) costs
 *    no mprotect.
 */
#ifndef TIDE_SECURE
#define TIDE_SECURE 1 /* this file is only part of the hardened build */
#endif
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "core/large.h"
#include "platform/lock.h"
#include "core/page_heap.h"
#include "core/pagemap.h"
#include "platform/os.h"
#include "secure_internal.h"

/* ---- kept runs ---- */

/* Freed large runs, guard page still protected at the run's end, kept for
 * the next large request they fit: without them every large block costs
 * two mprotect calls (protect at malloc, unprotect at free), each a split
 * or merge of the mapping and a TLB flush on every CPU the process runs
 * on. A kept run of m pages (guard included) serves a request of n pages
 * when n <= m <= n + n / 2 (the smallest such run): the block starts the
 * run, so up to half as many pages again lie between its end and the guard
 * (slack: the canary covers the first bytes of it, the guard the run's
 * end). At most LARGE_CACHE_BYTES and LARGE_CACHE_RUNS runs, oldest
 * evicted first, and never longer than decay_ms (secure_decay.c).
 * Measured on large-churn (64 KiB - 4 MiB blocks): 80 000 mprotect calls
 * without the cache, 17 600 with 32 MiB and n / 4, 8 700 with n / 2, 4 300
 * with 64 MiB and n / 2. */
#define LARGE_CACHE_BYTES ((size_t)64 << 20)
#define LARGE_CACHE_RUNS 32
static pthread_mutex_t large_lock = PTHREAD_MUTEX_INITIALIZER;
static span_t *large_cache[LARGE_CACHE_RUNS]; /* oldest first */
static unsigned large_cache_n;
static size_t large_cache_pages;

static uint64_t large_cache_oldest(void)
{
    return large_cache_n ? large_cache[0]->sec_kept_ms : UINT64_MAX;
}

static void large_cache_remove(unsigned i)
{
    large_cache_pages -= large_cache[i]->npages;
    large_cache_n--;
    memmove(&large_cache[i], &large_cache[i + 1], (large_cache_n - i) * sizeof large_cache[0]);
}

/* ---- the full level's guard before a large block ---- */

/* A run of npages with one page more in front, PROT_NONE, left out of the
 * span (start and npages describe the block's pages only, as core/large.c
 * expects; the page heap sees the run through its bitmap, not the span, so
 * it frees and resizes the shifted span correctly until head_guard_drop
 * puts the page back) and out of the page map (a fault there is found from
 * the block's first page, fault.c). Large runs of page alignment only: an
 * aligned one, or a huge block, goes without. If the kernel refuses the
 * mprotect, the block goes without and the span keeps the page. */
static span_t *head_guard_take(size_t npages, size_t align_pages)
{
    if (!MITIGATION_ON(large_head_guard) || align_pages != 1)
        return page_heap_alloc(npages, align_pages);
    span_t *s = page_heap_alloc(npages + 1, 1);
    if (s && os_protect(s->start, OS_PAGE_SIZE, false)) {
        s->start += OS_PAGE_SIZE;
        s->npages--;
        s->sec_head = 1;
    }
    return s;
}

/* The run as the page heap gave it, the guard before it accessible: before
 * the run goes back. */
static void head_guard_drop(span_t *s)
{
    if (!MITIGATION_ON(large_head_guard) || !s->sec_head)
        return;
    s->sec_head = 0;
    s->start -= OS_PAGE_SIZE;
    s->npages++;
    os_protect(s->start, OS_PAGE_SIZE, true);
}

span_t *secure_large_take(size_t npages, size_t align_pages)
{
    span_t *s = NULL;
    if (MITIGATION_ON(large_quarantine)) /* a quarantined run is never reused */
        return head_guard_take(npages, align_pages);
    lock_acquire(&large_lock);
    unsigned best = LARGE_CACHE_RUNS;
    size_t most = npages + npages / 2;
    for (unsigned i = 0; i < large_cache_n; i++) {
        span_t *c = large_cache[i];
        if (c->npages >= npages && c->npages <= most &&
            (((uintptr_t)c->start >> OS_PAGE_SHIFT) & (align_pages - 1)) == 0) {
            best = i;
            most = c->npages;
        }
    }
    if (best < LARGE_CACHE_RUNS) {
        s = large_cache[best];
        large_cache_remove(best);
    }
    lock_release(&large_lock);
    if (!s)
        return page_heap_alloc(npages, align_pages);
    page_heap_desc_reuse(s);
    s->sec_guarded = 1;
    return s;
}

/* Give the run back: unprotect its guard (the full level: all of it),
 * return it to the page heap. */
static void large_release(span_t *s)
{
    head_guard_drop(s);
    if (MITIGATION_ON(large_quarantine))
        os_protect(s->start, s->npages << OS_PAGE_SHIFT, true);
    else
        os_protect(secure_guard_page(s), OS_PAGE_SIZE, true);
    page_heap_free(s);
}

/* Keep freed large run s (its page map entries already cleared); evict
 * the oldest past the bounds and whatever is older than decay_ms. The
 * full level (large_quarantine) makes the data pages inaccessible too, so
 * a use after free of a large block faults while its run is kept. */
static void large_keep(span_t *s)
{
    span_t *evicted[LARGE_CACHE_RUNS + 1];
    unsigned ne = 0;
    uint64_t now = os_now_ms(), decay = secure_kept_decay_ms();
    size_t cap = secure_kept_cap_bytes(LARGE_CACHE_BYTES);
    bool kept = decay != 0 && (s->npages << OS_PAGE_SHIFT) <= cap;
    if (kept && MITIGATION_ON(large_quarantine))
        kept = os_protect(s->start, (s->npages - 1) << OS_PAGE_SHIFT, false);
    s->sec_kept_ms = now;
    lock_acquire(&large_lock);
    while (large_cache_n > 0 &&
           (large_cache_n == LARGE_CACHE_RUNS || (large_cache_pages + s->npages) << OS_PAGE_SHIFT > cap ||
            (now >= decay && large_cache_oldest() <= now - decay))) {
        evicted[ne++] = large_cache[0];
        large_cache_remove(0);
    }
    bool first = large_cache_n == 0;
    if (kept) {
        large_cache[large_cache_n++] = s;
        large_cache_pages += s->npages;
    }
    lock_release(&large_lock);
    if (!kept)
        evicted[ne++] = s;
    for (unsigned i = 0; i < ne; i++)
        large_release(evicted[i]);
    if (kept && first)
        secure_kept_started();
}

uint64_t secure_large_decay(uint64_t cutoff)
{
    span_t *evicted[LARGE_CACHE_RUNS];
    unsigned ne = 0;
    lock_acquire(&large_lock);
    while (large_cache_n > 0 && large_cache_oldest() <= cutoff) {
        evicted[ne++] = large_cache[0];
        large_cache_remove(0);
    }
    uint64_t oldest = large_cache_oldest();
    lock_release(&large_lock);
    for (unsigned i = 0; i < ne; i++)
        large_release(evicted[i]);
    return oldest;
}

bool secure_large_was_freed(const void *p, size_t *bytes)
{
    bool found = false;
    lock_acquire(&large_lock);
    for (unsigned i = 0; i < large_cache_n && !found; i++) {
        if (large_cache[i]->start == p) {
            *bytes = secure_large_data_bytes(large_cache[i]);
            found = true;
        }
    }
    lock_release(&large_lock);
    return found;
}

/* The signal handler's view (no lock: reads only): the kept run holding
 * addr, freed, or NULL. */
const span_t *secure_large_kept_at(const void *addr)
{
    for (unsigned i = 0; i < large_cache_n && i < LARGE_CACHE_RUNS; i++) {
        const span_t *c = large_cache[i];
        if ((const char *)addr >= c->start && (const char *)addr < c->start + (c->npages << OS_PAGE_SHIFT))
            return c;
    }
    return NULL;
}

/* malloc_trim, tide_purge: give every kept large run back. */
void secure_large_trim(void)
{
    secure_large_decay(UINT64_MAX);
}

void secure_large_fork_lock(void)
{
    pthread_mutex_lock(&large_lock);
}

void secure_large_fork_unlock(void)
{
    pthread_mutex_unlock(&large_lock);
}

/* ---- the guard of a live block ---- */

void secure_large_guard(span_t *s, void *p)
{
    char *guard = (char *)p + secure_large_data_bytes(s);
    if (!s->sec_guarded) /* a kept run's guard is still in place */
        s->sec_guarded = os_protect(guard, OS_PAGE_SIZE, false);
    pagemap_set(guard, 1, s); /* so that a fault there finds the block */
}

void secure_large_free(span_t *s, void *p, const char *call)
{
    char *guard = (char *)p + secure_large_data_bytes(s);
    if (guard != s->start)
        pagemap_set(guard, 1, &span_none);
    if (s->kind == SPAN_LARGE && s->sec_guarded && !s->prof) {
        pagemap_set(s->start, 1, &span_none); /* a second free finds nothing */
        large_keep(s);
        return;
    }
    os_protect(guard, OS_PAGE_SIZE, true);
    if (MITIGATION_ON(large_head_guard) && s->sec_head) {
        pagemap_set(p, 1, &span_none); /* large_free clears the run's first page only */
        head_guard_drop(s);
        p = s->start;
    }
    large_free(s, p, call);
}

/* The guard at guard leaves: out of the page map, accessible. */
static void guard_remove(char *guard)
{
    pagemap_set(guard, 1, &span_none);
    os_protect(guard, OS_PAGE_SIZE, true);
}

/* The guard at the end of the block at start, as the run now is. */
static void guard_place(span_t *s, char *start)
{
    char *guard = start + secure_large_data_bytes(s);
    s->sec_guarded = os_protect(guard, OS_PAGE_SIZE, false);
    pagemap_set(guard, 1, s);
}

void *secure_large_resize(span_t *s, void *p, size_t size, size_t target)
{
    if (target > (size_t)PTRDIFF_MAX - ((size_t)1 << 30))
        return NULL; /* impossible: the move fails with ENOMEM */
    char *guard = (char *)p + secure_large_data_bytes(s);
    size_t old = s->sec_size, kept = old < size ? old : size;
    size_t padded = ((target + OS_PAGE_SIZE - 1) & ~(OS_PAGE_SIZE - 1)) + OS_PAGE_SIZE;
    if (s->kind == SPAN_LARGE && (padded >> OS_PAGE_SHIFT) > s->npages) {
        /* Growing a page run leaves its memory alone, so the guard moves
         * only once the run has grown: a resize that fails (the next pages
         * are taken, often) costs no mprotect. */
        if (!large_resize(s, p, padded))
            return NULL;
        guard_remove(guard);
        secure_record(s, p, size, true, kept);
        guard_place(s, p);
        return p;
    }
    /* Shrinking (the freed tail must be accessible) and huge blocks
     * (mremap moves one mapping, not a split one): unprotect first. */
    guard_remove(guard);
    void *q = large_resize(s, p, padded);
    if (q)
        secure_record(s, q, size, true, kept);
    guard_place(s, q ? q : p);
    return q;
}
