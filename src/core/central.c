/* central — the classes above the fast path (1280 B to 14 KiB) come from a
 * few shared arenas, one per CPU, through a small cache of blocks in each
 * thread's heap, once the process runs many threads.
 *
 * Why not per-thread slabs, as below 1 KiB: these slabs hold 1 to 16
 * blocks, so a free block in a slab in use is a hole of kilobytes, and in
 * a thread's own heap only that thread's mallocs fill it. When blocks are
 * freed by other threads (a block cache evicting what any reader inserted)
 * each thread keeps its own holes, and a whole-page block freed remotely
 * waits in the freeing thread's batch before its slab can empty. Measured
 * on RocksDB with 32 readers on 2 cores (docs/BENCHMARKS.md, "RocksDB"):
 * 70 MiB of free room in slabs in use; 56 MiB with arenas; 32 MiB with
 * arenas whose 4, 8 and 12 KiB blocks have a slab each (sc_arena_slab_pages),
 * so that a freed one is free pages for any class; RSS 703 -> 598 MiB. The
 * whole-page slabs alone, without arenas, saved nothing (689 MiB). (The
 * 4 KiB class went back to 4 blocks a slab later: its spans cost more than
 * its holes; size_class.h.)
 *
 * The arenas cost a lock per batch and a trip through the slow path per
 * free (8% more instructions on sh6bench, whose one thread allocates and
 * frees in bursts), and with a few threads per CPU there are few holes to
 * pool (4 readers: RSS within 3% of jemalloc's without them). So they come
 * on once the process has run more than CENTRAL_THREADS_PER_CPU thread
 * heaps per CPU at once, and stay on: slabs of both kinds coexist (a free
 * goes by its slab's owner) while the thread heaps' own drain.
 *
 * The cache keeps the lock off most calls: a thread takes a batch of half
 * its cache's capacity under the arena lock and, when its cache is full,
 * gives the oldest half back, each block to its own slab's arena. Frees
 * never go "remote": any thread may return a block to any arena. Every
 * BLOCK_CACHE_TRIM_OPS operations a thread gives back half of what its
 * cache held unused all along (the low-water mark), so a class it stopped
 * using does not keep blocks.
 *
 * Invariants:
 *  - An arena's heap (central = true, key HEAP_KEY_UNOWNED, so its slabs
 *    never pass the free fast path's owner test) is only touched under the
 *    arena's lock. Its slabs hold only central classes, and every slab of
 *    a central class belongs to an arena.
 *  - A block in a thread's cache is free to the program and still counted
 *    in its slab's `used`; only the thread that owns the cache touches it.
 *  - Lock order: an arena lock, then the page heap's and the page map's.
 *    A second arena's lock is only ever tried (trylock), never waited for,
 *    to move a partial slab: a slab's owner changes only under both its old
 *    and its new arena's locks, so whoever holds the lock of the arena it
 *    names may trust it.
 */
#include "central.h"

#include <pthread.h>
#include <stddef.h>

#include "debug.h"
#include "pagemap.h"
#include "platform/lock.h"
#include "platform/os.h"
#include "platform/report.h"
#include "slab.h"

#define ARENAS_MAX 64
#define CENTRAL_THREADS_PER_CPU 4
#define BLOCK_CACHE_TRIM_OPS 1024u

typedef struct arena {
    pthread_mutex_t lock;
    heap_t heap;
} __attribute__((aligned(64))) arena_t;

static arena_t arenas[ARENAS_MAX];
static unsigned narenas; /* 0 until set up; then fixed */
static unsigned ncpus;
bool central_on_flag;
static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;

static arena_t *arena_of_heap(heap_t *h)
{
    return (arena_t *)((char *)h - offsetof(arena_t, heap));
}

static unsigned arena_count(void)
{
    unsigned n = __atomic_load_n(&narenas, __ATOMIC_ACQUIRE);
    if (__builtin_expect(n != 0, 1))
        return n;
    lock_acquire(&setup_lock);
    n = narenas;
    if (n == 0) {
        n = os_cpu_count();
        ncpus = n;
        if (n > ARENAS_MAX)
            n = ARENAS_MAX;
        for (unsigned i = 0; i < n; i++) {
            arena_t *a = &arenas[i];
            pthread_mutex_init(&a->lock, NULL);
            for (unsigned k = 0; k < SC_DIRECT_COUNT; k++)
                a->heap.direct[k] = &span_none;
            for (unsigned k = 0; k < SC_COUNT; k++)
                a->heap.cur[k] = &span_none;
            a->heap.state = HEAP_ACTIVE;
            a->heap.key = HEAP_KEY_UNOWNED;
            a->heap.central = true;
        }
        __atomic_store_n(&narenas, n, __ATOMIC_RELEASE);
    }
    lock_release(&setup_lock);
    return n;
}

