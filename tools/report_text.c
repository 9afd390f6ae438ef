/* report_text — a run's figures in words: the phrases the HTML tables and
 * the terminal table share, and that table, `tide report`'s output.
 *
 * Invariant: a figure is written the same way on the page and in the
 * terminal, so the two can be read side by side. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

const char *pct_str(const summary_t *s, char *buf, size_t size)
{
    char b[32];
    if (s->not_live == UNKNOWN)
        snprintf(buf, size, "unknown");
    else
        snprintf(buf, size, "%.0f%% (%s)", s->not_live_pct, fmt_bytes(s->not_live, b, sizeof b));
    return buf;
}

const char *peak_str(const summary_t *s, char *buf, size_t size)
{
    char b[32];
    if (!s->samples)
        snprintf(buf, size, "no samples");
    else
        snprintf(buf, size, "%s at %.1f s", fmt_bytes(s->peak_rss, b, sizeof b),
                 (double)s->peak_t_ms / 1000.0);
    return buf;
}

static void print_diagnoses(FILE *f, const run_data_t *runs, size_t n)
{
    fputs("diagnosis:\n", f);
    size_t lw = 0;
    for (size_t c = 0; c < n; c++)
        if (strlen(runs[c].label) > lw)
            lw = strlen(runs[c].label);
    for (size_t c = 0; c < n; c++)
        fprintf(f, "  %s:%*s %s\n", runs[c].label, (int)(lw - strlen(runs[c].label)), "",
                runs[c].sum.diagnosis);
}

void report_print_table(FILE *f, run_data_t *runs, size_t n)
{
    enum { ROWS = 7 };
    static const char *const names[ROWS] = {
        "", "peak RSS", "final RSS", "final live", "not live", "exit", "samples",
    };
    char *cell[ROWS][16];
    if (n > 16)
        n = 16; /* what cell[][] holds: later runs are left out of the table */
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
    print_diagnoses(f, runs, n);
}

const char *limit_str(const summary_t *s, char *buf, size_t size)
{
    char soft[32], hard[32];
    if (s->limit_soft == UNKNOWN && s->limit_hard == UNKNOWN) {
        snprintf(buf, size, "none reported");
        return buf;
    }
    snprintf(buf, size, "soft %s, hard %s: peak RSS came to %.0f%% of the %s limit",
             s->limit_soft != UNKNOWN ? fmt_bytes(s->limit_soft, soft, sizeof soft) : "none",
             s->limit_hard != UNKNOWN ? fmt_bytes(s->limit_hard, hard, sizeof hard) : "none",
             s->limit_peak_pct, s->limit_soft != UNKNOWN ? "soft" : "hard");
    return buf;
}

const char *moment_str(const summary_t *s, bool steady, char *buf, size_t size)
{
    if (!s->has_moments)
        snprintf(buf, size, "unknown (no live bytes)");
    else if (steady)
        snprintf(buf, size, "%.0f%% not live (%.1f-%.1f s, live within 10%% of its peak, the median of %zu "
                            "samples at %.1f s): %s",
                 s->steady_not_live_pct, (double)s->steady_from_ms / 1000, (double)s->steady_to_ms / 1000,
                 s->steady_samples, (double)s->steady_t_ms / 1000, s->steady_diagnosis);
    else
        snprintf(buf, size, "%.0f%% not live (at %.1f s): %s", s->peak_not_live_pct, (double)s->moment_peak_t_ms / 1000,
                 s->peak_diagnosis);
    return buf;
}
