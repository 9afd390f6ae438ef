/* prof_heap_v2 — jemalloc's heap_v2 text profile, which jeprof reads:
 *
 *   heap_v2/<mean sampling interval>
 *     t*: <live objs>: <live bytes> [<ever objs>: <ever bytes>]
 *   @ 0x<pc> 0x<pc> ...
 *     t*: ...
 *   MAPPED_LIBRARIES:
 *   <a copy of /proc/self/maps>
 *
 * The counts are the samples themselves; the reader un-samples them
 * (jeprof scales each stack by 1 / (1 - exp(-avg size / interval))), so
 * bytes are the sizes the sampler charged.
 *
 * tidemalloc adds lines that start with "tide_" (jeprof skips every line
 * that is neither "@ ..." nor "t<thread>: ..."): after the totals, the
 * pinned-bytes estimate and the allocator's count of free bytes inside
 * partly used slabs, by size class and by occupancy bin, and when
 * profiling started; after a stack's t* line, its pinned bytes. Those are
 * estimates already (prof_pinned.c), not raw counts.
 *
 *     tide_pinned: <estimate> free: <counted>
 *     tide_class: <block size> pinned: <estimate> free: <counted>
 *     tide_bin: <tenth 0-9> pinned: <estimate> free: <counted>
 *     tide_started: mid_run: <0|1> unix_ms: <ms> live_at_start: <bytes> unattributed: <bytes>
 *   @ ...
 *     t*: ...
 *     tide_pinned: <estimate>
 */
#define _GNU_SOURCE

#include "prof.h"
#include "platform/os.h"
#include "platform/textbuf.h"

static void put_counts(textbuf_t *t, uint64_t lo, uint64_t lb, uint64_t ao, uint64_t ab)
{
    tb_str(t, "  t*: ");
    tb_u64(t, lo);
    tb_str(t, ": ");
    tb_u64(t, lb);
    tb_str(t, " [");
    tb_u64(t, ao);
    tb_str(t, ": ");
    tb_u64(t, ab);
    tb_str(t, "]\n");
}

static void add_totals(const prof_row_t *r, void *ctx)
{
    uint64_t *sum = ctx;
    sum[0] += r->live_objs;
    sum[1] += r->live_bytes;
    sum[2] += r->accum_objs;
    sum[3] += r->accum_bytes;
}

static void put_stack(const prof_row_t *r, void *ctx)
{
    textbuf_t *t = ctx;
    if (r->depth == 0)
        return;
    tb_str(t, "@");
    for (uint32_t i = 0; i < r->depth; i++) {
        tb_str(t, " ");
        /* jeprof steps back one byte on every frame but the first */
        tb_hex(t, i == 0 ? r->pc[i] - 1 : r->pc[i]);
    }
    tb_str(t, "\n");
    put_counts(t, r->live_objs, r->live_bytes, r->accum_objs, r->accum_bytes);
    if (r->est_pinned_bytes) {
        tb_str(t, "  tide_pinned: ");
        tb_u64(t, r->est_pinned_bytes);
        tb_str(t, "\n");
    }
}

static void put_frag_line(void *ctx, const char *line, size_t len)
{
    textbuf_t *t = ctx;
    tb_str(t, "  ");
    tb_put(t, line, len);
    tb_str(t, "\n");
}

/* Copy a /proc file into the output without allocating. */
/* jeprof reads the maps as the kernel wrote them. */
static void put_mapping(void *ctx, const os_mapping_t *m)
{
    textbuf_t *t = ctx;
    tb_put(t, m->line, m->line_len);
    tb_put(t, "\n", 1);
}

bool prof_write_heap_v2(int fd)
{
    textbuf_t t = { .fd = fd };
    uint64_t sum[4] = { 0 };
    prof_rows(add_totals, sum);
    tb_str(&t, "heap_v2/");
    tb_u64(&t, prof_sample_bytes());
    tb_str(&t, "\n");
    put_counts(&t, sum[0], sum[1], sum[2], sum[3]);
    prof_frag_lines(put_frag_line, &t); /* the view prof_rows just estimated */
    prof_rows(put_stack, &t);
    tb_str(&t, "\nMAPPED_LIBRARIES:\n");
    char line[4096 + 256]; /* PATH_MAX and the fields before it */
    os_maps_foreach(line, sizeof line, put_mapping, &t);
    tb_flush(&t);
    return !t.failed;
}
