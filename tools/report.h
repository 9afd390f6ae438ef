/* `tide report` and the report.html `tide run` writes, in pieces:
 *
 *   report.c        the `tide report` command line
 *   report_load.c   a run directory read back (run_load, in tide.h)
 *   report_text.c   a run's figures in words, and the side-by-side table
 *   report_html.c   the page: tables, the charts it shows, the footer
 *   report_svg.c    one inline SVG chart from a set of lines
 *
 * Only report*.c include this; what `tide run` uses is in tide.h. */
#ifndef TIDE_REPORT_H
#define TIDE_REPORT_H

#include "tide.h"

/* ---- report_text.c ---- */
/* "23% (1.5 MiB)", or "unknown" without live bytes. */
const char *pct_str(const summary_t *s, char *buf, size_t size);
/* The verdict at peak RSS (steady: over the steady state), with when it
 * was taken, or "unknown" without live bytes. */
const char *moment_str(const summary_t *s, bool steady, char *buf, size_t size);
/* "40.0 MiB at 1.2 s", or "no samples". */
const char *peak_str(const summary_t *s, char *buf, size_t size);
/* The memory limits of a run and how close its peak RSS came, or "none reported". */
const char *limit_str(const summary_t *s, char *buf, size_t size);

/* ---- report_svg.c ---- */
/* The colour of the c-th run, the same in every chart of the page. */
const char *run_color(size_t c);

typedef struct line {
    const char *label, *color; /* label: HTML, already escaped */
    bool dashed;
    const uint64_t *t, *v; /* v[i] == UNKNOWN breaks the line */
    size_t n;
    /* a derived series (RSS - live) is built into own[] */
    uint64_t *own;
} line_t;

/* A <section> with the title, the note (or none), a legend and the chart
 * of the lines over 0..tmax_ms; "No data" when no line has a point. */
void chart(FILE *f, const char *title, const char *note, line_t *lines, size_t nl,
           uint64_t tmax_ms);

#endif
