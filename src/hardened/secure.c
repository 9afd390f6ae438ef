/* secure — the hardened build's checks (TIDE_SECURE=1 only; see secure.h).
 *
 * What each mitigation costs, and where it lives:
 *  - encoded free-list links: secure_list.h (an XOR and a range test per
 *    link read), the key is made here;
 *  - random slot order: secure_carve, once per page of a slab;
 *  - guard pages: one PROT_NONE page at the end of every slab and every
 *    large or huge block (secure_slab_init, secure_on_alloc), two mprotect
 *    calls per slab or large run lifetime; empty slabs and freed large runs
 *    are kept with their guards and reused, so most blocks pay none;
 *  - per-block state (requested size + 1, 0 = free) in a side array per
 *    slab: exact double-free detection, the size for free_sized / sized
 *    delete, and where the slack starts;
 *  - slack canary: the bytes from the requested size to the next multiple
 *    of 8 are filled at malloc and checked at free (and realloc), one
 *    aligned word (secure.h);
 *  - a SIGSEGV handler that turns faults in guard pages and in the guarded
 *    pool into reports (other faults go to the previous handler).
 */
#ifndef TIDE_SECURE
#define TIDE_SECURE 1 /* this file is only part of the hardened build */
#endif
#define _GNU_SOURCE
#include "secure.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/heap.h"
#include "core/pagemap.h"
#include "core/slab.h"
#include "core/large.h"
#include "core/meta.h"
#include "platform/os.h"
#include "core/page_heap.h"
#include "core/pagemap.h"
#include "platform/report.h"
#include "core/size_class.h"
#include "tidemalloc.h"

uintptr_t secure_list_key;
uint8_t secure_canary;
uint64_t secure_canary8;

/* ---- key, canary and the fault handler ---- */

static struct sigaction previous_segv;

static void fault_handler(int sig, siginfo_t *info, void *ctx)
{
    const char *addr = info->si_addr;
    guarded_explain_fault(addr); /* returns only if the pool is not involved */
    span_t *s = pagemap_lookup(addr);
    if (s->kind == SPAN_SMALL || s->kind == SPAN_LARGE || s->kind == SPAN_HUGE) {
        char *guard = s->start + ((s->npages - 1) << OS_PAGE_SHIFT);
        if (s->kind == SPAN_HUGE || s->kind == SPAN_LARGE) {
            /* A large span's page map entries: its first page and its guard. */
            if (addr >= guard && addr < guard + OS_PAGE_SIZE)
                report_heap_misuse("access", s->start, "heap overflow",
                                   "past the end of a large block, into its guard page",
                                   (size_t)(guard - s->start));
        } else if (addr >= guard) {
            report_heap_misuse("access", addr, "heap overflow",
                               "past the end of a slab, into its guard page", s->block_size);
        }
    }
    /* Not ours: hand the fault to whoever was there before. */
    if (previous_segv.sa_flags & SA_SIGINFO) {
        previous_segv.sa_sigaction(sig, info, ctx);
        return;
    }
    if (previous_segv.sa_handler != SIG_DFL && previous_segv.sa_handler != SIG_IGN) {
        previous_segv.sa_handler(sig);
        return;
    }
    /* Default action: returning re-executes the access, which now kills. */
    os_signal_default(SIGSEGV);
}

static void fork_lock(void);
static void fork_unlock(void);

