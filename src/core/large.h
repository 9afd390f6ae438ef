/* large and huge blocks — above the largest size class, a block is a run of
 * whole pages from the page heap; above half a region it gets a mapping of
 * its own, which realloc can grow with mremap. */
#ifndef TIDE_LARGE_H
#define TIDE_LARGE_H

#include <stdbool.h>
#include <stddef.h>

#include "span.h"

#pragma GCC visibility push(hidden)

#define HUGE_THRESHOLD ((size_t)32 << 20)

/* A block of at least size bytes aligned to align (0 or a power of two);
 * zeroed if zero. NULL when out of memory. */
void *large_alloc(size_t size, size_t align, bool zero);
void large_free(span_t *s, void *p, const char *call);
/* Resize in place if possible (shrinking or growing the run, or remapping a
 * huge block); NULL if the caller must move the block. */
void *large_resize(span_t *s, void *p, size_t size);
size_t large_usable_size(const span_t *s);
size_t large_huge_bytes(void);
/* Huge mappings now, and the most there ever were at once. */
typedef struct huge_counts {
    size_t count, bytes, peak_count, peak_bytes;
} huge_counts_t;
void large_huge_counts(huge_counts_t *out);
/* The heap profiler's: a sampled block's span (s->prof set) is being
 * freed. Registered before the first sample is taken. */
extern void (*large_sample_free_hook)(span_t *s);

#pragma GCC visibility pop

#endif
