/* slab_census — how full the slabs are, read while the program runs: per
 * size class and per occupancy bin, the free bytes inside partly used slabs
 * (what the live blocks there keep from going back to the page heap).
 *
 * The definitions, made once here for the statistics (service/frag.c) and
 * the profiler's pinned-bytes estimate (prof/prof_pinned.c) alike:
 *  - carved: capacity * block_size, the part of a slab that has been
 *    touched (the uncarved rest of its run never became resident);
 *  - live: used * block_size. Blocks parked in threads' caches and
 *    remote-free batches are counted as the slab counts them, live; the
 *    census reports the cached ones separately;
 *  - partly used: 0 < used < capacity. Its free carved bytes are pinned:
 *    the slab cannot go back to the page heap while one block is live. An
 *    empty slab (a spare) pins nothing: it goes back whole.
 *  - occupancy bin: used / capacity in tenths (bin 9: 90 % and fuller).
 *
 * Invariant: the counters of other threads' slabs are read with relaxed
 * loads and no cooperation from their owners, so a snapshot is off by the
 * blocks that moved during the walk, never more, and never faults.
 */
#ifndef TIDE_SLAB_CENSUS_H
#define TIDE_SLAB_CENSUS_H

#include <stdbool.h>
#include <stdint.h>

#include "size_class.h"
#include "span.h"

#pragma GCC visibility push(hidden)

#define CENSUS_BINS 10

typedef struct slab_occ {
    uint32_t used, capacity, block_size;
    uint8_t cls;
    uint8_t bin;      /* occupancy bin */
    bool partly_used;
} slab_occ_t;

/* s's occupancy now; false if s is not a slab with a carved block. */
bool slab_occupancy(const span_t *s, slab_occ_t *o);

static inline uint64_t occ_free_bytes(const slab_occ_t *o)
{
    return o->partly_used ? (uint64_t)(o->capacity - o->used) * o->block_size : 0;
}

typedef struct census_cell {
    uint64_t slabs, partly_used;
    uint64_t carved, live, free; /* bytes; free: inside partly used slabs */
    uint64_t cached;             /* bytes of live sitting in threads' caches */
} census_cell_t;

typedef struct slab_census {
    census_cell_t all;
    census_cell_t cls[SC_COUNT];
    census_cell_t bin[CENSUS_BINS];
} slab_census_t;

/* Count every slab (under the page heap's lock) and the threads' caches. */
void slab_census_take(slab_census_t *c);

/* Call fn for every slab with a carved block, under the page heap's lock:
 * fn must not allocate. */
void slab_census_walk(void (*fn)(const span_t *s, const slab_occ_t *o, void *arg), void *arg);

/* Under the page heap's lock (from slab_census_walk's fn): set bit i of
 * bits for every live block i of s (bits: at least (capacity + 63) / 64
 * words). Blocks on s's free lists, as far as a read racing their owner
 * can follow them (each link checked to be a block of s before it is
 * followed), are free; the rest are live. */
void slab_live_map(const span_t *s, uint32_t capacity, uint64_t *bits);

#pragma GCC visibility pop

#endif
