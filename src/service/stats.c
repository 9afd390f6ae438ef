/* stats — tide_stats_get and the lines written for `tide run`. */
#define _GNU_SOURCE
#include "stats.h"
#include "frag.h"
#include "stats_line_keys.h"

#include <string.h>

#include "tidemalloc.h"

#include "core/central.h"
#include "core/heap.h"
#include "core/large.h"
#include "core/meta.h"
#include "platform/os.h"
#include "core/page_heap.h"
#include "core/pagemap.h"
#include "prof/prof_internal.h"
#include "core/size_class.h"
#include "platform/textbuf.h"
#include <stddef.h>

static void add_live(const span_t *s, void *arg)
{
    uint64_t *live = arg;
    if (s->kind == SPAN_SMALL)
        *live += (uint64_t)s->used * s->block_size;
    else
        *live += (uint64_t)s->npages << OS_PAGE_SHIFT;
}

TIDE_EXPORT int tide_stats_get(tide_stats_t *out)
{
    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    page_heap_walk(add_live, &out->live_usable);
    /* Blocks in threads' caches are free, though their slabs count them
     * (read a moment apart: never let the difference go below zero). */
    size_t cached = central_cached_bytes();
    out->live_usable = out->live_usable > cached ? out->live_usable - cached : 0;
    page_heap_stats_t ph;
    page_heap_stats(&ph);
    size_t huge = large_huge_bytes();
    out->live_usable += huge;
    out->active = ((uint64_t)ph.active_pages << OS_PAGE_SHIFT) + huge;
    /* Unmaps the kernel refused are still mapped until a retry succeeds. */
    out->mapped = ((uint64_t)ph.mapped_pages << OS_PAGE_SHIFT) + huge + os_pending_release_bytes();
    out->dirty = (uint64_t)ph.dirty_pages << OS_PAGE_SHIFT;
    out->retained = out->mapped - out->active - out->dirty;
    /* Leaf tables are touched only where pages are mapped: 8 bytes a page. */
    out->metadata = meta_bytes() + (out->mapped >> OS_PAGE_SHIFT) * sizeof(uintptr_t);
    out->purged = ph.purged_pages << OS_PAGE_SHIFT;
    out->purge_calls = ph.purge_calls;
    out->huge_live = huge;
    out->regions = ph.regions;
    out->threads = heap_count_active();
    out->orphan_heaps = heap_count_orphans();
    out->live_requested = prof_live_requested();
    return 0;
}

/* ---- text without malloc ---- */

static void put_kv(textbuf_t *o, const char *key, uint64_t v)
{
    tb_str(o, " ");
    tb_str(o, key);
    tb_str(o, "=");
    tb_u64(o, v);
}


void stats_write_line(int fd)
{
    tide_stats_t s;
    tide_stats_get(&s);
    /* The values by key id, in the keys' order (stats_line_keys.h). */
    const uint64_t pid = (uint64_t)os_getpid(), t_ms = os_now_ms(), live = s.live_usable,
                   live_requested = s.live_requested, active = s.active, dirty = s.dirty, mapped = s.mapped,
                   retained = s.retained, metadata = s.metadata, purged = s.purged,
                   purge_calls = s.purge_calls, threads = s.threads;
    tide_limit_stats_t l;
    tide_stats_limit(&l);
    const uint64_t limit_soft = l.soft, limit_hard = l.hard, limit_failures = l.failures;
    textbuf_t o = { .n = 0, .fd = fd };
    tb_str(&o, TIDE_STATS_LINE_TAG);
#define PUT_KEY(id, key) put_kv(&o, key, id);
    TIDE_STATS_LINE_KEYS(PUT_KEY)
#undef PUT_KEY
    tb_str(&o, "\n");
    tb_flush(&o);
}

/* ---- per size class ---- */

static void add_class(const span_t *s, void *arg)
{
    tide_class_stats_t *c = arg;
    if (s->kind != SPAN_SMALL)
        return;
    tide_class_stats_t *k = &c[s->class_idx];
    k->blocks_in_use += s->used;
    k->blocks_capacity += s->reserved;
    k->slabs++;
    k->slab_bytes += (uint64_t)s->npages << OS_PAGE_SHIFT;
}

