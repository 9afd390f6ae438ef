/* timeline.csv and summary.txt: writing, reading back, and the summary and
 * diagnosis computed from them (the same for `tide run` and `tide report`). */
#include "tide.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MiB ((uint64_t)1 << 20)

static const char *const columns[] = {
    "t_ms", "procs", "reporting", "rss_bytes", "pss_bytes", "anon_bytes",
    "lazyfree_bytes", "live_bytes", "not_live_bytes", "unreported_rss_bytes",
    "allocator_free_bytes", "tide_active_bytes", "tide_dirty_bytes",
    "tide_mapped_bytes", "tide_metadata_bytes", "tide_purged_bytes",
    "glibc_arenas", "glibc_free_bytes", "glibc_system_bytes", "glibc_mmap_bytes",
    "glibc_arena_free", "limit_soft_bytes", "limit_hard_bytes",
};
#define NCOLUMNS (sizeof columns / sizeof columns[0])

void csv_write_header(FILE *f)
{
    for (size_t i = 0; i < NCOLUMNS; i++)
        fprintf(f, "%s%s", i ? "," : "", columns[i]);
    fputc('\n', f);
}

static void put(FILE *f, uint64_t v)
{
    fputc(',', f);
    if (v != UNKNOWN)
        fprintf(f, "%llu", (unsigned long long)v);
}

void csv_write_row(FILE *f, const sample_t *s)
{
    fprintf(f, "%llu,%u,%u", (unsigned long long)s->t_ms, s->procs, s->reporting);
    put(f, s->rss);
    put(f, s->pss);
    put(f, s->anon);
    put(f, s->lazyfree);
    put(f, s->live);
    put(f, s->live == UNKNOWN ? UNKNOWN : s->rss > s->live ? s->rss - s->live : 0);
    put(f, s->live == UNKNOWN ? UNKNOWN : s->unreported_rss);
    put(f, s->free_held);
    put(f, s->tide_active);
    put(f, s->tide_dirty);
    put(f, s->tide_mapped);
    put(f, s->tide_metadata);
    put(f, s->tide_purged);
    put(f, s->glibc_arenas);
    put(f, s->glibc_free);
    put(f, s->glibc_system);
    put(f, s->glibc_mmap);
    fprintf(f, ",%s", s->glibc_arena_free ? s->glibc_arena_free : "");
    put(f, s->limit_soft);
    put(f, s->limit_hard);
    fputc('\n', f);
}

/* ---- reading timeline.csv ---- */

enum { C_T, C_PROCS, C_REPORTING, C_RSS, C_LIVE, C_UNREP, C_FREE, C_DIRTY, C_ARENAS, C_SOFT, C_HARD, C_N };
static const char *const wanted[C_N] = {
    "t_ms", "procs", "reporting", "rss_bytes", "live_bytes",
    "unreported_rss_bytes", "allocator_free_bytes", "tide_dirty_bytes", "glibc_arena_free",
    "limit_soft_bytes", "limit_hard_bytes",
};

