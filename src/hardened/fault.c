/* fault — the hardened build's SIGSEGV handler: a fault in a guard page (of
 * a slab or of a large or huge block) or in the guarded pool becomes a
 * report naming the block (TIDE_SECURE=1 only).
 *
 * Owns the handler and the one it displaced. Invariant: a fault that is not
 * ours reaches the previous handler, or the default action, as if this one
 * were not installed: the program's own SIGSEGV handling keeps working.
 * The handler runs in whatever state the faulting thread left the
 * allocator, so it only reads (the page map, the span, the pool's slots),
 * takes no lock and allocates nothing; report_heap_misuse is signal-safe.
 * It finds a large block from its guard page because secure_large.c maps
 * that page to the block's span while the block is live (a slab's page map
 * entries cover its guard page anyway).
 */
#ifndef TIDE_SECURE
#define TIDE_SECURE 1 /* this file is only part of the hardened build */
#endif
#define _GNU_SOURCE
#include <signal.h>

#include "core/pagemap.h"
#include "platform/os.h"
#include "platform/report.h"
#include "secure_internal.h"

static struct sigaction previous_segv;

static void fault_handler(int sig, siginfo_t *info, void *ctx)
{
    const char *addr = info->si_addr;
    guarded_explain_fault(addr); /* returns only if the pool is not involved */
    span_t *s = pagemap_lookup(addr);
    if (s->kind == SPAN_SMALL || s->kind == SPAN_LARGE || s->kind == SPAN_HUGE) {
        char *guard = secure_guard_page(s);
        if (s->kind == SPAN_HUGE || s->kind == SPAN_LARGE) {
            /* A large span's page map entries: its first page and its guard. */
            if (addr >= guard && addr < guard + OS_PAGE_SIZE)
                report_heap_misuse("access", s->start, "heap overflow",
                                   "past the end of a large block, into its guard page",
                                   (size_t)(guard - s->start));
        } else if (addr >= guard) {
            report_heap_misuse("access", addr, "heap overflow",
                               "past the end of a slab, into its guard page", s->block_size);
        }
    }
    if (MITIGATION_ON(large_head_guard)) {
        /* The guard before a large block (the full level): the block
         * starts on the next page. */
        const char *page = (const char *)((uintptr_t)addr & ~(uintptr_t)(OS_PAGE_SIZE - 1));
        const span_t *n = pagemap_lookup(page + OS_PAGE_SIZE);
        if (n->kind == SPAN_LARGE && n->sec_head && n->start == page + OS_PAGE_SIZE)
            report_heap_misuse("access", n->start, "heap underflow",
                               "before the start of a large block, into its guard page",
                               secure_large_data_bytes(n));
    }
    const span_t *kept = secure_large_kept_at(addr); /* quarantined: the full level */
    if (kept)
        report_heap_misuse("access", kept->start, "use after free", "read or write of a freed large block",
                           secure_large_data_bytes(kept));
    /* Not ours: hand the fault to whoever was there before. */
    if (previous_segv.sa_flags & SA_SIGINFO) {
        previous_segv.sa_sigaction(sig, info, ctx);
        return;
    }
    if (previous_segv.sa_handler != SIG_DFL && previous_segv.sa_handler != SIG_IGN) {
        previous_segv.sa_handler(sig);
        return;
    }
    /* Default action: returning re-executes the access, which now kills. */
    os_signal_default(SIGSEGV);
}

void secure_fault_install(void)
{
    os_signal_install(SIGSEGV, fault_handler, &previous_segv);
}
