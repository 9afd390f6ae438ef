/* report_html — report.html: one self-contained page for one run or more,
 * the summary table, the three charts (a line per run in each) and glibc's
 * per-arena free lists.
 *
 * Owns what the page shows and in what words; the drawing is report_svg.c.
 * Invariants: the page needs nothing outside itself (inline CSS and SVG, no
 * script, no link), every string from a run (labels, commands, paths) is
 * HTML-escaped on its way in, and the page appears whole or not at all: it
 * is written beside its path and renamed over it. */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1c2733;"
    "background:#fbfcfd;margin:0 auto;max-width:1040px;padding:24px 28px 48px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 4px}"
    ".sub{color:#5a6b7b;margin:0 0 18px;word-break:break-all}"
    "table{border-collapse:collapse;width:100%;margin:8px 0 4px;background:#fff}"
    "th,td{border:1px solid #d9e0e7;padding:6px 10px;text-align:left;vertical-align:top}"
    "th{background:#eef2f6;font-weight:600}.summary tr>th:first-child{white-space:nowrap;width:1%}td.num{font-variant-numeric:tabular-nums}"
    "td.diag{font-weight:600}"
    ".chart{background:#fff;border:1px solid #d9e0e7;border-radius:6px;padding:6px 14px 10px;"
    "margin-top:18px}.chart h2{margin-top:8px}"
    ".note,.empty{color:#5a6b7b;margin:2px 0 6px}"
    ".legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:6px 20px}"
    ".legend li{display:flex;align-items:center;gap:6px}"
    "svg.plot{width:100%;height:auto;display:block}"
    ".grid{stroke:#e6ebf0;stroke-width:1}.axis{stroke:#7b8a99;stroke-width:1}"
    ".yl{font-size:12px;fill:#5a6b7b;text-anchor:end}"
    ".xl{font-size:12px;fill:#5a6b7b;text-anchor:middle}"
    ".xt{font-size:12px;fill:#5a6b7b;text-anchor:middle}"
    ".ln{fill:none;stroke-width:2.2;stroke-linejoin:round;stroke-linecap:round}"
    ".arenas td{font-variant-numeric:tabular-nums}"
    "footer{color:#7b8a99;font-size:13px;margin-top:28px}";

/* ---- tables ---- */

static void td_bytes(FILE *f, uint64_t v)
{
    char b[32];
    fprintf(f, "<td class=\"num\">%s</td>", fmt_bytes(v, b, sizeof b));
}

/* A cell of text from a run, escaped. */
static void text_cell(FILE *f, const char *open, const char *text, const char *close)
{
    fputs(open, f);
    html_escape(f, text);
    fputs(close, f);
}

