/* mem_limits — resolving limit_soft and limit_hard, sampling the charge, the
 * pressure trigger, and the limit statistics (mem_limits.h).
 *
 * Invariant: core/limit.h holds the limits in force; they change only in
 * resolve(), under `limits_lock`, from the options and the cgroup as last
 * read. `outside`, the charge that is not the allocator's, is never below
 * zero and is at most one sampling interval old while a limit is set.
 */
#define _GNU_SOURCE
#include "mem_limits.h"

#include <pthread.h>
#include <string.h>

#include "tidemalloc.h"

#include "background.h"
#include "config/config.h"
#include "core/limit.h"
#include "core/page_heap.h"
#include "platform/cgroup.h"
#include "platform/lock.h"
#include "platform/os.h"
#include "platform/textbuf.h"

static pthread_mutex_t limits_lock = PTHREAD_MUTEX_INITIALIZER;
static cgroup_memory_t cg;        /* as last read (version 0: not read) */
static int soft_source, hard_source;
static uint64_t failures;
static bool failure_said;
static uint64_t next_reread;      /* with no limit: when to look at the cgroup again */
static int psi_fd = -1;
static bool psi_started;
static uint64_t pressure_events, pressure_at;

/* A stall keeps the allocator purging for two trigger windows after the
 * last report: the trigger reports at most once a window, so one quiet
 * window alone does not yet mean the stall is over. */
#define PSI_WINDOW_MS 2000
#define PSI_HOLD_MS (2 * PSI_WINDOW_MS)
/* The trigger: stalled 10% of each window ("some", in microseconds). An
 * unprivileged trigger's window must be a multiple of 2 s. */
#define PSI_STR_(x) #x
#define PSI_STR(x) PSI_STR_(x)
#define PSI_TRIGGER "some " PSI_STR(PSI_STALL_US) " " PSI_STR(PSI_WINDOW_US)
#define PSI_STALL_US 200000
#define PSI_WINDOW_US 2000000
_Static_assert(PSI_WINDOW_US == PSI_WINDOW_MS * 1000, "one window");

/* Without a limit the cgroup is looked at again only when the background
 * thread wakes for its own reasons, at most this often: a process with no
 * limit gets no timer of ours. */
#define LIMITS_REREAD_MS 5000

static size_t allocator_share(void)
{
    return limit_charge(page_heap_resident_bytes()) - limit_outside();
}

/* The process's (or cgroup's) charge and the allocator's share are read a
 * moment apart, and a purge on another thread in between would make the
 * difference look like memory outside the allocator (up to everything it
 * purged, refusing allocations until the next sample). So the share is
 * read on both sides of the charge and the larger taken: a change in
 * between can only make `outside` smaller, never larger. */
static void sample_outside_locked(void)
{
    size_t before = allocator_share();
    uint64_t charge = cg.version && (soft_source == TIDE_LIMIT_CGROUP || hard_source == TIDE_LIMIT_CGROUP)
                          ? cgroup_read_current(&cg)
                          : os_rss_bytes();
    if (cg.version)
        cg.current = charge;
    size_t after = allocator_share(), mine = before > after ? before : after;
    limit_set_outside(charge > mine ? charge - mine : 0);
}

/* A limit option's value in force: explicit, the cgroup's, or none. */
static uint64_t resolve_one(uint64_t opt, uint64_t from_cgroup, int *source)
{
    if (opt != LIMIT_AUTO) {
        *source = opt ? TIDE_LIMIT_OPTION : TIDE_LIMIT_NONE;
        return opt;
    }
    *source = from_cgroup ? TIDE_LIMIT_CGROUP : TIDE_LIMIT_NONE;
    return from_cgroup;
}

static void resolve_locked(void)
{
    uint64_t soft_opt = OPT(limit_soft), hard_opt = OPT(limit_hard);
    if (soft_opt == LIMIT_AUTO || hard_opt == LIMIT_AUTO) {
        char root[sizeof options.cgroup_root];
        config_string(options.cgroup_root, root, sizeof root);
        cgroup_read(root, &cg);
    } else {
        memset(&cg, 0, sizeof cg);
    }
    /* The cgroup's soft point is memory.high (v1: soft_limit_in_bytes),
     * where the kernel starts reclaiming; a cgroup with only memory.max
     * gets 7/8 of it, so the purging starts before the OOM killer. */
    uint64_t cg_soft = cg.high ? cg.high : cg.max - cg.max / 8;
    if (cg.max && cg_soft > cg.max)
        cg_soft = cg.max;
    uint64_t soft = resolve_one(soft_opt, cg_soft, &soft_source);
    uint64_t hard = resolve_one(hard_opt, cg.max, &hard_source);
    limit_set((size_t)soft, (size_t)hard);
    if (soft || hard)
        sample_outside_locked();
    else
        limit_set_outside(0);
}

static void *psi_main(void *arg)
{
    (void)arg;
    while (os_psi_wait(psi_fd)) {
        lock_acquire(&limits_lock);
        pressure_events++;
        pressure_at = os_now_ms();
        limit_set_stalled(true);
        lock_release(&limits_lock);
        background_notify(); /* the tick samples the charge and purges */
    }
    return NULL;
}

/* Where the kernel has pressure stall information, a trigger on 10% of
 * stall time (200 ms in a 2 s window) wakes the background thread, which
 * then samples less often. The window is 2 s because a process without
 * CAP_SYS_RESOURCE, as in most containers, may only arm triggers whose
 * window is a multiple of 2 s (others get EINVAL). The cgroup's own
 * memory.pressure (v2) if it has one, else the whole machine's. Once per
 * process: the trigger outlives changes.
 * Only the background thread starts it, and outside limits_lock:
 * pthread_create allocates, and an allocation during init comes back to
 * limits_configure, and one at the hard limit to limits_note_failure. */
