/* background — the thread that purges while the program idles, writes the
 * stats lines on their interval and runs the time-triggered profile dumps
 * (background.h says why it exists).
 *
 * Invariant: at most one background thread runs; it sleeps until the
 * earliest of its deadlines, and without a timeout when it has none, and it
 * takes no allocator lock while it sleeps.
 */
#define _GNU_SOURCE
#include "background.h"
#include "platform/lock.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"
#include "core/heap.h"
#include "platform/os.h"
#include "core/page_heap.h"
#include "mem_limits.h"
#include "prof/prof_internal.h"
#include "stats.h"

static pthread_mutex_t background_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t background_cond;
static bool cond_ready;
static bool started;
static uint64_t wake_seq;

/* The deadlines are coarse-clock milliseconds (os_now_ms), but the
 * condition variable waits on CLOCK_MONOTONIC, which runs ahead of the
 * coarse clock by up to a tick (4 ms at HZ=250, 10 ms at HZ=100; more when
 * the timer interrupt is late). Woken at the deadline by the precise
 * clock, the policies still read a time before it and hand back the same
 * deadline, so the next wait timed out at once: the thread spun through
 * futex calls until the coarse clock caught up, at every deadline — 16
 * times a second while a program frees pages (one decay bucket), most of
 * tidemalloc's system time on larson. So the wait ends a tick (at HZ=250)
 * past the deadline, and each time the same deadline comes back anyway,
 * twice as far past it: a few wake-ups at most, whatever the tick. */
#define WAIT_SLACK_MS 5u
#define WAIT_SLACK_MAX_MS 160u

static struct timespec wait_deadline(uint64_t next_ms, unsigned repeats)
{
    uint64_t slack = WAIT_SLACK_MS;
    while (repeats-- > 0 && slack < WAIT_SLACK_MAX_MS)
        slack *= 2;
    uint64_t ms = next_ms + slack;
    return (struct timespec){ (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
}

static void *background_main(void *arg)
{
    (void)arg;
    uint64_t next_stats = 0, next_file = 0, prev_next = UINT64_MAX;
    unsigned repeats = 0; /* timed-out waits in a row after which the same deadline came back */
    bool timed_out = false;
    for (;;) {
        uint64_t every = OPT(stats_interval_ms); /* may change at run time */
        if (!every)
            next_stats = 0;
        else if (!next_stats)
            next_stats = os_now_ms() + every;
        /* The stats file is rewritten on the stats interval, or every
         * STATS_FILE_DEFAULT_MS when there is none. */
        uint64_t file_every = !stats_file_enabled() ? 0 : every ? every : STATS_FILE_DEFAULT_MS;
        if (!file_every)
            next_file = 0;
        else if (!next_file)
            next_file = os_now_ms(); /* the first one at once */
        lock_acquire(&background_lock);
        uint64_t seen = wake_seq;
        lock_release(&background_lock);

        uint64_t next = UINT64_MAX;
        if (OPT(background_thread)) {
            heap_collect_orphans();
            os_retry_releases();
            uint64_t sample = limits_tick(os_now_ms());
            next = page_heap_decay_tick();
            if (sample < next)
                next = sample;
        } else {
            limits_idle_tick();
        }
        if (every) {
            uint64_t now = os_now_ms();
            if (now >= next_stats) {
                stats_write_line((int)OPT(stats_fd));
                next_stats = now + every;
            }
            if (next_stats < next)
                next = next_stats;
        }
        if (file_every) {
            uint64_t now = os_now_ms();
            if (now >= next_file) {
                stats_file_write();
                next_file = now + file_every;
            }
            if (next_file < next)
                next = next_file;
        }
        uint64_t next_dump = prof_tick(os_now_ms());
        if (next_dump < next)
            next = next_dump;

        repeats = timed_out && next == prev_next ? repeats + 1 : 0;
        prev_next = next;
        timed_out = false;
        struct timespec ts = { 0, 0 };
        if (next != UINT64_MAX)
            ts = wait_deadline(next, repeats);
        lock_acquire(&background_lock);
        while (wake_seq == seen) {
            if (next == UINT64_MAX) {
                pthread_cond_wait(&background_cond, &background_lock);
            } else if (pthread_cond_timedwait(&background_cond, &background_lock, &ts) != 0) {
                timed_out = true;
                break;
            }
        }
        lock_release(&background_lock);
    }
    return NULL;
}

static void init_cond_locked(void)
{
    if (cond_ready)
        return;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    /* Deadlines come from the coarse monotonic clock, same epoch. */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&background_cond, &ca);
    pthread_condattr_destroy(&ca);
    cond_ready = true;
}

void background_notify(void)
{
    if (!OPT(background_thread) && !OPT(stats_interval_ms) && !OPT(prof_interval_ms) && !stats_file_enabled())
        return;
    lock_acquire(&background_lock);
    if (started) {
        wake_seq++;
        pthread_cond_signal(&background_cond);
        lock_release(&background_lock);
        return;
    }
    /* Claim the start, then create the thread unlocked: pthread_create
     * allocates, and may well free into here. */
    started = true;
    init_cond_locked();
    lock_release(&background_lock);
    if (!os_thread_start(background_main, 64 * 1024)) {
        lock_acquire(&background_lock);
        started = false;
        lock_release(&background_lock);
    }
}

void background_fork_prepare(void) { pthread_mutex_lock(&background_lock); }
void background_fork_parent(void) { pthread_mutex_unlock(&background_lock); }
void background_fork_child(void)
{
    /* The thread did not survive the fork; start another when needed. */
    pthread_mutex_init(&background_lock, NULL);
    started = false;
    cond_ready = false;
}
