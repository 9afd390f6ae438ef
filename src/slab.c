#include "slab.h"

#include <stdint.h>

#include "os.h"
#include "page_heap.h"
#include "pagemap.h"
#include "prof_internal.h"
#include "report.h"
#if TIDE_SECURE
#include "secure.h"
#endif

/* ---- current slab and bins ---- */

static void set_current(heap_t *h, unsigned cls, span_t *s)
{
    h->cur[cls] = s;
    uint32_t bs = sc_block_size[cls];
    if (bs <= SC_DIRECT_MAX) {
        uint32_t prev = cls ? sc_block_size[cls - 1] : 0;
        for (uint32_t i = cls ? prev / 16 + 1 : 0; i <= bs / 16; i++)
            h->direct[i] = s;
    }
}

static unsigned bin_of(const span_t *s)
{
    /* bin 0 holds slabs at least 3/4 used: allocate there first, so the
     * sparse slabs drain and go back to the page heap. */
    unsigned quarter = (unsigned)(((uint64_t)s->used * 4) / s->reserved);
    return quarter >= 3 ? 0 : 3 - quarter;
}

static void bin_insert(heap_t *h, span_t *s)
{
    unsigned b = bin_of(s);
    span_t **head = &h->partial[s->class_idx][b];
    s->bin = (uint8_t)b;
    s->prev = NULL;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
}

static void bin_remove(heap_t *h, span_t *s)
{
    if (s->bin == SPAN_NO_BIN)
        return;
    if (s->prev)
        s->prev->next = s->next;
    else
        h->partial[s->class_idx][s->bin] = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
    s->bin = SPAN_NO_BIN;
}

static span_t *bin_take(heap_t *h, unsigned cls)
{
    for (unsigned b = 0; b < PARTIAL_BINS; b++) {
        span_t *s = h->partial[cls][b];
        if (s) {
            bin_remove(h, s);
            return s;
        }
    }
    return NULL;
}

/* ---- slab lifecycle ---- */

static void slab_release(span_t *s)
{
#if TIDE_SECURE
    if (secure_slab_release(s)) /* kept, guard page and all, for slab_new */
        return;
    pagemap_set(s->start, s->npages, &span_none);
    page_heap_free(s); /* secure_slab_alloc has a cache of its own */
#else
    page_heap_free_slab(s);
#endif
}

/* Carve the next OS page's worth of blocks onto the free list, so a new slab
 * only becomes resident as it is used. */
static void slab_extend(span_t *s)
{
    uint32_t bs = s->block_size;
    uint32_t n = (uint32_t)(OS_PAGE_SIZE / bs);
    if (n == 0)
        n = 1;
    if (n > s->reserved - s->capacity)
        n = s->reserved - s->capacity;
    char *first = s->start + (size_t)s->capacity * bs;
#if TIDE_SECURE
    secure_carve(s, first, n); /* the same blocks, linked in random order */
#else
    char *p = first;
    for (uint32_t i = 1; i < n; i++, p += bs)
        ((block_t *)p)->next = (block_t *)(p + bs);
    ((block_t *)p)->next = s->free;
    s->free = (block_t *)first;
#endif
    s->capacity += n;
}

static span_t *slab_new(heap_t *h, unsigned cls)
{
#if TIDE_SECURE
    span_t *s = secure_slab_alloc(sc_slab_pages[cls] + SECURE_SLAB_GUARD_PAGES); /* + a guard page */
    bool mapped = false;
#else
    bool mapped;
    span_t *s = page_heap_alloc_slab(sc_slab_pages[cls], &mapped);
#endif
    if (!s)
        return NULL;
    s->kind = SPAN_SMALL;
    s->class_idx = (uint8_t)cls;
    s->block_size = sc_block_size[cls];
    s->div_magic = UINT64_MAX / s->block_size + 1;
    s->div_limit = s->div_magic;
    s->start_magic = (uint64_t)(uintptr_t)s->start * s->div_magic;
    s->reserved = (uint32_t)((s->npages << OS_PAGE_SHIFT) / s->block_size);
    s->owner = h;
    span_set_owner_fast(s, h->key);
    if (!mapped && !pagemap_set(s->start, s->npages, s)) {
        page_heap_free(s);
        return NULL;
    }
#if TIDE_SECURE
    if (!secure_slab_init(s)) {
        slab_release(s);
        return NULL;
    }
#endif
    return s; /* slab_alloc carves the first page (and charges it) */
}

