/* prof_pinned — which sites pin the free space inside partly used slabs.
 *
 * A live block in a slab that is partly used keeps the slab's free blocks
 * from going back to the page heap: that free space is pinned. The
 * estimator shares each size class's free bytes (the allocator's own count,
 * core/slab_census.h) among the class's live blocks in proportion to their
 * size and to how sparse their slab is:
 *
 *   pinned(sample i of class c) = (w_i - 1) * size_c * (F_c / L_c) * r_i / mean_c(r)
 *
 * F_c and L_c are the class's free bytes in partly used slabs and its live
 * bytes, counted; w_i = 1 / P(sampled) is the weight the live bytes get,
 * the allocations the sample stands for, and w_i - 1 of them are not
 * sampled: those are the ones in slabs (the sampled block has a page run
 * of its own);
 * r_i = free(home) / (live(home) + size_c) is the sparsity of the slab the
 * sampled block would have lived in (its home, prof_sample_t.home: the
 * slab its sample point fell in, where the blocks allocated beside it are),
 * as if it were there; mean_c(r) is r's mean over the class's live samples,
 * weighted by w - 1. So
 *  - summed over a class, pinned = (sum of (w_i - 1) * size_c) * F_c / L_c:
 *    the sampled estimate of the class's live bytes in slabs times its free-to-live
 *    ratio, unbiased for F_c, as the live estimate is for L_c. Profiling
 *    started mid-run covers only what was allocated since, and pins that
 *    share of F_c;
 *  - within a class, a site whose blocks sit in sparse slabs pins more than
 *    one whose blocks fill their slabs (r = 0 for a full slab, and for a
 *    home that went back whole).
 * Why not the home slab's own ratio free(home) / live(home) alone: a
 * sampled block is not in a slab (it gets a page run of its own, so that
 * its free finds its record), and its home is a slab picked by slot, not
 * by live block. In classes whose slabs hold few blocks (2 to 16 above
 * 1 KiB) that ratio is biased by a factor of 0.4 to 2
 * (docs/PROFILING.md); the class's own count fixes the scale.
 *
 * Invariant: the views below are written only under prof_lock, by
 * prof_rows (pinned_begin, pinned_scan per live sample, then
 * pinned_of_sample per live sample).
 */
#include "prof_internal.h"

#include <string.h>

#include "core/size_class.h"
#include "core/slab_census.h"
#include "platform/os.h"
#include "platform/textbuf.h"

_Static_assert(PROF_FRAG_CLASSES == SC_COUNT, "a view slot per size class");
_Static_assert(PROF_FRAG_BINS == CENSUS_BINS, "the census's occupancy bins");

static prof_frag_view_t view;         /* under prof_lock */
static uint64_t class_live[SC_COUNT]; /* L_c, counted */
static double class_w[SC_COUNT], class_wr[SC_COUNT]; /* sums of w - 1 and (w - 1) * r over live samples */
static bool started_mid_run;
static uint64_t started_unix_ms, started_live;

void pinned_begin(const slab_census_t *c)
{
    memset(&view, 0, sizeof view);
    memset(class_w, 0, sizeof class_w);
    memset(class_wr, 0, sizeof class_wr);
    view.free = c->all.free;
    for (unsigned k = 0; k < SC_COUNT; k++) {
        view.cls_free[k] = c->cls[k].free;
        view.cls_size[k] = sc_block_size[k];
        class_live[k] = c->cls[k].live;
    }
    for (unsigned b = 0; b < CENSUS_BINS; b++)
        view.bin_free[b] = c->bin[b].free;
}

