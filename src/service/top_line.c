/* top_line — the figures of `tide top PID` (tools/top.c), one request on
 * the stats socket: the statistics, the census per class, and with
 * profiling on the five stacks holding the most live bytes and the five
 * pinning the most, named by their allocating frame. */
#include "top_line.h"

#include <string.h>

#include "tidemalloc.h"

#include "core/size_class.h"
#include "core/slab_census.h"
#include "platform/textbuf.h"
#include "prof/prof.h"
#include "prof/prof_name.h"

#define TOP_SITES 5

typedef struct top_site {
    uintptr_t leaf;
    uint64_t live, pinned;
} top_site_t;

typedef struct top_sites {
    top_site_t by_live[TOP_SITES], by_pinned[TOP_SITES];
} top_sites_t;

/* Keep the k largest by key (0: live, 1: pinned), largest first. */
static void keep(top_site_t *v, const top_site_t *x, int key)
{
    uint64_t xk = key ? x->pinned : x->live;
    if (xk == 0)
        return;
    int i = TOP_SITES - 1;
    if ((key ? v[i].pinned : v[i].live) >= xk)
        return;
    for (; i > 0 && (key ? v[i - 1].pinned : v[i - 1].live) < xk; i--)
        v[i] = v[i - 1];
    v[i] = *x;
}

static void rank_row(const prof_row_t *r, void *ctx)
{
    top_sites_t *t = ctx;
    if (r->depth == 0)
        return;
    top_site_t x = { r->pc[0], r->est_live_bytes, r->est_pinned_bytes };
    keep(t->by_live, &x, 0);
    keep(t->by_pinned, &x, 1);
}

static void put_kv(textbuf_t *o, const char *key, uint64_t v)
{
    tb_str(o, " ");
    tb_str(o, key);
    tb_str(o, "=");
    tb_u64(o, v);
}

static void put_sites(textbuf_t *o, const top_site_t *v, const char *by)
{
    for (int i = 0; i < TOP_SITES && (v[i].live || v[i].pinned); i++) {
        tb_str(o, "site by=");
        tb_str(o, by);
        put_kv(o, "live", v[i].live);
        put_kv(o, "pinned", v[i].pinned);
        tb_str(o, " pc=");
        tb_hex(o, v[i].leaf);
        tb_str(o, " name=");
        prof_frame_name(o, v[i].leaf); /* outside the profiler's lock: dladdr locks */
        tb_str(o, "\n");
    }
}

void top_line_write(int fd)
{
    tide_stats_t s;
    tide_stats_get(&s);
    slab_census_t c;
    slab_census_take(&c);
    bool prof = tide_prof_active() == 1;
    prof_frag_view_t v;
    memset(&v, 0, sizeof v);
    static top_sites_t sites; /* one serving thread (stats_socket.c) */
    memset(&sites, 0, sizeof sites);
    if (prof) {
        prof_rows(rank_row, &sites);
        prof_frag_view(&v);
    }
    textbuf_t o = { .fd = fd };
    tb_str(&o, "tide-top");
    put_kv(&o, "live", s.live_usable);
    put_kv(&o, "active", s.active);
    put_kv(&o, "dirty", s.dirty);
    put_kv(&o, "mapped", s.mapped);
    put_kv(&o, "metadata", s.metadata);
    put_kv(&o, "free_partly", c.all.free);
    put_kv(&o, "cached", c.all.cached);
    put_kv(&o, "prof", prof);
    put_kv(&o, "period", prof ? prof_sample_bytes() : 0);
    put_kv(&o, "mid_run", v.mid_run);
    tb_str(&o, "\n");
    for (unsigned k = 0; k < SC_COUNT; k++) {
        if (!c.cls[k].slabs)
            continue;
        tb_str(&o, "class");
        put_kv(&o, "size", sc_block_size[k]);
        put_kv(&o, "live", c.cls[k].live - (c.cls[k].cached < c.cls[k].live ? c.cls[k].cached : c.cls[k].live));
        put_kv(&o, "carved", c.cls[k].carved);
        put_kv(&o, "free", c.cls[k].free);
        tb_str(&o, "\n");
    }
    put_sites(&o, sites.by_live, "live");
    put_sites(&o, sites.by_pinned, "pinned");
    tb_str(&o, "end\n");
    tb_flush(&o);
}
