/* limit — the memory limits the allocator keeps under: a soft limit that
 * tightens the decay as the charge approaches it, and an opt-in hard limit
 * past which the page heap refuses to grow (docs/CONFIG.md, "Memory
 * limits").
 *
 * The charge both compare against is the allocator's own resident memory
 * (page-heap active + dirty pages, huge blocks, metadata), exact and cheap
 * to read, plus `outside`: the rest of the process's (or cgroup's) charge
 * as last sampled by the service layer (RSS or memory.current minus the
 * allocator's share at that moment). The core never reads a file.
 */
#ifndef TIDE_LIMIT_H
#define TIDE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* Bytes; 0 is no limit. */
void limit_set(size_t soft, size_t hard);
void limit_set_outside(size_t bytes);
size_t limit_soft(void);
size_t limit_hard(void);
size_t limit_outside(void);
static inline bool limit_any(void)
{
    extern size_t limit_soft_bytes, limit_hard_bytes;
    return __atomic_load_n(&limit_soft_bytes, __ATOMIC_RELAXED) | __atomic_load_n(&limit_hard_bytes, __ATOMIC_RELAXED);
}

/* The charge for a page heap holding heap_bytes (active + dirty). */
size_t limit_charge(size_t heap_bytes);
/* The dirty bytes the soft limit lets stay when, without them, the charge
 * would be base (the pressure curve: limit.c); SIZE_MAX with no soft limit. */
size_t limit_dirty_cap(size_t base);
/* The kernel reports a memory stall (PSI): while set, and a soft limit is
 * in force, no dirty page may stay. */
void limit_set_stalled(bool stalled);
bool limit_stalled(void);
/* Would grow more resident bytes stay within the hard limit while the page
 * heap holds heap_bytes? A question only: limit_admit decides. */
bool limit_fits(size_t heap_bytes, size_t grow);
/* May the allocator take grow more resident bytes while its page heap
 * holds heap_bytes? Counts a refusal when not. */
bool limit_admit(size_t heap_bytes, size_t grow);
/* Refusals so far (a request may be refused, purge and then succeed). */
uint64_t limit_refusals(void);

#pragma GCC visibility pop

#endif
