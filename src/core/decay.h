/* decay — how much freed-but-resident ("dirty") memory may stay.
 *
 * Every page freed to the page heap is counted in the time bucket it was
 * freed in; the dirty pages allowed at any moment are those freed within the
 * last decay_ms (never more than the dirty cap). Anything beyond that is
 * purged, highest addresses first. A page freed at time t is therefore gone
 * by t + decay_ms + one bucket, whether or not the program calls malloc
 * again: the background purger wakes up for the deadline.
 */
#ifndef TIDE_DECAY_H
#define TIDE_DECAY_H

#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

#define DECAY_BUCKETS 16

typedef struct decay {
    uint64_t decay_ms;
    uint64_t bucket_ms;
    uint64_t epoch;      /* start time of the current bucket */
    unsigned cur;
    size_t pages[DECAY_BUCKETS];
} decay_t;

void decay_init(decay_t *d, uint64_t decay_ms, uint64_t now);
/* Record npages freed now. */
void decay_note(decay_t *d, size_t npages, uint64_t now);
/* Pages allowed to stay dirty now. */
size_t decay_allowed(decay_t *d, uint64_t now);
/* When decay_allowed next drops (UINT64_MAX if it cannot). */
uint64_t decay_next_change(const decay_t *d);

#pragma GCC visibility pop

#endif