static void summary_table(FILE *f, run_data_t *runs, size_t n)
{
    char b[1024];
    fputs("<table class=\"summary\">\n<tr><th></th>", f);
    for (size_t c = 0; c < n; c++)
        text_cell(f, "<th>", runs[c].label, "</th>");
    fputs("</tr>\n<tr><th>command</th>", f);
    for (size_t c = 0; c < n; c++)
        text_cell(f, "<td><code>", runs[c].meta.command, "</code></td>");
    fputs("</tr>\n<tr><th>allocator library</th>", f);
    for (size_t c = 0; c < n; c++)
        text_cell(f, "<td>",
                  runs[c].meta.library && *runs[c].meta.library ? runs[c].meta.library
                                                                : "none (no preload)",
                  "</td>");
    fputs("</tr>\n<tr><th>peak RSS</th>", f);
    for (size_t c = 0; c < n; c++)
        fprintf(f, "<td class=\"num\">%s</td>", peak_str(&runs[c].sum, b, sizeof b));
    fputs("</tr>\n<tr><th>final RSS</th>", f);
    for (size_t c = 0; c < n; c++)
        td_bytes(f, runs[c].sum.samples ? runs[c].sum.final_rss : UNKNOWN);
    fputs("</tr>\n<tr><th>final live bytes</th>", f);
    for (size_t c = 0; c < n; c++)
        td_bytes(f, runs[c].sum.final_live);
    fputs("</tr>\n<tr><th>not live (RSS &minus; live)</th>", f);
    for (size_t c = 0; c < n; c++)
        fprintf(f, "<td class=\"num\">%s</td>", pct_str(&runs[c].sum, b, sizeof b));
    fputs("</tr>\n<tr><th>diagnosis at exit (last sample)</th>", f);
    for (size_t c = 0; c < n; c++)
        text_cell(f, "<td class=\"diag\">", runs[c].sum.diagnosis, "</td>");
    fputs("</tr>\n<tr><th>at peak RSS</th>", f);
    for (size_t c = 0; c < n; c++)
        text_cell(f, "<td class=\"diag\">", moment_str(&runs[c].sum, false, b, sizeof b), "</td>");
    fputs("</tr>\n<tr><th>over the steady state</th>", f);
    for (size_t c = 0; c < n; c++)
        text_cell(f, "<td class=\"diag\">", moment_str(&runs[c].sum, true, b, sizeof b), "</td>");
    bool any_limit = false;
    for (size_t c = 0; c < n; c++)
        any_limit |= runs[c].sum.limit_soft != UNKNOWN || runs[c].sum.limit_hard != UNKNOWN;
    if (any_limit) {
        fputs("</tr>\n<tr><th>memory limit</th>", f);
        for (size_t c = 0; c < n; c++)
            text_cell(f, "<td class=\"diag\">", limit_str(&runs[c].sum, b, sizeof b), "</td>");
    }
    bool any_note = false;
    for (size_t c = 0; c < n; c++)
        any_note |= runs[c].meta.frag_note != NULL;
    if (any_note) {
        fputs("</tr>\n<tr><th>pinned (heap profile)</th>", f);
        for (size_t c = 0; c < n; c++)
            text_cell(f, "<td class=\"diag\">", runs[c].meta.frag_note ? runs[c].meta.frag_note : "not profiled",
                      "</td>");
    }
    fputs("</tr>\n<tr><th>exit</th>", f);
    for (size_t c = 0; c < n; c++) {
        text_cell(f, "<td>", runs[c].meta.exit_desc, "");
        fprintf(f, " after %.1f s</td>", (double)runs[c].meta.duration_ms / 1000.0);
    }
    fputs("</tr>\n<tr><th>samples</th>", f);
    for (size_t c = 0; c < n; c++)
        fprintf(f, "<td class=\"num\">%zu, every %llu ms</td>", runs[c].sum.samples,
                (unsigned long long)runs[c].meta.interval_ms);
    fputs("</tr>\n</table>\n", f);
}

/* The glibc shim's "free chunks per arena", at the last sample. */
static void arena_tables(FILE *f, run_data_t *runs, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        const char *a = runs[c].series.final_arena_free;
        if (!a)
            continue;
        fputs("<section class=\"chart\"><h2>Free chunks per glibc arena (", f);
        html_escape(f, runs[c].label);
        fputs(", last sample)</h2>\n<p class=\"note\">Bytes in free chunks of each arena of the "
              "largest process, from glibc&rsquo;s <code>malloc_info</code>: memory glibc "
              "holds but the program does not use.</p>\n"
              "<table class=\"arenas\"><tr><th>arena</th><th>free bytes</th></tr>\n",
              f);
        size_t i = 0;
        for (const char *p = a; *p; i++) {
            uint64_t v;
            size_t len = strcspn(p, ";");
            if (parse_u64(p, len, &v)) {
                fprintf(f, "<tr><td>%zu%s</td>", i, i == 0 ? " (main)" : "");
                td_bytes(f, v);
                fputs("</tr>\n", f);
            }
            p += len;
            if (*p == ';')
                p++;
        }
        fputs("</table></section>\n", f);
    }
}

/* ---- charts ---- */

/* At most this many line labels on a page, over all its charts: a page of
 * more runs than that allows draws the first ones. */
#define LABELS_MAX 64

/* The lines of the chart being built, and every label made so far (they
 * live until the page is written). */
typedef struct page_charts {
    run_data_t *runs;
    size_t n;
    char **esc;      /* run labels, HTML-escaped once for all the charts */
    uint64_t tmax;   /* the longest run's last sample: one time axis for all */
    line_t *lines;   /* room for the most lines a chart has: 2 per run */
    size_t nl;
    char *labels[LABELS_MAX];
    size_t nlabels;
} page_charts_t;

