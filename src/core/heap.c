/* heap — per-thread heaps: creation from meta memory, the thread-exit hook
 * that orphans a heap, adoption of orphans by new threads, the shared heap
 * of exited threads, and the fork handlers.
 *
 * Invariant: a heap is run by at most one thread at a time. Its state says
 * which: ACTIVE (a thread runs it and its slabs carry that thread's key),
 * ORPHAN (no thread; slabs keyed HEAP_KEY_UNOWNED, adoptable), QUARANTINED
 * (after fork, a thread that did not survive: never touched again), STATIC
 * (heap_empty and heap_exited, shared, never adopted). Every
 * heap ever made is on the all-heaps list, for the stats and the background
 * thread's collection of remote frees into orphans.
 */
#include "heap.h"
#include "platform/lock.h"

#include <pthread.h>
#include <string.h>

#include "central.h"
#include "isolated.h"
#include "large.h"
#include "pagemap.h"
#include "meta.h"
#include "slab.h"

#define EMPTY_SLOTS                                                   \
    .direct = { [0 ... SC_DIRECT_COUNT - 1] = &span_none },           \
    .cur = { [0 ... SC_COUNT - 1] = &span_none },                     \
    .state = HEAP_STATIC, .key = HEAP_KEY_UNOWNED

heap_t heap_empty = { EMPTY_SLOTS };
heap_t heap_exited = { EMPTY_SLOTS };

__thread heap_t *tls_heap = &heap_empty;

static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static heap_t *all_heaps;     /* every heap ever made (they are never freed) */
static heap_t *orphans;
static size_t active_count, orphan_count;

/* Threads past their exit hook share this one, under a lock. */
static pthread_mutex_t exited_lock = PTHREAD_MUTEX_INITIALIZER;
static heap_t *exited_shared;

static pthread_key_t exit_key;
static bool exit_key_ready;

static void heap_reset(heap_t *h)
{
    memset(h, 0, sizeof *h);
    for (unsigned i = 0; i < SC_DIRECT_COUNT; i++)
        h->direct[i] = &span_none;
    for (unsigned i = 0; i < SC_COUNT; i++)
        h->cur[i] = &span_none;
}

static heap_t *heap_new_locked(void)
{
    heap_t *h = meta_alloc(sizeof *h);
    if (!h)
        return NULL;
    heap_reset(h);
    h->next_all = all_heaps;
    all_heaps = h;
    return h;
}

static void thread_exit_hook(void *arg)
{
    heap_t *h = arg;
    if (h != tls_heap || h->state != HEAP_ACTIVE || isolated_mode)
        return;
    central_drain(h);
    slab_detach_all(h);
    /* Before it can be adopted: this thread's later frees (other keys'
     * destructors), and a new thread that reuses its thread pointer, must
     * not pass the owner test on these slabs. */
    slab_rekey(h, HEAP_KEY_UNOWNED);
    tls_heap = &heap_exited;
    lock_acquire(&heaps_lock);
    /* Atomic: other threads' remote frees read it (slab_free_slow). */
    __atomic_store_n(&h->state, HEAP_ORPHAN, __ATOMIC_RELAXED);
    h->next_orphan = orphans;
    orphans = h;
    active_count--;
    orphan_count++;
    lock_release(&heaps_lock);
}

heap_t *heap_thread_init(void)
{
    if (tls_heap != &heap_empty)
        return tls_heap;
    lock_acquire(&heaps_lock);
    heap_t *h = orphans;
    if (h) {
        orphans = h->next_orphan;
        orphan_count--;
    } else {
        h = heap_new_locked();
    }
    size_t active = 0;
    if (h) {
        __atomic_store_n(&h->state, HEAP_ACTIVE, __ATOMIC_RELAXED);
        active = ++active_count;
    }
    lock_release(&heaps_lock);
    if (!h)
        return NULL;
    central_note_threads(active);
    slab_rekey(h, thread_key());
    tls_heap = h;
    if (__atomic_load_n(&exit_key_ready, __ATOMIC_ACQUIRE))
        h->exit_hooked = pthread_setspecific(exit_key, h) == 0;
    return h;
}