static void psi_start(void)
{
    char path[sizeof cg.pressure];
    lock_acquire(&limits_lock);
    bool start = !psi_started && limit_soft();
    if (start) {
        psi_started = true;
        strcpy(path, cg.pressure[0] ? cg.pressure : "/proc/pressure/memory");
    }
    lock_release(&limits_lock);
    if (!start)
        return;
    int fd = os_psi_trigger(path, PSI_TRIGGER);
    if (fd < 0)
        return;
    lock_acquire(&limits_lock);
    psi_fd = fd; /* before the thread, which waits on it */
    lock_release(&limits_lock);
    if (!os_thread_start(psi_main, 64 * 1024)) {
        lock_acquire(&limits_lock);
        psi_fd = -1;
        lock_release(&limits_lock);
        os_close(fd);
    }
}

/* Ends the stall once the trigger has been quiet for PSI_HOLD_MS; returns
 * when to look again (UINT64_MAX: no stall). */
static uint64_t stall_tick_locked(uint64_t now)
{
    if (!limit_stalled())
        return UINT64_MAX;
    if (now >= pressure_at + PSI_HOLD_MS) {
        limit_set_stalled(false);
        return UINT64_MAX;
    }
    return pressure_at + PSI_HOLD_MS;
}

void limits_idle_tick(void)
{
    lock_acquire(&limits_lock);
    limit_set_stalled(false);
    lock_release(&limits_lock);
}

void limits_configure(void)
{
    lock_acquire(&limits_lock);
    resolve_locked();
    next_reread = os_now_ms() + LIMITS_REREAD_MS;
    lock_release(&limits_lock);
    page_heap_decay_tick(); /* purge what the soft limit no longer allows */
}

uint64_t limits_tick(uint64_t now)
{
    lock_acquire(&limits_lock);
    uint64_t next;
    if (limit_any()) {
        if (soft_source == TIDE_LIMIT_CGROUP || hard_source == TIDE_LIMIT_CGROUP)
            resolve_locked(); /* the cgroup's limits may have changed */
        else
            sample_outside_locked();
        next = now + (psi_fd >= 0 ? LIMITS_SAMPLE_PSI_MS : LIMITS_SAMPLE_MS);
    } else {
        /* No limit: one may appear (auto), but we set no timer for it. */
        if ((OPT(limit_soft) == LIMIT_AUTO || OPT(limit_hard) == LIMIT_AUTO) && now >= next_reread) {
            resolve_locked();
            next_reread = now + LIMITS_REREAD_MS;
        }
        next = limit_any() ? now + LIMITS_SAMPLE_MS : UINT64_MAX;
    }
    uint64_t stall_end = stall_tick_locked(now);
    lock_release(&limits_lock);
    psi_start();
    return stall_end < next ? stall_end : next;
}

static void put_mib(textbuf_t *t, uint64_t bytes)
{
    tb_u64(t, bytes >> 20);
    tb_str(t, " MiB");
}

void limits_note_failure(size_t size)
{
    bool say = false;
    lock_acquire(&limits_lock);
    failures++;
    if (!failure_said)
        say = failure_said = true;
    lock_release(&limits_lock);
    if (!say)
        return;
    size_t hard = limit_hard(), outside = limit_outside();
    textbuf_t t = { .fd = 2 };
    tb_str(&t, "tidemalloc: limit_hard ");
    tb_u64(&t, hard);
    tb_str(&t, " (");
    put_mib(&t, hard);
    tb_str(&t, hard_source == TIDE_LIMIT_CGROUP ? ", the cgroup's" : ", the option");
    tb_str(&t, ") reached: a request of ");
    tb_u64(&t, size);
    tb_str(&t, " bytes returns NULL with ENOMEM (charge ");
    put_mib(&t, limit_charge(page_heap_resident_bytes()));
    tb_str(&t, ", of which outside the allocator ");
    put_mib(&t, outside);
    tb_str(&t, "); later failures are only counted (tide_stats_limit)\n");
    tb_flush(&t);
}

void limits_fork_child(void)
{
    /* The trigger's thread did not survive the fork; the child keeps the
     * limits (its cgroup is the parent's) and goes without a trigger. */
    pthread_mutex_init(&limits_lock, NULL);
    psi_fd = -1;
    limit_set_stalled(false);
}

TIDE_EXPORT int tide_stats_limit(tide_limit_stats_t *out)
{
    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    size_t heap = page_heap_resident_bytes();
    lock_acquire(&limits_lock);
    out->soft = limit_soft();
    out->hard = limit_hard();
    out->outside = limit_outside();
    out->charge = limit_charge(heap);
    out->allocator = out->charge - out->outside;
    out->failures = failures;
    out->cgroup_version = cg.version;
    out->cgroup_max = cg.max;
    out->cgroup_high = cg.high;
    out->cgroup_current = cg.current;
    out->soft_source = soft_source;
    out->hard_source = hard_source;
    out->pressure_trigger = psi_fd >= 0;
    out->pressure_events = pressure_events;
    out->pressure_now = limit_stalled();
    lock_release(&limits_lock);
    uint64_t lower = out->soft && (!out->hard || out->soft < out->hard) ? out->soft : out->hard;
    out->headroom = lower > out->charge ? lower - out->charge : 0;
    size_t dirty = 0;
    page_heap_stats_t ph;
    page_heap_stats(&ph);
    dirty = ph.dirty_pages << OS_PAGE_SHIFT;
    size_t cap = limit_dirty_cap(out->charge > dirty ? out->charge - dirty : 0);
    out->dirty_cap = cap == SIZE_MAX ? UINT64_MAX : cap;
    return 0;
}