/* Move the blocks other threads freed into s onto `*into`; returns how many. */
static uint32_t take_remote(span_t *s, block_t **into, bool clear_queued)
{
    uintptr_t tf;
    if (clear_queued) {
        /* acq_rel: the owner's read of pending_next (before this) must
         * happen before a later freer's write of it (after its CAS sees
         * the queued bit clear). */
        tf = atomic_exchange_explicit(&s->thread_free, 0, memory_order_acq_rel);
    } else {
        /* Not ours to clear the queued bit: the slab is (or is about to be)
         * on the pending list. */
        tf = atomic_load_explicit(&s->thread_free, memory_order_relaxed);
        do {
            if ((tf & ~(uintptr_t)1) == 0)
                return 0;
        } while (!atomic_compare_exchange_weak_explicit(&s->thread_free, &tf, tf & 1,
                                                        memory_order_acquire, memory_order_relaxed));
    }
    block_t *list = (block_t *)(tf & ~(uintptr_t)1);
    if (!list)
        return 0;
    uint32_t n = 1;
    block_t *tail = list;
    while (block_next(tail)) {
        tail = block_next(tail);
        n++;
    }
    block_set_next(tail, *into);
    *into = list;
    s->used -= n;
    return n;
}

static bool is_current(const heap_t *h, const span_t *s)
{
    return h->cur[s->class_idx] == s;
}

/* After blocks came home to s (not current): release it if empty, or make a
 * full slab available again. */
static void slab_settle(heap_t *h, span_t *s)
{
    if (is_current(h, s))
        return;
    if (s->used == 0) {
        if (atomic_load_explicit(&s->thread_free, memory_order_relaxed) & 1)
            return; /* still queued: settled again when collected */
        bin_remove(h, s);
        /* Keep one empty slab per class: a class whose slabs fill and
         * empty in turn would otherwise trade pages with the page heap. */
        span_t **spare = &h->spare[s->class_idx];
        if (*spare == NULL && h->state == HEAP_ACTIVE) {
            span_set_owner_fast(s, h->key);
            *spare = s;
        } else {
            slab_release(s);
        }
    } else if (span_owner_fast(s) == 0) {
        span_set_owner_fast(s, h->key);
        bin_insert(h, s);
    }
}

void slab_collect_pending(heap_t *h)
{
    span_t *s = atomic_exchange_explicit(&h->pending, NULL, memory_order_acquire);
    while (s) {
        span_t *next = s->pending_next;
        take_remote(s, &s->local_free, true);
        slab_settle(h, s);
        s = next;
    }
}

/* Sampling without touching the fast path: s->free has just been given n
 * fresh blocks; charge them all to the sampling budget now. If the next
 * sample point falls inside block i, keep blocks 0..i-1 on s->free and park
 * the rest on s->prof_rest: the allocation that finds s->free empty and the
 * rest parked is the sample (slab_sample_due). */
static void slab_charge(heap_t *h, span_t *s, uint32_t n)
{
    uint64_t bytes = (uint64_t)n * s->block_size;
    prof_count_bytes(bytes);
    if (h->prof_budget <= 0)
        h->prof_budget = prof_next_interval(h);
    if ((uint64_t)h->prof_budget > bytes) {
        h->prof_budget -= (int64_t)bytes;
        return;
    }
    uint32_t i = (uint32_t)(((uint64_t)h->prof_budget + s->block_size - 1) / s->block_size) - 1;
    if (i == 0) {
        s->prof_rest = s->free;
        s->free = NULL;
    } else {
        block_t *last = s->free;
        for (uint32_t k = 1; k < i; k++)
            last = block_next(last);
        s->prof_rest = block_next(last);
        block_set_next(last, NULL);
    }
    s->prof_rest_n = n - i;
    h->prof_budget = prof_next_interval(h); /* the next point, after block i */
}

static void *slab_sample_due(heap_t *h, span_t *s)
{
    /* The sampled allocation is served elsewhere; block i goes back on the
     * list and is charged again as the next allocation. */
    s->free = s->prof_rest;
    s->prof_rest = NULL;
    slab_charge(h, s, s->prof_rest_n);
    return SLAB_SAMPLE;
}

void *slab_alloc_unsampled(heap_t *h, unsigned cls)
{
    span_t *s = h->cur[cls];
    block_t *b;
    if (s->free) {
        b = s->free;
        s->free = block_next(b);
    } else {
        /* The next sample point moves on to the next block. */
        b = s->prof_rest;
        s->prof_rest = block_next(b);
        s->prof_rest_n--;
    }
    s->used++;
    return b;
}

/* Put a parked rest back where the slab's other free blocks are. */
static void slab_unpark(span_t *s)
{
    block_t *rest = s->prof_rest;
    if (!rest)
        return;
    block_t *tail = rest;
    while (block_next(tail))
        tail = block_next(tail);
    block_set_next(tail, s->local_free);
    s->local_free = rest;
    s->prof_rest = NULL;
}

