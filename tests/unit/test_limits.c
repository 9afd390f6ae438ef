#define _GNU_SOURCE
/* Memory limits, the parts that need no limit on the machine: the cgroup
 * reader against fixture directories laid out like cgroup v1 and v2 (the
 * test makes them; nothing touches the machine's cgroups), the pressure
 * curve, the hard limit's admission, and the options (`auto` resolved
 * against a fixture through cgroup_root). */
#include "runner.h"
#include "check.h"
#include "tidemalloc.h"
#include "config/config.h"
#include "core/limit.h"
#include "platform/cgroup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK_MSG(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* A cgroup v2 directory: its limits and charge as the kernel writes them
 * (root: with cgroup.controllers, which marks the hierarchy as v2). */
static void put_v2(const char *dir, bool root, const char *max, const char *high, const char *current)
{
    if (root)
        put(dir, "cgroup.controllers", "cpu memory pids\n");
    put(dir, "memory.max", max);
    put(dir, "memory.high", high);
    put(dir, "memory.current", current);
}

/* mkdir -p */
static void mkdirs(const char *path)
{
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
}

/* This process's path in the hierarchy: "0::PATH" (v2) or "N:...memory...:PATH" (v1). */
static void own_path(int version, char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[1024];
    out[0] = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = 0;
        bool v2 = c1 - line == 1 && line[0] == '0' && c1[1] == 0;
        bool mem = strstr(c1 + 1, "memory") != NULL;
        if ((version == 2 && v2) || (version == 1 && mem))
            snprintf(out, cap, "%s", strcmp(c2 + 1, "/") == 0 ? "" : c2 + 1);
    }
    if (f)
        fclose(f);
}

