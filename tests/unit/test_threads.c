/* Thread heaps: the small-block fast paths take no lock (and neither does a
 * cross-thread free); an exiting thread's heap goes to the shared pool and
 * the next thread adopts it, and blocks it left behind can be freed by
 * anyone until nothing is stranded. Linked with -Wl,--wrap=pthread_mutex_lock
 * to count lock acquisitions. */
#include "runner.h"
#include "check.h"
#include "tidemalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static _Atomic long locks_taken;
int __real_pthread_mutex_lock(pthread_mutex_t *m);
int __wrap_pthread_mutex_lock(pthread_mutex_t *m)
{
    atomic_fetch_add(&locks_taken, 1);
    return __real_pthread_mutex_lock(m);
}

TEST(own_small_blocks_take_no_lock)
{
    void *live[256];
    for (int i = 0; i < 256; i++)
        live[i] = tide_malloc(64);
    for (int i = 0; i < 100000; i++) { /* warm: every class has its slab */
        unsigned k = (unsigned)(i * 7) & 255;
        tide_free(live[k]);
        live[k] = tide_malloc(64 + (size_t)(i % 3) * 16);
    }
    long before = atomic_load(&locks_taken);
    for (int i = 0; i < 1000000; i++) {
        unsigned k = (unsigned)(i * 7) & 255;
        tide_free(live[k]);
        live[k] = tide_malloc(64 + (size_t)(i % 3) * 16);
    }
    CHECK_EQ(atomic_load(&locks_taken) - before, 0);
    for (int i = 0; i < 256; i++)
        tide_free(live[i]);
}

enum { HANDOFF = 20000 };
static void *handed[HANDOFF];
static long remote_locks;

static void *free_remotely(void *arg)
{
    (void)arg;
    /* A thread's first call sets up its heap (under the heaps' lock, once
     * per thread: a thread that only frees gets one too, to batch its
     * remote frees in). Count from the second free on. */
    tide_free(handed[0]);
    long before = atomic_load(&locks_taken);
    for (int i = 1; i < HANDOFF; i++)
        tide_free(handed[i]);
    remote_locks = atomic_load(&locks_taken) - before;
    return NULL;
}

TEST(cross_thread_free_takes_no_lock)
{
    for (int i = 0; i < HANDOFF; i++)
        handed[i] = tide_malloc(48);
    pthread_t t;
    /* Thread creation itself may allocate: count only inside the loop. */
    CHECK_EQ(pthread_create(&t, NULL, free_remotely, NULL), 0);
    pthread_join(t, NULL);
    CHECK_EQ(remote_locks, 0);
    /* The owner gets the blocks back: allocate them all again. */
    for (int i = 0; i < HANDOFF; i++)
        handed[i] = tide_malloc(48);
    for (int i = 0; i < HANDOFF; i++)
        tide_free(handed[i]);
}

enum { LEFT = 50000 };
static void *left_behind[LEFT];

static void *allocate_and_exit(void *arg)
{
    (void)arg;
    for (int i = 0; i < LEFT; i++) {
        left_behind[i] = tide_malloc(100 + (size_t)(i % 7) * 100);
        memset(left_behind[i], 1, 100);
    }
    return NULL;
}

static void *just_allocate(void *arg)
{
    (void)arg;
    void *p = tide_malloc(32);
    tide_free(p);
    return NULL;
}

TEST(exited_threads_leave_nothing_stranded)
{
    tide_stats_t s0, s1, s2, s3;
    tide_purge();
    tide_stats_get(&s0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, allocate_and_exit, NULL), 0);
    pthread_join(t, NULL);
    tide_stats_get(&s1);
    CHECK(s1.orphan_heaps >= 1);
    CHECK(s1.live_usable >= s0.live_usable + (uint64_t)LEFT * 100);
    /* Free everything the dead thread left, from here. */
    for (int i = 0; i < LEFT; i++)
        tide_free(left_behind[i]);
    tide_purge(); /* collects the orphan's remote frees, releases empty slabs */
    tide_stats_get(&s2);
    CHECK_MSG(s2.active <= s0.active + ((uint64_t)1 << 20), "active %llu after, %llu before",
              (unsigned long long)s2.active, (unsigned long long)s0.active);
    /* A new thread adopts the orphan instead of making a heap. */
    CHECK_EQ(pthread_create(&t, NULL, just_allocate, NULL), 0);
    pthread_join(t, NULL);
    tide_stats_get(&s3);
    CHECK(s3.orphan_heaps == s1.orphan_heaps); /* adopted, then orphaned again */
}