int series_read(const char *path, series_t *s, char *err, size_t errsize)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len = getline(&line, &lcap, f);
    int idx[C_N];
    for (int c = 0; c < C_N; c++)
        idx[c] = -1;
    if (len > 0) {
        int col = 0;
        char *save = NULL;
        line[strcspn(line, "\r\n")] = '\0';
        for (char *tok = strtok_r(line, ",", &save); tok; tok = strtok_r(NULL, ",", &save), col++)
            for (int c = 0; c < C_N; c++)
                if (strcmp(tok, wanted[c]) == 0)
                    idx[c] = col;
    }
    if (idx[C_T] < 0 || idx[C_RSS] < 0) {
        snprintf(err, errsize, "%s: not a tide timeline (no t_ms and rss_bytes columns)", path);
        free(line);
        fclose(f);
        return -1;
    }
    size_t cap = 0;
    while ((len = getline(&line, &lcap, f)) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (s->n == cap) {
            cap = cap ? cap * 2 : 1024;
            s->t_ms = xrealloc(s->t_ms, cap * sizeof *s->t_ms);
            s->rss = xrealloc(s->rss, cap * sizeof *s->rss);
            s->live = xrealloc(s->live, cap * sizeof *s->live);
            s->unreported_rss = xrealloc(s->unreported_rss, cap * sizeof *s->unreported_rss);
            s->free_held = xrealloc(s->free_held, cap * sizeof *s->free_held);
            s->tide_dirty = xrealloc(s->tide_dirty, cap * sizeof *s->tide_dirty);
            s->limit_soft = xrealloc(s->limit_soft, cap * sizeof *s->limit_soft);
            s->limit_hard = xrealloc(s->limit_hard, cap * sizeof *s->limit_hard);
            s->procs = xrealloc(s->procs, cap * sizeof *s->procs);
            s->reporting = xrealloc(s->reporting, cap * sizeof *s->reporting);
        }
        uint64_t v[C_N];
        for (int c = 0; c < C_N; c++)
            v[c] = UNKNOWN;
        int col = 0;
        const char *p = line;
        for (;;) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            for (int c = 0; c < C_N; c++) {
                uint64_t x;
                if (idx[c] != col)
                    continue;
                if (c == C_ARENAS) {
                    if (n > 0 && strspn(p, "0123456789;") >= n) {
                        free(s->final_arena_free);
                        s->final_arena_free = strndup(p, n);
                    }
                } else if (parse_u64(p, n, &x)) {
                    v[c] = x;
                }
            }
            if (!e)
                break;
            p = e + 1;
            col++;
        }
        if (v[C_T] == UNKNOWN || v[C_RSS] == UNKNOWN)
            continue;
        size_t i = s->n++;
        s->t_ms[i] = v[C_T];
        s->rss[i] = v[C_RSS];
        s->live[i] = v[C_LIVE];
        s->unreported_rss[i] = v[C_UNREP] == UNKNOWN ? 0 : v[C_UNREP];
        s->free_held[i] = v[C_FREE];
        s->tide_dirty[i] = v[C_DIRTY];
        s->limit_soft[i] = v[C_SOFT];
        s->limit_hard[i] = v[C_HARD];
        s->procs[i] = v[C_PROCS] == UNKNOWN ? 1 : (unsigned)v[C_PROCS];
        s->reporting[i] = v[C_REPORTING] == UNKNOWN ? 0 : (unsigned)v[C_REPORTING];
    }
    free(line);
    fclose(f);
    return 0;
}

void series_free(series_t *s)
{
    free(s->t_ms);
    free(s->rss);
    free(s->live);
    free(s->unreported_rss);
    free(s->free_held);
    free(s->tide_dirty);
    free(s->limit_soft);
    free(s->limit_hard);
    free(s->procs);
    free(s->reporting);
    free(s->final_arena_free);
    memset(s, 0, sizeof *s);
}

/* ---- summary.txt ---- */

int meta_write(const char *path, const run_meta_t *m)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "tide_run=1\nallocator=%s\nlibrary=%s\ncommand=%s\n"
               "exit_status=%d\nexit=%s\ninterval_ms=%llu\nduration_ms=%llu\n",
            m->allocator, m->library ? m->library : "", m->command, m->exit_status,
            m->exit_desc, (unsigned long long)m->interval_ms,
            (unsigned long long)m->duration_ms);
    if (m->hwm != UNKNOWN)
        fprintf(f, "hwm_bytes=%llu\n", (unsigned long long)m->hwm);
    if (m->frag_note)
        fprintf(f, "frag_note=%s\n", m->frag_note);
    return fclose(f) == 0 ? 0 : -1;
}

int meta_read(const char *path, run_meta_t *m)
{
    memset(m, 0, sizeof *m);
    m->hwm = UNKNOWN;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *k = line, *v = eq + 1;
        uint64_t x;
        bool num = parse_u64(v, strlen(v), &x);
        if (strcmp(k, "allocator") == 0) { free(m->allocator); m->allocator = xstrdup(v); }
        else if (strcmp(k, "library") == 0) { free(m->library); m->library = xstrdup(v); }
        else if (strcmp(k, "command") == 0) { free(m->command); m->command = xstrdup(v); }
        else if (strcmp(k, "exit") == 0) { free(m->exit_desc); m->exit_desc = xstrdup(v); }
        else if (strcmp(k, "exit_status") == 0) m->exit_status = atoi(v);
        else if (strcmp(k, "interval_ms") == 0 && num) m->interval_ms = x;
        else if (strcmp(k, "duration_ms") == 0 && num) m->duration_ms = x;
        else if (strcmp(k, "hwm_bytes") == 0 && num) m->hwm = x;
        else if (strcmp(k, "frag_note") == 0) { free(m->frag_note); m->frag_note = xstrdup(v); }
    }
    free(line);
    fclose(f);
    return 0;
}

void meta_free(run_meta_t *m)
{
    free(m->allocator);
    free(m->library);
    free(m->command);
    free(m->exit_desc);
    free(m->frag_note);
    memset(m, 0, sizeof *m);
}

/* ---- summary and diagnosis (rules documented in tools/README.md) ---- */

/* Live bytes grow steadily with RSS: over the samples that know live bytes,
 * split in four quarters by order, the mean live bytes rise by at least 2%
 * from each quarter to the next and by at least 25% (and 1 MiB) from the
 * first to the last, and mean RSS rises from the first quarter to the last. */
