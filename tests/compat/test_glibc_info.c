/* glibc's introspection on tidemalloc (src/compat/glibc_info.c): mallinfo,
 * mallinfo2, malloc_stats, malloc_info, mallopt and malloc_trim carry
 * tidemalloc's figures, mapped as docs/STATS.md says. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "runner.h"
#include "tidemalloc.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* mallinfo */

#define MIB ((size_t)1 << 20)

TEST(mallinfo2_maps_tidemallocs_figures)
{
    enum { N = 1000 };
    void *small[N];
    for (int i = 0; i < N; i++)
        small[i] = malloc(200);
    void *huge = malloc(40 * MIB); /* above the huge threshold: a mapping of its own */
    memset(huge, 1, 40 * MIB);
    struct mallinfo2 m = mallinfo2();
    tide_stats_t s;
    CHECK(tide_stats_get(&s) == 0);
    CHECK_CMP_U(m.hblks, ==, 1);
    CHECK_CMP_U(m.hblkhd, ==, s.huge_live);
    CHECK_CMP_U(m.uordblks + m.hblkhd, ==, s.live_usable);
    CHECK_CMP_U(m.arena, >=, m.uordblks);
    CHECK_CMP_U(m.fordblks, ==, m.arena - m.uordblks);
    CHECK_CMP_U(m.uordblks, >=, (size_t)N * 200);
    CHECK_CMP_U(m.arena + m.hblkhd, <=, s.mapped);
    CHECK(m.usmblks == 0 && m.smblks == 0 && m.fsmblks == 0);
    struct mallinfo old = mallinfo();
    CHECK_CMP_U((size_t)old.hblkhd, ==, m.hblkhd);
    CHECK_CMP_U((size_t)old.hblks, ==, 1);
    free(huge);
    for (int i = 0; i < N; i++)
        free(small[i]);
    m = mallinfo2();
    CHECK_CMP_U(m.hblks, ==, 0);
}

TEST(malloc_trim_says_whether_it_returned_memory)
{
    CHECK(tide_config_set("decay_ms", "600000") == 0);
    enum { N = 40 };
    void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = malloc(512 << 10);
        memset(p[i], 1, 512 << 10);
    }
    for (int i = 0; i < N; i++)
        free(p[i]);
    struct mallinfo2 before = mallinfo2();
    CHECK_CMP_U(before.keepcost, >=, 8 * MIB);
    CHECK(malloc_trim(0) == 1);
    struct mallinfo2 after = mallinfo2();
    CHECK_CMP_U(after.keepcost, ==, 0);
    CHECK(malloc_trim(0) == 0); /* nothing left to return */
    CHECK(tide_config_set("decay_ms", "1000") == 0);
}

TEST(mallopt_trim_threshold_caps_dirty_memory)
{
    CHECK(tide_config_set("decay_ms", "600000") == 0);
    CHECK(mallopt(M_TRIM_THRESHOLD, 1 << 20) == 1);
    enum { N = 64 };
    void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = malloc(256 << 10);
        memset(p[i], 1, 256 << 10);
    }
    for (int i = 0; i < N; i++)
        free(p[i]);
    tide_stats_t s;
    tide_stats_get(&s);
    CHECK_CMP_U(s.dirty, <=, 1 * MIB + (256 << 10));
    CHECK(mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1);
    CHECK(tide_config_set("decay_ms", "1000") == 0);
}

TEST(mallopt_refuses_what_it_cannot_honour)
{
    static const int params[] = { M_MXFAST, M_TOP_PAD, M_MMAP_THRESHOLD, M_MMAP_MAX, M_CHECK_ACTION,
                                  M_PERTURB, M_ARENA_TEST, M_ARENA_MAX, 12345 };
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        CHECK_MSG(mallopt(params[i], 1) == 0, "param %d", params[i]);
    CHECK(mallopt(M_TRIM_THRESHOLD, -1) == 0);
}

/* The XML through a memory stream, as a JDK or a monitoring agent reads it. */
static char *info_text(struct mallinfo2 *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(f != NULL);
    *m = mallinfo2(); /* the stream allocates as it fills, after the figures are taken */
    CHECK(malloc_info(0, f) == 0);
    fclose(f);
    return buf;
}

static size_t attr_after(const char *text, const char *anchor, const char *attr)
{
    const char *p = strstr(text, anchor);
    CHECK_MSG(p != NULL, "%s", anchor);
    p = strstr(p, attr);
    CHECK(p != NULL);
    return strtoull(p + strlen(attr), NULL, 10);
}

TEST(malloc_info_uses_glibcs_schema_with_our_figures)
{
    void *huge = malloc(48 * MIB);
    struct mallinfo2 m;
    char *x = info_text(&m);
    CHECK(strncmp(x, "<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n", 42) == 0);
    CHECK(strstr(x, "</sizes>") && strstr(x, "</heap>") && strstr(x, "</malloc>\n"));
    /* the whole-process totals follow </heap> */
    const char *tail = strstr(x, "</heap>");
    CHECK_CMP_U(attr_after(tail, "<total type=\"mmap\"", "count=\""), ==, 1);
    CHECK_CMP_U(attr_after(tail, "<total type=\"mmap\"", "size=\""), ==, m.hblkhd);
    CHECK_CMP_U(attr_after(tail, "<system type=\"current\"", "size=\""), ==, m.arena);
    CHECK_CMP_U(attr_after(tail, "<system type=\"max\"", "size=\""), >=, m.arena);
    CHECK_CMP_U(attr_after(tail, "<total type=\"rest\"", "size=\""), ==, m.fordblks);
    free(x);
    free(huge);
    errno = 0;
    CHECK(malloc_info(1, stdout) == -1 && errno == EINVAL);
}

TEST(malloc_stats_prints_glibcs_layout)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    int saved = dup(2);
    dup2(fds[1], 2);
    void *huge = malloc(40 * MIB);
    malloc_stats();
    fflush(stderr);
    dup2(saved, 2);
    close(fds[1]);
    char out[1024] = { 0 };
    CHECK(read(fds[0], out, sizeof out - 1) > 0);
    close(fds[0]);
    CHECK(strncmp(out, "Arena 0:\nsystem bytes     = ", 28) == 0);
    CHECK(strstr(out, "Total (incl. mmap):\n") != NULL);
    CHECK(strstr(out, "max mmap regions = ") != NULL);
    CHECK(attr_after(out, "max mmap regions", "= ") >= 1);
    CHECK(attr_after(out, "max mmap bytes", "= ") >= 40 * MIB);
    free(huge);
}
