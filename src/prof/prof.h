/* prof — sampled heap profiling.
 *
 * Allocations are sampled by bytes: a Poisson process over the bytes handed
 * out, with mean interval prof_sample_bytes (TIDE_CONF lg_prof_sample). A
 * sampled allocation is served from a page run of its own (so its free takes
 * the slow path and finds the sample) and keeps its stack until it is freed.
 * A sample of size s stands for 1 / (1 - exp(-s / mean)) allocations, which
 * makes every estimate below unbiased.
 *
 * Dump writers (heap_v2 text, pprof profile.proto, folded stacks) see the
 * profile only through prof_rows().
 */
#ifndef TIDE_PROF_H
#define TIDE_PROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

#define PROF_DEPTH_MAX 64

/* One stack of the profile. pc[0] is the return address in the code that
 * called the allocator (malloc, new, ...), pc[depth-1] the outermost frame.
 * Every pc is a return address: symbolize pc - 1. */
typedef struct prof_row {
    const uintptr_t *pc;
    uint32_t depth;
    /* what was sampled: objects, and the bytes the sampler charged for them
     * (a small block's size class, a large block's requested size) */
    uint64_t live_objs, live_bytes;   /* still allocated */
    uint64_t accum_objs, accum_bytes; /* ever allocated */
    /* unbiased estimates of the real totals these samples stand for */
    uint64_t est_live_objs, est_live_bytes;
    uint64_t est_accum_objs, est_accum_bytes;
    /* estimated free bytes its live blocks pin in partly used slabs
     * (prof_pinned.c) */
    uint64_t est_pinned_bytes;
} prof_row_t;

typedef void (*prof_row_fn)(const prof_row_t *row, void *ctx);

/* Call fn for every stack that has ever had a sample, under the profiler's
 * lock: fn must not allocate with malloc (use os_reserve for scratch). */
void prof_rows(prof_row_fn fn, void *ctx);
/* Mean sampling interval in bytes. */
uint64_t prof_sample_bytes(void);

/* The pinned-bytes estimate by size class and by slab-occupancy bin, as of
 * the last prof_rows() (prof_pinned.c), with the allocator's own count of
 * free bytes inside partly used slabs beside it. */
#define PROF_FRAG_BINS 10
#define PROF_FRAG_CLASSES 35
typedef struct prof_frag_view {
    double pinned, cls_pinned[PROF_FRAG_CLASSES], bin_pinned[PROF_FRAG_BINS];
    double unattributed_live; /* live samples taken while stacks were off */
    uint64_t free, cls_free[PROF_FRAG_CLASSES], bin_free[PROF_FRAG_BINS]; /* counted */
    uint32_t cls_size[PROF_FRAG_CLASSES];
    /* profiling (stacks) turned on after the process started: the samples
     * cover what was allocated since; live_at_start was live then */
    bool mid_run;
    uint64_t started_unix_ms, live_at_start;
} prof_frag_view_t;
void prof_frag_view(prof_frag_view_t *out);
/* The view as the "tide_..." lines heap_v2 carries (prof_heap_v2.c) and
 * pprof's comments, one call of emit per line (no newline). */
void prof_frag_lines(void (*emit)(void *ctx, const char *line, size_t len), void *ctx);

/* Writers; each returns false if a write failed. */
bool prof_write_heap_v2(int fd);
bool prof_write_pprof(int fd);   /* gzipped profile.proto */
bool prof_write_folded(int fd);  /* "outer;...;inner live_bytes" per stack */

#pragma GCC visibility pop

#endif
