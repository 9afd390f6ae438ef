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
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "prof.h"
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
}

/* Copy a /proc file into the output without allocating. */
bool prof_copy_file(textbuf_t *t, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        tb_put(t, buf, (size_t)n);
    close(fd);
    return n == 0;
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
    prof_rows(put_stack, &t);
    tb_str(&t, "\nMAPPED_LIBRARIES:\n");
    prof_copy_file(&t, "/proc/self/maps");
    tb_flush(&t);
    return !t.failed;
}
