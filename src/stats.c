/* stats — tide_stats_get and the lines written for `tide run`. */
#define _GNU_SOURCE
#include "stats.h"

#include <string.h>
#include <unistd.h>

#include "tidemalloc.h"

#include "heap.h"
#include "large.h"
#include "meta.h"
#include "os.h"
#include "page_heap.h"
#include "pagemap.h"

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
    page_heap_stats_t ph;
    page_heap_stats(&ph);
    size_t huge = large_huge_bytes();
    out->live_usable += huge;
    out->active = ((uint64_t)ph.active_pages << OS_PAGE_SHIFT) + huge;
    out->mapped = ((uint64_t)ph.mapped_pages << OS_PAGE_SHIFT) + huge;
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
    return 0;
}

/* ---- text without malloc ---- */

typedef struct out {
    char buf[1024];
    size_t n;
} out_t;

static void put_str(out_t *o, const char *s)
{
    size_t k = strlen(s);
    if (k > sizeof o->buf - o->n)
        k = sizeof o->buf - o->n;
    memcpy(o->buf + o->n, s, k);
    o->n += k;
}

static void put_u64(out_t *o, uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (sizeof tmp - (size_t)i <= sizeof o->buf - o->n) {
        memcpy(o->buf + o->n, tmp + i, sizeof tmp - (size_t)i);
        o->n += sizeof tmp - (size_t)i;
    }
}

static void put_kv(out_t *o, const char *key, uint64_t v)
{
    put_str(o, " ");
    put_str(o, key);
    put_str(o, "=");
    put_u64(o, v);
}

static void flush_to(out_t *o, int fd)
{
    size_t done = 0;
    while (done < o->n) {
        ssize_t w = write(fd, o->buf + done, o->n - done);
        if (w <= 0)
            return;
        done += (size_t)w;
    }
}

void stats_write_line(int fd)
{
    tide_stats_t s;
    tide_stats_get(&s);
    out_t o = { .n = 0 };
    put_str(&o, "tide-stats");
    put_kv(&o, "pid", (uint64_t)getpid());
    put_kv(&o, "t_ms", os_now_ms());
    put_kv(&o, "live", s.live_usable);
    put_kv(&o, "active", s.active);
    put_kv(&o, "dirty", s.dirty);
    put_kv(&o, "mapped", s.mapped);
    put_kv(&o, "retained", s.retained);
    put_kv(&o, "metadata", s.metadata);
    put_kv(&o, "purged", s.purged);
    put_kv(&o, "purge_calls", s.purge_calls);
    put_kv(&o, "threads", s.threads);
    put_str(&o, "\n");
    flush_to(&o, fd);
}

static void report_row(out_t *o, const char *name, uint64_t bytes, const char *what)
{
    put_str(o, name);
    put_str(o, " ");
    put_u64(o, bytes);
    put_str(o, "  ");
    put_str(o, what);
    put_str(o, "\n");
}

void stats_write_report(int fd)
{
    tide_stats_t s;
    tide_stats_get(&s);
    out_t o = { .n = 0 };
    put_str(&o, "___ tidemalloc statistics (bytes) ___\n");
    report_row(&o, "live      ", s.live_usable, "usable bytes in blocks not yet freed");
    report_row(&o, "active    ", s.active, "pages in slabs and large blocks");
    report_row(&o, "dirty     ", s.dirty, "freed pages not yet returned to the OS");
    report_row(&o, "retained  ", s.retained, "reserved, free and purged (no RSS)");
    report_row(&o, "mapped    ", s.mapped, "address space reserved");
    report_row(&o, "metadata  ", s.metadata, "allocator bookkeeping");
    report_row(&o, "purged    ", s.purged, "returned with MADV_DONTNEED so far");
    report_row(&o, "huge      ", s.huge_live, "in blocks with their own mapping");
    flush_to(&o, fd);
}
