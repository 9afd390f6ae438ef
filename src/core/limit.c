/* limit — the soft and hard limits and the pressure curve (limit.h).
 *
 * Invariant: with a soft limit S and a charge of `base` without the dirty
 * pages, at most limit_dirty_cap(base) dirty bytes may stay, and that cap
 * keeps base + dirty at or below S - S/16: the process holds no dirty page
 * near the point where the kernel starts reclaiming (memory.high), and none
 * at all while the kernel reports a memory stall (limit_set_stalled).
 * With no limit set every function here answers as if there were none.
 */
#include "limit.h"

#include "large.h"
#include "meta.h"

size_t limit_soft_bytes, limit_hard_bytes;
static size_t outside_bytes;
static bool stalled;
static uint64_t refusals;

void limit_set(size_t soft, size_t hard)
{
    __atomic_store_n(&limit_soft_bytes, soft, __ATOMIC_RELAXED);
    __atomic_store_n(&limit_hard_bytes, hard, __ATOMIC_RELAXED);
}

void limit_set_outside(size_t bytes)
{
    __atomic_store_n(&outside_bytes, bytes, __ATOMIC_RELAXED);
}

size_t limit_soft(void) { return __atomic_load_n(&limit_soft_bytes, __ATOMIC_RELAXED); }
size_t limit_hard(void) { return __atomic_load_n(&limit_hard_bytes, __ATOMIC_RELAXED); }
size_t limit_outside(void) { return __atomic_load_n(&outside_bytes, __ATOMIC_RELAXED); }

size_t limit_charge(size_t heap_bytes)
{
    return heap_bytes + large_huge_bytes() + meta_bytes() + limit_outside();
}

/* The curve. Let room = S - base, what the soft limit leaves above the
 * memory the allocator cannot purge. Dirty pages may take half of the room
 * beyond a guard of S/16, so the cap falls linearly as base rises and
 * reaches 0 (purge at once) when base is within S/16 of the limit:
 *
 *     cap = max(0, (S - S/16 - base) / 2)
 *
 * Half, not all: the room shrinks as the program allocates, and what the
 * cap allowed a moment ago must not already be over the limit then; with
 * half, base may grow by the whole dirty allowance before base + dirty
 * reaches S - S/16. The guard: the charge's `outside` part is sampled, not
 * exact, and memory.high throttles at the limit itself, so the last 1/16
 * is kept free of dirty pages. Far from the limit the cap is above
 * dirty_max and changes nothing; it relaxes as base falls. */
size_t limit_dirty_cap(size_t base)
{
    size_t soft = limit_soft();
    if (!soft)
        return SIZE_MAX;
    if (limit_stalled())
        return 0; /* the kernel is reclaiming now: whatever the curve says */
    size_t ceiling = soft - soft / 16;
    return base >= ceiling ? 0 : (ceiling - base) / 2;
}

void limit_set_stalled(bool on) { __atomic_store_n(&stalled, on, __ATOMIC_RELAXED); }
bool limit_stalled(void) { return __atomic_load_n(&stalled, __ATOMIC_RELAXED); }

bool limit_fits(size_t heap_bytes, size_t grow)
{
    size_t hard = limit_hard();
    return !hard || limit_charge(heap_bytes) + grow <= hard;
}

bool limit_admit(size_t heap_bytes, size_t grow)
{
    if (limit_fits(heap_bytes, grow))
        return true;
    __atomic_fetch_add(&refusals, 1, __ATOMIC_RELAXED);
    return false;
}

uint64_t limit_refusals(void)
{
    return __atomic_load_n(&refusals, __ATOMIC_RELAXED);
}