/* A line labelled "<run> <what>"; false when the page has no room left. */
static bool add_line(page_charts_t *pc, size_t c, const char *what, bool dashed,
                     const uint64_t *v, uint64_t *own)
{
    if (pc->nlabels == LABELS_MAX)
        return false;
    const series_t *s = &pc->runs[c].series;
    char *label = xasprintf("%s %s", pc->esc[c], what);
    pc->labels[pc->nlabels++] = label;
    pc->lines[pc->nl++] = (line_t){ label, run_color(c), dashed, s->t_ms, v, s->n, own };
    return true;
}

/* Whether `need` more labels fit. Each chart asks after every run, for the
 * next run's lines and a little reserve for the charts after it. */
static bool room_for(const page_charts_t *pc, size_t need)
{
    return pc->nlabels + need <= LABELS_MAX;
}

/* 1: RSS (solid) and live (dashed) per run */
static void chart_rss_and_live(FILE *f, page_charts_t *pc)
{
    pc->nl = 0;
    bool any_limit = false;
    for (size_t c = 0; c < pc->n; c++) {
        const series_t *s = &pc->runs[c].series;
        if (!add_line(pc, c, "RSS", false, s->rss, NULL))
            break;
        if ((pc->runs[c].sum.final_live != UNKNOWN || s->n == 0) &&
            !add_line(pc, c, "live bytes", true, s->live, NULL))
            break;
        if (pc->runs[c].sum.limit_soft != UNKNOWN && !add_line(pc, c, "soft limit", true, s->limit_soft, NULL))
            break;
        if (pc->runs[c].sum.limit_hard != UNKNOWN && !add_line(pc, c, "hard limit", true, s->limit_hard, NULL))
            break;
        if (!room_for(pc, 3))
            break;
        any_limit = any_limit || pc->runs[c].sum.limit_soft != UNKNOWN || pc->runs[c].sum.limit_hard != UNKNOWN;
    }
    chart(f, "RSS and live bytes",
          any_limit ? "Solid: RSS, what the system charges the process. Dashed: live bytes, what the "
                      "program has allocated and not freed, and the memory limits the process ran under."
                    : "Solid: RSS, what the system charges the process. Dashed: live bytes, what the "
                      "program has allocated and not freed.",
          pc->lines, pc->nl, pc->tmax);
}

/* 2: RSS - live per run, where live bytes are known */
static void chart_not_live(FILE *f, page_charts_t *pc)
{
    pc->nl = 0;
    bool unknown_any = false;
    for (size_t c = 0; c < pc->n; c++) {
        const series_t *s = &pc->runs[c].series;
        if (pc->runs[c].sum.final_live == UNKNOWN) {
            unknown_any = true;
            continue;
        }
        uint64_t *own = xmalloc((s->n + 1) * sizeof *own);
        for (size_t i = 0; i < s->n; i++)
            own[i] = s->live[i] == UNKNOWN ? UNKNOWN
                     : s->rss[i] > s->live[i] ? s->rss[i] - s->live[i] : 0;
        if (!add_line(pc, c, "RSS &minus; live", false, own, own)) {
            free(own);
            break;
        }
        if (!room_for(pc, 2))
            break;
    }
    chart(f, "Memory left on the floor: RSS &minus; live",
          unknown_any ? "Resident memory the program is not using. Runs whose allocator reports "
                        "no live bytes are left out."
                      : "Resident memory the program is not using: free memory the allocator "
                        "holds, plus code, stacks and metadata.",
          pc->lines, pc->nl, pc->tmax);
    for (size_t k = 0; k < pc->nl; k++)
        free(pc->lines[k].own);
}