void pinned_scan(prof_sample_t *r)
{
    r->pin_score = 0;
    r->pin_bin = 0;
    if (r->cls >= SC_COUNT)
        return; /* a large block: its run goes back with it */
    class_w[r->cls] += r->weight - 1;
    const span_t *s = r->home;
    slab_occ_t o;
    if (__atomic_load_n(&s->start, __ATOMIC_RELAXED) != r->home_start || !slab_occupancy(s, &o) ||
        o.cls != r->cls || !o.partly_used)
        return; /* its home went back whole (or is full): it pins nothing */
    r->pin_score = (double)(o.capacity - o.used) / (double)(o.used + 1);
    r->pin_bin = o.bin;
    class_wr[r->cls] += (r->weight - 1) * r->pin_score;
}

double pinned_of_sample(const prof_sample_t *r)
{
    unsigned c = r->cls;
    if (c >= SC_COUNT || r->pin_score == 0 || class_live[c] == 0 || class_wr[c] <= 0)
        return 0;
    double mean_r = class_wr[c] / class_w[c];
    double pinned = (r->weight - 1) * (double)sc_block_size[c] * ((double)view.cls_free[c] / (double)class_live[c]) *
                    (r->pin_score / mean_r);
    view.pinned += pinned;
    view.cls_pinned[c] += pinned;
    view.bin_pinned[r->pin_bin] += pinned;
    return pinned;
}

void pinned_note_unattributed(double live_bytes)
{
    view.unattributed_live += live_bytes;
}

void prof_note_started(bool mid_run, uint64_t live_bytes)
{
    prof_lock_samples();
    started_mid_run = mid_run;
    started_unix_ms = os_realtime_ns() / 1000000;
    started_live = live_bytes;
    prof_unlock_samples();
}

void prof_frag_view(prof_frag_view_t *out)
{
    prof_lock_samples();
    *out = view;
    out->mid_run = started_mid_run;
    out->started_unix_ms = started_unix_ms;
    out->live_at_start = started_live;
    prof_unlock_samples();
}

static uint64_t round_bytes(double v)
{
    return v > 0 ? (uint64_t)(v + 0.5) : 0;
}

/* "tide_<tag>: [<key> pinned: ]<pinned> free: <free>" */
static void emit_pair(void (*emit)(void *, const char *, size_t), void *ctx, const char *tag, const uint64_t *key,
                      double pinned, uint64_t free)
{
    textbuf_t t = { .fd = -1 };
    tb_str(&t, "tide_");
    tb_str(&t, tag);
    tb_str(&t, ": ");
    if (key) {
        tb_u64(&t, *key);
        tb_str(&t, " pinned: ");
    }
    tb_u64(&t, round_bytes(pinned));
    tb_str(&t, " free: ");
    tb_u64(&t, free);
    emit(ctx, t.buf, t.n);
}

void prof_frag_lines(void (*emit)(void *ctx, const char *line, size_t len), void *ctx)
{
    prof_frag_view_t v;
    prof_frag_view(&v);
    emit_pair(emit, ctx, "pinned", NULL, v.pinned, v.free);
    for (unsigned k = 0; k < PROF_FRAG_CLASSES; k++) {
        uint64_t size = v.cls_size[k];
        if (v.cls_free[k] || round_bytes(v.cls_pinned[k]))
            emit_pair(emit, ctx, "class", &size, v.cls_pinned[k], v.cls_free[k]);
    }
    for (unsigned b = 0; b < PROF_FRAG_BINS; b++) {
        uint64_t bin = b;
        if (v.bin_free[b] || round_bytes(v.bin_pinned[b]))
            emit_pair(emit, ctx, "bin", &bin, v.bin_pinned[b], v.bin_free[b]);
    }
    textbuf_t t = { .fd = -1 };
    tb_str(&t, "tide_started: mid_run: ");
    tb_u64(&t, v.mid_run);
    tb_str(&t, " unix_ms: ");
    tb_u64(&t, v.started_unix_ms);
    tb_str(&t, " live_at_start: ");
    tb_u64(&t, v.live_at_start);
    tb_str(&t, " unattributed: ");
    tb_u64(&t, round_bytes(v.unattributed_live));
    emit(ctx, t.buf, t.n);
}
