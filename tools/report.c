/* tide report [-o FILE] [--title TEXT] [-q] DIR...
 *
 * Reads the timeline.csv and summary.txt that `tide run` left in each DIR,
 * prints a side-by-side table and writes one self-contained HTML page:
 * inline SVG charts (no script, no external resource) with a line per run. */
#include "tide.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int run_load(const char *dir, run_data_t *r)
{
    memset(r, 0, sizeof *r);
    r->dir = dir;
    char err[512];
    char *csv = xasprintf("%s/timeline.csv", dir);
    char *sum = xasprintf("%s/summary.txt", dir);
    int rc = 0;
    if (series_read(csv, &r->series, err, sizeof err) != 0) {
        fprintf(stderr, "tide: %s\n", err);
        rc = -1;
    } else if (meta_read(sum, &r->meta) != 0) {
        fprintf(stderr, "tide: %s: %s (not a `tide run` output directory?)\n", sum,
                strerror(errno));
        series_free(&r->series);
        rc = -1;
    } else {
        if (!r->meta.allocator)
            r->meta.allocator = xstrdup("?");
        if (!r->meta.command)
            r->meta.command = xstrdup("?");
        if (!r->meta.exit_desc)
            r->meta.exit_desc = xstrdup("?");
        r->label = r->meta.allocator;
        summarize(&r->series, &r->meta, &r->sum);
    }
    free(csv);
    free(sum);
    return rc;
}

void run_unload(run_data_t *r)
{
    series_free(&r->series);
    meta_free(&r->meta);
}

/* ---- numbers for people ---- */

static const char *pct_str(const summary_t *s, char *buf, size_t size)
{
    char b[32];
    if (s->not_live == UNKNOWN)
        snprintf(buf, size, "unknown");
    else
        snprintf(buf, size, "%.0f%% (%s)", s->not_live_pct, fmt_bytes(s->not_live, b, sizeof b));
    return buf;
}

static const char *peak_str(const summary_t *s, char *buf, size_t size)
{
    char b[32];
    if (!s->samples)
        snprintf(buf, size, "no samples");
    else
        snprintf(buf, size, "%s at %.1f s", fmt_bytes(s->peak_rss, b, sizeof b),
                 (double)s->peak_t_ms / 1000.0);
    return buf;
}

void report_print_table(FILE *f, run_data_t *runs, size_t n)
{
    enum { ROWS = 7 };
    static const char *const names[ROWS] = {
        "", "peak RSS", "final RSS", "final live", "not live", "exit", "samples",
    };
    char *cell[ROWS][16];
    if (n > 16)
        n = 16;
    size_t width[17] = { 0 };
    for (size_t r = 0; r < ROWS; r++)
        if (strlen(names[r]) > width[0])
            width[0] = strlen(names[r]);
    for (size_t c = 0; c < n; c++) {
        const summary_t *s = &runs[c].sum;
        char b[64];
        cell[0][c] = xstrdup(runs[c].label);
        cell[1][c] = xstrdup(peak_str(s, b, sizeof b));
        cell[2][c] = xstrdup(s->samples ? fmt_bytes(s->final_rss, b, sizeof b) : "-");
        cell[3][c] = xstrdup(s->samples ? fmt_bytes(s->final_live, b, sizeof b) : "-");
        cell[4][c] = xstrdup(pct_str(s, b, sizeof b));
        cell[5][c] = xstrdup(runs[c].meta.exit_desc);
        cell[6][c] = xasprintf("%zu every %llu ms", s->samples,
                               (unsigned long long)runs[c].meta.interval_ms);
        for (size_t r = 0; r < ROWS; r++)
            if (strlen(cell[r][c]) > width[c + 1])
                width[c + 1] = strlen(cell[r][c]);
    }
    for (size_t r = 0; r < ROWS; r++) {
        fprintf(f, "%-*s", (int)width[0], names[r]);
        for (size_t c = 0; c < n; c++) {
            fprintf(f, "   %-*s", (int)width[c + 1], cell[r][c]);
            free(cell[r][c]);
        }
        fputc('\n', f);
    }
    fputs("diagnosis:\n", f);
    size_t lw = 0;
    for (size_t c = 0; c < n; c++)
        if (strlen(runs[c].label) > lw)
            lw = strlen(runs[c].label);
    for (size_t c = 0; c < n; c++)
        fprintf(f, "  %s:%*s %s\n", runs[c].label, (int)(lw - strlen(runs[c].label)), "",
                runs[c].sum.diagnosis);
}