/* 3: free bytes the allocator holds, only for runs whose allocator says */
static void chart_free_held(FILE *f, page_charts_t *pc)
{
    pc->nl = 0;
    for (size_t c = 0; c < pc->n; c++) {
        const series_t *s = &pc->runs[c].series;
        bool any = false;
        for (size_t i = 0; i < s->n && !any; i++)
            any = s->free_held[i] != UNKNOWN;
        if (!any)
            continue;
        if (!add_line(pc, c, "free bytes held", false, s->free_held, NULL) || !room_for(pc, 1))
            break;
    }
    if (pc->nl)
        chart(f, "Free bytes held by the allocator",
              "glibc: bytes in free chunks of all arenas (malloc_info). tidemalloc: free room in "
              "active pages plus freed pages not yet returned to the system.",
              pc->lines, pc->nl, pc->tmax);
}

/* 4: with --prof, each run's top five sites' live bytes over time, next to its RSS */
static void chart_sites(FILE *f, page_charts_t *pc)
{
    static const char *const colors[] = { "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
                                          "#7f7f7f", "#bcbd22", "#17becf" };
    for (size_t c = 0; c < pc->n; c++) {
        run_data_t *r = &pc->runs[c];
        if (!r->nsites)
            continue;
        pc->nl = 0;
        if (!add_line(pc, c, "RSS", false, r->series.rss, NULL))
            return;
        for (size_t k = 0; k < r->nsites && room_for(pc, 1); k++) {
            size_t len = 0;
            char *label = NULL;
            FILE *m = open_memstream(&label, &len);
            html_escape(m, r->sites[k].name);
            fclose(m);
            pc->labels[pc->nlabels++] = label;
            pc->lines[pc->nl++] = (line_t){ label, colors[k % 8], true, r->sites[k].t, r->sites[k].live,
                                            r->sites[k].n, NULL };
        }
        char *title = xasprintf("Top five sites by live bytes, over time (%s)", pc->esc[c]);
        chart(f, title,
              "Solid: RSS. Dashed: the live bytes each allocating function held, from the heap profiles "
              "tide run --prof took (estimates from samples).",
              pc->lines, pc->nl, pc->tmax);
        free(title);
    }
}

static int charts(FILE *f, run_data_t *runs, size_t n)
{
    page_charts_t pc = { .runs = runs, .n = n };
    for (size_t c = 0; c < n; c++)
        if (runs[c].series.n && runs[c].series.t_ms[runs[c].series.n - 1] > pc.tmax)
            pc.tmax = runs[c].series.t_ms[runs[c].series.n - 1];
    pc.esc = xcalloc(n, sizeof *pc.esc);
    for (size_t c = 0; c < n; c++) {
        size_t len = 0;
        FILE *m = open_memstream(&pc.esc[c], &len);
        if (!m)
            return -1;
        html_escape(m, runs[c].label);
        fclose(m);
    }
    pc.lines = xcalloc(3 * n + 1 + 8, sizeof *pc.lines);
    chart_rss_and_live(f, &pc);
    chart_not_live(f, &pc);
    chart_free_held(f, &pc);
    chart_sites(f, &pc);
    for (size_t k = 0; k < pc.nlabels; k++)
        free(pc.labels[k]);
    for (size_t c = 0; c < n; c++)
        free(pc.esc[c]);
    free(pc.esc);
    free(pc.lines);
    return 0;
}

/* ---- the page ---- */

static void page_head(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    html_escape(f, title);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", css);
    html_escape(f, title);
    fputs("</h1>\n<p class=\"sub\">Memory over time: resident set size (RSS) summed over the "
          "process tree, live bytes reported by the allocator, and the difference, the memory "
          "left on the floor.</p>\n",
          f);
}

static void page_foot(FILE *f, run_data_t *runs, size_t n)
{
    fputs("<footer>Written by <code>tide</code>, the tidemalloc tool. Timelines: ", f);
    for (size_t c = 0; c < n; c++) {
        fputs(c ? ", <code>" : "<code>", f);
        html_escape(f, runs[c].dir);
        fputs("/timeline.csv</code>", f);
    }
    fputs(".</footer>\n</body>\n</html>\n", f);
}

int report_write_html(const char *path, const char *title, run_data_t *runs, size_t n)
{
    char *tmp = xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "tide: cannot write %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    page_head(f, title);
    summary_table(f, runs, n);
    if (charts(f, runs, n) != 0)
        return -1;
    arena_tables(f, runs, n);
    page_foot(f, runs, n);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        fprintf(stderr, "tide: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}
