/* secure_decay — the kept guarded memory (empty slabs and freed large runs
 * whose guard page is still protected, secure_slab.c and secure_large.c)
 * under the decay policy and dirty cap of everything else (TIDE_SECURE=1
 * only; mitigation `kept_decay`).
 *
 * Owns the policy, not the caches. Invariants:
 *  - nothing stays kept longer than decay_ms (TIDE_CONF decay_ms; 0: nothing
 *    is kept) past the next decay tick: once it is older, it goes back to
 *    the page heap, whose own decay then purges it like any freed page;
 *  - each cache holds at most min(its own bound, dirty_max / 2), so the two
 *    together stay within the dirty cap;
 *  - when a cache goes from empty to holding something, the purger is
 *    woken (the page heap may have no dirty pages, and the background
 *    thread would then sleep without a deadline): an idle program still
 *    gives its kept memory back.
 */
#ifndef TIDE_SECURE
#define TIDE_SECURE 1 /* this file is only part of the hardened build */
#endif
#define _GNU_SOURCE
#include "config/config.h"
#include "platform/os.h"
#include "secure_internal.h"

static void (*_Atomic wake)(void);

void secure_kept_set_wake(void (*fn)(void))
{
    wake = fn;
}

void secure_kept_started(void)
{
    void (*fn)(void) = wake;
    if (fn)
        fn();
}

uint64_t secure_kept_decay_ms(void)
{
    return OPT(decay_ms);
}

size_t secure_kept_cap_bytes(size_t own_max)
{
    size_t half = OPT(dirty_max) / 2;
    return half < own_max ? half : own_max;
}

uint64_t secure_kept_tick(uint64_t now, uint64_t next)
{
    uint64_t d = secure_kept_decay_ms();
    uint64_t cutoff = now >= d ? now - d : 0;
    uint64_t a = secure_slab_decay(cutoff), b = secure_large_decay(cutoff);
    uint64_t oldest = a < b ? a : b;
    if (oldest == UINT64_MAX)
        return next;
    uint64_t due = oldest + d + 1;
    return due < next ? due : next;
}
