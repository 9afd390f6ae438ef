/* central — the size classes above the fast path's reach (block sizes over
 * SC_DIRECT_MAX), served from a few shared arenas through a small cache of
 * blocks in each thread's heap. central.c argues why.
 */
#ifndef TIDE_CENTRAL_H
#define TIDE_CENTRAL_H

#include "heap.h"

#pragma GCC visibility push(hidden)

static inline bool sc_is_central(unsigned cls)
{
    return cls >= SC_CENTRAL_FIRST;
}

/* Whether the central classes come from the arenas: from the moment the
 * process first runs more thread heaps than central_threshold(), for good
 * (central.c says why). Before, each thread's own slabs serve them. */
extern bool central_on_flag;
static inline bool central_on(void)
{
    return __atomic_load_n(&central_on_flag, __ATOMIC_RELAXED);
}
/* Called as a heap becomes active, with the number now active. */
void central_note_threads(size_t active);

/* A block of central class cls for h (a thread's active heap): from its
 * cache, else a batch from an arena. NULL when out of memory. */
void *central_alloc(heap_t *h, unsigned cls);
/* The slab of the block central_alloc(h, cls) would hand out next, or NULL
 * when the cache is empty. */
const span_t *central_next_span(heap_t *h, unsigned cls);
/* The same straight from an arena, for a thread with no heap of its own. */
void *central_alloc_uncached(unsigned cls);
/* Free p, a block of slab s of a central class. Validates p. */
void central_free(heap_t *h, span_t *s, void *p, const char *call);
/* Hand every block in h's cache back to its arena (thread exit, tide_purge). */
void central_drain(heap_t *h);
/* Bytes in blocks that sit in threads' caches: freed, but counted in their
 * slabs' `used`. */
size_t central_cached_bytes(void);

void central_fork_prepare(void);
void central_fork_parent(void);
void central_fork_child(void);

#pragma GCC visibility pop

#endif
