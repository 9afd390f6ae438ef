/* decay — the time buckets behind the decay policy: pages freed are counted
 * in the bucket of their time, and the pages allowed to stay dirty are those
 * freed within the last decay_ms.
 *
 * Invariant: DECAY_BUCKETS buckets of bucket_ms each, the current one
 * starting at `epoch`: a page counted in a bucket is forgotten once the
 * ring comes round to it again, so between frees the allowance only falls,
 * and a page freed at t stops counting by t + decay_ms + one bucket.
 */
#include "decay.h"

#include <string.h>

void decay_init(decay_t *d, uint64_t decay_ms, uint64_t now)
{
    memset(d, 0, sizeof *d);
    d->decay_ms = decay_ms;
    d->bucket_ms = decay_ms / DECAY_BUCKETS;
    if (d->bucket_ms == 0)
        d->bucket_ms = 1;
    d->epoch = now;
}

static void advance(decay_t *d, uint64_t now)
{
    if (now < d->epoch + d->bucket_ms)
        return;
    uint64_t steps = (now - d->epoch) / d->bucket_ms;
    if (steps >= DECAY_BUCKETS) {
        memset(d->pages, 0, sizeof d->pages);
    } else {
        for (uint64_t i = 0; i < steps; i++) {
            d->cur = (d->cur + 1) % DECAY_BUCKETS;
            d->pages[d->cur] = 0;
        }
    }
    d->epoch += steps * d->bucket_ms;
}

void decay_note(decay_t *d, size_t npages, uint64_t now)
{
    if (d->decay_ms == 0)
        return;
    advance(d, now);
    d->pages[d->cur] += npages;
}

size_t decay_allowed(decay_t *d, uint64_t now)
{
    if (d->decay_ms == 0)
        return 0;
    advance(d, now);
    size_t sum = 0;
    for (unsigned i = 0; i < DECAY_BUCKETS; i++)
        sum += d->pages[i];
    return sum;
}

uint64_t decay_next_change(const decay_t *d)
{
    /* The oldest non-empty bucket is the next to expire. */
    for (unsigned age = DECAY_BUCKETS - 1;; age--) {
        unsigned i = (d->cur + DECAY_BUCKETS - age) % DECAY_BUCKETS;
        if (d->pages[i])
            return d->epoch + (uint64_t)(DECAY_BUCKETS - age) * d->bucket_ms;
        if (age == 0)
            return UINT64_MAX;
    }
}
