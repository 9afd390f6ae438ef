/* The profile writers (pprof, folded) and the gzip stream, against a FAKE
 * prof_rows(): rows whose pcs are real return addresses inside known
 * functions of this binary. The pprof file must pass `gzip -t` and `go tool
 * pprof` must name hot_site first, with its bytes and its call line; the
 * folded output must hold exactly the stacks with live bytes. */
#define _GNU_SOURCE
#include "runner.h"
#include "check.h"

#include "prof/gzip.h"
#include "prof/prof.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the fake profile ---------------------------------------------------- */

#define HOT_BYTES 10485760u /* 10 MiB */
#define COLD_BYTES 1048576u /* 1 MiB */
#define PERIOD 524288u

static uintptr_t hot_pcs[4], cold_pcs[3], freed_pcs[2];
static int hot_call_line;
static prof_row_t fake[3];
static size_t nfake;

uint64_t prof_sample_bytes(void) { return PERIOD; }

void prof_rows(prof_row_fn fn, void *ctx)
{
    for (size_t i = 0; i < nfake; i++)
        fn(&fake[i], ctx);
}

/* The fragmentation view: one known line, which pprof carries as a comment. */
#define FAKE_FRAG_LINE "tide_pinned: 3000000 free: 3100000"
void prof_frag_lines(void (*emit)(void *ctx, const char *line, size_t len), void *ctx)
{
    emit(ctx, FAKE_FRAG_LINE, strlen(FAKE_FRAG_LINE));
}

