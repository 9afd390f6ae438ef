/* secure_init — the hardened build's per-process secrets, and its one-time
 * setup (TIDE_SECURE=1 only; see secure.h).
 *
 * Owns the free-list key (secure_list.h) and the slack canary (secure.h),
 * and secure_init, which makes them once, then installs the fault handler
 * (fault.c) and the fork handlers of the hardened locks.
 *
 * Invariant: the key and the canary are fixed before the first block is
 * carved or filled, and never change: a link encoded or a canary written
 * with another value would read as corruption. Hence every path that makes
 * a slab, a large block or a guarded slot calls secure_init first, and
 * pthread_once rather than a flag (two threads' first mallocs race). Both
 * are never 0: a zeroed link word must not decode to NULL, and the classic
 * off-by-one writes a terminating NUL.
 */
#ifndef TIDE_SECURE
#define TIDE_SECURE 1 /* this file is only part of the hardened build */
#endif
#define _GNU_SOURCE
#include <pthread.h>

#include "core/isolated.h"
#include "platform/lock.h"
#include "platform/os.h"
#include "secure_internal.h"

uintptr_t secure_list_key;
uint8_t secure_canary;
uint64_t secure_canary8;

/* The kept slabs' and state arrays' locks, then the kept large runs': a
 * child of fork must not inherit one held by a thread that is gone. Called
 * from api/init.c's fork handlers (mitigation_fork_*), in lock order: after
 * the arenas', whose holders take these, and before the page heap's. */
void secure_fork_lock(void)
{
    secure_slab_fork_lock();
    secure_large_fork_lock();
}

void secure_fork_unlock(void)
{
    secure_large_fork_unlock();
    secure_slab_fork_unlock();
}

static void init_once(void)
{
    uint64_t key = 0;
    if (!os_random(&key, sizeof key)) {
        uint64_t t = os_realtime_ns();
        key = t * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&t;
    }
    key |= 1; /* never 0: a zeroed word never decodes to NULL */
    secure_list_key = (uintptr_t)key;
    /* Never 0: the classic off-by-one writes a terminating NUL. */
    secure_canary = (uint8_t)(0x80 | ((key >> 32) & 0x7e)) | 1;
    secure_canary8 = secure_canary * 0x0101010101010101ull;

    secure_fault_install();
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

void secure_init(void)
{
    pthread_once(&once, init_once);
}
