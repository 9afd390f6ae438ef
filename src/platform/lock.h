/* lock — the allocator's mutexes, counted per thread.
 *
 * Every lock the allocator takes (outside the fork handlers) goes through
 * lock_acquire / lock_release, so critical_depth says whether the calling
 * thread holds one. A signal handler that forks at such a moment must not
 * wait for locks its own thread holds, nor let the child use structures the
 * interrupted operation was changing: the fork handlers look at this count
 * (api/init.c) and give such a child an allocator of its own
 * (core/isolated.c). An interrupted operation that holds no lock only
 * touched its own thread's heap, and every child starts a new heap
 * (core/heap.c, heap_fork_child).
 *
 * Invariant: critical_depth is the number of allocator locks this thread
 * holds (or waits for); it is 0 whenever the thread runs program code.
 */
#ifndef TIDE_LOCK_H
#define TIDE_LOCK_H

#include <pthread.h>
#include <stdbool.h>

#pragma GCC visibility push(hidden)

extern __thread unsigned critical_depth;

/* Counted before the wait: a signal taken while blocked on a lock finds the
 * thread already inside (it may hold other locks). */
static inline void critical_enter(void)
{
    critical_depth++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void critical_leave(void)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    critical_depth--;
}

static inline void lock_acquire(pthread_mutex_t *m)
{
    critical_enter();
    pthread_mutex_lock(m);
}

/* Takes m only if it is free now; true if it did. */
static inline bool lock_try(pthread_mutex_t *m)
{
    critical_enter();
    if (pthread_mutex_trylock(m) == 0)
        return true;
    critical_leave();
    return false;
}

static inline void lock_release(pthread_mutex_t *m)
{
    pthread_mutex_unlock(m);
    critical_leave();
}

#pragma GCC visibility pop

#endif