/* The arena of the CPU h's thread runs on: the threads that take one
 * arena's lock mostly share its CPU, so they seldom wait for each other.
 * Asked again every ARENA_RECHECK refills: threads seldom move. */
#define ARENA_RECHECK 32u
static arena_t *arena_here(heap_t *h)
{
    if (h->arena_checks == 0 || h->arena >= ARENAS_MAX) {
        h->arena = os_current_cpu() % arena_count();
        h->arena_checks = ARENA_RECHECK;
    }
    h->arena_checks--;
    return &arenas[h->arena];
}

/* Blocks a thread's cache holds per class: 64 KiB, but 8 to 16 blocks, so
 * a refill or a flush moves at least 4 blocks per lock. (BLOCK_CACHE_BYTES
 * / block size, clamped; a table: free reads it on every call.) */
static const uint8_t cache_capacity_of[SC_CENTRAL_COUNT] = {
    16, 16, 16, 16,  /* 1280 .. 2048 */
    16, 16, 16, 16,  /* 2560 .. 4096 */
    12, 10, 9, 8,    /* 5120 .. 8192 */
    8, 8, 8,         /* 10240 .. 14336 */
};

static inline uint32_t cache_capacity(unsigned cls)
{
    return cache_capacity_of[cls - SC_CENTRAL_FIRST];
}

/* The cache's count is read by the stats from other threads. */
static inline void cache_set_n(block_cache_t *c, uint32_t n)
{
    __atomic_store_n(&c->n, n, __ATOMIC_RELAXED);
}

/* Take up to `want` blocks of cls from arena a into out[]; returns how many. */
void central_note_threads(size_t active)
{
    if (central_on())
        return;
    arena_count(); /* sets ncpus */
    if (active > (size_t)CENTRAL_THREADS_PER_CPU * ncpus)
        __atomic_store_n(&central_on_flag, true, __ATOMIC_RELAXED);
}

/* Before arena a carves a new slab of cls, it takes over the fullest
 * partial slab of another arena whose lock is free: holes in one arena's
 * slabs are then filled by any CPU's mallocs, instead of each arena keeping
 * its own (a block cache that frees what readers on every CPU inserted
 * leaves holes in all of them). Measured on RocksDB, 32 readers on 2 CPUs,
 * free space in partly used slabs: 36-46 MiB with per-CPU arenas, 12 MiB
 * with one arena (docs/BENCHMARKS.md). Only by trylock, so two arena locks
 * never wait for each other; an arena busy now is passed over. */
static bool arena_adopt_partial(arena_t *a, unsigned cls)
{
    unsigned n = arena_count(), self = (unsigned)(a - arenas);
    for (unsigned k = 1; k < n; k++) {
        arena_t *b = &arenas[(self + k) % n];
        if (!lock_try(&b->lock))
            continue;
        bool moved = slab_move_partial(&a->heap, &b->heap, cls);
        lock_release(&b->lock);
        if (moved)
            return true;
    }
    return false;
}

static uint32_t arena_take(arena_t *a, unsigned cls, void **out, uint32_t want)
{
    uint32_t got = 0;
    bool others = arena_count() > 1;
    lock_acquire(&a->lock);
    while (got < want) {
        if (others && !slab_has_room(&a->heap, cls))
            others = arena_adopt_partial(a, cls);
        void *p = slab_alloc(&a->heap, cls);
        if (!p)
            break;
        out[got++] = p;
    }
    lock_release(&a->lock);
    return got;
}

/* Give blocks[0..n) back to their slabs, taking each arena's lock once
 * for all of its blocks. */
__attribute__((noinline)) static void arena_give(void **blocks, uint32_t n, const char *call)
{
    span_t *spans[BLOCK_CACHE_SLOTS];
    for (uint32_t i = 0; i < n; i++)
        spans[i] = pagemap_lookup(blocks[i]);
    for (uint32_t i = 0; i < n; i++) {
        /* Until block i is freed: its slab may move to another arena
         * between reading the owner and taking that arena's lock. */
        while (blocks[i]) {
            heap_t *ah = __atomic_load_n(&spans[i]->owner, __ATOMIC_RELAXED);
            arena_t *a = arena_of_heap(ah);
            lock_acquire(&a->lock);
            for (uint32_t j = i; j < n; j++) {
                if (blocks[j] && __atomic_load_n(&spans[j]->owner, __ATOMIC_RELAXED) == ah) {
                    slab_free_slow(ah, spans[j], blocks[j], call);
                    blocks[j] = NULL;
                }
            }
            lock_release(&a->lock);
        }
    }
}