static bool live_grows(const series_t *s, uint64_t *growth)
{
    size_t m = 0;
    for (size_t i = 0; i < s->n; i++)
        m += s->live[i] != UNKNOWN;
    if (m < 8)
        return false;
    double L[4] = { 0 }, R[4] = { 0 };
    size_t cnt[4] = { 0 }, k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->live[i] == UNKNOWN)
            continue;
        size_t q = k++ * 4 / m;
        L[q] += (double)s->live[i];
        R[q] += (double)s->rss[i];
        cnt[q]++;
    }
    for (int q = 0; q < 4; q++) {
        L[q] /= (double)cnt[q];
        R[q] /= (double)cnt[q];
    }
    for (int q = 0; q < 3; q++)
        if (L[q + 1] < L[q] * 1.02)
            return false;
    if (L[3] < L[0] * 1.25 || L[3] - L[0] < (double)MiB || R[3] <= R[0])
        return false;
    *growth = (uint64_t)(L[3] - L[0]);
    return true;
}

/* The diagnosis rules (tools/README.md) on sample f, live bytes known. */
static void diagnose_at(const series_t *s, size_t f, bool grows, uint64_t growth, char *out, size_t size)
{
    char b1[32], b3[32];
    uint64_t not_live = s->rss[f] > s->live[f] ? s->rss[f] - s->live[f] : 0;
    double not_live_pct = s->rss[f] ? 100.0 * (double)not_live / (double)s->rss[f] : 0;
    int pct = (int)(not_live_pct + 0.5);
    bool high = not_live_pct > 25.0 && not_live >= 4 * MiB;

    if (high && s->unreported_rss[f] * 2 > not_live) {
        snprintf(out, size,
                 "%d%% of RSS is not live, but %s of it belongs to %u of %u processes that "
                 "report no live bytes: no diagnosis for those",
                 pct, fmt_bytes(s->unreported_rss[f], b1, sizeof b1),
                 s->procs[f] - s->reporting[f], s->procs[f]);
    } else if (high && grows) {
        snprintf(out, size,
                 "%d%% of RSS is free memory held by the allocator (fragmentation), and live "
                 "bytes grow with RSS (+%s): a leak or a growing working set as well",
                 pct, fmt_bytes(growth, b1, sizeof b1));
    } else if (high && s->tide_dirty[f] != UNKNOWN && s->tide_dirty[f] * 2 > not_live) {
        snprintf(out, size,
                 "%d%% of RSS is freed memory not yet returned (%s of dirty pages within the "
                 "decay time): a cache that drains, not a leak",
                 pct, fmt_bytes(s->tide_dirty[f], b1, sizeof b1));
    } else if (high) {
        snprintf(out, size,
                 "%d%% of RSS is free memory held by the allocator: fragmentation, not a leak", pct);
    } else if (grows) {
        snprintf(out, size,
                 "live bytes grow with RSS (+%s over the run): a leak or a growing working "
                 "set, not fragmentation",
                 fmt_bytes(growth, b1, sizeof b1));
    } else if (not_live_pct > 25.0) {
        snprintf(out, size,
                 "only %s of RSS is not live (code, stacks, allocator metadata): no "
                 "fragmentation or leak",
                 fmt_bytes(not_live, b1, sizeof b1));
    } else {
        snprintf(out, size,
                 "%d%% of RSS is not live (%s of %s): RSS tracks live bytes, no "
                 "fragmentation or leak",
                 pct, fmt_bytes(not_live, b1, sizeof b1),
                 fmt_bytes(s->rss[f], b3, sizeof b3));
    }
}

static double not_live_share(const series_t *s, size_t i)
{
    uint64_t nl = s->rss[i] > s->live[i] ? s->rss[i] - s->live[i] : 0;
    return s->rss[i] ? 100.0 * (double)nl / (double)s->rss[i] : 0;
}

static int cmp_share(const void *a, const void *b, void *ctx)
{
    const series_t *s = ctx;
    double x = not_live_share(s, *(const size_t *)a), y = not_live_share(s, *(const size_t *)b);
    return x < y ? -1 : x > y;
}

/* The verdict at peak RSS and over the steady state (summary_t says how
 * each is chosen). */
