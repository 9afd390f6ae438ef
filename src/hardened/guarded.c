/* guarded — sampled allocations in guarded slots (hardened build only), in
 * the spirit of GWP-ASan.
 *
 * One allocation in `secure_sample` (TIDE_CONF; 0 turns sampling off) of at
 * most a page goes to a pool of `secure_slots` slots. Each slot is one page
 * between inaccessible guard pages; the block is placed against the end of
 * its page (rounded down to its alignment, the gap canary-filled), so
 * reading or writing one byte past it faults at once. A freed slot becomes
 * inaccessible, and slots are reused oldest-freed first, so a use after
 * free faults for as long as possible. The fault handler (fault.c) asks
 * guarded_explain_fault, which names the block and the misuse.
 *
 * The full level (mitigations.h) puts every allocation of at most a page
 * here while slots last (guard_all: secure_sample is then 0 or "all"), in
 * at least FULL_SLOTS slots, and places each block at the start of its
 * page instead: an underflow faults at once, an overflow is found by the
 * canary in the rest of the page at free, or at exit for a block never
 * freed (exit_check). malloc(0) there returns the address of the guard page
 * after its slot (zero_size), so any access through it faults; a freed
 * slot's page is purged, so the next block there starts zeroed
 * (zero_on_free).
 *
 * Invariant: a slot's page is accessible exactly while its block is live;
 * the bytes of the page outside the block hold the canary.
 */
#ifndef TIDE_SECURE
#define TIDE_SECURE 1 /* this file is only part of the hardened build */
#endif
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "core/isolated.h"
#include "core/heap.h"
#include "platform/lock.h"
#include "core/pagemap.h"
#include "core/slab.h"
#include "config/config.h"
#include "core/meta.h"
#include "platform/os.h"
#include "platform/report.h"
#include "secure_internal.h"
#include "core/size_class.h"

void *alloc_slow(size_t size, const void *caller); /* api/alloc.c (api/alloc_fast.h) */

enum { SLOT_EMPTY, SLOT_LIVE, SLOT_FREED };

typedef struct slot {
    char *ptr;
    size_t size;
    uint8_t state;
} slot_t;

/* Counts down the allocations until the next sampled one: 0 in a new
 * thread (starts the count), 1 means "sample this one". */
__thread int32_t secure_countdown;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static char *_Atomic pool;       /* 2 * nslots + 1 pages: guard, data, guard, ... */
static size_t pool_bytes;
static uint32_t nslots;
static slot_t *slots;
static uint32_t *freed_ring;     /* freed slots, oldest first */
static uint32_t freed_head, freed_count;
static uint32_t next_empty;
static bool pool_failed;

/* The full level's pool: enough slots for a debugging run's live blocks
 * (64 MiB of address space, resident only while live). */
#define FULL_SLOTS 8192u

static char *slot_page(uint32_t i)
{
    return pool + (2 * (size_t)i + 1) * OS_PAGE_SIZE;
}

static size_t class_size(size_t size)
{
    return size <= SC_SMALL_MAX ? sc_block_size[sc_of_size(size)] : 0;
}

/* As api/init.c's handlers: a fork that interrupted an allocator operation
 * (a signal handler's) takes no lock, and its child never uses it. */
static __thread bool fork_skipped;

static void fork_prepare(void)
{
    if (fork_must_isolate())
        fork_skipped = true;
    else
        pthread_mutex_lock(&pool_lock);
}

static void fork_release(void)
{
    if (fork_skipped)
        fork_skipped = false;
    else
        pthread_mutex_unlock(&pool_lock);
}

/* Under pool_lock. */
static bool pool_init(void)
{
    if (pool)
        return true;
    if (pool_failed || OPT(secure_slots) == 0)
        return false;
    pool_failed = true;
    nslots = (uint32_t)OPT(secure_slots);
    if (MITIGATION_ON(guard_all) && nslots < FULL_SLOTS)
        nslots = FULL_SLOTS;
    size_t bytes = (2 * (size_t)nslots + 1) * OS_PAGE_SIZE;
    char *base = os_reserve(bytes, OS_PAGE_SIZE);
    if (!base)
        return false;
    os_protect(base, bytes, false);
    slots = meta_alloc(nslots * sizeof(slot_t));
    freed_ring = meta_alloc(nslots * sizeof(uint32_t));
    if (!slots || !freed_ring)
        return false;
    secure_init(); /* the fault handler */
    pthread_atfork(fork_prepare, fork_release, fork_release);
    pool_bytes = bytes;
    pool = base;
    pool_failed = false;
    return true;
}

/* A slab's fast-path countdown at a random phase in the period: its next
 * allocation is sampled with probability 1 / secure_sample, and so is
 * each one after it (secure_fast.h). Never with secure_sample:0. */
uint32_t secure_sample_phase(void)
{
    uint64_t rate = OPT(secure_sample);
    if (rate == 0 || MITIGATION_ON(guard_all))
        return UINT32_MAX; /* the full level's fast path is off anyway */
    uint32_t period = rate < INT32_MAX ? (uint32_t)rate : INT32_MAX;
    return 1 + (uint32_t)(secure_rand() % period);
}

