/* tide report [-o FILE] [--title TEXT] [-q] DIR...
 *
 * Reads the timeline.csv and summary.txt that `tide run` left in each DIR,
 * prints a side-by-side table and writes one self-contained HTML page:
 * inline SVG charts (no script, no external resource) with a line per run.
 *
 * This file is the command line only; report.h names the file of each
 * piece. Invariant: the page is written before the table is printed, so a
 * table on the terminal means the page is there too. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

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
