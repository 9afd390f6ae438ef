/* isolated — the allocator of a child forked in the middle of an allocator
 * operation (a signal handler that forks while its thread, or another one,
 * was inside malloc or free).
 *
 * Such a child cannot trust the shared structures: a lock may be held by a
 * thread that no longer exists, or by the interrupted code itself, and the
 * data it guards may be half updated. So the child leaves them alone: its
 * allocations come from a region of its own, its frees of blocks from
 * before the fork are dropped (the memory stays with the child, as it
 * would under a leak), and it never takes an allocator lock. The parent
 * carries on untouched.
 */
#ifndef TIDE_ISOLATED_H
#define TIDE_ISOLATED_H

#include <stdbool.h>
#include <stddef.h>

#include "platform/lock.h"

#pragma GCC visibility push(hidden)

/* Set in such a child only (by the fork handler, before it returns). */
extern bool isolated_mode;

/* In a fork handler: this fork interrupted an allocator operation that holds
 * a lock (a signal handler's fork), or comes from an isolated child. Then
 * the handlers take no lock, and the child becomes isolated. */
static inline bool fork_must_isolate(void)
{
    return critical_depth > 0 || __atomic_load_n(&isolated_mode, __ATOMIC_ACQUIRE);
}

/* Switch the calling process (a new child) to the isolated allocator. */
void isolated_enter(void);
/* NULL with errno ENOMEM when the region is exhausted. */
void *isolated_alloc(size_t size, size_t align, bool zero);
bool isolated_owns(const void *p);
size_t isolated_usable_size(const void *p);
/* p is the isolated allocator's (it is reused) or from before the fork
 * (dropped). */
void isolated_free(void *p);
void *isolated_realloc(void *p, size_t size, size_t old_usable);

#pragma GCC visibility pop

#endif
