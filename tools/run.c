/* tide run [--allocator A] [--interval-ms N] [--out DIR] [--quiet] -- CMD ARGS...
 *
 * Starts CMD with the chosen allocator preloaded and a pipe on which the
 * allocator (tidemalloc's stats_fd, or the glibc shim) writes statistics
 * lines; every N ms sums smaps_rollup over CMD's process tree and the latest
 * statistics line of each process into a row of DIR/timeline.csv; at the end
 * writes DIR/summary.txt and DIR/report.html and prints a summary. Exits
 * with CMD's status (128+N if killed by signal N; 126/127 if it could not
 * be run; 125 if tide itself failed).
 *
 * This file only puts the steps in order (run.h names the file of each).
 * The order matters: the options, the allocator and --out are all checked
 * before CMD starts, so a mistyped invocation never runs the command. */
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool bad_preload_path(const char *p)
{
    return strpbrk(p, " :\t\n") != NULL;
}

/* The allocator's library, checked for what LD_PRELOAD can hold. */
static int choose_allocator(const char *name, alloc_choice_t *a)
{
    char err[PATH_MAX + 256];
    if (resolve_allocator(name, a, err, sizeof err) != 0) {
        fprintf(stderr, "tide run: %s\n", err);
        return -1;
    }
    if (a->library && bad_preload_path(a->library)) {
        fprintf(stderr, "tide run: %s: LD_PRELOAD cannot hold a path with spaces or colons\n",
                a->library);
        return -1;
    }
    return 0;
}

/* DIR/timeline.csv, created with its header; NULL after saying why. */
static FILE *open_timeline(const char *out, const char *csv_path)
{
    if (mkdir_p(out) != 0) {
        fprintf(stderr, "tide run: cannot create %s: %s\n", out, strerror(errno));
        return NULL;
    }
    FILE *csv = fopen(csv_path, "we");
    if (!csv) {
        fprintf(stderr, "tide run: cannot write %s: %s\n", csv_path, strerror(errno));
        return NULL;
    }
    csv_write_header(csv);
    fflush(csv);
    return csv;
}

int cmd_run(int argc, char **argv)
{
    run_options_t opt;
    int rc = run_parse_options(argc, argv, &opt);
    if (rc != RUN_OPTIONS_OK)
        return rc;
    if (opt.list_allocators) {
        allocator_table_print(stdout);
        return 0;
    }
    alloc_choice_t alloc;
    if (choose_allocator(opt.alloc_name, &alloc) != 0)
        return TIDE_EXIT_OWN;
    char *csv_path = xasprintf("%s/timeline.csv", opt.out);
    FILE *csv = open_timeline(opt.out, csv_path);
    if (!csv)
        return TIDE_EXIT_OWN;

    const char *conf = getenv("TIDE_CONF");
    if (conf && strstr(conf, "prof:true"))
        opt.prof = true;
    if (opt.prof && alloc.kind == STATS_TIDE)
        run_prof_setenv(opt.out, opt.interval_ms);
    else
        opt.prof = false;
    child_t child;
    rc = child_start(opt.cmd, &alloc, opt.interval_ms, &child);
    if (rc != 0) {
        fclose(csv);
        return rc;
    }
    sampler_t sampler;
    sampler_init(&sampler, csv, child.stats_rfd, child.start_ms, opt.interval_ms);
    run_result_t result = { .csv_path = csv_path };
    child_watch(&child, &sampler, opt.interval_ms, &result.wait_status, &result.ru);
    result.duration_ms = mono_ms() - child.start_ms;
    sampler_finish(&sampler);
    close(child.stats_rfd);
    if (fclose(csv) != 0) {
        fprintf(stderr, "tide run: writing %s: %s\n", csv_path, strerror(errno));
        return TIDE_EXIT_OWN;
    }
    sigprocmask(SIG_SETMASK, &child.orig_mask, NULL);

    rc = run_report(&opt, &alloc, &result);
    sampler_free(&sampler);
    free(csv_path);
    free(alloc.library);
    return rc;
}
