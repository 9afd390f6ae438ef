/* sampler — where the next sample falls, for blocks handed out by slabs.
 *
 * The malloc fast path never counts bytes. Instead, whenever the slow path
 * gives the fast path a list of n free blocks, the whole list is charged to
 * the thread's byte budget at once (sampler_charge_slab, the slab's
 * slab_sample_hook). If the next sample point falls inside block i, the
 * list is cut before block i and the rest parked on the span, so the
 * allocation that empties the cut list reaches the slow path and is the
 * sample (slab.c, slab_sample_due).
 *
 * Invariant: a slab's s->prof_rest is non-NULL only between a cut and the
 * allocation that takes the sample, and its prof_rest_n blocks are exactly
 * the ones not yet charged again.
 */
#include "prof/prof_internal.h"

#include "core/slab.h"

void sampler_charge_slab(heap_t *h, span_t *s, uint32_t n)
{
    uint64_t bytes = (uint64_t)n * s->block_size;
    prof_count_bytes(bytes);
    if (h->prof_budget <= 0)
        h->prof_budget = prof_next_interval(h);
    if ((uint64_t)h->prof_budget > bytes) {
        h->prof_budget -= (int64_t)bytes;
        return;
    }
    uint32_t i = (uint32_t)(((uint64_t)h->prof_budget + s->block_size - 1) / s->block_size) - 1;
    if (i == 0) {
        s->prof_rest = s->free;
        s->free = NULL;
    } else {
        block_t *last = s->free;
        for (uint32_t k = 1; k < i; k++)
            last = block_next(last);
        s->prof_rest = block_next(last);
        block_set_next(last, NULL);
    }
    s->prof_rest_n = n - i;
    h->prof_budget = prof_next_interval(h); /* the next point, after block i */
}
