/* secure_slab — what a slab carries in the hardened build: its per-block
 * state array and its guard page, and the empty slabs kept with the guard
 * still in place (TIDE_SECURE=1 only).
 *
 * Owns the state arrays (recycled by size) and the kept slabs. Invariants:
 *  - a slab in use has a state array (span.sec_state) of at least
 *    `reserved` entries, zeroed when the slab was set up, so every block
 *    starts free: an entry is 0 while its block is free and the requested
 *    size + 1 while it is in use (checks.c, secure_fast.h);
 *  - sec_size != 0 on a slab means its last page, which holds no block,
 *    has been made PROT_NONE (or the kernel refused: the slab then goes
 *    unguarded, flagged all the same); it stays so while the slab is in use
 *    or kept, and is made accessible again before its pages go back to the
 *    page heap, which may hand them out as anything;
 *  - a kept slab is in no page map entry (a free into it is not ours), and
 *    its state array has gone back to the recycling; it is kept at most
 *    decay_ms (secure_decay.c).
 * The state arrays live outside the slab's pages, so no overflow from a
 * block can reach them.
 */
#ifndef TIDE_SECURE
#define TIDE_SECURE 1 /* this file is only part of the hardened build */
#endif
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "core/meta.h"
#include "platform/lock.h"
#include "core/page_heap.h"
#include "core/pagemap.h"
#include "platform/os.h"
#include "secure_internal.h"

/* ---- per-block state arrays, recycled by size ---- */

#define STATE_BUCKETS 8 /* 64 B .. 8 KiB: 4096 blocks of 16 B */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static void *state_free[STATE_BUCKETS];

static unsigned state_bucket(uint32_t blocks)
{
    size_t bytes = (size_t)blocks * sizeof(uint16_t);
    unsigned b = 0;
    while (((size_t)64 << b) < bytes)
        b++;
    return b;
}

static void state_put(span_t *s)
{
    if (!s->sec_state)
        return;
    unsigned b = state_bucket(s->reserved);
    lock_acquire(&state_lock);
    *(void **)s->sec_state = state_free[b];
    state_free[b] = s->sec_state;
    lock_release(&state_lock);
    s->sec_state = NULL;
}

bool secure_slab_init(span_t *s)
{
    secure_init();
    /* The last page is the guard: no block in it. */
    s->reserved = (uint32_t)(((s->npages - SECURE_SLAB_GUARD_PAGES) << OS_PAGE_SHIFT) / s->block_size);
    unsigned b = state_bucket(s->reserved);
    if (b >= STATE_BUCKETS)
        return false;
    lock_acquire(&state_lock);
    void *st = state_free[b];
    if (st)
        state_free[b] = *(void **)st;
    lock_release(&state_lock);
    if (st)
        memset(st, 0, (size_t)64 << b);
    else if (!(st = meta_alloc((size_t)64 << b)))
        return false;
    s->sec_state = st;
    s->sec_countdown = secure_sample_phase();
    /* If the kernel refuses (too many mappings), the slab goes unguarded. */
    if (!s->sec_size)
        os_protect(secure_guard_page(s), OS_PAGE_SIZE, false);
    s->sec_size = 1;
    return true;
}

/* ---- kept empty slabs, guard in place ---- */

/* Empty slabs, guard page still in place, kept by page count: classes
 * whose slabs fill and empty in turn would otherwise pay two mprotect
 * calls (and a split and a merge of the mapping) per cycle. At most
 * SLAB_CACHE_BYTES (and half the dirty cap) in all, each for at most
 * decay_ms (secure_decay.c): the kept memory goes back to the page heap,
 * and so to the decay policy, like any freed page. sh6bench (the bench's
 * defaults): 7 000 mprotect calls for slab guards with 16 MiB, 2 300 with
 * 64 MiB. */
#define SLAB_CACHE_BYTES ((size_t)64 << 20)
#define SLAB_CACHE_PAGES 18
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static span_t *slab_cache[SLAB_CACHE_PAGES]; /* newest first */
static size_t slab_cache_pages;
static uint64_t slab_cache_oldest = UINT64_MAX; /* at most the oldest keep time */