/* Stand-in for malloc: records the return address into its caller. */
__attribute__((noinline)) void record_site(uintptr_t *pcs)
{
    pcs[0] = (uintptr_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory");
}

/* The known hot allocation site (exported: the binary is linked with
 * -rdynamic so dladdr can name it). */
__attribute__((noinline)) void hot_site(uintptr_t *pcs)
{
    hot_call_line = __LINE__ + 1;
    record_site(pcs);
    pcs[1] = (uintptr_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void hot_caller(uintptr_t *pcs)
{
    hot_site(pcs);
    pcs[2] = (uintptr_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void cold_site(uintptr_t *pcs)
{
    record_site(pcs);
    pcs[1] = (uintptr_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory");
}

/* A static function: no dynamic symbol, so folded falls back to file+off. */
__attribute__((noinline)) static void build_fake(void)
{
    hot_caller(hot_pcs);          /* hot_pcs[2] is in build_fake */
    hot_pcs[3] = 0x11;            /* an address in no object */
    cold_site(cold_pcs);
    cold_pcs[2] = hot_pcs[2];
    record_site(freed_pcs);
    freed_pcs[1] = hot_pcs[2];
    __asm__ volatile("" ::: "memory");

    fake[0] = (prof_row_t){ .pc = hot_pcs, .depth = 4,
        .live_objs = 5, .live_bytes = 5 * 1048576, .accum_objs = 6, .accum_bytes = 6 * 1048576,
        .est_live_objs = 10, .est_live_bytes = HOT_BYTES,
        .est_accum_objs = 12, .est_accum_bytes = 12 * 1048576, .est_pinned_bytes = 3000000 };
    fake[1] = (prof_row_t){ .pc = cold_pcs, .depth = 3,
        .live_objs = 2, .live_bytes = 2000, .accum_objs = 2, .accum_bytes = 2000,
        .est_live_objs = 1024, .est_live_bytes = COLD_BYTES,
        .est_accum_objs = 1024, .est_accum_bytes = COLD_BYTES };
    /* Everything freed: counts only as allocated. */
    fake[2] = (prof_row_t){ .pc = freed_pcs, .depth = 2,
        .accum_objs = 1, .accum_bytes = 100000,
        .est_accum_objs = 4, .est_accum_bytes = 400000 };
    nfake = 3;
}

/* ---- helpers ----------------------------------------------------------------- */

static char dir[64];

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static void setup(void)
{
    if (!dir[0]) {
        strcpy(dir, "/tmp/tide-prof-unit.XXXXXX");
        CHECK(mkdtemp(dir) != NULL);
        if (!getenv("KEEP")) atexit(cleanup);
    }
    build_fake();
}

static char *path_in(const char *name)
{
    static char buf[8][128];
    static int k;
    char *p = buf[k++ & 7];
    snprintf(p, 128, "%s/%s", dir, name);
    return p;
}

/* Run a shell command; its stdout into out (NUL-terminated); exit status. */
static int run(const char *cmd, char *out, size_t cap)
{
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void write_file(const char *path, bool (*writer)(int))
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(writer(fd));
    CHECK_EQ(close(fd), 0);
}

/* The first line of pprof's -top table (after the "flat  flat%" header). */
static const char *first_row(const char *out)
{
    const char *h = strstr(out, "flat%");
    CHECK_MSG(h != NULL, "no table in: %s", out);
    const char *nl = strchr(h, '\n');
    CHECK(nl != NULL);
    return nl + 1;
}

static bool have_go(void)
{
    return system("command -v go >/dev/null 2>&1") == 0;
}

/* ---- gzip ---------------------------------------------------------------------- */

TEST(crc32_known_value)
{
    CHECK_EQ(gzip_crc32(0, "123456789", 9), 0xcbf43926u);
    CHECK_EQ(gzip_crc32(gzip_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
    CHECK_EQ(gzip_crc32(0, "", 0), 0u);
}

TEST(gzip_round_trip_over_several_blocks)
{
    setup();
    static uint8_t data[200000], buf[GZIP_BUF_SIZE];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + (i >> 9));
    const char *gz = path_in("data.gz"), *raw = path_in("data.raw");
    int fd = open(gz, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    gzip_writer_t g;
    gzip_begin(&g, fd, buf);
    gzip_write(&g, data, 10);
    gzip_write(&g, data + 10, sizeof data - 10); /* crosses 65535-byte blocks */
    CHECK(gzip_end(&g));
    close(fd);
    fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK_EQ(write(fd, data, sizeof data), (ssize_t)sizeof data);
    close(fd);
    char cmd[512], out[256];
    snprintf(cmd, sizeof cmd, "gzip -t %s && gzip -dc %s | cmp - %s && echo same", gz, gz, raw);
    CHECK_EQ(run(cmd, out, sizeof out), 0);
    CHECK(strstr(out, "same") != NULL);

    /* An empty stream is valid gzip too. */
    fd = open(gz, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    gzip_begin(&g, fd, buf);
    CHECK(gzip_end(&g));
    close(fd);
    snprintf(cmd, sizeof cmd, "gzip -dc %s | wc -c", gz);
    CHECK_EQ(run(cmd, out, sizeof out), 0);
    CHECK_EQ(atoi(out), 0);
}

/* ---- pprof ---------------------------------------------------------------------- */

TEST(pprof_is_valid_gzip)
{
    setup();
    const char *f = path_in("p.pb.gz");
    write_file(f, prof_write_pprof);
    char cmd[256], out[256];
    snprintf(cmd, sizeof cmd, "gzip -t %s && echo valid", f);
    CHECK_EQ(run(cmd, out, sizeof out), 0);
    CHECK(strstr(out, "valid") != NULL);
}

TEST(pprof_write_error_is_reported)
{
    setup();
    int fd = open("/dev/full", O_WRONLY);
    CHECK(fd >= 0);
    CHECK(!prof_write_pprof(fd));
    CHECK(!prof_write_folded(fd));
    close(fd);
}

TEST(go_pprof_names_the_hot_site_first)
{
    setup();
    CHECK_MSG(have_go(), "go is not installed (Debian package golang-go)");
    const char *f = path_in("p.pb.gz");
    write_file(f, prof_write_pprof);
    static char out[65536];
    char cmd[1024];

    /* Default sample type: inuse_space. */
    snprintf(cmd, sizeof cmd, "HOME=%s go tool pprof -top %s 2>&1", dir, f);
    CHECK_MSG(run(cmd, out, sizeof out) == 0, "%s", out);
    CHECK_MSG(strstr(out, "Type: inuse_space") != NULL, "%s", out);
    const char *row = first_row(out);
    CHECK_MSG(strncmp(row, "      10MB 90.91% 90.91%       10MB 90.91%  hot_site\n",
                      strlen("      10MB 90.91% 90.91%       10MB 90.91%  hot_site\n")) == 0,
              "first row: %.200s", row);
    CHECK_MSG(strstr(out, "cold_site") != NULL, "%s", out);

    /* Allocated bytes count the freed stack too: 12 MiB of 13.38. */
    snprintf(cmd, sizeof cmd, "HOME=%s go tool pprof -sample_index=alloc_space -top %s 2>&1", dir, f);
    CHECK_MSG(run(cmd, out, sizeof out) == 0, "%s", out);
    row = first_row(out);
    CHECK_MSG(strstr(row, "12288kB 89.68%") && strstr(row, "hot_site"), "first row: %.200s", row);
    /* The freed stack's leaf is build_fake (it called record_site itself). */
    CHECK_MSG(strstr(out, "390.62kB  2.85%   100% 13702.62kB   100%  build_fake"), "freed stack: %s", out);

    /* Objects. */
    snprintf(cmd, sizeof cmd, "HOME=%s go tool pprof -sample_index=inuse_objects -top %s 2>&1", dir, f);
    CHECK_MSG(run(cmd, out, sizeof out) == 0, "%s", out);
    row = first_row(out);
    CHECK_MSG(strncmp(row, "      1024 99.03%", 17) == 0 && strstr(row, "cold_site"),
              "first row: %.200s", row);

    /* The call's own line: locations are at pc - 1, inside the call. */
    snprintf(cmd, sizeof cmd, "HOME=%s go tool pprof -lines -top %s 2>&1", dir, f);
    CHECK_MSG(run(cmd, out, sizeof out) == 0, "%s", out);
    row = first_row(out);
    char want[64];
    snprintf(want, sizeof want, "test_prof_writers.c:%d", hot_call_line);
    CHECK_MSG(strstr(row, "hot_site") && strstr(row, want), "want %s, first row: %.200s", want, row);

    /* The profile's metadata: period and sample types. */
    snprintf(cmd, sizeof cmd, "HOME=%s go tool pprof -raw %s 2>&1", dir, f);
    CHECK_MSG(run(cmd, out, sizeof out) == 0, "%s", out);
    CHECK_MSG(strstr(out, "PeriodType: space bytes") && strstr(out, "Period: 524288"), "%.2000s", out);
    CHECK_MSG(strstr(out, "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes[dflt] "
                          "pinned/bytes"),
              "%.2000s", out);
    CHECK_MSG(strstr(out, "12   12582912         10   10485760    3000000"), "hot sample values: %.3000s", out);
    CHECK_MSG(strstr(out, "Comment: " FAKE_FRAG_LINE) || strstr(out, FAKE_FRAG_LINE), "comment: %.2000s", out);

    /* The program itself is mapping 1, with its build id. */
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(n > 0);
    exe[n] = 0;
    const char *maps = strstr(out, "Mappings\n");
    CHECK_MSG(maps != NULL, "%s", out);
    const char *m1 = strstr(maps, "\n1: ");
    CHECK_MSG(m1 && strstr(m1, exe) && strstr(m1, exe) < strchr(m1 + 1, '\n'), "mapping 1: %.300s", maps);
    char id[256], want_id[128];
    snprintf(cmd, sizeof cmd, "readelf -n %s | sed -n 's/.*Build ID: //p'", exe);
    CHECK_EQ(run(cmd, id, sizeof id), 0);
    CHECK(sscanf(id, "%127s", want_id) == 1 && strlen(want_id) >= 16);
    const char *m1_end = strchr(m1 + 1, '\n');
    const char *found = strstr(m1, want_id);
    CHECK_MSG(found && found < m1_end, "mapping 1 lacks build id %s: %.300s", want_id, m1);

    /* Ranked by what they pin: only hot_site pins anything. */
    snprintf(cmd, sizeof cmd, "HOME=%s go tool pprof -sample_index=pinned -top %s 2>&1", dir, f);
    CHECK_MSG(run(cmd, out, sizeof out) == 0, "%s", out);
    row = first_row(out);
    CHECK_MSG(strstr(row, "100%") && strstr(row, "hot_site"), "pinned first row: %.200s", row);
}

/* ---- folded --------------------------------------------------------------------- */

TEST(folded_lines)
{
    setup();
    const char *f = path_in("p.folded");
    write_file(f, prof_write_folded);
    FILE *in = fopen(f, "r");
    CHECK(in != NULL);
    char line[4][1024];
    int n = 0;
    while (n < 4 && fgets(line[n], sizeof line[n], in))
        n++;
    fclose(in);
    /* The freed stack has no live bytes: left out. */
    CHECK_EQ(n, 2);
    /* Outermost first: an address in no object, then build_fake (static:
     * no dynamic symbol, so <this program>+offset), then the exported
     * functions. */
    char exe[512], cmd[768], out[512], prefix[600];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(k > 0);
    exe[k] = 0;
    const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
    snprintf(prefix, sizeof prefix, "0x10;%s+0x", base);
    CHECK_MSG(strncmp(line[0], prefix, strlen(prefix)) == 0, "%s", line[0]);
    const char *tail = strstr(line[0], ";hot_caller;hot_site 10485760\n");
    CHECK_MSG(tail != NULL, "%s", line[0]);
    CHECK_MSG(strchr(line[0], ' ') == tail + strlen(";hot_caller;hot_site"), "%s", line[0]);
    CHECK_MSG(strncmp(line[1], prefix + 5, strlen(prefix + 5)) == 0, "%s", line[1]);
    CHECK_MSG(strstr(line[1], ";cold_site 1048576\n") != NULL, "%s", line[1]);

    /* The fallback offset is the address addr2line takes: it names the
     * static function. */
    char off[64];
    CHECK_EQ(sscanf(line[1] + strlen(prefix + 5) - 2, "%63[0-9a-fx]", off), 1);
    snprintf(cmd, sizeof cmd, "addr2line -f -e %s %s", exe, off);
    CHECK_EQ(run(cmd, out, sizeof out), 0);
    CHECK_MSG(strncmp(out, "build_fake\n", 11) == 0, "addr2line says %s", out);
}