static void init_once(void)
{
    uint64_t key = 0;
    if (!os_random(&key, sizeof key)) {
        uint64_t t = os_realtime_ns();
        key = t * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&t;
    }
    key |= 1; /* never 0: a zeroed word never decodes to NULL */
    secure_list_key = (uintptr_t)key;
    /* Never 0: the classic off-by-one writes a terminating NUL. */
    secure_canary = (uint8_t)(0x80 | ((key >> 32) & 0x7e)) | 1;
    secure_canary8 = secure_canary * 0x0101010101010101ull;

    os_signal_install(SIGSEGV, fault_handler, &previous_segv);
    pthread_atfork(fork_lock, fork_unlock, fork_unlock);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

void secure_init(void)
{
    pthread_once(&once, init_once);
}

/* ---- reports ---- */

const char *secure_freed_kind(const char *call)
{
    /* A free block passed to realloc or malloc_usable_size is used after
     * its free; passed to any form of free, it is freed twice. */
    return strcmp(call, "realloc") == 0 || strcmp(call, "malloc_usable_size") == 0 ? "use after free"
                                                                                  : "double free";
}

static size_t class_of(const span_t *s)
{
    return s->kind == SPAN_SMALL ? s->block_size : 0;
}

void secure_report_bad_link(const void *block, uintptr_t decoded)
{
    (void)decoded;
    report_heap_misuse("malloc", block, "corrupted free list",
                       "a freed block's link was overwritten (write after free, or an overflow)",
                       class_of(pagemap_lookup(block)));
}

void secure_report_reused(const span_t *s, const void *p)
{
    report_heap_misuse("malloc", p, "corrupted free list", "a block on the free list is in use",
                       s->block_size);
}

__attribute__((noreturn, cold, noinline)) static void bad_slack(const char *call, const void *p,
                                                               size_t block_size)
{
    report_heap_misuse(call, p, "heap overflow",
                       "bytes past the requested size were overwritten (found at free)", block_size);
}

static inline void check_slack(const char *call, const void *p, const char *from, const char *end,
                               size_t block_size)
{
    if (__builtin_expect(!secure_canary_intact(from, (size_t)(end - from)), 0))
        bad_slack(call, p, block_size);
}

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
    pthread_mutex_lock(&state_lock);
    *(void **)s->sec_state = state_free[b];
    state_free[b] = s->sec_state;
    pthread_mutex_unlock(&state_lock);
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
    pthread_mutex_lock(&state_lock);
    void *st = state_free[b];
    if (st)
        state_free[b] = *(void **)st;
    pthread_mutex_unlock(&state_lock);
    if (st)
        memset(st, 0, (size_t)64 << b);
    else if (!(st = meta_alloc((size_t)64 << b)))
        return false;
    s->sec_state = st;
    /* If the kernel refuses (too many mappings), the slab goes unguarded. */
    if (!s->sec_size)
        os_protect(s->start + ((s->npages - 1) << OS_PAGE_SHIFT), OS_PAGE_SIZE, false);
    s->sec_size = 1;
    return true;
}

/* Empty slabs, guard page still in place, kept by page count: classes
 * whose slabs fill and empty in turn would otherwise pay two mprotect
 * calls (and a split and a merge of the mapping) per cycle. At most
 * SLAB_CACHE_BYTES in all: this much freed memory stays resident, outside
 * the decay policy until malloc_trim / tide_purge (the hardened build's
 * price for its guard pages). sh6bench (the bench's defaults): 7 000
 * mprotect calls for slab guards with 16 MiB, 2 300 with 64 MiB. */
#define SLAB_CACHE_BYTES ((size_t)64 << 20)
#define SLAB_CACHE_PAGES 18
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static span_t *slab_cache[SLAB_CACHE_PAGES];
static size_t slab_cache_pages;

span_t *secure_slab_alloc(size_t npages)
{
    span_t *s = NULL;
    if (npages < SLAB_CACHE_PAGES) {
        pthread_mutex_lock(&cache_lock);
        s = slab_cache[npages];
        if (s) {
            slab_cache[npages] = s->next;
            slab_cache_pages -= npages;
        }
        pthread_mutex_unlock(&cache_lock);
    }
    if (!s)
        return page_heap_alloc(npages, 1);
    page_heap_desc_reuse(s);
    s->sec_size = 1; /* guard in place */
    return s;
}

bool secure_slab_release(span_t *s)
{
    state_put(s);
    if (s->sec_size && s->npages < SLAB_CACHE_PAGES) {
        pthread_mutex_lock(&cache_lock);
        if ((slab_cache_pages + s->npages) << OS_PAGE_SHIFT <= SLAB_CACHE_BYTES) {
            pagemap_set(s->start, s->npages, &span_none);
            s->next = slab_cache[s->npages];
            slab_cache[s->npages] = s;
            slab_cache_pages += s->npages;
            pthread_mutex_unlock(&cache_lock);
            return true;
        }
        pthread_mutex_unlock(&cache_lock);
    }
    if (s->sec_size)
        os_protect(s->start + ((s->npages - 1) << OS_PAGE_SHIFT), OS_PAGE_SIZE, true);
    return false;
}

