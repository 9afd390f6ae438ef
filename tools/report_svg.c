/* report_svg — one chart of report.html: a legend and an inline SVG plot of
 * a few lines over time, in bytes.
 *
 * Owns the geometry only (axes, ticks, units, points); which lines a chart
 * has and what they mean is report_html.c's. Invariants: the output is
 * self-contained SVG with no script and no external resource, its only
 * text the caller's titles, notes and labels, already HTML; and a line is
 * drawn with at most two
 * points per pixel column (the lowest and the highest there, in time
 * order), so a long run at a short interval stays a small page that still
 * shows every spike. */
#include "report.h"

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

const char *run_color(size_t c)
{
    return palette[c % NPAL];
}

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

static void legend(FILE *f, const line_t *lines, size_t nl)
{
    fputs("<ul class=\"legend\">", f);
    for (size_t k = 0; k < nl; k++)
        fprintf(f, "<li><svg width=\"34\" height=\"10\" aria-hidden=\"true\"><line x1=\"1\" "
                   "y1=\"5\" x2=\"33\" y2=\"5\" stroke=\"%s\" stroke-width=\"3\"%s/></svg>%s</li>",
                lines[k].color, lines[k].dashed ? " stroke-dasharray=\"7 5\"" : "",
                lines[k].label);
    fputs("</ul>\n", f);
}

/* The y axis in the unit that suits the largest value. */
typedef struct y_axis {
    const char *unit;
    double div;         /* bytes per unit */
    double step, top;   /* in units */
} y_axis_t;

static y_axis_t y_axis_for(uint64_t vmax)
{
    y_axis_t y = { "KiB", 1024.0, 0, 0 };
    if (vmax >= ((uint64_t)2 << 30)) {
        y.unit = "GiB";
        y.div = (double)((uint64_t)1 << 30);
    } else if (vmax >= ((uint64_t)2 << 20)) {
        y.unit = "MiB";
        y.div = (double)((uint64_t)1 << 20);
    }
    double vm = (double)vmax / y.div;
    y.step = nice_step(vm > 0 ? vm : 1, 5);
    y.top = y.step;
    while (y.top < vm * 1.02)
        y.top += y.step;
    return y;
}

/* Grid lines with their labels, and the axes. */
static void grid(FILE *f, const y_axis_t *y, double tsec)
{
    double xstep = nice_step(tsec, 10);
    double pw = CW - ML - MR, ph = CH - MT - MB;
    char buf[32];
    for (double v = 0; v <= y->top + y->step / 1000; v += y->step) {
        double py = MT + ph * (1 - v / y->top);
        fmt_num(buf, sizeof buf, v);
        fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                   "<text class=\"yl\" x=\"%d\" y=\"%.1f\">%s %s</text>\n",
                ML, py, CW - MR, py, ML - 6, py + 4, buf, y->unit);
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
}

void chart(FILE *f, const char *title, const char *note, line_t *lines, size_t nl,
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
    legend(f, lines, nl);
    if (points == 0) {
        fputs("<p class=\"empty\">No data for this chart.</p>\n</section>\n", f);
        return;
    }

    y_axis_t y = y_axis_for(vmax);
    double tsec = (double)(tmax_ms ? tmax_ms : 1) / 1000.0;
    fprintf(f, "<svg class=\"plot\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">\n", CW,
            CH, title);
    grid(f, &y, tsec);
    for (size_t k = 0; k < nl; k++)
        emit_line(f, &lines[k], tsec * 1000.0, y.top * y.div);
    fputs("</svg>\n</section>\n", f);
}
