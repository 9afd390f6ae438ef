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

#include "heap.h"
#include "pagemap.h"
#include "slab.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

void *alloc_slow(size_t size);
void free_slow(void *p, span_t *s, const char *call);
void free_double(void *p, const char *call);

static inline __attribute__((always_inline)) void *alloc_fast(size_t size)
{
    heap_t *h = tls_heap;
    if (likely(size <= SC_DIRECT_MAX)) {
        span_t *s = h->direct[(size + 15) >> 4];
        block_t *b = s->free;
        if (likely(b != NULL)) {
            s->free = b->next;
            s->used++;
            return b;
        }
    }
    return alloc_slow(size);
}

static inline __attribute__((always_inline)) void free_fast(void *p, const char *call)
{
    span_t *s = pagemap_lookup(p);
    if (likely(s->owner_fast == tls_heap)) {
        block_t *b = p;
        block_t *head = s->local_free;
        if (unlikely(b == head)) {
            free_double(p, call);
            return;
        }
        b->next = head;
        s->local_free = b;
        if (unlikely(--s->used == 0))
            slab_on_empty(tls_heap, s);
        return;
    }
    free_slow(p, s, call);
}


#endif