/* The fast path's countdown on slab s ran out: this allocation is the
 * sampled one. The slow path's guarded_maybe_alloc takes it, told so by a
 * per-thread countdown of 1, which is then put back as it was, so that
 * the slow path's own count goes on undisturbed. If the pool has no slot
 * free, an ordinary allocation. The next sample on s: period allocations
 * on. */
void *secure_alloc_sampled(span_t *s, size_t size, const void *caller)
{
    uint64_t rate = OPT(secure_sample);
    s->sec_countdown = rate == 0 ? UINT32_MAX : rate < INT32_MAX ? (uint32_t)rate : INT32_MAX;
    int32_t saved = secure_countdown;
    secure_countdown = 1;
    void *p = alloc_slow(size, caller);
    secure_countdown = saved;
    return p;
}

void *guarded_maybe_alloc(size_t size, size_t align, bool zero)
{
    int32_t cd = secure_countdown;
    uint64_t rate = OPT(secure_sample);
    int32_t period = rate && rate < INT32_MAX ? (int32_t)rate : INT32_MAX;
    if (cd == 0) {
        /* A new thread: a random phase in the period, so that every
         * allocation, the thread's first included, is sampled with
         * probability exactly 1 / secure_sample (and gets the slack
         * canary, whose sampling reads the same countdown, with
         * probability 1 / SECURE_CANARY_SAMPLE), whatever the program. */
        config_init(); /* a thread's first allocation may come before main */
        secure_init(); /* the generator's seed */
        rate = OPT(secure_sample);
        period = rate && rate < INT32_MAX ? (int32_t)rate : INT32_MAX;
        cd = 1 + (int32_t)(secure_rand() % (uint64_t)period);
    }
    if (cd > 1 && !MITIGATION_ON(guard_all)) {
        secure_countdown = cd - 1;
        return NULL;
    }
    /* This one is sampled; the next one period allocations later. The full
     * level (guard_all) samples every allocation. */
    secure_countdown = MITIGATION_ON(guard_all) ? 1 : period;
    if (rate == 0)
        return NULL;
    if (size > OS_PAGE_SIZE || align > OS_PAGE_SIZE)
        return NULL;
    lock_acquire(&pool_lock);
    uint32_t i = UINT32_MAX;
    if (pool_init()) {
        if (next_empty < nslots) {
            i = next_empty++;
        } else if (freed_count) {
            i = freed_ring[freed_head];
            freed_head = (freed_head + 1) % nslots;
            freed_count--;
        }
    }
    if (i == UINT32_MAX) {
        lock_release(&pool_lock);
        return NULL; /* every slot is live: an ordinary allocation */
    }
    char *page = slot_page(i);
    if (!os_protect(page, OS_PAGE_SIZE, true)) {
        slots[i].state = SLOT_FREED; /* lost; keep it out of use */
        lock_release(&pool_lock);
        return NULL;
    }
    char *p;
    if (MITIGATION_ON(guard_all)) {
        /* Against the guard before it; malloc(0) at the guard after it. */
        p = size == 0 && MITIGATION_ON(zero_size) ? page + OS_PAGE_SIZE : page;
    } else {
        size_t a = align > 16 ? align : 16;
        size_t placed = size ? size : 1;
        p = (char *)(((uintptr_t)page + OS_PAGE_SIZE - placed) & ~(uintptr_t)(a - 1));
    }
    slots[i].ptr = p;
    slots[i].size = size;
    slots[i].state = SLOT_LIVE;
    lock_release(&pool_lock);
    if (zero)
        memset(p, 0, size);
    if (p < page + OS_PAGE_SIZE)
        memset(p + size, secure_canary, (size_t)(page + OS_PAGE_SIZE - (p + size)));
    return p;
}

bool guarded_owns(const void *p)
{
    char *base = pool;
    return base && (const char *)p >= base && (const char *)p < base + pool_bytes;
}

/* The slot whose data page holds p, or UINT32_MAX for a guard page. */
static uint32_t slot_of(const void *p)
{
    size_t page = (size_t)((const char *)p - pool) >> OS_PAGE_SHIFT;
    return (page & 1) ? (uint32_t)(page / 2) : UINT32_MAX;
}

/* The slot a block pointer p names: a malloc(0) block of the full level
 * points at the guard page after its slot. */
static uint32_t slot_of_block(const void *p)
{
    uint32_t i = slot_of(p);
    if (i == UINT32_MAX && (const char *)p > pool)
        i = slot_of((const char *)p - 1);
    return i < nslots ? i : UINT32_MAX;
}

/* The end of block p's page: its slot's data page end. */
static char *slot_end(const slot_t *sl)
{
    return slot_page((uint32_t)(sl - slots)) + OS_PAGE_SIZE;
}