/* ---- SVG charts ---- */

#define CW 960 /* chart width and height, in SVG units */
#define CH 300
#define ML 76  /* margins */
#define MR 20
#define MT 14
#define MB 40

static const char *const palette[] = {
    "#c0392b", "#1f6fb4", "#2e8b3e", "#8e44ad", "#d68910", "#5d6d7e", "#17a2b8", "#7b241c",
};
#define NPAL (sizeof palette / sizeof palette[0])

typedef struct line {
    const char *label, *color;
    bool dashed;
    const uint64_t *t, *v; /* v[i] == UNKNOWN breaks the line */
    size_t n;
    /* a derived series (RSS - live) is built into own[] */
    uint64_t *own;
} line_t;

static double nice_step(double range, int ticks)
{
    double raw = range / ticks, mag = 1;
    if (raw <= 0)
        return 1;
    while (mag * 10 <= raw)
        mag *= 10;
    while (mag > raw)
        mag /= 10;
    double norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

static void fmt_num(char *buf, size_t size, double v)
{
    if (v == (double)(long long)v)
        snprintf(buf, size, "%lld", (long long)v);
    else
        snprintf(buf, size, "%.3g", v);
}

/* Points of one line, at most two per pixel column (the lowest and the
 * highest value in it, in time order), broken where a value is unknown. */
static void emit_line(FILE *f, const line_t *l, double tmax, double ymax)
{
    double pw = CW - ML - MR, ph = CH - MT - MB;
    bool open = false;
    long col = -1;
    size_t lo = 0, hi = 0;
    bool have = false;
#define X(i) (ML + pw * ((double)l->t[i] / tmax))
#define Y(i) (MT + ph * (1.0 - (double)l->v[i] / ymax))
    for (size_t i = 0; i <= l->n; i++) {
        bool end = i == l->n;
        bool unknown = !end && l->v[i] == UNKNOWN;
        long c = end || unknown ? -2 : (long)((double)l->t[i] / tmax * pw);
        if (have && c != col) { /* flush the previous column */
            if (!open) {
                fprintf(f, "<polyline class=\"ln\" stroke=\"%s\"%s points=\"", l->color,
                        l->dashed ? " stroke-dasharray=\"7 5\"" : "");
                open = true;
            }
            size_t a = lo < hi ? lo : hi, b = lo < hi ? hi : lo;
            fprintf(f, "%.1f,%.1f ", X(a), Y(a));
            if (b != a)
                fprintf(f, "%.1f,%.1f ", X(b), Y(b));
            have = false;
        }
        if ((end || unknown) && open) {
            fprintf(f, "\"><title>%s</title></polyline>\n", l->label);
            open = false;
        }
        if (end || unknown)
            continue;
        if (!have) {
            col = c;
            lo = hi = i;
            have = true;
        } else {
            if (l->v[i] < l->v[lo])
                lo = i;
            if (l->v[i] > l->v[hi])
                hi = i;
        }
    }
#undef X
#undef Y
}

static void chart(FILE *f, const char *title, const char *note, line_t *lines, size_t nl,
                  uint64_t tmax_ms)
{
    uint64_t vmax = 0;
    size_t points = 0;
    for (size_t k = 0; k < nl; k++)
        for (size_t i = 0; i < lines[k].n; i++)
            if (lines[k].v[i] != UNKNOWN) {
                points++;
                if (lines[k].v[i] > vmax)
                    vmax = lines[k].v[i];
            }
    fprintf(f, "<section class=\"chart\">\n<h2>%s</h2>\n", title);
    if (note)
        fprintf(f, "<p class=\"note\">%s</p>\n", note);
    fputs("<ul class=\"legend\">", f);
    for (size_t k = 0; k < nl; k++)
        fprintf(f, "<li><svg width=\"34\" height=\"10\" aria-hidden=\"true\"><line x1=\"1\" "
                   "y1=\"5\" x2=\"33\" y2=\"5\" stroke=\"%s\" stroke-width=\"3\"%s/></svg>%s</li>",
                lines[k].color, lines[k].dashed ? " stroke-dasharray=\"7 5\"" : "",
                lines[k].label);
    fputs("</ul>\n", f);
    if (points == 0) {
        fputs("<p class=\"empty\">No data for this chart.</p>\n</section>\n", f);
        return;
    }

    /* y axis in the unit that suits the largest value */
    const char *unit = "KiB";
    double div = 1024.0;
    if (vmax >= ((uint64_t)2 << 30)) {
        unit = "GiB";
        div = (double)((uint64_t)1 << 30);
    } else if (vmax >= ((uint64_t)2 << 20)) {
        unit = "MiB";
        div = (double)((uint64_t)1 << 20);
    }
    double vm = (double)vmax / div;
    double ystep = nice_step(vm > 0 ? vm : 1, 5);
    double ytop = ystep;
    while (ytop < vm * 1.02)
        ytop += ystep;
    double ymax = ytop * div;
    double tsec = (double)(tmax_ms ? tmax_ms : 1) / 1000.0;
    double xstep = nice_step(tsec, 10);
    double pw = CW - ML - MR, ph = CH - MT - MB;

    fprintf(f, "<svg class=\"plot\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">\n", CW,
            CH, title);
    char buf[32];
    for (double y = 0; y <= ytop + ystep / 1000; y += ystep) {
        double py = MT + ph * (1 - y / ytop);
        fmt_num(buf, sizeof buf, y);
        fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                   "<text class=\"yl\" x=\"%d\" y=\"%.1f\">%s %s</text>\n",
                ML, py, CW - MR, py, ML - 6, py + 4, buf, unit);
    }
    for (double x = 0; x <= tsec + xstep / 1000; x += xstep) {
        double px = ML + pw * (x / tsec);
        fmt_num(buf, sizeof buf, x);
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                   "<text class=\"xl\" x=\"%.1f\" y=\"%d\">%s s</text>\n",
                px, MT, px, CH - MB, px, CH - MB + 18, buf);
    }
    fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", ML, CH - MB,
            CW - MR, CH - MB);
    fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", ML, MT, ML,
            CH - MB);
    fprintf(f, "<text class=\"xt\" x=\"%d\" y=\"%d\">time since start</text>\n",
            ML + (CW - ML - MR) / 2, CH - 4);
    for (size_t k = 0; k < nl; k++)
        emit_line(f, &lines[k], tsec * 1000.0, ymax);
    fputs("</svg>\n</section>\n", f);
}

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