void heap_setup_exit_hook(void)
{
    if (exit_key_ready)
        return;
    if (pthread_key_create(&exit_key, thread_exit_hook) != 0)
        return;
    __atomic_store_n(&exit_key_ready, true, __ATOMIC_RELEASE);
    if (tls_heap->state == HEAP_ACTIVE)
        tls_heap->exit_hooked = pthread_setspecific(exit_key, tls_heap) == 0;
}

void heap_hook_exit_late(heap_t *h)
{
    if (h->state == HEAP_ACTIVE && h == tls_heap &&
        __atomic_load_n(&exit_key_ready, __ATOMIC_ACQUIRE))
        h->exit_hooked = pthread_setspecific(exit_key, h) == 0;
}

void *heap_exited_alloc(size_t size, size_t align)
{
    lock_acquire(&exited_lock);
    if (!exited_shared) {
        lock_acquire(&heaps_lock);
        exited_shared = heap_new_locked();
        if (exited_shared) {
            exited_shared->state = HEAP_ACTIVE;
            exited_shared->key = HEAP_KEY_UNOWNED; /* shared: never the fast path */
        }
        lock_release(&heaps_lock);
    }
    void *p = NULL;
    if (exited_shared) {
        if (size <= SC_SMALL_MAX && align <= 16) {
            unsigned cls = sc_of_size(size);
            if (sc_is_central(cls) && central_on()) {
                lock_release(&exited_lock);
                return central_alloc_uncached(cls);
            }
            p = slab_alloc(exited_shared, cls);
            if (p == SLAB_SAMPLE) /* not sampled: rare, and under a lock */
                p = slab_alloc_unsampled(exited_shared, cls);
        } else
            p = large_alloc(size, align, false);
    }
    lock_release(&exited_lock);
    return p;
}

void heap_collect_orphans(void)
{
    if (pthread_mutex_trylock(&heaps_lock) != 0)
        return;
    for (heap_t *h = orphans; h; h = h->next_orphan)
        slab_collect_pending(h);
    lock_release(&heaps_lock);
    /* The shared heap of exited threads has no owner to collect for it. */
    if (exited_shared && pthread_mutex_trylock(&exited_lock) == 0) {
        slab_collect_pending(exited_shared);
        lock_release(&exited_lock);
    }
}

void heap_walk(void (*fn)(heap_t *h, void *arg), void *arg)
{
    lock_acquire(&heaps_lock);
    for (heap_t *h = all_heaps; h; h = h->next_all)
        fn(h, arg);
    lock_release(&heaps_lock);
}

size_t heap_count_active(void) { return __atomic_load_n(&active_count, __ATOMIC_RELAXED); }
size_t heap_count_orphans(void) { return __atomic_load_n(&orphan_count, __ATOMIC_RELAXED); }

void heap_fork_prepare(void)
{
    pthread_mutex_lock(&exited_lock);
    pthread_mutex_lock(&heaps_lock);
}

void heap_fork_parent(void)
{
    pthread_mutex_unlock(&heaps_lock);
    pthread_mutex_unlock(&exited_lock);
}

void heap_fork_child(void)
{
    pthread_mutex_init(&heaps_lock, NULL);
    pthread_mutex_init(&exited_lock, NULL);
    /* Every running heap may have been mid-update when the fork happened:
     * other threads' heaps, and this thread's own too when a signal handler
     * forked in the middle of its malloc or free (no lock is held there, so
     * the fork handlers cannot tell). Never touch them again: their memory
     * stays with the child as is, and the child's thread starts a heap of
     * its own (adopting an orphan, or a new one) at its next allocation. */
    for (heap_t *h = all_heaps; h; h = h->next_all) {
        if (h->state == HEAP_ACTIVE && h != exited_shared) {
            __atomic_store_n(&h->state, HEAP_QUARANTINED, __ATOMIC_RELAXED);
            active_count--;
        }
    }
    if (tls_heap != &heap_exited)
        tls_heap = &heap_empty;
}
