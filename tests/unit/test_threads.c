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

/* Per thread: only the measuring thread's own locks count (the background thread
 * thread takes the page-heap lock on its own schedule). */
static _Thread_local _Atomic long locks_taken;
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

/* The free fast path knows a slab's owner by its thread pointer, which a new
 * thread may inherit from an exited one (glibc reuses the stack and TCB),
 * and which an exiting thread still has while later TSD destructors run.
 * Neither may push onto a slab of a heap it does not run: each frees blocks
 * of a heap that another thread then uses, and every block must come back
 * exactly once with its contents intact. */
enum { KEPT = 4096, ROUNDS = 40 };
static void *kept[KEPT];
static pthread_key_t late_key;
static void *thread_of_round[ROUNDS];

static void free_kept_late(void *arg)
{
    (void)arg; /* runs after tidemalloc's exit hook: its key is older */
    for (int i = 1; i < KEPT; i += 2) {
        CHECK_EQ(((unsigned char *)kept[i])[0], (unsigned char)i);
        tide_free(kept[i]);
        kept[i] = NULL;
    }
}

static void *fill_and_exit(void *arg)
{
    long round = (long)arg;
    thread_of_round[round] = (void *)pthread_self();
    for (int i = 0; i < KEPT; i++) {
        kept[i] = tide_malloc(48 + (size_t)(i % 4) * 16);
        memset(kept[i], (unsigned char)i, 48);
    }
    for (int i = 0; i < KEPT; i += 4) { /* partial slabs: in bins at exit */
        tide_free(kept[i]);
        kept[i] = NULL;
    }
    pthread_setspecific(late_key, (void *)1);
    return NULL;
}

static void *free_the_rest(void *arg)
{
    (void)arg;
    for (int i = 0; i < KEPT; i++) {
        if (kept[i]) {
            CHECK_EQ(((unsigned char *)kept[i])[0], (unsigned char)i);
            tide_free(kept[i]);
            kept[i] = NULL;
        }
    }
    /* Allocate through the heap it adopted; everything distinct. */
    for (int i = 0; i < KEPT; i++) {
        kept[i] = tide_malloc(48);
        memset(kept[i], 0xee, 48);
    }
    for (int i = 0; i < KEPT; i++) {
        CHECK_EQ(((unsigned char *)kept[i])[47], 0xee);
        tide_free(kept[i]);
        kept[i] = NULL;
    }
    return NULL;
}

TEST(reused_thread_pointers_do_not_free_into_other_heaps)
{
    CHECK_EQ(pthread_key_create(&late_key, free_kept_late), 0);
    int reused = 0;
    for (long r = 0; r < ROUNDS; r++) {
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, fill_and_exit, (void *)r), 0);
        pthread_join(t, NULL);
        CHECK_EQ(pthread_create(&t, NULL, free_the_rest, NULL), 0);
        reused += (void *)t == thread_of_round[r];
        pthread_join(t, NULL);
    }
    CHECK_MSG(reused > 0, "no thread pointer was reused in %d rounds", ROUNDS);
    pthread_key_delete(late_key);
}

/* A thread started by a constructor that runs before tidemalloc's own (the
 * static library's constructor has the default priority) allocates before
 * the exit key exists. Its next allocation slow path hooks it, so its exit
 * still orphans its heap. */
static pthread_mutex_t early_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t early_cond = PTHREAD_COND_INITIALIZER;
static int early_go;
static pthread_t early_thread;
static void *early_blocks[64];

static void *early_thread_main(void *arg)
{
    (void)arg;
    early_blocks[0] = tide_malloc(40); /* before tidemalloc's constructor */
    pthread_mutex_lock(&early_lock);
    while (!early_go)
        pthread_cond_wait(&early_cond, &early_lock);
    pthread_mutex_unlock(&early_lock);
    for (int i = 1; i < 64; i++) /* new classes: slow paths */
        early_blocks[i] = tide_malloc((size_t)i * 48);
    return NULL;
}

__attribute__((constructor(101))) static void start_early_thread(void)
{
    pthread_create(&early_thread, NULL, early_thread_main, NULL);
}

TEST(a_thread_started_before_the_library_gets_its_exit_hook)
{
    tide_stats_t before, after;
    tide_stats_get(&before);
    pthread_mutex_lock(&early_lock);
    early_go = 1;
    pthread_cond_signal(&early_cond);
    pthread_mutex_unlock(&early_lock);
    pthread_join(early_thread, NULL);
    tide_stats_get(&after);
    CHECK_MSG(after.orphan_heaps == before.orphan_heaps + 1, "orphans %llu -> %llu",
              (unsigned long long)before.orphan_heaps, (unsigned long long)after.orphan_heaps);
    for (int i = 0; i < 64; i++)
        tide_free(early_blocks[i]);
}
