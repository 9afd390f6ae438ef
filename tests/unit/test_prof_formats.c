/* Every format prof_format names is written by the library itself, also
 * when it is linked statically (the prefixed archive): a dump through
 * tide_prof_dump gives the heap_v2 file, the gzipped pprof file and the
 * folded file, each complete and naming hot_site. Runs with
 * TIDE_CONF=prof:true,prof_final:false (set by ctest). */
#define _GNU_SOURCE
#include "runner.h"
#include "check.h"
#include "tidemalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static void *keep[4096];

/* Exported (the test links with -rdynamic): the folded file names it. */
__attribute__((noinline)) void hot_site(void)
{
    for (int i = 0; i < 4096; i++) {
        keep[i] = tide_malloc(4096);
        memset(keep[i], 1, 16);
    }
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return n;
}

TEST(dump_writes_all_three_formats)
{
    char dir[] = "/tmp/tide-prof-formats.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/p", dir);
    CHECK_EQ(tide_config_set("prof_prefix", prefix), 0);
    CHECK_EQ(tide_config_set("prof_format", "heap_v2+pprof+folded"), 0);
    CHECK_EQ(tide_config_set("lg_prof_sample", "14"), 0);
    hot_site();

    char path[256];
    CHECK_EQ(tide_prof_dump(path, sizeof path), 0);
    CHECK_MSG(strncmp(path, prefix, strlen(prefix)) == 0, "dump path %s", path);
    static char buf[1 << 20];
    char other[300];

    /* heap_v2: header, stacks, the maps. */
    slurp(path, buf, sizeof buf);
    CHECK_MSG(strncmp(buf, "heap_v2/16384\n", 14) == 0, "%.40s", buf);
    CHECK(strstr(buf, "\n@ 0x") != NULL);
    CHECK(strstr(buf, "\nMAPPED_LIBRARIES:\n") != NULL);

    /* pprof: gzip, and the stream is intact. */
    snprintf(other, sizeof other, "%s.pb.gz", path);
    size_t n = slurp(other, buf, sizeof buf);
    CHECK(n > 100 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "gzip -t %s", other);
    int st = system(cmd);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "gzip -t %s failed", other);

    /* folded: a line for hot_site with about 16 MiB. */
    snprintf(other, sizeof other, "%s.folded", path);
    slurp(other, buf, sizeof buf);
    const char *hot = strstr(buf, ";hot_site ");
    CHECK_MSG(hot != NULL, "no hot_site line in: %.500s", buf);
    unsigned long long bytes = strtoull(hot + strlen(";hot_site "), NULL, 10);
    CHECK_MSG(bytes > 12ull << 20 && bytes < 21ull << 20, "hot_site %llu bytes, want about 16 MiB", bytes);

    for (int i = 0; i < 4096; i++)
        tide_free(keep[i]);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ(system(cmd), 0);
}
