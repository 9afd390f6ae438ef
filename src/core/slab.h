/* slab — a span serving blocks of one size class, and its place in its
 * owner's heap: current, in a partial bin, or full (on no list). */
#ifndef TIDE_SLAB_H
#define TIDE_SLAB_H

#include "heap.h"

#pragma GCC visibility push(hidden)

/* A block of class cls for heap h, refilling the current slab as needed:
 * local frees first, then remote frees, then the fullest partial slab, then
 * a new slab. NULL when out of memory; SLAB_SAMPLE when this allocation is
 * the heap profiler's sample (see slab_sample_hook). */
void *slab_alloc(heap_t *h, unsigned cls);
#define SLAB_SAMPLE ((void *)1)
/* The byte sampler (prof/sampler.c), set while sampling is on, NULL while
 * off: given n fresh blocks just put on s->free, it charges them to h's
 * budget and, if the next sample point falls inside block i, keeps blocks
 * 0..i-1 on s->free and parks the rest on s->prof_rest (prof_rest_n
 * blocks). The allocation that then finds s->free empty is the sample. */
extern void (*slab_sample_hook)(heap_t *h, span_t *s, uint32_t n);
/* Right after SLAB_SAMPLE, when the sample could not be taken: the block
 * itself, unsampled. */
void *slab_alloc_unsampled(heap_t *h, unsigned cls);
/* Free p (in slab s) when the fast path could not: s is full, belongs to
 * another heap, or h is not a real heap. Validates p. */
void slab_free_slow(heap_t *h, span_t *s, void *p, const char *call);
/* The fast path saw s->used drop to 0. */
void slab_on_empty(span_t *s);
/* Give h (orphaned, or adopted by the calling thread) the key its slabs'
 * owner test compares with. Only the slabs in partial bins carry a key:
 * the others are current (detached before orphaning) or full (0). */
void slab_rekey(heap_t *h, uintptr_t key);
/* Hand every batched remote free h holds to its slab's owner. */
void slab_flush_remote(heap_t *h);
/* Collect the blocks other threads freed into h's slabs. */
void slab_collect_pending(heap_t *h);
/* Could h serve a block of cls without a new slab or its spare: from its
 * current slab's free, local or uncarved blocks, or a partial bin? */
bool slab_has_room(const heap_t *h, unsigned cls);
/* Move the fullest slab of cls in a partial bin of `from` to the same bin
 * of `to`, for heaps whose slabs nobody holds remote frees or pending
 * links on (the shared arenas); the caller holds both heaps' locks.
 * False when `from` has none. */
bool slab_move_partial(heap_t *to, heap_t *from, unsigned cls);
/* Give the empty slabs h keeps in reserve back to the page heap. */
void slab_release_spares(heap_t *h);
/* Flush h's remote batches and park every slab of h so that h can be orphaned: empty slabs go back to the
 * page heap, the rest wait in partial bins. */
void slab_detach_all(heap_t *h);

#pragma GCC visibility pop

#endif
