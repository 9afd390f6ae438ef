/* prof — the sampler: which allocations are sampled, their stacks, and the
 * estimates they add up to. Dumps are in prof_dump.c, formats in
 * prof_heap_v2.c, prof_pprof.c and prof_folded.c, the full leak check in
 * leak_check.c.
 *
 * Sampling runs whenever the profiler or the live-requested-bytes statistic
 * wants it, at no cost to the malloc fast path: the slow path that hands a
 * slab's free list to the fast path charges the whole list to the thread's
 * byte budget at once (sampler.c, through slab.c's slab_sample_hook), and
 * if the next sample point falls inside the list it cuts the list there. The allocation that finds
 * the cut is the sampled one. Large allocations are charged one by one.
 */
#define _GNU_SOURCE
#include "prof.h"
#include "platform/lock.h"
#include "prof_internal.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

#include "config/config.h"
#include "core/large.h"
#include "core/slab.h"
#include "core/slab_census.h"
#include "core/meta.h"
#include "platform/os.h"
#include "core/pagemap.h"
#include "prof_math.h"
#include "prof_unwind.h"
#include "platform/report.h"

bool prof_sampling_flag, prof_stacks_flag;
bool prof_ever_flag; /* stacks have been on at some time: a profile exists */
_Atomic uint64_t prof_interval_bytes_seen;

static double mean_bytes_value = 524288; /* read with mean_bytes() */
static pthread_mutex_t prof_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool prof_busy __attribute__((tls_model("initial-exec")));

#define STACK_BUCKETS 16384
static prof_stack_t **buckets;
static prof_stack_t *all_stacks;
static prof_stack_t no_stack; /* samples taken while stacks were off */
static prof_sample_t *free_samples;
prof_sample_t *prof_live_samples;
static double est_live_requested;

/* The library's own code, for trimming allocator frames off a stack. */
static uintptr_t own_lo, own_hi;

static int find_own(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t me = (uintptr_t)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (me >= lo && me < hi) {
            /* Linked into the program itself: its code is the program's,
             * so only the caller's return address can trim the stack. */
            if (info->dlpi_name && info->dlpi_name[0]) {
                own_lo = lo;
                own_hi = hi;
            }
            return 1;
        }
    }
    return 0;
}

static void print_alloc_stack(const void *p);

void prof_configure(void)
{
    bool stacks = OPT(prof) || OPT(leak_check);
    /* Full leak checking samples every allocation: a mean of one byte. */
    double mean = OPT(leak_check) ? 1.0 : (double)((uint64_t)1 << OPT(lg_prof_sample));
    __atomic_store(&mean_bytes_value, &mean, __ATOMIC_RELAXED);
    __atomic_store_n(&prof_stacks_flag, stacks, __ATOMIC_RELEASE);
    if (stacks)
        __atomic_store_n(&prof_ever_flag, true, __ATOMIC_RELAXED);
    bool sampling = stacks || OPT(stats_sample);
    __atomic_store_n(&prof_sampling_flag, sampling, __ATOMIC_RELAXED);
    __atomic_store_n(&slab_sample_hook, sampling ? sampler_charge_slab : NULL, __ATOMIC_RELAXED);
    /* Set whatever the options: a sample outlives a change of them. */
    __atomic_store_n(&large_sample_free_hook, prof_free_sampled, __ATOMIC_RELAXED);
    report_on_misuse(print_alloc_stack);
}

static void prepare_stacks(void)
{
    /* The unwinder loads libgcc_s (which allocates) on first use: do that
     * now, not inside a sampled malloc. */
    void *warm[4];
    prof_busy = true;
    backtrace(warm, 4);
    prof_busy = false;
    dl_iterate_phdr(find_own, (void *)(uintptr_t)prof_init);
}

void prof_init(void)
{
    /* Once, and before the flags say stacks are wanted: capture() reads
     * own_lo/own_hi after it sees prof_stacks() (acquire). */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (OPT(prof) || OPT(leak_check))
        pthread_once(&once, prepare_stacks);
    prof_configure();
}

static double mean_bytes(void)
{
    double v;
    __atomic_load(&mean_bytes_value, &v, __ATOMIC_RELAXED);
    return v;
}

uint64_t prof_sample_bytes(void)
{
    return (uint64_t)mean_bytes();
}

/* Exponential with the configured mean, at least one byte: the distance to
 * the next sample point of a Poisson process over bytes. */