/* The kept slab of npages pages taken off its list, or NULL. */
static span_t *slab_cache_take(size_t npages)
{
    lock_acquire(&cache_lock);
    span_t *s = slab_cache[npages];
    if (s) {
        slab_cache[npages] = s->next;
        slab_cache_pages -= npages;
    }
    lock_release(&cache_lock);
    return s;
}

span_t *secure_slab_alloc(size_t npages)
{
    span_t *s = NULL;
    if (npages < SLAB_CACHE_PAGES)
        s = slab_cache_take(npages);
    if (!s)
        return page_heap_alloc(npages, 1);
    page_heap_desc_reuse(s);
    s->sec_size = 1; /* guard in place */
    return s;
}

/* Unprotect kept slab s's guard and give it to the page heap. */
static void slab_give_back(span_t *s)
{
    os_protect(secure_guard_page(s), OS_PAGE_SIZE, true);
    page_heap_free(s);
}

/* Under cache_lock: unlink the slabs kept at or before cutoff onto *out;
 * recompute the oldest keep time. */
static void slab_cache_expire_locked(uint64_t cutoff, span_t **out)
{
    uint64_t oldest = UINT64_MAX;
    for (size_t n = 0; n < SLAB_CACHE_PAGES; n++) {
        for (span_t **pp = &slab_cache[n]; *pp;) {
            span_t *s = *pp;
            if (s->sec_kept_ms <= cutoff) {
                *pp = s->next;
                slab_cache_pages -= n;
                s->next = *out;
                *out = s;
            } else {
                if (s->sec_kept_ms < oldest)
                    oldest = s->sec_kept_ms;
                pp = &s->next;
            }
        }
    }
    slab_cache_oldest = oldest;
}

static void slab_give_back_all(span_t *list)
{
    while (list) {
        span_t *next = list->next;
        slab_give_back(list);
        list = next;
    }
}

uint64_t secure_slab_decay(uint64_t cutoff)
{
    span_t *expired = NULL;
    lock_acquire(&cache_lock);
    if (slab_cache_oldest <= cutoff)
        slab_cache_expire_locked(cutoff, &expired);
    uint64_t oldest = slab_cache_pages ? slab_cache_oldest : UINT64_MAX;
    lock_release(&cache_lock);
    slab_give_back_all(expired);
    return oldest;
}

bool secure_slab_release(span_t *s)
{
    state_put(s);
    uint64_t decay = secure_kept_decay_ms();
    if (s->sec_size && s->npages < SLAB_CACHE_PAGES && decay != 0) {
        uint64_t now = os_now_ms();
        span_t *expired = NULL;
        bool kept = false, first = false;
        lock_acquire(&cache_lock);
        if (now >= decay && slab_cache_oldest <= now - decay)
            slab_cache_expire_locked(now - decay, &expired);
        if ((slab_cache_pages + s->npages) << OS_PAGE_SHIFT <= secure_kept_cap_bytes(SLAB_CACHE_BYTES)) {
            first = slab_cache_pages == 0;
            pagemap_set(s->start, s->npages, &span_none);
            s->sec_kept_ms = now;
            s->next = slab_cache[s->npages];
            slab_cache[s->npages] = s;
            slab_cache_pages += s->npages;
            if (now < slab_cache_oldest)
                slab_cache_oldest = now;
            kept = true;
        }
        lock_release(&cache_lock);
        slab_give_back_all(expired);
        if (first)
            secure_kept_started();
        if (kept)
            return true;
    }
    if (s->sec_size)
        os_protect(secure_guard_page(s), OS_PAGE_SIZE, true);
    return false;
}

/* malloc_trim, tide_purge: give every kept slab back. */
void secure_slab_trim(void)
{
    span_t *all = NULL;
    lock_acquire(&cache_lock);
    slab_cache_expire_locked(UINT64_MAX, &all);
    lock_release(&cache_lock);
    slab_give_back_all(all);
}

void secure_slab_fork_lock(void)
{
    pthread_mutex_lock(&cache_lock);
    pthread_mutex_lock(&state_lock);
}

void secure_slab_fork_unlock(void)
{
    pthread_mutex_unlock(&state_lock);
    pthread_mutex_unlock(&cache_lock);
}
