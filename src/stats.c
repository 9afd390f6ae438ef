/* stats — tide_stats_get: a snapshot of where the memory is. */
#include <string.h>

#include "tidemalloc.h"

#include "heap.h"
#include "large.h"
#include "meta.h"
#include "page_heap.h"
#include "pagemap.h"

TIDE_EXPORT int tide_stats_get(tide_stats_t *out)
{
    if (!out)
        return -1;
    page_heap_stats_t ph;
    page_heap_stats(&ph);
    memset(out, 0, sizeof *out);
    size_t huge = large_huge_bytes();
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
    out->live_usable = 0; /* filled by the span walk below once stats grow up */
    return 0;
}