int64_t prof_next_interval(heap_t *h)
{
    uint64_t x = h->prof_rng;
    if (x == 0)
        x = (uintptr_t)h ^ (os_now_ms() << 32) ^ 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    h->prof_rng = x;
    double u = ((x >> 11) + 0.5) * (1.0 / 9007199254740992.0); /* (0, 1) */
    double d = -prof_ln(u) * mean_bytes();
    if (d < 1)
        return 1;
    if (d > 9e18)
        return INT64_MAX;
    return (int64_t)d;
}

/* ---- stacks ---- */

static unsigned capture(uintptr_t *out, const void *caller)
{
    void *raw[PROF_DEPTH_MAX + 16];
    int n = prof_unwind((uintptr_t *)raw, (int)(sizeof raw / sizeof raw[0]));
    if (n < 0)
        n = backtrace(raw, (int)(sizeof raw / sizeof raw[0]));
    int start = 0;
    for (int i = 0; i < n; i++) {
        if (raw[i] == caller) {
            start = i;
            break;
        }
    }
    while (start < n && (uintptr_t)raw[start] >= own_lo && (uintptr_t)raw[start] < own_hi)
        start++;
    unsigned depth = 0;
    for (int i = start; i < n && depth < PROF_DEPTH_MAX; i++)
        out[depth++] = (uintptr_t)raw[i];
    return depth;
}

