/* page heap — large regions of address space split into runs of pages.
 *
 * Runs are found first fit, regions oldest first and address-ordered within
 * a region (a run tree per region makes that O(log)), so the heap stays
 * dense in its oldest pages and young regions can empty. Free pages are
 * tracked per region in two bitmaps: free, and dirty (free but possibly
 * resident). Dirty pages are purged (MADV_DONTNEED) by the decay policy,
 * youngest region and highest addresses first; a region that is entirely
 * free and purged is unmapped.
 *
 * One mutex guards it all; purging drops it around the madvise calls.
 */
#ifndef TIDE_PAGE_HEAP_H
#define TIDE_PAGE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run_tree.h"
#include "span.h"

#pragma GCC visibility push(hidden)

#define REGION_SHIFT 26                   /* 64 MiB regions */
#define REGION_PAGES ((size_t)1 << (REGION_SHIFT - 12))

typedef struct region {
    char *base;
    size_t pages;        /* reserved: REGION_PAGES, fewer if partial */
    size_t free_pages;   /* free and not being purged */
    size_t dirty_pages;
    run_tree_t tree;     /* index of free_bits: first fit in O(log) */
    uint64_t free_bits[REGION_PAGES / 64];
    uint64_t dirty_bits[REGION_PAGES / 64];
} region_t;

/* A run of npages pages aligned to align_pages pages (1 = any). The span's
 * start, npages, region and clean fields are set. NULL when out of memory. */
span_t *page_heap_alloc(size_t npages, size_t align_pages);
void page_heap_free(span_t *s);
/* A descriptor kept with its run (a cache's) handed out again as
 * page_heap_alloc hands one out: zeroed but for start, npages and region
 * (and not clean: its pages were used). */
void page_heap_desc_reuse(span_t *s);

/* Slab runs. A slab's run goes back with its pages still mapped to its
 * descriptor, and may be kept whole (a bounded cache, counted as dirty and
 * emptied before any purge) for the next slab of the same length: slabs of
 * the classes that hold few blocks empty and are remade at a high rate, and
 * the cache spares each cycle the run tree, the bitmaps and the page map.
 * page_heap_alloc_slab sets *mapped when the run's pages already map to the
 * span it returns. */
span_t *page_heap_alloc_slab(size_t npages, bool *mapped);
void page_heap_free_slab(span_t *s);
/* Grow or shrink a run in place; false if the pages after it are taken. */
bool page_heap_resize(span_t *s, size_t npages);

/* Descriptors for spans that do not come from a region (huge blocks). */
span_t *page_heap_desc_alloc(void);
void page_heap_desc_free(span_t *s);

/* Purge what the decay policy no longer allows; returns when the allowance
 * next shrinks (UINT64_MAX when nothing is dirty). */
uint64_t page_heap_decay_tick(void);
/* Purge every dirty page. */
void page_heap_purge_all(void);
/* How long freed pages may stay dirty, and how many bytes of them at most;
 * until the first call, the defaults below (the options' defaults too). */
void page_heap_set_policy(uint64_t decay_ms, size_t dirty_max_bytes);
#define PAGE_HEAP_DECAY_MS_DEFAULT 1000
#define PAGE_HEAP_DIRTY_MAX_DEFAULT ((size_t)256 << 20)
/* fn runs (with no page-heap lock held) when dirty pages appear where there
 * were none: the background thread registers itself here to wake up. */
void page_heap_on_dirty(void (*fn)(void));

typedef struct page_heap_stats {
    size_t active_pages, dirty_pages, mapped_pages, regions;
    size_t peak_mapped_pages; /* the high-water mark of mapped_pages */
    size_t peak_resident_pages; /* ...and of active_pages + dirty_pages */
    uint64_t purged_pages, purge_calls;
} page_heap_stats_t;
void page_heap_stats(page_heap_stats_t *out);

/* Active + dirty bytes: the page heap's part of the charge (core/limit.h). */
size_t page_heap_resident_bytes(void);

/* p lies in one of the page heap's regions. */
bool page_heap_owns(const void *p);
/* Call fn for every span cut from a region, under the page-heap lock. */
void page_heap_walk(void (*fn)(const span_t *s, void *arg), void *arg);

void page_heap_fork_prepare(void);
void page_heap_fork_parent(void);
void page_heap_fork_child(void);

#pragma GCC visibility pop

#endif