void *slab_alloc(heap_t *h, unsigned cls)
{
    span_t *s = h->cur[cls];
    for (;;) {
        if (s != &span_none) {
            if (s->free)
                break;
            if (s->prof_rest)
                return slab_sample_due(h, s);
            bool refilled = true;
            if (s->local_free) {
                s->free = s->local_free;
                s->local_free = NULL;
                /* A trickle of frees would send every malloc here: while
                 * the slab has uncarved room, take a page's worth too. */
                if (s->capacity - s->used < 16 && s->capacity < s->reserved)
                    slab_extend(s);
            } else if (!take_remote(s, &s->free, false)) {
                if (s->capacity < s->reserved)
                    slab_extend(s);
                else
                    refilled = false;
            }
            if (refilled) {
                /* Every free block of the slab is now on s->free. */
                if (prof_sampling())
                    slab_charge(h, s, s->capacity - s->used);
                continue;
            }
            span_set_owner_fast(s, 0); /* full: its next free takes the slow path */
            set_current(h, cls, &span_none);
        }
        slab_collect_pending(h);
        s = bin_take(h, cls);
        if (!s && (s = h->spare[cls]) != NULL)
            h->spare[cls] = NULL;
        if (!s && !(s = slab_new(h, cls)))
            return NULL;
        set_current(h, cls, s);
    }
    block_t *b = s->free;
    s->free = block_next(b);
    s->used++;
    return b;
}

void slab_on_empty(span_t *s)
{
    /* The owner test passed on the thread key; s->owner differs only for a
     * slab of a heap whose thread is gone without its exit hook running
     * (another thread now has its thread pointer): leave that heap alone. */
    heap_t *h = heap_get();
    if (s->owner == h)
        slab_settle(h, s);
}

void slab_rekey(heap_t *h, uintptr_t key)
{
    h->key = key;
    for (unsigned cls = 0; cls < SC_COUNT; cls++)
        for (unsigned b = 0; b < PARTIAL_BINS; b++)
            for (span_t *s = h->partial[cls][b]; s; s = s->next)
                span_set_owner_fast(s, key);
}

static void check_block(const span_t *s, const void *p, const char *call)
{
    size_t off = (size_t)((const char *)p - s->start);
    if (off % s->block_size != 0)
        report_misuse(call, p, "pointer is inside a block, not at its start");
}

void slab_free_slow(heap_t *h, span_t *s, void *p, const char *call)
{
    check_block(s, p, call);
    block_t *b = p;
    if (s->owner == h) {
        if (b == s->local_free || b == s->free)
            report_misuse(call, p, "double free (block is already free)");
        block_set_next(b, s->local_free);
        s->local_free = b;
        s->used--;
        slab_settle(h, s);
        return;
    }
    /* Another thread's slab: one CAS onto its remote list. s->owner is read
     * while our block still pins the slab. */
    heap_t *owner = s->owner;
    uintptr_t old = atomic_load_explicit(&s->thread_free, memory_order_relaxed);
    do {
        if ((block_t *)(old & ~(uintptr_t)1) == b)
            report_misuse(call, p, "double free (block is already free)");
        block_set_next(b, (block_t *)(old & ~(uintptr_t)1));
    } while (!atomic_compare_exchange_weak_explicit(&s->thread_free, &old, (uintptr_t)b | 1,
                                                    memory_order_acq_rel, memory_order_relaxed));
    if (!(old & 1)) {
        /* First remote free since the owner last looked: queue the slab. */
        span_t *top = atomic_load_explicit(&owner->pending, memory_order_relaxed);
        do {
            s->pending_next = top;
        } while (!atomic_compare_exchange_weak_explicit(&owner->pending, &top, s,
                                                        memory_order_release, memory_order_relaxed));
    }
}

void slab_release_spares(heap_t *h)
{
    for (unsigned cls = 0; cls < SC_COUNT; cls++) {
        if (h->spare[cls]) {
            slab_release(h->spare[cls]);
            h->spare[cls] = NULL;
        }
    }
}

void slab_detach_all(heap_t *h)
{
    slab_collect_pending(h);
    slab_release_spares(h);
    for (unsigned cls = 0; cls < SC_COUNT; cls++) {
        span_t *s = h->cur[cls];
        if (s == &span_none)
            continue;
        set_current(h, cls, &span_none);
        slab_unpark(s);
        bool available = s->free || s->local_free || s->capacity < s->reserved;
        span_set_owner_fast(s, 0); /* as if full; settling bins or releases it */
        if (s->used == 0 || available)
            slab_settle(h, s);
    }
}
