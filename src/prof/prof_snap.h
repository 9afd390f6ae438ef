/* prof_snap — what the pprof and folded writers share: scratch memory that
 * grows without malloc, and a copy of the profile's rows.
 *
 * The writers copy the rows under the profiler's lock (prof_rows) and do
 * everything else — reading /proc/self/maps, dladdr, writing the file —
 * after it is released: dladdr takes the dynamic loader's lock, and a
 * thread inside dlopen holds that lock while it allocates, so symbolizing
 * under the profiler's lock could deadlock. */
#ifndef TIDE_PROF_SNAP_H
#define TIDE_PROF_SNAP_H

#include "prof.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* Page-granular memory from os_reserve, grown with os_remap. */
typedef struct scratch {
    uint8_t *p;
    size_t n, cap;
    bool failed;
} scratch_t;

/* Room for `more` bytes after n; false (and failed set) if out of memory. */
bool scratch_room(scratch_t *s, size_t more);
/* Append n bytes; returns where they landed or NULL. */
void *scratch_put(scratch_t *s, const void *p, size_t n);
void scratch_free(scratch_t *s);

/* A copy of every row: per row, PROF_SNAP_HDR words (depth, then the nine
 * counters in prof_row_t order), then depth pcs. */
#define PROF_SNAP_HDR 10
typedef struct prof_snap {
    scratch_t mem;
    size_t rows, frames;
} prof_snap_t;

/* false if scratch memory ran out (the snapshot is then incomplete). */
bool prof_snap_take(prof_snap_t *s);
/* Iterate: *pos starts at 0; fills *row (whose pc points into the copy). */
bool prof_snap_next(const prof_snap_t *s, size_t *pos, prof_row_t *row);
void prof_snap_free(prof_snap_t *s);

#pragma GCC visibility pop

#endif