static uint64_t hash_pcs(const uintptr_t *pc, unsigned depth)
{
    uint64_t h = 0xcbf29ce484222325ull ^ depth;
    for (unsigned i = 0; i < depth; i++) {
        h ^= pc[i];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h;
}

/* Under prof_lock. */
static prof_stack_t *stack_intern(const uintptr_t *pc, unsigned depth)
{
    if (depth == 0)
        return &no_stack;
    if (!buckets && !(buckets = meta_alloc(STACK_BUCKETS * sizeof *buckets)))
        return &no_stack;
    uint64_t h = hash_pcs(pc, depth);
    prof_stack_t **b = &buckets[h & (STACK_BUCKETS - 1)];
    for (prof_stack_t *s = *b; s; s = s->chain)
        if (s->hash == h && s->depth == depth && memcmp(s->pc, pc, depth * sizeof *pc) == 0)
            return s;
    prof_stack_t *s = meta_alloc(sizeof *s + depth * sizeof *pc);
    if (!s)
        return &no_stack;
    s->hash = h;
    s->depth = depth;
    memcpy(s->pc, pc, depth * sizeof *pc);
    s->chain = *b;
    *b = s;
    s->all_next = all_stacks;
    all_stacks = s;
    return s;
}

/* ---- samples ---- */

/* Under prof_lock. */
static prof_sample_t *sample_new(void)
{
    if (!free_samples) {
        enum { BATCH = 256 };
        prof_sample_t *batch = meta_alloc(BATCH * sizeof *batch);
        if (!batch)
            return NULL;
        for (int i = 0; i < BATCH; i++) {
            batch[i].next = free_samples;
            free_samples = &batch[i];
        }
    }
    prof_sample_t *r = free_samples;
    free_samples = r->next;
    return r;
}

/* Record a sample for the block at p (span's only block). */
static void attach(span_t *span, void *p, size_t size, size_t charged, const span_t *home, const uintptr_t *pc,
                   unsigned depth)
{
    double w = 1.0 / prof_one_minus_exp_neg((double)charged / mean_bytes());
    bool peak = false;
    lock_acquire(&prof_lock);
    prof_sample_t *r = sample_new();
    if (r) {
        prof_stack_t *st = stack_intern(pc, depth);
        *r = (prof_sample_t){ .stack = st, .ptr = p, .size = size, .charged = charged, .weight = w,
                              .home = home, .home_start = home ? home->start : NULL,
                              .cls = home ? home->class_idx : PROF_NO_CLASS };
        r->next = prof_live_samples;
        if (prof_live_samples)
            prof_live_samples->prev = r;
        prof_live_samples = r;
        st->live_objs++;
        st->live_bytes += charged;
        st->accum_objs++;
        st->accum_bytes += charged;
        st->est_live_objs += w;
        st->est_live_bytes += w * (double)size;
        st->est_accum_objs += w;
        st->est_accum_bytes += w * (double)size;
        est_live_requested += w * (double)size;
        peak = prof_peak_check(est_live_requested);
        span->prof = r;
    }
    lock_release(&prof_lock);
    if (peak)
        prof_dump_trigger(PROF_TRIGGER_PEAK);
}

void *prof_alloc_sampled(size_t size, size_t align, bool zero, size_t charged, const span_t *home,
                         const void *caller)
{
    if (prof_busy)
        return NULL; /* the unwinder allocating: serve it unsampled */
    prof_busy = true;
    uintptr_t pc[PROF_DEPTH_MAX];
    unsigned depth = prof_stacks() ? capture(pc, caller) : 0;
    /* A page run of its own: its free takes the slow path and finds us. */
    void *p = large_alloc(size, align, zero);
    if (p)
        attach(pagemap_lookup(p), p, size, charged, home, pc, depth);
    prof_busy = false;
    return p;
}

void prof_set_requested(span_t *span, void *p, size_t size)
{
    lock_acquire(&prof_lock);
    prof_sample_t *r = span->prof;
    r->ptr = p;
    double delta = r->weight * ((double)size - (double)r->size);
    r->stack->est_live_bytes += delta;
    r->stack->est_accum_bytes += delta;
    est_live_requested += delta;
    r->size = size;
    lock_release(&prof_lock);
}

void prof_free_sampled(span_t *span)
{
    prof_sample_t *r = span->prof;
    span->prof = NULL;
    lock_acquire(&prof_lock);
    prof_stack_t *st = r->stack;
    st->live_objs--;
    st->live_bytes -= r->charged;
    st->est_live_objs -= r->weight;
    st->est_live_bytes -= r->weight * (double)r->size;
    est_live_requested -= r->weight * (double)r->size;
    if (r->prev)
        r->prev->next = r->next;
    else
        prof_live_samples = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->next = free_samples;
    free_samples = r;
    lock_release(&prof_lock);
}

uint64_t prof_live_requested(void)
{
    lock_acquire(&prof_lock);
    double v = est_live_requested;
    lock_release(&prof_lock);
    return v > 0 ? (uint64_t)(v + 0.5) : 0;
}

static uint64_t round_est(double v)
{
    return v > 0 ? (uint64_t)(v + 0.5) : 0;
}

/* Under prof_lock: every stack's pinned bytes, from its live samples. */
static void estimate_pinned(const slab_census_t *c)
{
    pinned_begin(c);
    for (prof_stack_t *s = all_stacks; s; s = s->all_next)
        s->est_pinned = 0;
    no_stack.est_pinned = 0;
    for (prof_sample_t *r = prof_live_samples; r; r = r->next)
        pinned_scan(r);
    for (prof_sample_t *r = prof_live_samples; r; r = r->next) {
        r->stack->est_pinned += pinned_of_sample(r);
        if (r->stack == &no_stack)
            pinned_note_unattributed(r->weight * (double)r->size);
    }
}

void prof_rows(prof_row_fn fn, void *ctx)
{
    slab_census_t census;
    slab_census_take(&census);
    lock_acquire(&prof_lock);
    estimate_pinned(&census);
    for (prof_stack_t *s = all_stacks; s; s = s->all_next) {
        prof_row_t row = {
            .pc = s->pc,
            .depth = s->depth,
            .live_objs = s->live_objs,
            .live_bytes = s->live_bytes,
            .accum_objs = s->accum_objs,
            .accum_bytes = s->accum_bytes,
            .est_live_objs = round_est(s->est_live_objs),
            .est_live_bytes = round_est(s->est_live_bytes),
            .est_accum_objs = round_est(s->est_accum_objs),
            .est_accum_bytes = round_est(s->est_accum_bytes),
            .est_pinned_bytes = round_est(s->est_pinned),
        };
        fn(&row, ctx);
    }
    lock_release(&prof_lock);
}

void prof_lock_samples(void) { lock_acquire(&prof_lock); }
void prof_unlock_samples(void) { lock_release(&prof_lock); }

void prof_fork_prepare(void) { pthread_mutex_lock(&prof_lock); }
void prof_fork_parent(void) { pthread_mutex_unlock(&prof_lock); }
void prof_fork_child(void) { pthread_mutex_init(&prof_lock, NULL); }

/* For misuse reports (platform/report.c's stack hook), possibly from a
 * signal handler: no lock, no allocation; the sample is only read, and the
 * process is about to abort. */
static void print_alloc_stack(const void *p)
{
    span_t *s = pagemap_lookup(p);
    if ((s->kind != SPAN_LARGE && s->kind != SPAN_HUGE) || !s->prof || !s->prof->stack->depth)
        return;
    const prof_stack_t *st = s->prof->stack;
    textbuf_t t = { .fd = 2 };
    tb_str(&t, "tidemalloc:   allocated (a heap-profile sample) at\n");
    for (uint32_t d = 0; d < st->depth && d < 16; d++) {
        tb_str(&t, "tidemalloc:     ");
        prof_put_frame(&t, st->pc[d]);
        tb_str(&t, "\n");
    }
    tb_flush(&t);
}
