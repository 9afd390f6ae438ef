/* frag — tide_stats_frag: the slab census (core/slab_census.h has the
 * definitions) as the public figures, with the mesh estimate (mesh.c) on
 * request, and their lines in the reports. */
#include "frag.h"

#include <stdbool.h>
#include <string.h>

#include "tidemalloc.h"

#include "core/size_class.h"
#include "core/slab_census.h"

_Static_assert(TIDE_FRAG_BINS == CENSUS_BINS, "one public bin per census bin");

static void cell_from(tide_frag_cell_t *out, const census_cell_t *c)
{
    out->slabs = c->slabs;
    out->partly_used = c->partly_used;
    out->carved_bytes = c->carved;
    out->live_bytes = c->live;
    out->cached_bytes = c->cached;
    out->free_bytes = c->free;
}

/* The census, and with TIDE_FRAG_MESH the mesh and in-place estimates
 * (inplace: SC_COUNT cells, or NULL), into all[SC_COUNT]. */
static void frag_take(tide_frag_stats_t *out, tide_frag_cell_t *all, uint64_t *inplace, int flags)
{
    slab_census_t c;
    slab_census_take(&c);
    memset(out, 0, sizeof *out);
    memset(all, 0, SC_COUNT * sizeof all[0]);
    if (inplace)
        memset(inplace, 0, SC_COUNT * sizeof inplace[0]);
    cell_from(&out->total, &c.all);
    for (unsigned b = 0; b < CENSUS_BINS; b++)
        cell_from(&out->bins[b], &c.bin[b]);
    for (unsigned k = 0; k < SC_COUNT; k++)
        cell_from(&all[k], &c.cls[k]);
    if (flags & TIDE_FRAG_MESH)
        mesh_estimate(all, &out->total, inplace);
}

TIDE_EXPORT int tide_stats_frag(tide_frag_stats_t *out, tide_frag_cell_t *classes, size_t max, int flags)
{
    if (!out)
        return -1;
    tide_frag_cell_t all[SC_COUNT];
    frag_take(out, all, NULL, flags);
    if (classes)
        memcpy(classes, all, (max < SC_COUNT ? max : SC_COUNT) * sizeof all[0]);
    return SC_COUNT;
}

static uint64_t sum(const uint64_t *v)
{
    uint64_t t = 0;
    for (unsigned k = 0; k < SC_COUNT; k++)
        t += v[k];
    return t;
}

void frag_print_text(textbuf_t *o)
{
    tide_frag_stats_t s;
    tide_frag_cell_t c[SC_COUNT];
    uint64_t inplace[SC_COUNT];
    frag_take(&s, c, inplace, TIDE_FRAG_MESH);
    tb_str(o, "fragmentation: ");
    tb_u64(o, s.total.free_bytes);
    tb_str(o, " bytes free inside ");
    tb_u64(o, s.total.partly_used);
    tb_str(o, " partly used slabs; meshing would free ");
    tb_u64(o, s.total.mesh_bytes);
    tb_str(o, " (");
    tb_u64(o, s.total.mesh_pairs);
    tb_str(o, " pairs), purging whole free pages in place ");
    tb_u64(o, sum(inplace));
    tb_str(o, "; ");
    tb_u64(o, s.total.cached_bytes);
    tb_str(o, " free in threads' caches\n");
    tb_str(o, "size class  carved bytes    live bytes    free in partly used   cached   mesh frees   in place\n");
    for (unsigned k = 0; k < SC_COUNT; k++) {
        if (!c[k].slabs)
            continue;
        tb_u64_pad(o, sc_block_size[k], 10);
        tb_u64_pad(o, c[k].carved_bytes, 14);
        tb_u64_pad(o, c[k].live_bytes, 14);
        tb_u64_pad(o, c[k].free_bytes, 23);
        tb_u64_pad(o, c[k].cached_bytes, 9);
        tb_u64_pad(o, c[k].mesh_bytes, 13);
        tb_u64_pad(o, inplace[k], 11);
        tb_str(o, "\n");
    }
    tb_str(o, "occupancy   slabs    live bytes    free in partly used\n");
    for (unsigned b = 0; b < TIDE_FRAG_BINS; b++) {
        if (!s.bins[b].slabs)
            continue;
        tb_u64_pad(o, b * 10, 3);
        tb_str(o, "-");
        tb_u64_pad(o, b * 10 + 10, 3);
        tb_str(o, "%");
        tb_u64_pad(o, s.bins[b].slabs, 9);
        tb_u64_pad(o, s.bins[b].live_bytes, 14);
        tb_u64_pad(o, s.bins[b].free_bytes, 23);
        tb_str(o, "\n");
    }
}

static void put_cell_json(textbuf_t *o, const tide_frag_cell_t *c, const char *key_name, uint64_t key,
                          uint64_t inplace)
{
    tb_str(o, "{");
    if (key_name) {
        tb_str(o, "\"");
        tb_str(o, key_name);
        tb_str(o, "\": ");
        tb_u64(o, key);
        tb_str(o, ", ");
    }
    const struct { const char *name; uint64_t v; } f[] = {
        { "slabs", c->slabs }, { "partly_used", c->partly_used }, { "carved_bytes", c->carved_bytes },
        { "live_bytes", c->live_bytes }, { "cached_bytes", c->cached_bytes }, { "free_bytes", c->free_bytes },
        { "mesh_bytes", c->mesh_bytes }, { "mesh_pairs", c->mesh_pairs }, { "inplace_bytes", inplace },
    };
    /* The bins do not carry the in-place estimate. */
    size_t n = sizeof f / sizeof f[0] - (inplace == UINT64_MAX);
    for (size_t i = 0; i < n; i++) {
        tb_str(o, i ? ", \"" : "\"");
        tb_str(o, f[i].name);
        tb_str(o, "\": ");
        tb_u64(o, f[i].v);
    }
    tb_str(o, "}");
}

void frag_print_json(textbuf_t *o)
{
    tide_frag_stats_t s;
    tide_frag_cell_t c[SC_COUNT];
    uint64_t inplace[SC_COUNT];
    frag_take(&s, c, inplace, TIDE_FRAG_MESH);
    tb_str(o, ", \"frag\": {\"total\": ");
    put_cell_json(o, &s.total, NULL, 0, sum(inplace));
    tb_str(o, ", \"classes\": [");
    for (unsigned k = 0; k < SC_COUNT; k++) {
        tb_str(o, k ? ", " : "");
        put_cell_json(o, &c[k], "block_size", sc_block_size[k], inplace[k]);
    }
    tb_str(o, "], \"bins\": [");
    for (unsigned b = 0; b < TIDE_FRAG_BINS; b++) {
        tb_str(o, b ? ", " : "");
        put_cell_json(o, &s.bins[b], "occupancy_from_pct", b * 10, UINT64_MAX);
    }
    tb_str(o, "]}");
}
