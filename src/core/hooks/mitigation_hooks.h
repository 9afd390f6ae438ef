/* mitigation_hooks (default build) — the hardened build's steps in the
 * slab and large-block code, each the plain default here.
 *
 * slab.c and large.c include this through the include path the build
 * selects; src/hardened/hooks/mitigation_hooks.h defines the same functions
 * with guard pages, kept guarded runs and shuffled carving. Every hook is
 * inline and, here, either the default step itself or a constant, so the
 * default build compiles to what it would be without hooks.
 */
#ifndef TIDE_MITIGATION_HOOKS_H
#define TIDE_MITIGATION_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/page_heap.h"

#pragma GCC visibility push(hidden)

/* A run for a new slab of npages; *mapped says its pages already map to it. */
static inline span_t *mitigation_slab_alloc(size_t npages, bool *mapped)
{
    return page_heap_alloc_slab(npages, mapped);
}

/* The slab's descriptor is filled in; false: give it back, out of memory. */
static inline bool mitigation_slab_init(span_t *s)
{
    (void)s;
    return true;
}

/* An empty slab leaves its heap; true if the hook disposed of it. */
static inline bool mitigation_slab_release(span_t *s)
{
    (void)s;
    return false;
}

/* Link n fresh blocks from `first` onto s->free; false: the caller links
 * them in address order. */
static inline bool mitigation_slab_carve(span_t *s, char *first, uint32_t n)
{
    (void)s, (void)first, (void)n;
    return false;
}

/* The bytes a large or huge request of `size` occupies. */
static inline size_t mitigation_large_pad(size_t size)
{
    return size;
}

/* A page run for a large block. */
static inline span_t *mitigation_large_run(size_t npages, size_t align_pages)
{
    return page_heap_alloc(npages, align_pages);
}

/* Of a padded large block, the bytes calloc must zero. */
static inline size_t mitigation_large_zero_bytes(size_t padded)
{
    return padded;
}

/* The page heap's decay tick (page_heap_decay_tick, no lock held): memory
 * the hardened build keeps outside the page heap decays too. Returns the
 * earlier of next and the kept memory's own next deadline. */
static inline uint64_t mitigation_decay_tick(uint64_t now, uint64_t next)
{
    (void)now;
    return next;
}

/* The purger's wake-up, as the background thread registers it
 * (page_heap_on_dirty): the hardened build calls it when it starts
 * keeping memory, so an idle program still gives that back. */
static inline void mitigation_on_dirty_hook(void (*fn)(void))
{
    (void)fn;
}

#pragma GCC visibility pop

#endif