/* The live or freed block p, or a report. */
static slot_t *checked_slot(const void *p, const char *call)
{
    uint32_t i = slot_of_block(p);
    slot_t *sl = i == UINT32_MAX ? NULL : &slots[i];
    if (!sl || sl->state == SLOT_EMPTY || sl->ptr != p)
        report_heap_misuse(call, p, "invalid free", "pointer is not the start of a guarded block", 0);
    if (sl->state == SLOT_FREED)
        report_heap_misuse(call, p, secure_freed_kind(call), "guarded block is already free",
                           class_size(sl->size));
    return sl;
}

/* The canary in the rest of a live slot's page: after the block (and, at
 * the production level, before it, from the page start). */
static bool gap_intact(const slot_t *sl)
{
    char *end = slot_end(sl);
    for (char *c = sl->ptr + sl->size; c < end; c++)
        if ((uint8_t)*c != secure_canary)
            return false;
    return true;
}

void guarded_free(void *p, size_t size, size_t align, const char *call)
{
    lock_acquire(&pool_lock);
    slot_t *sl = checked_slot(p, call);
    size_t bs = class_size(sl->size);
    if (size != FREE_NO_SIZE && size != sl->size)
        report_heap_misuse(call, p, "wrong size", "the size given differs from the size allocated", bs);
    if (align && ((align & (align - 1)) != 0 || ((uintptr_t)p & (align - 1)) != 0))
        report_heap_misuse(call, p, "wrong alignment", "the block does not have the alignment given", bs);
    char *end = slot_end(sl);
    if (!gap_intact(sl))
        report_heap_misuse(call, p, "heap overflow",
                           "bytes past the requested size were overwritten (found at free)", bs);
    if (MITIGATION_ON(zero_on_free))
        os_purge(end - OS_PAGE_SIZE, OS_PAGE_SIZE); /* the next block here starts zeroed */
    os_protect(end - OS_PAGE_SIZE, OS_PAGE_SIZE, false);
    sl->state = SLOT_FREED;
    uint32_t i = (uint32_t)(sl - slots);
    freed_ring[(freed_head + freed_count) % nslots] = i;
    freed_count++;
    lock_release(&pool_lock);
}

size_t guarded_usable_size(const void *p, const char *call)
{
    lock_acquire(&pool_lock);
    size_t n = checked_slot(p, call)->size;
    lock_release(&pool_lock);
    return n;
}

/* A fault in the guard page before slot `after`, if it is in use. */
static void explain_after(const slot_t *after)
{
    if (after && after->state != SLOT_EMPTY)
        report_heap_misuse("access", after->ptr,
                           after->state == SLOT_LIVE ? "heap underflow" : "use after free",
                           "before the start of a guarded block", class_size(after->size));
}

void guarded_explain_fault(const void *addr)
{
    /* In a signal handler: no locks, reads only. */
    if (!guarded_owns(addr))
        return;
    uint32_t i = slot_of(addr);
    if (i != UINT32_MAX && i < nslots) {
        slot_t *sl = &slots[i];
        if (sl->state == SLOT_FREED)
            report_heap_misuse("access", sl->ptr, "use after free",
                               "read or write of a freed (guarded) block", class_size(sl->size));
        report_heap_misuse("access", addr, "wild access", "into the guarded pool", 0);
    }
    /* A guard page: past the end of the slot before it, or before the
     * start of the slot after it. A malloc(0) block of the full level
     * points at this page; otherwise the full level's blocks sit against
     * the guard before them (an underflow is the likelier), the
     * production level's against the guard after them. */
    size_t page = (size_t)((const char *)addr - pool) >> OS_PAGE_SHIFT;
    slot_t *before = page > 0 ? &slots[page / 2 - 1] : NULL;
    slot_t *after = page / 2 < nslots ? &slots[page / 2] : NULL;
    const char *guard = pool + (page << OS_PAGE_SHIFT);
    if (before && before->state != SLOT_EMPTY && before->ptr == guard)
        report_heap_misuse("access", before->ptr,
                           before->state == SLOT_LIVE ? "zero-size access" : "use after free",
                           "through the pointer malloc(0) returned", class_size(0));
    if (MITIGATION_ON(guard_all))
        explain_after(after);
    if (before && before->state != SLOT_EMPTY)
        report_heap_misuse("access", before->ptr,
                           before->state == SLOT_LIVE ? "heap overflow" : "use after free",
                           "past the end of a guarded block", class_size(before->size));
    explain_after(after);
    report_heap_misuse("access", addr, "wild access", "into the guarded pool", 0);
}

/* exit_check (the full level): an overflow of a block the program never
 * freed is found at exit, as it would have been at free. Reads the pool
 * without its lock: at exit, after main. */
__attribute__((destructor)) static void guarded_exit_check(void)
{
    if (!MITIGATION_ON(exit_check) || !pool || isolated_mode)
        return;
    for (uint32_t i = 0; i < nslots; i++)
        if (slots[i].state == SLOT_LIVE && !gap_intact(&slots[i]))
            report_heap_misuse("exit", slots[i].ptr, "heap overflow",
                               "bytes past the requested size were overwritten (found at exit)",
                               class_size(slots[i].size));
}
