/* stats_prometheus — the statistics in Prometheus's text exposition format
 * (version 0.0.4), for `tide stats PID --prometheus` and the stats_file
 * option that node_exporter's textfile collector reads.
 *
 * Invariant: every metric is written with its # HELP and # TYPE lines
 * before its samples, names are tidemalloc_<what>[_bytes|_total] and the
 * set of names is the one docs/STATS.md lists (tests/tool checks both).
 * Counters only grow (purged bytes and purge calls); the rest are gauges.
 */
#define _GNU_SOURCE
#include "stats.h"

#include <string.h>

#include "tidemalloc.h"

#include "config/config.h"
#include "core/size_class.h"
#include "platform/os.h"

static void put_header(textbuf_t *o, const char *name, const char *type, const char *help)
{
    tb_str(o, "# HELP tidemalloc_");
    tb_str(o, name);
    tb_str(o, " ");
    tb_str(o, help);
    tb_str(o, "\n# TYPE tidemalloc_");
    tb_str(o, name);
    tb_str(o, " ");
    tb_str(o, type);
    tb_str(o, "\n");
}

static void put_metric(textbuf_t *o, const char *name, const char *type, const char *help, uint64_t v)
{
    put_header(o, name, type, help);
    tb_str(o, "tidemalloc_");
    tb_str(o, name);
    tb_str(o, " ");
    tb_u64(o, v);
    tb_str(o, "\n");
}

/* A ratio num/den with four decimals, without floating point. */
static void put_ratio(textbuf_t *o, uint64_t num, uint64_t den)
{
    uint64_t scaled = den ? num * 10000 / den : 0;
    tb_u64(o, scaled / 10000);
    char frac[5] = { '.', 0, 0, 0, 0 };
    for (unsigned i = 4, v = (unsigned)(scaled % 10000); i >= 1; i--, v /= 10)
        frac[i] = (char)('0' + v % 10);
    tb_put(o, frac, 5);
}

typedef struct class_metric {
    const char *name, *type, *help;
} class_metric_t;

static const class_metric_t class_metrics[] = {
    { "class_blocks_in_use", "gauge", "Blocks of the size class handed out and not freed." },
    { "class_blocks_capacity", "gauge", "Blocks the size class's slabs can hold." },
    { "class_slab_bytes", "gauge", "Bytes of pages held by the size class's slabs." },
    { "class_utilization_ratio", "gauge", "blocks_in_use / blocks_capacity of the size class." },
};

static void put_class_value(textbuf_t *o, unsigned which, const tide_class_stats_t *c)
{
    switch (which) {
    case 0: tb_u64(o, c->blocks_in_use); break;
    case 1: tb_u64(o, c->blocks_capacity); break;
    case 2: tb_u64(o, c->slab_bytes); break;
    default: put_ratio(o, c->blocks_in_use, c->blocks_capacity); break;
    }
}

int stats_prometheus_to(textbuf_t *o)
{
    tide_stats_t s;
    tide_stats_get(&s);
    tide_class_stats_t c[SC_COUNT];
    tide_stats_classes(c, SC_COUNT);

    put_header(o, "info", "gauge", "The allocator serving this process; the value is always 1.");
    tb_str(o, "tidemalloc_info{version=\"" TIDE_VERSION "\"} 1\n");
    put_metric(o, "rss_bytes", "gauge", "Resident set size of the process.", os_rss_bytes());
    put_metric(o, "live_bytes", "gauge", "Usable bytes in blocks handed out and not freed.", s.live_usable);
    put_metric(o, "live_requested_bytes", "gauge",
               "Requested bytes in those blocks (sampled estimate; 0 unless stats_sample:true).",
               s.live_requested);
    put_metric(o, "active_bytes", "gauge", "Pages in slabs and large blocks.", s.active);
    put_metric(o, "dirty_bytes", "gauge", "Freed pages not yet returned to the OS.", s.dirty);
    put_metric(o, "retained_bytes", "gauge", "Address space kept, free and purged (no RSS).", s.retained);
    put_metric(o, "mapped_bytes", "gauge", "Address space reserved from the OS.", s.mapped);
    put_metric(o, "metadata_bytes", "gauge", "Allocator bookkeeping.", s.metadata);
    put_metric(o, "huge_bytes", "gauge", "Bytes in blocks with a mapping of their own.", s.huge_live);
    put_metric(o, "purged_bytes_total", "counter", "Bytes returned to the OS with MADV_DONTNEED.", s.purged);
    put_metric(o, "purge_calls_total", "counter", "madvise calls made to purge.", s.purge_calls);
    put_metric(o, "threads", "gauge", "Thread heaps in use.", s.threads);
    /* Written with or without a limit (0: none), so a dashboard's series
     * never vanish when a limit is lifted. */
    tide_limit_stats_t l;
    tide_stats_limit(&l);
    put_metric(o, "limit_soft_bytes", "gauge", "The soft memory limit in force (0: none).", l.soft);
    put_metric(o, "limit_hard_bytes", "gauge", "The hard memory limit in force (0: none).", l.hard);
    put_metric(o, "limit_charge_bytes", "gauge", "The charge compared with the limits: allocator plus outside.",
               l.charge);
    put_metric(o, "limit_headroom_bytes", "gauge", "The lower limit minus the charge (0 with no limit).",
               l.headroom);
    put_metric(o, "limit_failures_total", "counter", "Allocations refused at the hard limit.", l.failures);
    put_metric(o, "limit_pressure_trigger", "gauge", "1 when a PSI trigger wakes the allocator on memory stalls.",
               (uint64_t)l.pressure_trigger);
    put_metric(o, "limit_pressure_events_total", "counter",
               "Memory stalls the PSI trigger reported; each purges every dirty page.", l.pressure_events);
    for (unsigned m = 0; m < sizeof class_metrics / sizeof class_metrics[0]; m++) {
        put_header(o, class_metrics[m].name, class_metrics[m].type, class_metrics[m].help);
        for (unsigned k = 0; k < SC_COUNT; k++) {
            if (c[k].slabs == 0)
                continue;
            tb_str(o, "tidemalloc_");
            tb_str(o, class_metrics[m].name);
            tb_str(o, "{size=\"");
            tb_u64(o, c[k].block_size);
            tb_str(o, "\"} ");
            put_class_value(o, m, &c[k]);
            tb_str(o, "\n");
        }
    }
    return 0;
}

bool stats_file_enabled(void)
{
    return __atomic_load_n(&options.stats_file[0], __ATOMIC_RELAXED) != 0;
}

bool stats_file_write(void)
{
    char path[sizeof options.stats_file], tmp[sizeof options.stats_file + 32];
    config_string(options.stats_file, path, sizeof path);
    if (!path[0])
        return true;
    /* PATH.tmp.<pid>, beside PATH: rename is atomic only within a filesystem. */
    textbuf_t name = { .fd = -1 };
    tb_str(&name, path);
    tb_str(&name, ".tmp.");
    tb_u64(&name, (uint64_t)os_getpid());
    if (name.n >= sizeof tmp)
        return false;
    memcpy(tmp, name.buf, name.n);
    tmp[name.n] = 0;
    int fd = os_open_write(tmp);
    if (fd < 0)
        return false;
    textbuf_t o = { .fd = fd };
    stats_prometheus_to(&o);
    tb_flush(&o);
    bool ok = !o.failed;
    os_close(fd);
    if (ok)
        ok = os_rename(tmp, path);
    if (!ok)
        os_unlink(tmp);
    return ok;
}