TIDE_EXPORT int tide_stats_classes(tide_class_stats_t *out, size_t max)
{
    tide_class_stats_t all[SC_COUNT];
    memset(all, 0, sizeof all);
    for (unsigned i = 0; i < SC_COUNT; i++)
        all[i].block_size = sc_block_size[i];
    page_heap_walk(add_class, all);
    if (out)
        memcpy(out, all, (max < SC_COUNT ? max : SC_COUNT) * sizeof all[0]);
    return SC_COUNT;
}

/* ---- the full report, as text or JSON ---- */

typedef struct field {
    const char *name;
    size_t offset;
    const char *what;
} field_t;

#define F(name, what) { #name, offsetof(tide_stats_t, name), what }
static const field_t fields[] = {
    F(live_usable, "usable bytes in blocks not yet freed"),
    F(live_requested, "requested bytes in them (sampled estimate)"),
    F(active, "pages in slabs and large blocks"),
    F(dirty, "freed pages not yet returned to the OS"),
    F(retained, "reserved, free and purged (no RSS)"),
    F(mapped, "address space reserved"),
    F(metadata, "allocator bookkeeping"),
    F(purged, "returned with MADV_DONTNEED so far"),
    F(purge_calls, "madvise calls that purged"),
    F(huge_live, "in blocks with their own mapping"),
    F(regions, "64 MiB regions mapped"),
    F(threads, "thread heaps in use"),
    F(orphan_heaps, "heaps of exited threads awaiting reuse"),
};
#undef F

static void put_pad(textbuf_t *o, const char *s, size_t width)
{
    tb_str(o, s);
    for (size_t k = strlen(s); k < width; k++)
        tb_str(o, " ");
}

/* The limits' part of the report: what is in force, where it came from,
 * and the headroom; "none" when there is no limit (core/limit.h). */
static const char *source_name(int source, int version)
{
    if (source == TIDE_LIMIT_OPTION)
        return "option";
    if (source == TIDE_LIMIT_CGROUP)
        return version == 2 ? "cgroup v2" : "cgroup v1";
    return "none";
}

static void put_limit_text(textbuf_t *o, const tide_limit_stats_t *l)
{
    if (!l->soft && !l->hard) {
        tb_str(o, "limit        none: no limit_soft or limit_hard, and no cgroup limit found\n");
        return;
    }
    const struct { const char *name; uint64_t v; const char *what; } rows[] = {
        { "limit_soft", l->soft, source_name(l->soft_source, l->cgroup_version) },
        { "limit_hard", l->hard, source_name(l->hard_source, l->cgroup_version) },
        { "charge", l->charge, "compared with the limits: allocator + outside" },
        { "outside", l->outside, "charged to the process or cgroup, not the allocator (sampled)" },
        { "headroom", l->headroom, "the lower limit minus the charge" },
        { "dirty_cap", l->dirty_cap == UINT64_MAX ? 0 : l->dirty_cap, "dirty bytes the soft limit allows now" },
        { "limit_fails", l->failures, "allocations refused at the hard limit" },
        { "pressure", l->pressure_events,
          !l->pressure_trigger ? "memory stalls: no PSI trigger armed, the charge is sampled"
          : l->pressure_now    ? "memory stalls the PSI trigger reported; in one now, purging at once"
                               : "memory stalls the PSI trigger reported (each purges every dirty page)" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        put_pad(o, rows[i].name, 13);
        if (rows[i].v == 0 && i < 2)
            tb_str(o, "          none");
        else
            tb_u64_pad(o, rows[i].v, 14);
        tb_str(o, "  ");
        tb_str(o, rows[i].what);
        tb_str(o, "\n");
    }
}

static void put_limit_json(textbuf_t *o, const tide_limit_stats_t *l)
{
    const struct { const char *name; uint64_t v; } rows[] = {
        { "soft", l->soft }, { "hard", l->hard }, { "charge", l->charge }, { "allocator", l->allocator },
        { "outside", l->outside }, { "headroom", l->headroom }, { "failures", l->failures },
        { "cgroup_version", (uint64_t)l->cgroup_version }, { "cgroup_max", l->cgroup_max },
        { "cgroup_high", l->cgroup_high }, { "cgroup_current", l->cgroup_current },
        { "pressure_trigger", (uint64_t)l->pressure_trigger }, { "pressure_events", l->pressure_events },
        { "pressure_now", l->pressure_now },
    };
    tb_str(o, ", \"limit\": {");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tb_str(o, i ? ", \"" : "\"");
        tb_str(o, rows[i].name);
        tb_str(o, "\": ");
        tb_u64(o, rows[i].v);
    }
    tb_str(o, ", \"dirty_cap\": ");
    if (l->dirty_cap == UINT64_MAX)
        tb_str(o, "null");
    else
        tb_u64(o, l->dirty_cap);
    tb_str(o, ", \"soft_source\": \"");
    tb_str(o, source_name(l->soft_source, l->cgroup_version));
    tb_str(o, "\", \"hard_source\": \"");
    tb_str(o, source_name(l->hard_source, l->cgroup_version));
    tb_str(o, "\"}");
}