/* Freed large runs, guard page still protected at the run's end, kept for
 * the next large request they fit: without them every large block costs
 * two mprotect calls (protect at malloc, unprotect at free), each a split
 * or merge of the mapping and a TLB flush on every CPU the process runs
 * on. A kept run of m pages (guard included) serves a request of n pages
 * when n <= m <= n + n / 2 (the smallest such run): the block starts the
 * run, so up to half as many pages again lie between its end and the guard
 * (slack: the canary covers the first bytes of it, the guard the run's
 * end). At most LARGE_CACHE_BYTES and LARGE_CACHE_RUNS runs, oldest
 * evicted first; like the kept slabs, this memory stays resident outside
 * the decay policy until malloc_trim / tide_purge (secure_trim). Measured
 * on large-churn (64 KiB - 4 MiB blocks): 80 000 mprotect calls without
 * the cache, 17 600 with 32 MiB and n / 4, 8 700 with n / 2, 4 300 with
 * 64 MiB and n / 2. */
#define LARGE_CACHE_BYTES ((size_t)64 << 20)
#define LARGE_CACHE_RUNS 32
static pthread_mutex_t large_lock = PTHREAD_MUTEX_INITIALIZER;
static span_t *large_cache[LARGE_CACHE_RUNS]; /* oldest first */
static unsigned large_cache_n;
static size_t large_cache_pages;

static void large_cache_remove(unsigned i)
{
    large_cache_pages -= large_cache[i]->npages;
    large_cache_n--;
    memmove(&large_cache[i], &large_cache[i + 1], (large_cache_n - i) * sizeof large_cache[0]);
}

span_t *secure_large_take(size_t npages, size_t align_pages)
{
    span_t *s = NULL;
    pthread_mutex_lock(&large_lock);
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
    pthread_mutex_unlock(&large_lock);
    if (!s)
        return page_heap_alloc(npages, align_pages);
    page_heap_desc_reuse(s);
    s->sec_guarded = 1;
    return s;
}

/* Give the run back: unprotect its guard, return it to the page heap. */
static void large_release(span_t *s)
{
    os_protect(s->start + ((s->npages - 1) << OS_PAGE_SHIFT), OS_PAGE_SIZE, true);
    page_heap_free(s);
}

/* Keep freed large run s (its page map entries already cleared). */
static void large_keep(span_t *s)
{
    span_t *evicted[LARGE_CACHE_RUNS];
    unsigned ne = 0;
    pthread_mutex_lock(&large_lock);
    while (large_cache_n > 0 && (large_cache_n == LARGE_CACHE_RUNS ||
                                 (large_cache_pages + s->npages) << OS_PAGE_SHIFT > LARGE_CACHE_BYTES)) {
        evicted[ne++] = large_cache[0];
        large_cache_remove(0);
    }
    bool kept = (s->npages << OS_PAGE_SHIFT) <= LARGE_CACHE_BYTES;
    if (kept) {
        large_cache[large_cache_n++] = s;
        large_cache_pages += s->npages;
    }
    pthread_mutex_unlock(&large_lock);
    for (unsigned i = 0; i < ne; i++)
        large_release(evicted[i]);
    if (!kept)
        large_release(s);
}

/* malloc_trim, tide_purge: give every kept slab and large run back. */
void secure_trim(void)
{
    for (;;) {
        span_t *s = NULL;
        pthread_mutex_lock(&large_lock);
        if (large_cache_n) {
            s = large_cache[large_cache_n - 1];
            large_cache_remove(large_cache_n - 1);
        }
        pthread_mutex_unlock(&large_lock);
        if (!s)
            break;
        large_release(s);
    }
    for (size_t n = 0; n < SLAB_CACHE_PAGES; n++) {
        for (;;) {
            pthread_mutex_lock(&cache_lock);
            span_t *s = slab_cache[n];
            if (s) {
                slab_cache[n] = s->next;
                slab_cache_pages -= n;
            }
            pthread_mutex_unlock(&cache_lock);
            if (!s)
                break;
            os_protect(s->start + ((s->npages - 1) << OS_PAGE_SHIFT), OS_PAGE_SIZE, true);
            page_heap_free(s);
        }
    }
}

