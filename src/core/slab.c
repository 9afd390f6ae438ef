/* slab — serving blocks of one size class from a span: the current slab and
 * partial bins of a heap, carving pages lazily, local and remote free
 * lists, batched remote frees, and releasing slabs that emptied.
 *
 * The slab invariants are stated once, above span_t in span.h; the TIDE_DEBUG
 * build checks them here (validate_slab, validate_class) on the slow paths.
 */
#include "slab.h"

#include <stdint.h>

#include <mitigation_hooks.h>

#include "debug.h"
#include "page_heap.h"
#include "pagemap.h"
#include "platform/os.h"
#include "platform/report.h"

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

/* A bin is a queue: slabs join at the tail and are taken from the head.
 * A slab joins its bin when its first block comes back (from full) and then
 * gathers frees on the fast path without moving, so the oldest member of a
 * bin has had the longest to gather them: taking it gives the refill the
 * most blocks. (Taking the newest, a stack, gave a slab that had just got
 * its first block back: larson's random replacement refilled every 4
 * blocks.) */
static void bin_insert(heap_t *h, span_t *s)
{
    unsigned b = bin_of(s);
    unsigned cls = s->class_idx;
    span_t **tail = &h->partial_tail[cls][b];
    s->bin = (uint8_t)b;
    s->next = NULL;
    s->prev = *tail;
    if (*tail)
        (*tail)->next = s;
    else
        h->partial[cls][b] = s;
    *tail = s;
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
    else
        h->partial_tail[s->class_idx][s->bin] = s->prev;
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

/* ---- validation (TIDE_DEBUG) ---- */

/* The blocks on one of s's lists, each checked to be a carved block start
 * of s; stops (and fails) past s->capacity, so a cycle cannot hang it. */
static uint32_t list_length(const span_t *s, const block_t *b)
{
    uint32_t n = 0;
    for (; b; b = block_next(b)) {
        uint64_t off = (uint64_t)((const char *)b - s->start);
        DEBUG_REQUIRE(off < (uint64_t)s->capacity * s->block_size && off % s->block_size == 0,
                      "a free-list block is a carved block start of its slab");
        DEBUG_REQUIRE(++n <= s->capacity, "a slab's free lists hold no more blocks than it carved");
    }
    return n;
}

/* By the owner: every carved block is handed out (counted in used, which
 * also counts blocks freed remotely and not yet collected) or on exactly
 * one of free, local_free and the sampler's parked rest. */
static void validate_slab(const span_t *s)
{
    DEBUG_REQUIRE(s->kind == SPAN_SMALL && s->block_size == sc_block_size[s->class_idx], "a slab serves its class");
    DEBUG_REQUIRE(s->capacity <= s->reserved, "a slab carves no more than it holds");
    uint32_t home = list_length(s, s->free) + list_length(s, s->local_free) + list_length(s, s->prof_rest);
    DEBUG_REQUIRE(s->used + home == s->capacity, "used + free blocks = carved blocks");
    if (s->prof_rest)
        DEBUG_REQUIRE(list_length(s, s->prof_rest) == s->prof_rest_n, "the parked rest holds prof_rest_n blocks");
}

/* By the owner, for class cls: the current slab and every binned slab
 * belong to h and to cls; a binned slab is on the list its bin field names,
 * linked both ways, and is not current. */
static void validate_class(const heap_t *h, unsigned cls)
{
    const span_t *cur = h->cur[cls];
    if (cur != &span_none) {
        DEBUG_REQUIRE(cur->owner == h && cur->class_idx == cls, "a current slab is its heap's and class's");
        validate_slab(cur);
    }
    for (unsigned b = 0; b < PARTIAL_BINS; b++) {
        const span_t *prev = NULL;
        for (const span_t *s = h->partial[cls][b]; s; prev = s, s = s->next) {
            DEBUG_REQUIRE(s->owner == h && s->class_idx == cls && s->bin == b,
                          "a binned slab is its heap's, of its class, in the bin it names");
            DEBUG_REQUIRE(s->prev == prev, "partial-bin links agree both ways");
            DEBUG_REQUIRE(s != cur, "a current slab is in no bin");
            validate_slab(s);
        }
        DEBUG_REQUIRE(h->partial_tail[cls][b] == prev, "a bin's tail is its last slab");
    }
    if (h->spare[cls])
        DEBUG_REQUIRE(h->spare[cls]->used == 0 && h->spare[cls]->class_idx == cls, "a spare slab is empty");
}

/* ---- slab lifecycle ---- */

static void slab_release(span_t *s)
{
    if (mitigation_slab_release(s))
        return;
    page_heap_free_slab(s);
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
    if (!mitigation_slab_carve(s, first, n)) {
        char *p = first;
        for (uint32_t i = 1; i < n; i++, p += bs)
            ((block_t *)p)->next = (block_t *)(p + bs);
        ((block_t *)p)->next = s->free;
        s->free = (block_t *)first;
    }
    s->capacity += n;
}

static span_t *slab_new(heap_t *h, unsigned cls)
{
    bool mapped;
    span_t *s = mitigation_slab_alloc(h->central ? sc_arena_slab_pages(cls) : sc_slab_pages[cls], &mapped);
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
    if (!mitigation_slab_init(s)) {
        slab_release(s);
        return NULL;
    }
    return s; /* slab_alloc carves the first page (and charges it) */
}

/* A chain pushed onto thread_free carries, in its head block's second word
 * (every block is at least 16 bytes), its tail and its length: tail | n <<
 * 48 (user addresses fit in 47 bits; a chain is at most REMOTE_BATCH_MAX
 * blocks). Written by remote_push before its CAS publishes the chain, read
 * by take_remote after the exchange or CAS that took it. */
#define CHAIN_LEN_SHIFT 48
#define CHAIN_TAIL_MASK (((uintptr_t)1 << CHAIN_LEN_SHIFT) - 1)

static inline uintptr_t chain_info(const block_t *head)
{
    return ((const uintptr_t *)head)[1];
}

static inline void chain_set_info(block_t *head, block_t *tail, uint32_t n)
{
    ((uintptr_t *)head)[1] = (uintptr_t)tail | ((uintptr_t)n << CHAIN_LEN_SHIFT);
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
    /* The list is the pushed chains one after another; each chain's head
     * names its tail and length (chain_info), so the count costs two
     * blocks per chain, not a walk over every block: these blocks were
     * last written on the freeing thread's core, and a walk would wait
     * for each in turn. */
    uint32_t n = 0;
    block_t *tail;
    for (block_t *head = list;; head = block_next(tail)) {
        uintptr_t info = chain_info(head);
        tail = (block_t *)(info & CHAIN_TAIL_MASK);
        n += (uint32_t)(info >> CHAIN_LEN_SHIFT);
        if (!block_next(tail))
            break;
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

/* The heap profiler's sampler, while sampling is on (prof/sampler.c). */
void (*slab_sample_hook)(heap_t *h, span_t *s, uint32_t n);

/* s->free has just been given n fresh blocks: the sampler charges them to
 * the thread's byte budget and, when the next sample point falls among
 * them, cuts the list there and parks the rest on s->prof_rest. */
static inline void slab_charge(heap_t *h, span_t *s, uint32_t n)
{
    void (*charge)(heap_t *, span_t *, uint32_t) = __atomic_load_n(&slab_sample_hook, __ATOMIC_RELAXED);
    /* An arena's blocks are charged as each is handed out (api/alloc.c). */
    if (charge && !h->central)
        charge(h, s, n);
}

/* The allocation that finds s->free empty and a rest parked is the sample:
 * it is served elsewhere; block i goes back on the list and is charged
 * again as the next allocation. */
static void *slab_sample_due(heap_t *h, span_t *s)
{
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
                if (TIDE_DEBUG)
                    validate_slab(s);
                /* Every free block of the slab is now on s->free. */
                slab_charge(h, s, s->capacity - s->used);
                continue;
            }
            span_set_owner_fast(s, 0); /* full: its next free takes the slow path */
            set_current(h, cls, &span_none);
        }
        /* Our own slab ran dry: a good moment to hand back what we hold of
         * other threads' slabs too, so a thread that both frees remotely
         * and allocates never sits on its batches for long. */
        if (h->remote_used)
            slab_flush_remote(h);
        slab_collect_pending(h);
        s = bin_take(h, cls);
        if (!s && (s = h->spare[cls]) != NULL)
            h->spare[cls] = NULL;
        if (!s && !(s = slab_new(h, cls)))
            return NULL;
        set_current(h, cls, s);
        if (TIDE_DEBUG)
            validate_class(h, cls);
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
    if (s->owner != h)
        return;
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

/* ---- remote frees ----
 *
 * A block freed by a thread other than its slab's owner goes onto the slab's
 * thread_free list with one CAS. That CAS, and the one on the owner's pending
 * list that follows the first remote free since the owner looked, move a
 * cache line between cores on every free: what producer/consumer programs
 * pay for. So the freeing thread keeps, per slab (a direct-mapped table of
 * REMOTE_SLOTS), a chain of the blocks it freed there, and pushes the whole
 * chain with one CAS when it reaches REMOTE_BATCH_MAX blocks, when another
 * slab needs its table slot, when the thread refills a slab of its own (its
 * slow path), when it exits, and on tide_purge: never more than one atomic
 * operation per free, and no lock.
 *
 * A parked block still counts in its slab's `used`, as one waiting on
 * thread_free does: the slab stays live in the stats and is never released
 * while it holds parked blocks. What a thread can hold back is bounded:
 * fewer than REMOTE_BATCH_MAX blocks in each of at most REMOTE_SLOTS slabs
 * (a thread that stops calling the allocator keeps them until it exits). */

/* Hand the chain head..tail (n blocks of s) to s's owner: one CAS, plus the
 * push onto the owner's pending list if the slab was not queued yet.
 * s->owner is read while our blocks still pin the slab. */
static void remote_push(span_t *s, block_t *head, block_t *tail, uint32_t n, const char *call)
{
    heap_t *owner = s->owner;
    chain_set_info(head, tail, n);
    uintptr_t old = atomic_load_explicit(&s->thread_free, memory_order_relaxed);
    do {
        if ((block_t *)(old & ~(uintptr_t)1) == head)
            report_misuse(call, head, "double free (block is already free)");
        block_set_next(tail, (block_t *)(old & ~(uintptr_t)1));
    } while (!atomic_compare_exchange_weak_explicit(&s->thread_free, &old, (uintptr_t)head | 1,
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

/* Span descriptors come from meta memory in arrays (page_heap.c), so
 * consecutive descriptors take consecutive slots: the slabs a thread frees
 * into at one time rarely collide, as they would under a hash. */
static inline unsigned remote_slot(const span_t *s)
{
    return (unsigned)((uintptr_t)s / sizeof(span_t)) & (REMOTE_SLOTS - 1);
}

__attribute__((noinline)) static void remote_flush_one(heap_t *h, remote_batch_t *e)
{
    remote_push(e->span, e->head, e->tail, e->n, "free");
    e->span = NULL;
    e->head = e->tail = NULL;
    e->n = 0;
    h->remote_used &= ~((uint64_t)1 << (e - h->remote));
}

void slab_flush_remote(heap_t *h)
{
    while (h->remote_used) {
        unsigned i = (unsigned)__builtin_ctzll(h->remote_used);
        remote_flush_one(h, &h->remote[i]);
    }
}

/* Start a chain for s in slot e, flushing the chain of the slab that had
 * it. Out of line: the common remote free adds to an existing chain. */
__attribute__((noinline)) static void remote_start(heap_t *h, remote_batch_t *e, span_t *s, block_t *b)
{
    if (e->span)
        remote_flush_one(h, e);
    block_set_next(b, NULL);
    e->span = s;
    e->head = e->tail = b;
    e->n = 1;
    h->remote_used |= (uint64_t)1 << (e - h->remote);
}

/* A remote free by a thread with no heap to batch in: one that has not
 * allocated yet gets one (once: after this its frees batch), one past its
 * exit hook pushes the block alone. */
__attribute__((noinline)) static void remote_free_unbatched(heap_t *h, span_t *s, block_t *b,
                                                           const char *call)
{
    if (h == &heap_empty && (h = heap_thread_init()) != NULL && h->state == HEAP_ACTIVE) {
        remote_start(h, &h->remote[remote_slot(s)], s, b);
        return;
    }
    remote_push(s, b, b, 1, call);
}

void slab_free_slow(heap_t *h, span_t *s, void *p, const char *call)
{
    if (!span_is_block_start(s, p))
        report_misuse(call, p, "pointer is inside a block, not at its start");
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
    /* Another thread's slab: into our chain for it (see "remote frees"). */
    if (__builtin_expect(h->state != HEAP_ACTIVE, 0)) {
        remote_free_unbatched(h, s, b, call);
        return;
    }
    /* Unless its owner is dead (an orphan, until a new thread adopts it):
     * nothing allocates there, so a chain would save no contention and only
     * keep the slab pinned; free straight onto it. s->owner is read while
     * our block pins the slab. */
    if (__builtin_expect(__atomic_load_n(&s->owner->state, __ATOMIC_RELAXED) != HEAP_ACTIVE, 0)) {
        remote_push(s, b, b, 1, call);
        return;
    }
    remote_batch_t *e = &h->remote[remote_slot(s)];
    if (__builtin_expect(e->span != s, 0)) {
        remote_start(h, e, s, b);
        return;
    }
    if (b == e->head)
        report_misuse(call, p, "double free (block is already free)");
    block_set_next(b, e->head);
    e->head = b;
    if (++e->n >= REMOTE_BATCH_MAX)
        remote_flush_one(h, e);
}

bool slab_has_room(const heap_t *h, unsigned cls)
{
    const span_t *s = h->cur[cls];
    if (s != &span_none && (s->free || s->local_free || s->prof_rest || s->capacity < s->reserved))
        return true;
    for (unsigned b = 0; b < PARTIAL_BINS; b++)
        if (h->partial[cls][b])
            return true;
    return false;
}

bool slab_move_partial(heap_t *to, heap_t *from, unsigned cls)
{
    span_t *s = bin_take(from, cls);
    if (!s)
        return false;
    /* Written under both locks: a free that read the old owner finds the
     * new one once it holds the old owner's lock, and tries again. */
    __atomic_store_n(&s->owner, to, __ATOMIC_RELAXED);
    span_set_owner_fast(s, to->key);
    bin_insert(to, s);
    if (TIDE_DEBUG) {
        validate_class(from, cls);
        validate_class(to, cls);
    }
    return true;
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
    if (TIDE_DEBUG)
        for (unsigned cls = 0; cls < SC_COUNT; cls++)
            validate_class(h, cls);
    slab_flush_remote(h);
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