int stats_print_to(textbuf_t *o, int format, bool classes)
{
    if (format == TIDE_STATS_PROMETHEUS)
        return stats_prometheus_to(o);
    if (format != TIDE_STATS_TEXT && format != TIDE_STATS_JSON)
        return -1;
    tide_stats_t s;
    tide_stats_get(&s);
    tide_class_stats_t c[SC_COUNT];
    tide_stats_classes(c, SC_COUNT);
    tide_limit_stats_t l;
    tide_stats_limit(&l);
    size_t nf = sizeof fields / sizeof fields[0];
    if (format == TIDE_STATS_JSON) {
        tb_str(o, "{");
        for (size_t i = 0; i < nf; i++) {
            tb_str(o, i ? ", \"" : "\"");
            tb_str(o, fields[i].name);
            tb_str(o, "\": ");
            tb_u64(o, *(const uint64_t *)((const char *)&s + fields[i].offset));
        }
        put_limit_json(o, &l);
        if (classes) {
            tb_str(o, ", \"classes\": [");
            for (unsigned k = 0; k < SC_COUNT; k++) {
                tb_str(o, k ? ", {" : "{");
                tb_str(o, "\"block_size\": ");
                tb_u64(o, c[k].block_size);
                tb_str(o, ", \"blocks_in_use\": ");
                tb_u64(o, c[k].blocks_in_use);
                tb_str(o, ", \"blocks_capacity\": ");
                tb_u64(o, c[k].blocks_capacity);
                tb_str(o, ", \"slabs\": ");
                tb_u64(o, c[k].slabs);
                tb_str(o, ", \"slab_bytes\": ");
                tb_u64(o, c[k].slab_bytes);
                tb_str(o, "}");
            }
            tb_str(o, "]");
        }
        if (classes)
            frag_print_json(o);
        tb_str(o, "}\n");
    } else {
        tb_str(o, "___ tidemalloc " TIDE_VERSION " statistics (bytes unless a count) ___\n");
        for (size_t i = 0; i < nf; i++) {
            put_pad(o, fields[i].name, 13);
            tb_u64_pad(o, *(const uint64_t *)((const char *)&s + fields[i].offset), 14);
            tb_str(o, "  ");
            tb_str(o, fields[i].what);
            tb_str(o, "\n");
        }
        put_limit_text(o, &l);
        if (classes) {
            tb_str(o, "size class   blocks in use      capacity   slabs   slab bytes   utilization\n");
            for (unsigned k = 0; k < SC_COUNT; k++) {
                if (c[k].slabs == 0)
                    continue;
                tb_u64_pad(o, c[k].block_size, 10);
                tb_u64_pad(o, c[k].blocks_in_use, 16);
                tb_u64_pad(o, c[k].blocks_capacity, 14);
                tb_u64_pad(o, c[k].slabs, 8);
                tb_u64_pad(o, c[k].slab_bytes, 13);
                tb_u64_pad(o, c[k].blocks_in_use * 100 / c[k].blocks_capacity, 13);
                tb_str(o, "%\n");
            }
        }
        if (classes)
            frag_print_text(o);
    }
    return 0;
}

TIDE_EXPORT int tide_stats_print(int fd, int format)
{
    textbuf_t o = { .n = 0, .fd = fd };
    if (stats_print_to(&o, format, true) != 0)
        return -1;
    tb_flush(&o);
    return o.failed ? -1 : 0;
}
