#define _GNU_SOURCE
#include "os.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static _Atomic unsigned fail_reserve_countdown;
static _Atomic unsigned fail_purge_countdown;
/* Calls made so far (mmap + mremap, madvise), for the fault-injection tests
 * to know whether the nth call happened. */
static _Atomic unsigned long reserve_calls, purge_calls;

/* Counts down to 1 and fires once; 0 means never. */
static bool inject_failure(_Atomic unsigned *countdown)
{
    unsigned n = atomic_load_explicit(countdown, memory_order_relaxed);
    while (n != 0) {
        if (atomic_compare_exchange_weak(countdown, &n, n - 1))
            return n == 1;
    }
    return false;
}

void os_fail_reserve_after(unsigned n) { atomic_store(&fail_reserve_countdown, n); }
void os_fail_purge_after(unsigned n) { atomic_store(&fail_purge_countdown, n); }
unsigned long os_reserve_calls(void) { return atomic_load(&reserve_calls); }
unsigned long os_purge_calls(void) { return atomic_load(&purge_calls); }

static void *map_anon(size_t size, int prot)
{
    atomic_fetch_add_explicit(&reserve_calls, 1, memory_order_relaxed);
    if (inject_failure(&fail_reserve_countdown)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void *os_reserve(size_t size, size_t align)
{
    if (align <= OS_PAGE_SIZE)
        return map_anon(size, PROT_READ | PROT_WRITE);
    /* Over-reserve, then trim both ends to the alignment. */
    size_t span = size + align - OS_PAGE_SIZE;
    if (span < size)
        return NULL;
    char *raw = map_anon(span, PROT_READ | PROT_WRITE);
    if (!raw)
        return NULL;
    char *aligned = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    if (aligned > raw)
        munmap(raw, (size_t)(aligned - raw));
    size_t tail = (size_t)((raw + span) - (aligned + size));
    if (tail)
        munmap(aligned + size, tail);
    return aligned;
}

void *os_reserve_readonly(size_t size)
{
    return map_anon(size, PROT_READ);
}

void os_release(void *p, size_t size)
{
    munmap(p, size);
}

bool os_purge(void *p, size_t size)
{
    atomic_fetch_add_explicit(&purge_calls, 1, memory_order_relaxed);
    if (inject_failure(&fail_purge_countdown))
        return false;
    return madvise(p, size, MADV_DONTNEED) == 0;
}

void *os_remap(void *p, size_t old_size, size_t new_size)
{
    atomic_fetch_add_explicit(&reserve_calls, 1, memory_order_relaxed);
    if (inject_failure(&fail_reserve_countdown))
        return NULL;
    void *q = mremap(p, old_size, new_size, MREMAP_MAYMOVE);
    return q == MAP_FAILED ? NULL : q;
}

void *os_remap_to(void *p, size_t old_size, size_t new_size, void *dest)
{
    atomic_fetch_add_explicit(&reserve_calls, 1, memory_order_relaxed);
    if (inject_failure(&fail_reserve_countdown))
        return NULL;
    void *q = dest ? mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, dest)
                   : mremap(p, old_size, new_size, 0);
    return q == MAP_FAILED ? NULL : q;
}

uint64_t os_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void os_write_stderr(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

bool os_thread_start(void *(*fn)(void *), size_t stack_bytes)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, stack_bytes);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t tid;
    bool ok = pthread_create(&tid, &attr, fn, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return ok;
}

bool os_protect(void *p, size_t size, bool accessible)
{
    return mprotect(p, size, accessible ? PROT_READ | PROT_WRITE : PROT_NONE) == 0;
}