static void summarize_moments(const series_t *s, bool grows, uint64_t growth, summary_t *o)
{
    size_t peak = SIZE_MAX, first = SIZE_MAX, last = 0;
    uint64_t peak_live = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->live[i] == UNKNOWN)
            continue;
        if (peak == SIZE_MAX || s->rss[i] > s->rss[peak])
            peak = i;
        if (s->live[i] > peak_live)
            peak_live = s->live[i];
    }
    if (peak == SIZE_MAX)
        return;
    for (size_t i = 0; i < s->n; i++) {
        if (s->live[i] == UNKNOWN || s->live[i] < peak_live / 10 * 9)
            continue;
        if (first == SIZE_MAX)
            first = i;
        last = i;
    }
    size_t *idx = xmalloc((last - first + 1) * sizeof *idx), n = 0;
    for (size_t i = first; i <= last; i++)
        if (s->live[i] != UNKNOWN)
            idx[n++] = i;
    qsort_r(idx, n, sizeof *idx, cmp_share, (void *)s);
    size_t mid = idx[n / 2];
    free(idx);
    o->has_moments = true;
    o->peak_not_live_pct = not_live_share(s, peak);
    o->moment_peak_t_ms = s->t_ms[peak];
    diagnose_at(s, peak, grows, growth, o->peak_diagnosis, sizeof o->peak_diagnosis);
    o->steady_from_ms = s->t_ms[first];
    o->steady_to_ms = s->t_ms[last];
    o->steady_t_ms = s->t_ms[mid];
    o->steady_samples = n;
    o->steady_not_live_pct = not_live_share(s, mid);
    diagnose_at(s, mid, grows, growth, o->steady_diagnosis, sizeof o->steady_diagnosis);
}

/* The limits the run reported, and the peak RSS against the lower one. */
static void summarize_limits(const series_t *s, summary_t *o)
{
    o->limit_soft = o->limit_hard = UNKNOWN;
    o->limit_peak_pct = -1;
    for (size_t i = 0; i < s->n; i++) {
        if (s->limit_soft[i] != UNKNOWN && (o->limit_soft == UNKNOWN || s->limit_soft[i] > o->limit_soft))
            o->limit_soft = s->limit_soft[i];
        if (s->limit_hard[i] != UNKNOWN && (o->limit_hard == UNKNOWN || s->limit_hard[i] > o->limit_hard))
            o->limit_hard = s->limit_hard[i];
    }
    uint64_t lower = o->limit_soft != UNKNOWN ? o->limit_soft : o->limit_hard;
    if (lower != UNKNOWN && lower)
        o->limit_peak_pct = 100.0 * (double)o->peak_rss / (double)lower;
}

void summarize(const series_t *s, const run_meta_t *m, summary_t *o)
{
    memset(o, 0, sizeof *o);
    o->hwm = m->hwm;
    o->final_live = o->not_live = UNKNOWN;
    o->not_live_pct = -1;
    o->limit_soft = o->limit_hard = UNKNOWN;
    o->limit_peak_pct = -1;
    o->samples = s->n;
    const char *alloc = m->allocator ? m->allocator : "this allocator";
    char b1[32], b2[32];

    if (s->n == 0) {
        snprintf(o->diagnosis, sizeof o->diagnosis,
                 "no samples: the command ran %llu ms, less than one interval (%llu ms); "
                 "try a smaller --interval-ms",
                 (unsigned long long)m->duration_ms, (unsigned long long)m->interval_ms);
        return;
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->rss[i] > o->peak_rss) {
            o->peak_rss = s->rss[i];
            o->peak_t_ms = s->t_ms[i];
        }
    size_t f = s->n - 1;
    o->final_rss = s->rss[f];
    o->final_live = s->live[f];
    o->final_procs = s->procs[f];
    o->final_reporting = s->reporting[f];
    o->final_unreported_rss = s->unreported_rss[f];
    summarize_limits(s, o);

    if (o->final_live == UNKNOWN) {
        const char *why = "";
        if (strcmp(alloc, "tide") == 0)
            why = " (no tide-stats lines arrived: is libtidemalloc.so current?)";
        else if (strcmp(alloc, "glibc") == 0)
            why = " (no glibc-stats lines arrived: a static, setuid or non-glibc-malloc program?)";
        snprintf(o->diagnosis, sizeof o->diagnosis,
                 "RSS only: live bytes are unknown under %s%s; peak %s, final %s", alloc, why,
                 fmt_bytes(o->peak_rss, b1, sizeof b1), fmt_bytes(o->final_rss, b2, sizeof b2));
        return;
    }

    o->not_live = o->final_rss > o->final_live ? o->final_rss - o->final_live : 0;
    o->not_live_pct = o->final_rss ? 100.0 * (double)o->not_live / (double)o->final_rss : 0;
    uint64_t growth = 0;
    bool grows = live_grows(s, &growth);
    diagnose_at(s, f, grows, growth, o->diagnosis, sizeof o->diagnosis);
    summarize_moments(s, grows, growth, o);
}
