/* run_summary — what `tide run` leaves and says once the command has ended:
 * summary.txt, report.html and the verdict printed on stderr.
 *
 * Invariant: the printed figures are the report's. Both come from reading
 * timeline.csv and summary.txt back (run_load), not from the sampler's
 * memory, so the lines printed here and `tide report` on the same directory
 * never disagree. */
#include "run.h"
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

/* The status tide run exits with, mirroring the command's, and its words
 * for summary.txt. */
static int describe_exit(int wait_status, run_meta_t *meta)
{
    int rc;
    if (WIFEXITED(wait_status)) {
        rc = WEXITSTATUS(wait_status);
        meta->exit_desc = xasprintf("exited with status %d", rc);
    } else if (WIFSIGNALED(wait_status)) {
        rc = 128 + WTERMSIG(wait_status);
        meta->exit_desc = xasprintf("killed by signal %d (%s)", WTERMSIG(wait_status),
                                    strsignal(WTERMSIG(wait_status)));
    } else {
        rc = TIDE_EXIT_OWN;
        meta->exit_desc = xstrdup("ended in an unknown way");
    }
    meta->exit_status = rc;
    return rc;
}

static uint64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void print_summary(const run_meta_t *meta, const summary_t *s, const char *csv_path,
                          const char *html)
{
    char b1[32], b2[32];
    fprintf(stderr, "\ntide run: %s under %s: %s after %.1f s, %zu samples every %llu ms\n",
            meta->command, meta->allocator, meta->exit_desc, (double)meta->duration_ms / 1000.0,
            s->samples, (unsigned long long)meta->interval_ms);
    if (s->samples) {
        fprintf(stderr, "  peak RSS     %s (at %.1f s)", fmt_bytes(s->peak_rss, b1, sizeof b1),
                (double)s->peak_t_ms / 1000.0);
        /* Between samples RSS can peak unseen; the kernel's high-water mark
         * says so when it is clearly above the sampled peak. */
        if (s->hwm != UNKNOWN && s->hwm > s->peak_rss + s->peak_rss / 20)
            fprintf(stderr, "; the largest process peaked at %s between samples",
                    fmt_bytes(s->hwm, b2, sizeof b2));
        fprintf(stderr, "\n  final RSS    %s\n", fmt_bytes(s->final_rss, b1, sizeof b1));
        if (s->final_live != UNKNOWN) {
            fprintf(stderr, "  final live   %s\n", fmt_bytes(s->final_live, b1, sizeof b1));
            fprintf(stderr, "  not live     %.0f%% of RSS (%s)\n", s->not_live_pct,
                    fmt_bytes(s->not_live, b1, sizeof b1));
        } else {
            fprintf(stderr, "  final live   unknown under %s\n", meta->allocator);
        }
    }
    char b[1024];
    fprintf(stderr, "  at exit      %s (the last sample)\n", s->diagnosis);
    if (s->has_moments) {
        fprintf(stderr, "  at peak RSS  %s\n", moment_str(s, false, b, sizeof b));
        fprintf(stderr, "  steady state %s\n", moment_str(s, true, b, sizeof b));
    }
    if (s->limit_soft != UNKNOWN || s->limit_hard != UNKNOWN)
        fprintf(stderr, "  limit        %s\n", limit_str(s, b, sizeof b));
    if (meta->frag_note)
        fprintf(stderr, "  pinned       %s\n", meta->frag_note);
    fprintf(stderr, "  wrote        %s, %s\n", csv_path, html);
}

int run_report(const run_options_t *o, const alloc_choice_t *a, const run_result_t *r)
{
    run_meta_t meta;
    memset(&meta, 0, sizeof meta);
    meta.allocator = (char *)a->name;
    meta.library = a->library ? a->library : (char *)"";
    meta.command = join_command(o->cmd);
    meta.interval_ms = o->interval_ms;
    meta.duration_ms = r->duration_ms;
    meta.hwm = r->ru.ru_maxrss > 0 ? (uint64_t)r->ru.ru_maxrss * 1024u : UNKNOWN;
    int rc = describe_exit(r->wait_status, &meta);
    if (o->prof)
        run_prof_report(o->out, wall_ms() - r->duration_ms, &meta.frag_note);
    char *meta_path = xasprintf("%s/summary.txt", o->out);
    if (meta_write(meta_path, &meta) != 0) {
        fprintf(stderr, "tide run: cannot write %s: %s\n", meta_path, strerror(errno));
        return TIDE_EXIT_OWN;
    }

    run_data_t run;
    if (run_load(o->out, &run) != 0)
        return TIDE_EXIT_OWN;
    char *html = xasprintf("%s/report.html", o->out);
    char *title = xasprintf("tide run: %s", meta.command);
    if (report_write_html(html, title, &run, 1) != 0)
        return TIDE_EXIT_OWN;
    if (!o->quiet)
        print_summary(&meta, &run.sum, r->csv_path, html);
    run_unload(&run);
    free(meta.command);
    free(meta.exit_desc);
    free(meta.frag_note);
    free(meta_path);
    free(html);
    free(title);
    return rc;
}
