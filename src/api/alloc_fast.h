/* The malloc and free fast paths, inlined into both the tide_* API and the
 * malloc/free overrides. Everything rare is a call to a slow path.
 *
 * malloc: a small request indexes the thread's direct table and pops the
 *   current slab's free list. An empty list (or a thread that has not
 *   allocated yet: its table points at span_none) takes the slow path.
 * free: the page map gives the block's span; if this thread may free into it
 *   on the fast path, push onto the slab's local free list. Foreign pointers
 *   (span_none), other threads' slabs, full slabs and large blocks all fail
 *   the owner test and take the slow path.
 */
#ifndef TIDE_ALLOC_FAST_H
#define TIDE_ALLOC_FAST_H

#include "core/heap.h"
#include "core/pagemap.h"
#include "core/slab.h"

#pragma GCC visibility push(hidden)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* caller: the return address into the program (the heap profiler's stack
 * starts there). */
void *alloc_slow(size_t size, const void *caller);
/* For jemalloc's mallocx (compat/): any alignment (0: none), zeroed or not. */
void *alloc_with(size_t size, size_t align, bool zero, const void *caller);
/* The usable size malloc_usable_size would report for an unsampled block
 * of size bytes aligned to align (0: none); 0 if it cannot exist. */
size_t alloc_usable_for(size_t size, size_t align);
/* The calling thread's cached and batched blocks back to their slabs, and
 * its spare slabs to the page heap (jemalloc's thread.tcache.flush). */
void alloc_flush_thread_caches(void);
/* free_slow and FREE_NO_SIZE: core/span.h. */

#if TIDE_SECURE
/* The hardened build has its own fast paths: src/hardened/secure_fast.h. */
#include "hardened/secure_fast.h"
#else
/* free_sized, free_aligned_sized and sized delete: the default build does
 * not check the size (the hardened build does). */
#define free_fast_sized(p, size, align, call) ((void)(size), (void)(align), free_fast(p, call))

static inline __attribute__((always_inline)) void *alloc_fast(size_t size)
{
    heap_t *h = heap_get();
    if (likely(size <= SC_DIRECT_MAX)) {
        span_t *s = h->direct[(size + 15) >> 4];
        block_t *b = s->free;
        if (likely(b != NULL)) {
            s->free = b->next;
            s->used++;
            return b;
        }
    }
    return alloc_slow(size, __builtin_return_address(0));
}

/* Two cheap checks before the push, both reported by free_slow: a pointer
 * into the middle of a block (an exact divisibility test by multiplication,
 * Lemire's n * ceil(2^64/d) < ceil(2^64/d)), and a block freed twice in a
 * row, which is the local list's head. */
static inline __attribute__((always_inline)) void free_fast(void *p, const char *call)
{
    span_t *s = pagemap_lookup(p);
    if (likely(span_owner_fast(s) == thread_key())) {
        block_t *head = s->local_free;
        uint64_t off_magic = (uint64_t)(uintptr_t)p * s->div_magic - s->start_magic;
        if (likely(off_magic < s->div_limit && (block_t *)p != head)) {
            ((block_t *)p)->next = head;
            s->local_free = p;
            if (likely(--s->used != 0))
                return;
            slab_on_empty(s);
            return;
        }
    }
    free_slow(p, s, call);
}
#endif /* !TIDE_SECURE */

#pragma GCC visibility pop

#endif
