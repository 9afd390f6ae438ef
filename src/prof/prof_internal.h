/* prof_internal — what the allocator's slow paths, the dump triggers and
 * the leak check share with the sampler (prof.h is the writers' view). */
#ifndef TIDE_PROF_INTERNAL_H
#define TIDE_PROF_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/heap.h"
#include "prof.h"
#include "core/span.h"
#include "platform/textbuf.h"

#pragma GCC visibility push(hidden)

typedef struct prof_stack {
    struct prof_stack *chain;    /* hash bucket */
    struct prof_stack *all_next; /* every stack, for the writers */
    uint64_t hash;
    uint64_t live_objs, live_bytes, accum_objs, accum_bytes; /* sampled */
    double est_live_objs, est_live_bytes, est_accum_objs, est_accum_bytes;
    double est_pinned; /* recomputed by every prof_rows() */
    uint32_t depth;
    uintptr_t pc[];
} prof_stack_t;

/* A sampled allocation, attached to its span until freed. */
typedef struct prof_sample {
    struct prof_sample *next, *prev; /* live list; `next` also the free list */
    prof_stack_t *stack;
    void *ptr;
    size_t size;     /* requested */
    size_t charged;  /* bytes the sampler charged for it */
    double weight;   /* allocations it stands for: 1 / P(sampled) */
    /* The slab the block would have lived in (the one its sample point
     * fell in), where the blocks it stands for live: what the pinned-bytes
     * estimate reads (prof_pinned.c). NULL for large blocks. */
    const span_t *home;
    const char *home_start; /* home->start then: a reused descriptor differs */
    uint8_t cls;            /* its size class (PROF_NO_CLASS: a large block) */
    uint8_t pin_bin;        /* prof_pinned.c's scratch: its home's occupancy bin */
    double pin_score;       /* ... and how sparse its home is */
    uint8_t mark;    /* leak check */
} prof_sample_t;

/* Sampling is on (for the profiler, the leak check or the statistics), and
 * samples keep stacks (prof:true or leak_check:true). Both change when
 * tide_config_set does: read them through these. */
extern bool prof_sampling_flag, prof_stacks_flag, prof_ever_flag;
static inline bool prof_sampling(void) { return __atomic_load_n(&prof_sampling_flag, __ATOMIC_RELAXED); }
static inline bool prof_stacks(void) { return __atomic_load_n(&prof_stacks_flag, __ATOMIC_ACQUIRE); }
extern prof_sample_t *prof_live_samples; /* under prof_lock_samples() */

void prof_configure(void);  /* options -> flags; also after tide_config_set */
void prof_init(void);       /* from the constructor */
int64_t prof_next_interval(heap_t *h);

/* The slab sampler (sampler.c): core/slab.h's slab_sample_hook while
 * sampling is on. */
void sampler_charge_slab(heap_t *h, span_t *s, uint32_t n);

/* Charge bytes to the thread's budget; true if a sample point fell inside. */
static inline bool prof_charge(heap_t *h, size_t bytes)
{
    if (h->prof_budget <= 0)
        h->prof_budget = prof_next_interval(h);
    h->prof_budget -= (int64_t)bytes;
    if (h->prof_budget > 0)
        return false;
    h->prof_budget = prof_next_interval(h);
    return true;
}

/* Count bytes toward the lg_prof_interval trigger. */
void prof_count_bytes(uint64_t bytes);
/* A block handed out one at a time (not through a slab's free list, which
 * sampler_charge_slab charges whole): counted towards the dump interval and
 * charged to the budget. */
static inline bool prof_charge_block(heap_t *h, size_t bytes)
{
    prof_count_bytes(bytes);
    return prof_charge(h, bytes);
}

/* Serve a sampled allocation from a page run of its own and record it.
 * NULL if that failed or the thread is already inside the profiler: the
 * caller then serves it the ordinary way. */
void *prof_alloc_sampled(size_t size, size_t align, bool zero, size_t charged, const span_t *home,
                         const void *caller);
/* The sampled block is now at p (a huge block may move in place) with
 * `size` bytes requested. */
void prof_set_requested(span_t *span, void *p, size_t size);
/* The span of a sampled block is being freed. */
void prof_free_sampled(span_t *span);
uint64_t prof_live_requested(void);

/* ---- pinned bytes (prof_pinned.c), under prof_lock ---- */
#define PROF_NO_CLASS 0xff
struct slab_census;
/* Start a new estimate against the allocator's count c (taken before
 * prof_lock: the census takes the heaps' lock, which comes first). */
void pinned_begin(const struct slab_census *c);
/* First pass, every live sample: its home's sparsity. */
void pinned_scan(prof_sample_t *r);
/* Second pass: the free bytes the blocks a live sample stands for pin;
 * added to the class and bin views. */
double pinned_of_sample(const prof_sample_t *r);
/* Samples taken while stacks were off (their stack is none). */
void pinned_note_unattributed(double live_bytes);
/* Stacks were just turned on (mid_run: after the process started), with
 * live_bytes live. */
void prof_note_started(bool mid_run, uint64_t live_bytes);

void prof_lock_samples(void);
void prof_unlock_samples(void);
void prof_fork_prepare(void);
void prof_fork_parent(void);
void prof_fork_child(void);

/* ---- dumps (prof_dump.c) ---- */
enum prof_trigger {
    PROF_TRIGGER_BYTES,  /* lg_prof_interval bytes allocated */
    PROF_TRIGGER_TIME,   /* prof_interval_ms */
    PROF_TRIGGER_PEAK,   /* prof_gdump: a new high-water mark of live bytes */
    PROF_TRIGGER_EXIT,   /* prof_final */
    PROF_TRIGGER_MANUAL, /* tide_prof_dump, tide prof dump PID */
};
extern _Atomic bool prof_dump_pending;
void prof_dump_pending_run(void);
/* Under prof_lock: true when live bytes reached a new high-water mark
 * worth a prof_gdump dump. */
bool prof_peak_check(double live);
/* Write the configured formats; path_out (if not NULL) gets the main file's
 * name. Returns false (and has reported why, once) if nothing was written. */
bool prof_dump_trigger(enum prof_trigger why);
bool prof_dump_named(enum prof_trigger why, char *path_out, size_t path_cap);
/* At exit: final dump, leak summary, leak check. */
void prof_exit(void);
/* From the background thread: time-triggered dumps; returns the next deadline. */
uint64_t prof_tick(uint64_t now_ms);

/* "0x<pc> symbol+0xoff" (dladdr, no allocation), for the writers and
 * reports. */
void prof_put_frame(textbuf_t *t, uintptr_t pc);

/* ---- full leak check (leak_check.c) ---- */
void leak_check_run(int fd);

#pragma GCC visibility pop

#endif
