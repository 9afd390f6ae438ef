/* init — bringing the process up: options, the hooks the lower layers
 * call back through, the thread-exit key, fork handlers, and what runs at
 * exit.
 *
 * Invariant: tide_init has run (options parsed, page-heap policy set, the
 * background thread's wake-up registered) before any thread gets a heap, so
 * nothing below sees default options once a TIDE_CONF is set. Lock order in
 * the fork handlers: heaps, background thread, profiler, page heap, page
 * map, meta; the child re-initialises in the reverse order.
 */
#include "init.h"

#include "tidemalloc.h"

#include <pthread.h>
#include <stdbool.h>

#include <mitigation_api_hooks.h>

#include "config/config.h"
#include "core/central.h"
#include "core/heap.h"
#include "core/isolated.h"
#include "core/limit.h"
#include "core/meta.h"
#include "core/page_heap.h"
#include "core/pagemap.h"
#include "platform/lock.h"
#include "platform/os.h"
#include "prof/prof_internal.h"
#include "service/background.h"
#include "service/mem_limits.h"
#include "service/stats.h"
#include "service/stats_socket.h"

static bool options_ready;

void tide_init(void)
{
    if (!__atomic_load_n(&options_ready, __ATOMIC_ACQUIRE)) {
        /* Racing threads parse the same text into the same values. */
        config_init();
        page_heap_set_policy(OPT(decay_ms), OPT(dirty_max));
        limits_configure();
        page_heap_on_dirty(background_notify);
        prof_configure();
        __atomic_store_n(&options_ready, true, __ATOMIC_RELEASE);
    }
}

/* A fork from a signal handler that interrupted an allocator operation, on
 * this thread (critical_depth, platform/lock.h): the locks are left alone,
 * and the child gets an allocator of its own (core/isolated.h). Thread-local:
 * the three handlers run on the forking thread, and so does the child. */
static __thread bool fork_isolating;

/* Lock order: heaps, background thread, profiler, page heap, pagemap, meta,
 * the platform's pending releases. */
static void fork_prepare(void)
{
    /* Waiting would deadlock on a lock this thread holds, or on one another
     * thread holds while it waits for ours; in an isolated child the locks
     * may be held by threads that do not exist. */
    if (fork_must_isolate()) {
        fork_isolating = true;
        return;
    }
    heap_fork_prepare();
    background_fork_prepare();
    prof_fork_prepare();
    central_fork_prepare();
    mitigation_fork_prepare();
    page_heap_fork_prepare();
    pagemap_fork_prepare();
    meta_fork_prepare();
    os_fork_prepare();
}

static void fork_parent(void)
{
    if (fork_isolating) {
        fork_isolating = false;
        return;
    }
    os_fork_parent();
    meta_fork_parent();
    pagemap_fork_parent();
    page_heap_fork_parent();
    mitigation_fork_release();
    central_fork_parent();
    prof_fork_parent();
    background_fork_parent();
    heap_fork_parent();
}

static void fork_child(void)
{
    if (fork_isolating) {
        fork_isolating = false;
        isolated_enter();
        tls_heap = &heap_empty; /* every allocation takes the slow path, to isolated_alloc */
        return;
    }
    os_fork_child();
    meta_fork_child();
    pagemap_fork_child();
    page_heap_fork_child();
    mitigation_fork_release();
    central_fork_child();
    prof_fork_child();
    background_fork_child();
    heap_fork_child();
    stats_socket_fork_child();
    limits_fork_child();
}

/* verbose:true — so an operator can confirm which allocator a service
 * runs on, and with what. */
static void announce(void)
{
    char lib[256];
    textbuf_t t = { .fd = 2 };
    tb_str(&t, "tidemalloc: " TIDE_VERSION " ");
    tb_str(&t, TIDE_BUILD_NAME);
    tb_str(&t, " build, ");
    tb_str(&t, os_object_path((const void *)announce, lib, sizeof lib) ? lib : "(path unknown)");
    tb_str(&t, ", pid ");
    tb_u64(&t, (uint64_t)os_getpid());
    tb_str(&t, ": ");
    config_describe(&t);
    tb_str(&t, "\n");
    tb_flush(&t);
}

/* pthread_key_create and pthread_atfork may allocate, so they wait for the
 * constructor rather than run inside the first malloc. */
__attribute__((constructor)) static void tide_constructor(void)
{
    tide_init();
    heap_setup_exit_hook();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    prof_init();
    if (OPT(verbose))
        announce();
    if (OPT(stats_interval_ms) || (OPT(prof) && OPT(prof_interval_ms)) || stats_file_enabled() || limit_any())
        background_notify(); /* it also writes the stats lines and file, and samples the charge */
    if (OPT(stats_socket))
        stats_socket_start();
}

__attribute__((destructor)) static void tide_destructor(void)
{
    if (isolated_mode)
        return; /* the statistics and profiles are the parent's to write */
    if (OPT(stats_interval_ms))
        stats_write_line((int)OPT(stats_fd));
    if (OPT(stats_print))
        tide_stats_print((int)OPT(stats_fd), TIDE_STATS_TEXT);
    stats_socket_exit();
    prof_exit();
}
