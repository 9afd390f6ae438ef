/* jemalloc_stats — malloc_stats_print writes tidemalloc's report (the one
 * `tide stats` shows) through the caller's callback, so Redis's MEMORY
 * MALLOC-STATS and RocksDB's dump_malloc_stats show this allocator.
 *
 * opts, as jemalloc reads them: 'J' gives the JSON form; 'b', 'l' and 'a'
 * (leave out per-bin, per-large-class and per-arena detail) leave out the
 * per-size-class table; the other letters name sections tidemalloc's report
 * does not have, and are ignored as jemalloc ignores letters it does not
 * know.
 */
#define _GNU_SOURCE
#include <string.h>

#include "tidemalloc.h"

#include "service/stats.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT void malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque, const char *opts)
{
    bool json = opts && strchr(opts, 'J');
    bool classes = !(opts && (strchr(opts, 'b') || strchr(opts, 'l') || strchr(opts, 'a')));
    /* jemalloc's default sink is stderr. */
    textbuf_t o = { .fd = 2, .sink = write_cb, .sink_ctx = cbopaque };
    stats_print_to(&o, json ? TIDE_STATS_JSON : TIDE_STATS_TEXT, classes);
    tb_flush(&o);
}
