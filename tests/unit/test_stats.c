/* Statistics: snapshots stay consistent while other threads allocate, the
 * per-class figures add up, the printed forms are complete, and options
 * change at run time. */
#define _GNU_SOURCE
#include "runner.h"
#include "check.h"
#include "tidemalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int stop;

static void *churn(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg;
    void *slot[512] = { 0 };
    while (!atomic_load(&stop)) {
        unsigned k = (unsigned)rand_r(&seed) % 512;
        tide_free(slot[k]);
        size_t n = rand_r(&seed) % 16 == 0 ? (size_t)(rand_r(&seed) % 300000) : (size_t)(rand_r(&seed) % 4000);
        slot[k] = tide_malloc(n);
        memset(slot[k], 1, n < 64 ? n : 64);
    }
    for (int k = 0; k < 512; k++)
        tide_free(slot[k]);
    return NULL;
}

TEST(snapshots_are_consistent_under_concurrent_allocation)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, churn, (void *)(size_t)(i + 1)), 0);
    for (int round = 0; round < 300; round++) {
        tide_stats_t s;
        CHECK_EQ(tide_stats_get(&s), 0);
        CHECK_EQ(s.mapped, s.active + s.dirty + s.retained);
        CHECK(s.live_usable <= s.active);
        /* Before the first region (the churners may not have allocated yet) the
         * heaps' bookkeeping stands against nothing mapped. */
        CHECK_MSG(s.mapped == 0 || s.metadata * 50 <= s.mapped, "metadata %llu, mapped %llu", (unsigned long long)s.metadata, (unsigned long long)s.mapped);
        tide_class_stats_t c[64];
        int n = tide_stats_classes(c, 64);
        CHECK_EQ(n, 35);
        uint64_t small = 0;
        for (int k = 0; k < n; k++) {
            CHECK(c[k].blocks_in_use <= c[k].blocks_capacity);
            small += c[k].blocks_in_use * c[k].block_size;
        }
        CHECK(small <= s.active);
        usleep(1000);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
}

TEST(class_figures_count_what_was_allocated)
{
    tide_class_stats_t before[35], after[35];
    tide_stats_classes(before, 35);
    void *p[1000];
    for (int i = 0; i < 1000; i++)
        p[i] = tide_malloc(200); /* class 224 */
    tide_stats_classes(after, 35);
    int k224 = -1;
    for (int k = 0; k < 35; k++)
        if (after[k].block_size == 224)
            k224 = k;
    CHECK(k224 >= 0);
    CHECK_EQ(after[k224].blocks_in_use - before[k224].blocks_in_use, 1000);
    for (int i = 0; i < 1000; i++)
        tide_free(p[i]);
}

static size_t print_to_string(int format, char *buf, size_t cap)
{
    char path[] = "/tmp/tide_stats_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_EQ(tide_stats_print(fd, format), 0);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, cap - 1);
    buf[n > 0 ? n : 0] = 0;
    close(fd);
    unlink(path);
    return n > 0 ? (size_t)n : 0;
}

TEST(printed_forms_are_complete)
{
    void *keep = tide_malloc(100);
    static char buf[65536];
    print_to_string(TIDE_STATS_TEXT, buf, sizeof buf);
    const char *names[] = { "live_usable", "active", "dirty", "retained", "mapped", "metadata",
                            "purged", "purge_calls", "huge_live", "regions", "threads", "orphan_heaps",
                            "size class" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_MSG(strstr(buf, names[i]), "text report lacks %s", names[i]);
    print_to_string(TIDE_STATS_JSON, buf, sizeof buf);
    CHECK(buf[0] == '{');
    CHECK(strstr(buf, "\"live_usable\": "));
    CHECK(strstr(buf, "\"classes\": [{\"block_size\": 16,"));
    CHECK(strstr(buf, "\"block_size\": 14336,"));
    CHECK(strstr(buf, "\"frag\": {\"total\": {\"slabs\": "));
    CHECK(strstr(buf, "\"mesh_bytes\": "));
    CHECK(strstr(buf, "]}}\n"));
    CHECK_EQ(tide_stats_print(1, 7), -1);
    tide_free(keep);
}

TEST(options_change_at_run_time)
{
    CHECK_EQ(tide_config_set("decay_ms", "oops"), EINVAL);
    CHECK_EQ(tide_config_set("no_such_option", "1"), EINVAL);
    CHECK_EQ(tide_config_set("dirty_max", "1M"), 0);
    void *p[2048];
    for (int i = 0; i < 2048; i++)
        p[i] = tide_malloc(4000);
    for (int i = 0; i < 2048; i++)
        tide_free(p[i]);
    tide_stats_t s;
    tide_stats_get(&s);
    CHECK_MSG(s.dirty <= (1u << 20), "dirty %llu with a 1 MiB cap set at run time", (unsigned long long)s.dirty);
    CHECK_EQ(tide_config_set("dirty_max", "256M"), 0);
}