static void fork_lock(void)
{
    pthread_mutex_lock(&cache_lock);
    pthread_mutex_lock(&state_lock);
    pthread_mutex_lock(&large_lock);
}

static void fork_unlock(void)
{
    pthread_mutex_unlock(&large_lock);
    pthread_mutex_unlock(&state_lock);
    pthread_mutex_unlock(&cache_lock);
}

/* ---- random slot order ---- */

static __thread uint64_t rng_state;

__attribute__((unused)) static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    if (x == 0)
        x = (uint64_t)secure_list_key ^ (uint64_t)(uintptr_t)&rng_state ^ 0x2545f4914f6cdd1dull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

void secure_carve(span_t *s, char *first, uint32_t n)
{
    uint16_t order[OS_PAGE_SIZE / 16];
    for (uint32_t i = 0; i < n; i++)
        order[i] = (uint16_t)i;
#ifndef TIDE_SECURE_NO_SHUFFLE /* measurement only: docs/SECURITY.md, Cost */
    for (uint32_t i = n; i > 1; i--) { /* Fisher-Yates */
        uint32_t j = (uint32_t)(((rng_next() >> 32) * i) >> 32);
        uint16_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
#endif
    block_t *head = s->free;
    for (uint32_t i = 0; i < n; i++) {
        block_t *b = (block_t *)(first + (size_t)order[i] * s->block_size);
        block_set_next(b, head);
        head = b;
    }
    s->free = head;
}

/* ---- allocation ---- */

/* Large and huge blocks: data pages, then the guard page (large.c adds it
 * to the request). */
static size_t large_data_bytes(const span_t *s)
{
    return (s->npages - 1) << OS_PAGE_SHIFT;
}

static void record(span_t *s, void *p, size_t size)
{
    if (s->kind == SPAN_SMALL) {
        s->sec_state[secure_block_index(s, p)] = (uint16_t)(size + 1);
        secure_canary_fill_keep((char *)p + size, s->block_size - size);
    } else {
        s->sec_size = size;
        secure_canary_fill_keep((char *)p + size, large_data_bytes(s) - size);
    }
}

void secure_on_alloc(void *p, size_t size)
{
    span_t *s = pagemap_lookup(p);
    if (s->kind == SPAN_SMALL) {
        record(s, p, size);
    } else if (s->kind == SPAN_LARGE || s->kind == SPAN_HUGE) {
        secure_init();
        record(s, p, size);
        char *guard = (char *)p + large_data_bytes(s);
        if (!s->sec_guarded) /* a kept run's guard is still in place */
            s->sec_guarded = os_protect(guard, OS_PAGE_SIZE, false);
        pagemap_set(guard, 1, s); /* so that a fault there finds the block */
    }
    /* else: a guarded block, recorded by guarded.c */
}

/* ---- free ---- */

/* The state of small block p, or a report: interior pointers, pointers past
 * the carved blocks, blocks already free. */
__attribute__((noreturn, cold, noinline)) static void bad_small(const span_t *s, const void *p,
                                                               const char *call)
{
    uint64_t off = (uint64_t)((const char *)p - s->start);
    if (off * s->div_magic >= s->div_magic)
        report_heap_misuse(call, p, "invalid free", "pointer is inside a block, not at its start",
                           s->block_size);
    if (secure_block_index(s, p) >= s->capacity)
        report_heap_misuse(call, p, "invalid free", "pointer is not a block handed out by malloc",
                           s->block_size);
    report_heap_misuse(call, p, secure_freed_kind(call), "block is already free", s->block_size);
}

static inline __attribute__((always_inline)) uint16_t *small_state(span_t *s, const void *p,
                                                                  const char *call)
{
    uint64_t off = (uint64_t)((const char *)p - s->start);
    uint32_t idx = secure_block_index(s, p);
    if (__builtin_expect(off * s->div_magic >= s->div_magic || idx >= s->capacity, 0))
        bad_small(s, p, call);
    uint16_t *st = &s->sec_state[idx];
    if (__builtin_expect(*st == 0, 0))
        bad_small(s, p, call);
    return st;
}

__attribute__((noinline)) static void check_size_slow(const char *call, const void *p, size_t given,
                                                      size_t align, size_t requested, size_t block_size)
{
    if (given != FREE_NO_SIZE && given != requested)
        report_heap_misuse(call, p, "wrong size",
                           "the size given differs from the size allocated", block_size);
    if (align && ((align & (align - 1)) != 0 || ((uintptr_t)p & (align - 1)) != 0))
        report_heap_misuse(call, p, "wrong alignment", "the block does not have the alignment given",
                           block_size);
}

static inline void check_size(const char *call, const void *p, size_t given, size_t align,
                              size_t requested, size_t block_size)
{
    if (__builtin_expect(given != FREE_NO_SIZE || align != 0, 0))
        check_size_slow(call, p, given, align, requested, block_size);
}

static void large_check(span_t *s, const void *p, const char *call)
{
    if (p != s->start)
        report_heap_misuse(call, p, "invalid free", "pointer is inside a block, not at its start",
                           large_data_bytes(s));
}

__attribute__((noinline)) static void free_other(void *p, span_t *s, size_t size, size_t align,
                                                 const char *call)
{
    if (s->kind == SPAN_LARGE || s->kind == SPAN_HUGE) {
        large_check(s, p, call);
        check_size(call, p, size, align, s->sec_size, large_data_bytes(s));
        check_slack(call, p, (char *)p + s->sec_size, (char *)p + large_data_bytes(s), large_data_bytes(s));
        char *guard = (char *)p + large_data_bytes(s);
        if (guard != s->start)
            pagemap_set(guard, 1, &span_none);
        if (s->kind == SPAN_LARGE && s->sec_guarded && !s->prof) {
            pagemap_set(s->start, 1, &span_none); /* a second free finds nothing */
            large_keep(s);
            return;
        }
        os_protect(guard, OS_PAGE_SIZE, true);
        large_free(s, p, call);
        return;
    }
    if (p == NULL)
        return;
    if (guarded_owns(p)) {
        guarded_free(p, size, align, call);
        return;
    }
    report_heap_misuse(call, p, "invalid free",
                       "pointer was not allocated by tidemalloc, or was already freed", 0);
}

static inline __attribute__((always_inline)) void free_small_push(span_t *s, void *p, uint16_t *st,
                                                                  const char *call)
{
    *st = 0;
    if (__builtin_expect(span_owner_fast(s) == thread_key(), 1)) {
        block_set_next(p, s->local_free);
        s->local_free = p;
        if (--s->used == 0)
            slab_on_empty(s);
        return;
    }
    free_slow(p, s, call);
}

/* A sized free: compare with the recorded size and alignment. */
__attribute__((noinline)) static void free_small_sized(span_t *s, void *p, uint16_t *st, size_t size,
                                                       size_t align, const char *call)
{
    check_size_slow(call, p, size, align, (size_t)*st - 1, s->block_size);
}

void secure_free(void *p, size_t size, size_t align, const char *call)
{
    span_t *s = pagemap_lookup(p);
    if (__builtin_expect(s->kind != SPAN_SMALL, 0)) {
        free_other(p, s, size, align, call);
        return;
    }
    uint16_t *st = small_state(s, p, call);
    if (__builtin_expect(size != FREE_NO_SIZE || align != 0, 0))
        free_small_sized(s, p, st, size, align, call);
    size_t req = (size_t)*st - 1;
    check_slack(call, p, (char *)p + req, (char *)p + s->block_size, s->block_size);
    free_small_push(s, p, st, call);
}

/* ---- size queries and realloc ---- */

size_t secure_usable_size(const void *p, const char *call)
{
    span_t *s = pagemap_lookup(p);
    switch (s->kind) {
    case SPAN_SMALL:
        return (size_t)*small_state(s, p, call) - 1;
    case SPAN_LARGE:
    case SPAN_HUGE:
        large_check(s, p, call);
        return s->sec_size;
    default:
        if (guarded_owns(p))
            return guarded_usable_size(p, call);
        report_heap_misuse(call, p, "invalid pointer",
                           "pointer was not allocated by tidemalloc, or was already freed", 0);
    }
}

/* Growing a large block takes a quarter's headroom (as the default build
 * does), so appends move or resize O(log n) times; the headroom is slack
 * until a later realloc grows into it. */
static size_t headroom(size_t size)
{
    if (size <= SC_SMALL_MAX || size > HUGE_THRESHOLD)
        return size;
    size_t step = (size_t)1 << (63 - __builtin_clzl(size - 1) - 2);
    return (size + step - 1) & ~(step - 1);
}

/* Resize a large or huge block in place (or, huge, by mremap) to hold
 * target bytes plus its guard page; NULL if it must move. */
static void *large_resize_guarded(span_t *s, void *p, size_t size, size_t target)
{
    if (target > (size_t)PTRDIFF_MAX - ((size_t)1 << 30))
        return NULL; /* impossible: the move fails with ENOMEM */
    char *guard = (char *)p + large_data_bytes(s);
    size_t padded = ((target + OS_PAGE_SIZE - 1) & ~(OS_PAGE_SIZE - 1)) + OS_PAGE_SIZE;
    if (s->kind == SPAN_LARGE && (padded >> OS_PAGE_SHIFT) > s->npages) {
        /* Growing a page run leaves its memory alone, so the guard moves
         * only once the run has grown: a resize that fails (the next pages
         * are taken, often) costs no mprotect. */
        if (!large_resize(s, p, padded))
            return NULL;
        pagemap_set(guard, 1, &span_none);
        os_protect(guard, OS_PAGE_SIZE, true);
        record(s, p, size);
        guard = (char *)p + large_data_bytes(s);
        s->sec_guarded = os_protect(guard, OS_PAGE_SIZE, false);
        pagemap_set(guard, 1, s);
        return p;
    }
    /* Shrinking (the freed tail must be accessible) and huge blocks
     * (mremap moves one mapping, not a split one): unprotect first. */
    pagemap_set(guard, 1, &span_none);
    os_protect(guard, OS_PAGE_SIZE, true);
    void *q = large_resize(s, p, padded);
    if (q)
        record(s, q, size);
    char *start = q ? q : p;
    guard = start + large_data_bytes(s);
    s->sec_guarded = os_protect(guard, OS_PAGE_SIZE, false);
    pagemap_set(guard, 1, s);
    return q;
}

void *secure_realloc(void *p, size_t size)
{
    if (p == NULL)
        return tide_malloc(size);
    if (size == 0) {
        secure_free(p, FREE_NO_SIZE, 0, "realloc"); /* glibc: frees, returns NULL */
        return NULL;
    }
    span_t *s = pagemap_lookup(p);
    size_t old = secure_usable_size(p, "realloc");
    /* In place when the block still fits and stays at least half used;
     * the old slack is checked first. */
    if (s->kind == SPAN_SMALL) {
        check_slack("realloc", p, (char *)p + old, (char *)p + s->block_size, s->block_size);
        if (size <= s->block_size && size >= s->block_size / 2) {
            record(s, p, size);
            return p;
        }
    } else if (s->kind == SPAN_LARGE || s->kind == SPAN_HUGE) {
        size_t data = large_data_bytes(s);
        check_slack("realloc", p, (char *)p + old, (char *)p + data, data);
        if (size <= data && size > SC_SMALL_MAX && size >= data / 2) {
            record(s, p, size);
            return p;
        }
        if (size > SC_SMALL_MAX) {
            void *q = large_resize_guarded(s, p, size, size > old ? headroom(size) : size);
            if (q)
                return q;
        }
    }
    /* Move, with the same headroom. */
    size_t target = size > old ? headroom(size) : size;
    void *q = tide_malloc(target);
    if (q == NULL)
        return NULL; /* p is untouched */
    span_t *qs = pagemap_lookup(q);
    if (target != size && qs->kind != SPAN_NONE)
        record(qs, q, size);
    memcpy(q, p, old < size ? old : size);
    secure_free(p, FREE_NO_SIZE, 0, "realloc");
    return q;
}
