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

/* DIR/sites.csv, if there is one: rows "t_ms,\"site\",live,pinned". */
static void sites_read(const char *dir, run_data_t *r)
{
    char *path = xasprintf("%s/sites.csv", dir);
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        unsigned long long t, live, pinned;
        char name[512];
        if (sscanf(line, "%llu,\"%511[^\"]\",%llu,%llu", &t, name, &live, &pinned) != 4)
            continue;
        size_t k = 0;
        while (k < r->nsites && strcmp(r->sites[k].name, name) != 0)
            k++;
        if (k == r->nsites) {
            if (k == sizeof r->sites / sizeof r->sites[0])
                continue;
            r->sites[r->nsites++] = (struct site_series){ xstrdup(name), NULL, NULL, 0 };
        }
        struct site_series *s = &r->sites[k];
        s->t = xrealloc(s->t, (s->n + 1) * sizeof *s->t);
        s->live = xrealloc(s->live, (s->n + 1) * sizeof *s->live);
        s->t[s->n] = t;
        s->live[s->n++] = live;
    }
    free(line);
    fclose(f);
}

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
        sites_read(dir, r);
    }
    free(csv);
    free(sum);
    return rc;
}

void run_unload(run_data_t *r)
{
    series_free(&r->series);
    meta_free(&r->meta);
    for (size_t k = 0; k < r->nsites; k++) {
        free(r->sites[k].name);
        free(r->sites[k].t);
        free(r->sites[k].live);
    }
    r->nsites = 0;
}
