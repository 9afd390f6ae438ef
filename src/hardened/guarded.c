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
#include "secure.h"
#include "core/size_class.h"

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

void *guarded_maybe_alloc(size_t size, size_t align, bool zero)
{
    int32_t cd = secure_countdown;
    if (cd > 1) {
        secure_countdown = cd - 1;
        return NULL;
    }
    if (cd == 0)
        config_init(); /* a thread's first allocation may come before main */
    uint64_t rate = OPT(secure_sample);
    secure_countdown = rate && rate < INT32_MAX ? (int32_t)rate : INT32_MAX;
    if (OPT(secure_sample) == 0 || (cd == 0 && OPT(secure_sample) != 1))
        return NULL; /* a new thread starts counting (with 1, sample it all) */
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
    size_t a = align > 16 ? align : 16;
    size_t placed = size ? size : 1;
    char *p = (char *)(((uintptr_t)page + OS_PAGE_SIZE - placed) & ~(uintptr_t)(a - 1));
    slots[i].ptr = p;
    slots[i].size = size;
    slots[i].state = SLOT_LIVE;
    lock_release(&pool_lock);
    if (zero)
        memset(p, 0, size);
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

/* The live or freed block p, or a report. */
static slot_t *checked_slot(const void *p, const char *call)
{
    uint32_t i = slot_of(p);
    slot_t *sl = i == UINT32_MAX ? NULL : &slots[i];
    if (!sl || sl->state == SLOT_EMPTY || sl->ptr != p)
        report_heap_misuse(call, p, "invalid free", "pointer is not the start of a guarded block", 0);
    if (sl->state == SLOT_FREED)
        report_heap_misuse(call, p, secure_freed_kind(call), "guarded block is already free",
                           class_size(sl->size));
    return sl;
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
    char *end = (char *)(((uintptr_t)p | (OS_PAGE_SIZE - 1)) + 1);
    for (char *c = (char *)p + sl->size; c < end; c++)
        if ((uint8_t)*c != secure_canary)
            report_heap_misuse(call, p, "heap overflow",
                               "bytes past the requested size were overwritten (found at free)", bs);
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

void guarded_explain_fault(const void *addr)
{
    /* In a signal handler: no locks, reads only. */
    if (!guarded_owns(addr))
        return;
    uint32_t i = slot_of(addr);
    if (i != UINT32_MAX) {
        slot_t *sl = &slots[i];
        if (sl->state == SLOT_FREED)
            report_heap_misuse("access", sl->ptr, "use after free",
                               "read or write of a freed (guarded) block", class_size(sl->size));
        report_heap_misuse("access", addr, "wild access", "into the guarded pool", 0);
    }
    /* A guard page: past the end of the slot before it (blocks sit against
     * the guard), or before the start of the slot after it. */
    size_t page = (size_t)((const char *)addr - pool) >> OS_PAGE_SHIFT;
    slot_t *before = page > 0 ? &slots[page / 2 - 1] : NULL;
    slot_t *after = page / 2 < nslots ? &slots[page / 2] : NULL;
    if (before && before->state != SLOT_EMPTY)
        report_heap_misuse("access", before->ptr,
                           before->state == SLOT_LIVE ? "heap overflow" : "use after free",
                           "past the end of a guarded block", class_size(before->size));
    if (after && after->state != SLOT_EMPTY)
        report_heap_misuse("access", after->ptr,
                           after->state == SLOT_LIVE ? "heap underflow" : "use after free",
                           "before the start of a guarded block", class_size(after->size));
    report_heap_misuse("access", addr, "wild access", "into the guarded pool", 0);
}