static char *fixture(const char *what)
{
    static char dir[256];
    snprintf(dir, sizeof dir, "/tmp/tide-cgroup-%s-%d", what, (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    mkdirs(dir);
    return dir;
}

static void remove_fixture(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

TEST(cgroup_v2_root_limits)
{
    char *root = fixture("v2");
    put_v2(root, true, "536870912\n", "402653184\n", "12345678\n");
    put(root, "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    cgroup_memory_t cg;
    cgroup_read(root, &cg);
    CHECK_EQ(cg.version, 2);
    CHECK_EQ(cg.max, 536870912);
    CHECK_EQ(cg.high, 402653184);
    CHECK_EQ(cg.current, 12345678);
    CHECK(strstr(cg.pressure, "memory.pressure") != NULL);
    CHECK_EQ(cgroup_read_current(&cg), 12345678);
    put(root, "memory.current", "22345678\n");
    CHECK_EQ(cgroup_read_current(&cg), 22345678);
    /* "max" is no limit */
    put_v2(root, false, "max\n", "max\n", "1\n");
    cgroup_read(root, &cg);
    CHECK_EQ(cg.version, 2);
    CHECK_EQ(cg.max, 0);
    CHECK_EQ(cg.high, 0);
    remove_fixture(root);
}

TEST(cgroup_v2_nested_takes_the_smallest_on_the_way_up)
{
    char rel[512];
    own_path(2, rel, sizeof rel);
    char *root = fixture("v2n");
    put_v2(root, true, "1073741824\n", "max\n", "999\n");
    char own[1024];
    /* This process's own directory, as /proc/self/cgroup names it, and a
     * child directory that it is not in (never read). */
    snprintf(own, sizeof own, "%s%s", root, rel);
    mkdirs(own);
    if (rel[0]) {
        put_v2(own, false, "2147483648\n", "805306368\n", "4242\n");
    }
    cgroup_memory_t cg;
    cgroup_read(root, &cg);
    CHECK_EQ(cg.version, 2);
    CHECK_EQ(cg.max, 1073741824); /* the parent's binds */
    if (rel[0]) {
        CHECK_EQ(cg.high, 805306368);
        CHECK_EQ(cg.current, 4242);
        CHECK(strcmp(cg.dir, own) == 0);
    }
    remove_fixture(root);
}

TEST(cgroup_v1_limits_and_unlimited)
{
    char rel[512];
    own_path(1, rel, sizeof rel);
    char *root = fixture("v1");
    char mem[1024], own[1024];
    snprintf(mem, sizeof mem, "%s/memory", root);
    mkdirs(mem);
    /* The root of a v1 hierarchy: unlimited, as the kernel writes it. */
    put(mem, "memory.limit_in_bytes", "9223372036854771712\n");
    put(mem, "memory.soft_limit_in_bytes", "9223372036854771712\n");
    put(mem, "memory.usage_in_bytes", "77777\n");
    cgroup_memory_t cg;
    cgroup_read(root, &cg);
    CHECK_EQ(cg.version, 1);
    CHECK_EQ(cg.max, 0);
    CHECK_EQ(cg.high, 0);
    /* The process's own group (the root itself if /proc/self/cgroup says
     * "/", as in a container), with limits. */
    snprintf(own, sizeof own, "%s%s", mem, rel);
    mkdirs(own);
    put(own, "memory.limit_in_bytes", "268435456\n");
    put(own, "memory.soft_limit_in_bytes", "201326592\n");
    put(own, "memory.usage_in_bytes", "31337\n");
    cgroup_read(root, &cg);
    CHECK_EQ(cg.version, 1);
    CHECK_EQ(cg.max, 268435456);
    CHECK_EQ(cg.high, 201326592);
    CHECK_EQ(cg.current, 31337);
    CHECK_EQ(cg.pressure[0], 0); /* v1 has no per-group pressure file */
    remove_fixture(root);
}

TEST(cgroup_missing_or_garbage_reads_as_no_limit)
{
    char *root = fixture("none");
    cgroup_memory_t cg;
    cgroup_read(root, &cg);
    CHECK_EQ(cg.version, 0);
    CHECK_EQ(cg.max, 0);
    put_v2(root, true, "lots\n", "max\n", "1\n");
    cgroup_read(root, &cg);
    CHECK_EQ(cg.version, 2);
    CHECK_EQ(cg.max, 0);
    cgroup_read("/nonexistent/tide", &cg);
    CHECK_EQ(cg.version, 0);
    remove_fixture(root);
}

TEST(pressure_curve_tightens_to_zero_and_relaxes)
{
    size_t M = (size_t)1 << 20;
    limit_set(0, 0);
    CHECK_EQ(limit_dirty_cap(1000 * M), SIZE_MAX); /* no soft limit: no cap */
    limit_set(64 * M, 0);
    /* half of what is left below 15/16 of the limit */
    CHECK_EQ(limit_dirty_cap(0), 30 * M);
    CHECK_EQ(limit_dirty_cap(20 * M), 20 * M);
    CHECK_EQ(limit_dirty_cap(40 * M), 10 * M);
    CHECK_EQ(limit_dirty_cap(58 * M), 1 * M);
    CHECK_EQ(limit_dirty_cap(60 * M), 0); /* the last 1/16: purge at once */
    CHECK_EQ(limit_dirty_cap(70 * M), 0);
    /* monotonic, and base + cap never passes 15/16 of the limit */
    size_t last = SIZE_MAX;
    for (size_t base = 0; base < 70 * M; base += M / 3) {
        size_t cap = limit_dirty_cap(base);
        CHECK_LE(cap, last);
        CHECK(base >= 60 * M || base + cap <= 60 * M);
        last = cap;
    }
    CHECK_EQ(limit_dirty_cap(20 * M), 20 * M); /* relaxes as base falls */
    limit_set(0, 0);
}

TEST(a_stall_purges_everything_then_the_curve_returns)
{
    size_t M = (size_t)1 << 20;
    limit_set(0, 0);
    limit_set_stalled(true);
    CHECK_EQ(limit_dirty_cap(0), SIZE_MAX); /* no soft limit: a stall changes nothing */
    limit_set(64 * M, 0);
    CHECK_EQ(limit_dirty_cap(0), 0); /* far from the limit, yet the kernel is reclaiming */
    limit_set_stalled(false);
    CHECK_EQ(limit_dirty_cap(0), 30 * M);
    limit_set(0, 0);
}

TEST(hard_limit_admits_up_to_the_limit)
{
    size_t M = (size_t)1 << 20;
    limit_set(0, 0);
    uint64_t r0 = limit_refusals();
    CHECK(limit_admit(SIZE_MAX / 4, SIZE_MAX / 4)); /* none set */
    limit_set(0, 256 * M);
    size_t fixed = limit_charge(0); /* huge blocks, metadata, outside */
    CHECK(limit_admit(0, 256 * M - fixed));
    CHECK(!limit_admit(0, 256 * M - fixed + 1));
    CHECK(!limit_admit(200 * M, 57 * M));
    CHECK_EQ(limit_refusals(), r0 + 2);
    limit_set(0, 0);
}

TEST(options_parse_and_auto_resolves_against_cgroup_root)
{
    options_t o = options;
    CHECK(config_set_one(&o, "limit_soft", "auto") == NULL);
    CHECK_EQ(o.limit_soft, LIMIT_AUTO);
    CHECK(config_set_one(&o, "limit_hard", "512M") == NULL);
    CHECK_EQ(o.limit_hard, (uint64_t)512 << 20);
    CHECK(config_set_one(&o, "limit_hard", "0") == NULL);
    CHECK_EQ(o.limit_hard, 0);
    const char *why = config_set_one(&o, "limit_soft", "lots");
    CHECK(why && strstr(why, "auto"));
    why = config_set_one(&o, "limit_hard", "4096");
    CHECK(why && strstr(why, "below 1M"));

    char *root = fixture("auto");
    put_v2(root, true, "1073741824\n", "max\n", "1048576\n");
    CHECK_EQ(tide_config_set("cgroup_root", root), 0);
    CHECK_EQ(tide_config_set("limit_soft", "auto"), 0);
    CHECK_EQ(tide_config_set("limit_hard", "auto"), 0);
    tide_limit_stats_t l;
    CHECK_EQ(tide_stats_limit(&l), 0);
    CHECK_EQ(l.cgroup_version, 2);
    CHECK_EQ(l.hard, 1073741824);
    CHECK_EQ(l.hard_source, TIDE_LIMIT_CGROUP);
    CHECK_EQ(l.soft, 1073741824 - 1073741824 / 8); /* no memory.high: 7/8 of max */
    CHECK_EQ(l.soft_source, TIDE_LIMIT_CGROUP);
    CHECK_EQ(l.cgroup_current, 1048576);
    CHECK_GE(l.charge, l.allocator);
    CHECK_EQ(l.headroom, l.soft - l.charge);
    /* memory.high set: that is the soft limit; explicit values override */
    put(root, "memory.high", "805306368\n");
    CHECK_EQ(tide_config_set("limit_soft", "auto"), 0);
    tide_stats_limit(&l);
    CHECK_EQ(l.soft, 805306368);
    CHECK_EQ(tide_config_set("limit_soft", "300M"), 0);
    tide_stats_limit(&l);
    CHECK_EQ(l.soft, (uint64_t)300 << 20);
    CHECK_EQ(l.soft_source, TIDE_LIMIT_OPTION);
    CHECK_EQ(tide_config_set("limit_soft", "0"), 0);
    CHECK_EQ(tide_config_set("limit_hard", "0"), 0);
    tide_stats_limit(&l);
    CHECK_EQ(l.soft, 0);
    CHECK_EQ(l.hard, 0);
    CHECK_EQ(l.headroom, 0);
    CHECK_EQ(l.dirty_cap, UINT64_MAX);
    remove_fixture(root);
}