/* Hand back the oldest k blocks of c. */
__attribute__((noinline)) static void cache_flush(block_cache_t *c, uint32_t k)
{
    void *batch[BLOCK_CACHE_SLOTS];
    uint32_t n = c->n;
    for (uint32_t i = 0; i < k; i++)
        batch[i] = c->slot[i];
    for (uint32_t i = k; i < n; i++)
        c->slot[i - k] = c->slot[i];
    cache_set_n(c, n - k);
    if (c->low > n - k)
        c->low = n - k;
    arena_give(batch, k, "free");
}

/* Give back half of what each class's cache held unused since the last trim. */
__attribute__((noinline)) static void cache_trim(heap_t *h)
{
    h->cache_ops = 0;
    for (unsigned i = 0; i < SC_CENTRAL_COUNT; i++) {
        block_cache_t *c = &h->cache[i];
        uint32_t idle = (c->low + 1) / 2;
        if (idle > c->n)
            idle = c->n;
        if (idle)
            cache_flush(c, idle);
        c->low = c->n;
    }
}

static inline void cache_tick(heap_t *h)
{
    if (__builtin_expect(++h->cache_ops >= BLOCK_CACHE_TRIM_OPS, 0))
        cache_trim(h);
}

__attribute__((noinline)) static void *cache_refill(heap_t *h, unsigned cls, block_cache_t *c)
{
    uint32_t want = cache_capacity(cls) / 2;
    void *got[BLOCK_CACHE_SLOTS];
    uint32_t n = arena_take(arena_here(h), cls, got, want);
    if (n == 0)
        return NULL;
    /* got[0] is the block slab_alloc handed out first: give it now, keep
     * the rest in the order they came. */
    for (uint32_t i = 1; i < n; i++)
        c->slot[i - 1] = got[n - i];
    cache_set_n(c, n - 1);
    c->low = 0;
    return got[0];
}

void *central_alloc(heap_t *h, unsigned cls)
{
    block_cache_t *c = &h->cache[cls - SC_CENTRAL_FIRST];
    cache_tick(h);
    uint32_t n = c->n;
    if (__builtin_expect(n == 0, 0))
        return cache_refill(h, cls, c);
    cache_set_n(c, --n);
    if (n < c->low)
        c->low = n;
    return c->slot[n];
}

const span_t *central_next_span(heap_t *h, unsigned cls)
{
    const block_cache_t *c = &h->cache[cls - SC_CENTRAL_FIRST];
    return c->n ? pagemap_lookup(c->slot[c->n - 1]) : NULL;
}

void *central_alloc_uncached(unsigned cls)
{
    void *p;
    unsigned cpu = os_current_cpu() % arena_count();
    return arena_take(&arenas[cpu], cls, &p, 1) ? p : NULL;
}

void central_free(heap_t *h, span_t *s, void *p, const char *call)
{
    if (!span_is_block_start(s, p))
        report_misuse(call, p, "pointer is inside a block, not at its start");
    if (__builtin_expect(h->state != HEAP_ACTIVE || h->central, 0)) {
        /* No cache of its own (a thread not set up, or past its exit). */
        arena_give(&p, 1, call);
        return;
    }
    block_cache_t *c = &h->cache[s->class_idx - SC_CENTRAL_FIRST];
    uint32_t n = c->n;
    /* The same cheap check as a slab's list heads: the latest free. */
    if (n && c->slot[n - 1] == p)
        report_misuse(call, p, "double free (block is already free)");
    uint32_t cap = cache_capacity(s->class_idx);
    if (n >= cap) {
        cache_flush(c, cap / 2);
        n = c->n;
    }
    c->slot[n] = p;
    cache_set_n(c, n + 1);
    cache_tick(h);
}

void central_drain(heap_t *h)
{
    for (unsigned i = 0; i < SC_CENTRAL_COUNT; i++) {
        block_cache_t *c = &h->cache[i];
        if (c->n)
            cache_flush(c, c->n);
        c->low = 0;
    }
    h->cache_ops = 0;
}

static void add_cached(heap_t *h, void *arg)
{
    size_t *sum = arg;
    for (unsigned i = 0; i < SC_CENTRAL_COUNT; i++)
        *sum += (size_t)__atomic_load_n(&h->cache[i].n, __ATOMIC_RELAXED) * sc_block_size[SC_CENTRAL_FIRST + i];
}

size_t central_cached_bytes(void)
{
    size_t sum = 0;
    heap_walk(add_cached, &sum);
    return sum;
}

void central_fork_prepare(void)
{
    unsigned n = arena_count();
    for (unsigned i = 0; i < n; i++)
        pthread_mutex_lock(&arenas[i].lock);
}

void central_fork_parent(void)
{
    for (unsigned i = 0; i < narenas; i++)
        pthread_mutex_unlock(&arenas[i].lock);
}

void central_fork_child(void)
{
    for (unsigned i = 0; i < narenas; i++)
        pthread_mutex_init(&arenas[i].lock, NULL);
}
