/* report_load — a `tide run` output directory read back: timeline.csv,
 * summary.txt and the summary computed from them.
 *
 * `tide run` itself reports through here too, from the files it has just
 * written, so its printed summary is the one `tide report` would give.
 * Invariant: a loaded run's allocator, command and exit description are
 * never NULL (an old or hand-edited summary.txt may lack them), so the
 * pages and tables need no checks of their own. */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