static void td_bytes(FILE *f, uint64_t v)
{
    char b[32];
    fprintf(f, "<td class=\"num\">%s</td>", fmt_bytes(v, b, sizeof b));
}

static void summary_table(FILE *f, run_data_t *runs, size_t n)
{
    char b[64];
    fputs("<table class=\"summary\">\n<tr><th></th>", f);
    for (size_t c = 0; c < n; c++) {
        fputs("<th>", f);
        html_escape(f, runs[c].label);
        fputs("</th>", f);
    }
    fputs("</tr>\n<tr><th>command</th>", f);
    for (size_t c = 0; c < n; c++) {
        fputs("<td><code>", f);
        html_escape(f, runs[c].meta.command);
        fputs("</code></td>", f);
    }
    fputs("</tr>\n<tr><th>allocator library</th>", f);
    for (size_t c = 0; c < n; c++) {
        fputs("<td>", f);
        html_escape(f, runs[c].meta.library && *runs[c].meta.library ? runs[c].meta.library
                                                                      : "none (no preload)");
        fputs("</td>", f);
    }
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
    fputs("</tr>\n<tr><th>diagnosis</th>", f);
    for (size_t c = 0; c < n; c++) {
        fputs("<td class=\"diag\">", f);
        html_escape(f, runs[c].sum.diagnosis);
        fputs("</td>", f);
    }
    fputs("</tr>\n<tr><th>exit</th>", f);
    for (size_t c = 0; c < n; c++) {
        fputs("<td>", f);
        html_escape(f, runs[c].meta.exit_desc);
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

int report_write_html(const char *path, const char *title, run_data_t *runs, size_t n)
{
    char *tmp = xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "tide: cannot write %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
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
    summary_table(f, runs, n);

    uint64_t tmax = 0;
    size_t nl = 0;
    line_t *lines = xcalloc(3 * n + 1, sizeof *lines);
    for (size_t c = 0; c < n; c++)
        if (runs[c].series.n && runs[c].series.t_ms[runs[c].series.n - 1] > tmax)
            tmax = runs[c].series.t_ms[runs[c].series.n - 1];

    /* Run labels, escaped once for use inside the SVG and the legends. */
    char **esc = xcalloc(n, sizeof *esc);
    for (size_t c = 0; c < n; c++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m)
            return -1;
        html_escape(m, runs[c].label);
        fclose(m);
        esc[c] = buf;
    }

    /* 1: RSS (solid) and live (dashed) per run */
    char *labels[64];
    size_t nlabels = 0;
    for (size_t c = 0; c < n; c++) {
        const series_t *s = &runs[c].series;
        const char *color = palette[c % NPAL];
        labels[nlabels] = xasprintf("%s RSS", esc[c]);
        lines[nl++] = (line_t){ labels[nlabels++], color, false, s->t_ms, s->rss, s->n, NULL };
        if (runs[c].sum.final_live != UNKNOWN || s->n == 0) {
            labels[nlabels] = xasprintf("%s live bytes", esc[c]);
            lines[nl++] = (line_t){ labels[nlabels++], color, true, s->t_ms, s->live, s->n, NULL };
        }
        if (nlabels + 3 > sizeof labels / sizeof labels[0])
            break;
    }
    chart(f, "RSS and live bytes",
          "Solid: RSS, what the system charges the process. Dashed: live bytes, what the "
          "program has allocated and not freed.",
          lines, nl, tmax);

    /* 2: RSS - live per run */
    nl = 0;
    bool unknown_any = false;
    for (size_t c = 0; c < n; c++) {
        const series_t *s = &runs[c].series;
        if (runs[c].sum.final_live == UNKNOWN) {
            unknown_any = true;
            continue;
        }
        uint64_t *own = xmalloc((s->n + 1) * sizeof *own);
        for (size_t i = 0; i < s->n; i++)
            own[i] = s->live[i] == UNKNOWN ? UNKNOWN
                     : s->rss[i] > s->live[i] ? s->rss[i] - s->live[i] : 0;
        labels[nlabels] = xasprintf("%s RSS &minus; live", esc[c]);
        lines[nl++] = (line_t){ labels[nlabels++], palette[c % NPAL], false, s->t_ms, own,
                                s->n, own };
        if (nlabels + 2 > sizeof labels / sizeof labels[0])
            break;
    }
    chart(f, "Memory left on the floor: RSS &minus; live",
          unknown_any ? "Resident memory the program is not using. Runs whose allocator reports "
                        "no live bytes are left out."
                      : "Resident memory the program is not using: free memory the allocator "
                        "holds, plus code, stacks and metadata.",
          lines, nl, tmax);
    for (size_t k = 0; k < nl; k++)
        free(lines[k].own);

    /* 3: free bytes the allocator holds, where it says */
    nl = 0;
    for (size_t c = 0; c < n; c++) {
        const series_t *s = &runs[c].series;
        bool any = false;
        for (size_t i = 0; i < s->n && !any; i++)
            any = s->free_held[i] != UNKNOWN;
        if (!any)
            continue;
        labels[nlabels] = xasprintf("%s free bytes held", esc[c]);
        lines[nl++] = (line_t){ labels[nlabels++], palette[c % NPAL], false, s->t_ms,
                                s->free_held, s->n, NULL };
        if (nlabels + 1 > sizeof labels / sizeof labels[0])
            break;
    }
    if (nl)
        chart(f, "Free bytes held by the allocator",
              "glibc: bytes in free chunks of all arenas (malloc_info). tidemalloc: free room in "
              "active pages plus freed pages not yet returned to the system.",
              lines, nl, tmax);
    arena_tables(f, runs, n);

    fputs("<footer>Written by <code>tide</code>, the tidemalloc tool. Timelines: ", f);
    for (size_t c = 0; c < n; c++) {
        fputs(c ? ", <code>" : "<code>", f);
        html_escape(f, runs[c].dir);
        fputs("/timeline.csv</code>", f);
    }
    fputs(".</footer>\n</body>\n</html>\n", f);
    for (size_t k = 0; k < nlabels; k++)
        free(labels[k]);
    for (size_t c = 0; c < n; c++)
        free(esc[c]);
    free(esc);
    free(lines);
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

static void report_usage(FILE *f)
{
    fputs("usage: tide report [-o FILE] [--title TEXT] [-q] DIR...\n"
          "\n"
          "Combines the output directories of `tide run` into one HTML page with a\n"
          "line per run in each chart, and prints a side-by-side table.\n"
          "\n"
          "  -o, --out FILE    the page to write (default: DIR/report.html for one\n"
          "                    DIR, ./tide-report.html for several)\n"
          "  -t, --title TEXT  the page's title\n"
          "  -q, --quiet       print no table\n",
          f);
}

int cmd_report(int argc, char **argv)
{
    const char *out = NULL, *title = NULL;
    bool quiet = false;
    const char **dirs = xcalloc((size_t)argc, sizeof *dirs);
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            report_usage(stdout);
            return 0;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0 || strcmp(a, "-t") == 0 ||
                   strcmp(a, "--title") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tide report: %s needs a value\n", a);
                return 2;
            }
            if (a[1] == 'o' || a[2] == 'o')
                out = argv[++i];
            else
                title = argv[++i];
        } else if (strncmp(a, "--out=", 6) == 0) {
            out = a + 6;
        } else if (strncmp(a, "--title=", 8) == 0) {
            title = a + 8;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "tide report: unknown option '%s'\n\n", a);
            report_usage(stderr);
            return 2;
        } else {
            dirs[n++] = a;
        }
    }
    if (n == 0) {
        report_usage(stderr);
        return 2;
    }
    run_data_t *runs = xcalloc(n, sizeof *runs);
    for (size_t i = 0; i < n; i++)
        if (run_load(dirs[i], &runs[i]) != 0) {
            while (i--)
                run_unload(&runs[i]);
            free(runs);
            free(dirs);
            return 1;
        }
    /* Two runs under the same allocator: tell them apart by directory. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (i != j && strcmp(runs[i].meta.allocator, runs[j].meta.allocator) == 0)
                runs[i].label = runs[i].dir;
    char *path = out ? xstrdup(out)
                 : n == 1 ? xasprintf("%s/report.html", dirs[0])
                          : xstrdup("tide-report.html");
    char *t = title ? xstrdup(title)
              : n == 1 ? xasprintf("tide run: %s", runs[0].meta.command)
                       : xstrdup("tide: memory over time");
    if (report_write_html(path, t, runs, n) != 0)
        return 1;
    if (!quiet) {
        report_print_table(stdout, runs, n);
        printf("report: %s\n", path);
    }
    for (size_t i = 0; i < n; i++)
        run_unload(&runs[i]);
    free(runs);
    free(dirs);
    free(path);
    free(t);
    return 0;
}
