/* Memory goes back to the OS: freed pages are purged within the decay time
 * even when the program makes no further allocator calls, and the dirty cap
 * holds at once. Run with TIDE_CONF set by CTest (see tests/CMakeLists.txt):
 *   purge_idle: decay_ms:300     purge_cap: decay_ms:600000,dirty_max:4M */
#include "runner.h"
#include "check.h"
#include "tidemalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCKS 65536 /* of 1000 bytes: 64 MiB */

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages_total = 0, pages_rss = 0;
    CHECK(f && fscanf(f, "%lu %lu", &pages_total, &pages_rss) == 2);
    fclose(f);
    return pages_rss * (size_t)sysconf(_SC_PAGESIZE);
}

static void **fill(void)
{
    void **v = tide_malloc(BLOCKS * sizeof(void *));
    for (int i = 0; i < BLOCKS; i++) {
        v[i] = tide_malloc(1000);
        memset(v[i], 0x5a, 1000);
    }
    return v;
}

TEST(idle_process_gets_its_memory_back)
{
    const char *conf = getenv("TIDE_CONF");
    CHECK_MSG(conf && strstr(conf, "decay_ms:300"), "run with TIDE_CONF=decay_ms:300 (got %s)", conf ? conf : "nothing");
    size_t base = rss_bytes();
    void **v = fill();
    size_t full = rss_bytes();
    CHECK(full - base >= (size_t)60 << 20);
    for (int i = 0; i < BLOCKS; i++)
        tide_free(v[i]);
    /* Now idle: no allocator calls at all, just wait out the decay. */
    usleep((300 + 1000) * 1000);
    size_t idle = rss_bytes();
    tide_stats_t s;
    tide_stats_get(&s);
    CHECK_MSG(idle < base + ((size_t)4 << 20), "RSS %zu KiB after idling, %zu KiB before the fill", idle >> 10, base >> 10);
    CHECK_EQ(s.dirty, 0);
    CHECK(s.purged >= (uint64_t)60 << 20);
    tide_free(v);
}

TEST(dirty_cap_holds_at_once)
{
    const char *conf = getenv("TIDE_CONF");
    CHECK_MSG(conf && strstr(conf, "dirty_max:4M"), "run with TIDE_CONF=...dirty_max:4M (got %s)", conf ? conf : "nothing");
    void **v = fill();
    for (int i = 0; i < BLOCKS; i++)
        tide_free(v[i]);
    tide_stats_t s;
    tide_stats_get(&s);
    CHECK_MSG(s.dirty <= (uint64_t)4 << 20, "dirty %llu bytes with a 4 MiB cap", (unsigned long long)s.dirty);
    CHECK(s.purged >= (uint64_t)56 << 20);
    tide_free(v);
}
