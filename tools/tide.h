/* tide — the tidemalloc command-line tool. Shared declarations.
 *
 *   tide.c       command dispatch, help
 *   run*.c       `tide run`: options, allocator, launch, sample, summarise
 *                (run.h names each piece)
 *   proctree.c   the process tree below tide, and smaps_rollup
 *   statsline.c  allocator statistics lines (tide-stats, glibc-stats, app-stats)
 *   timeline.c   timeline.csv and summary.txt, peak/final figures, diagnosis
 *   report*.c    `tide report` and the self-contained report.html (report.h)
 *   util.c       small helpers
 */
#ifndef TIDE_TOOL_H
#define TIDE_TOOL_H

#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Exit status of `tide run` when tide itself fails (bad usage, missing
 * library, unwritable output): distinct from the command's own statuses,
 * as `env` and `timeout` do. */
#define TIDE_EXIT_OWN 125

#define UNKNOWN UINT64_MAX /* a figure that was not reported */

/* ---- util.c ---- */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "512.0 MiB", "3.2 GiB", "812 KiB", "17 B" into buf (>= 32 bytes). */
const char *fmt_bytes(uint64_t bytes, char *buf, size_t size);
uint64_t mono_ms(void);
int mkdir_p(const char *path);             /* 0 or -1 with errno */
char *exe_dir(void);                       /* directory of /proc/self/exe */
bool parse_u64(const char *s, size_t n, uint64_t *out); /* decimal, whole string */
/* Decimal bytes with an optional K, M or G (powers of 1024), whole string. */
bool parse_size(const char *s, uint64_t *out);
/* Shell-quote argv into one line, for display and summary.txt. */
char *join_command(char *const argv[]);
void html_escape(FILE *f, const char *s);

/* ---- proctree.c ---- */
typedef struct mem {
    uint64_t rss, pss, anon, lazyfree; /* bytes, from smaps_rollup */
} mem_t;

/* All live descendants of `root` (not root itself), appended to *pids. */
size_t proctree_list(pid_t root, pid_t **pids, size_t *cap);
/* 0 on success; -1 when the process is gone, a zombie or unreadable. */
int smaps_read(pid_t pid, mem_t *out);

/* ---- statsline.c ---- */
enum stats_kind { STATS_NONE = 0, STATS_TIDE, STATS_GLIBC, STATS_APP };

typedef struct proc_stats {
    pid_t pid;
    /* From the allocator (tide-stats or glibc-stats), if any. */
    enum stats_kind alloc_kind;
    uint64_t alloc_t_ms;
    uint64_t live;      /* tide: live=; glibc: system - free + mmap */
    uint64_t free_held; /* free bytes the allocator holds (see README) */
    uint64_t tide_active, tide_dirty, tide_mapped, tide_metadata, tide_purged;
    uint64_t tide_limit_soft, tide_limit_hard; /* UNKNOWN: not reported; 0: none */
    uint64_t glibc_arenas, glibc_free, glibc_system, glibc_mmap;
    char *glibc_arena_free; /* "f0;f1;..." or NULL */
    /* From the program itself (app-stats live=), if any. */
    bool has_app;
    uint64_t app_live;
} proc_stats_t;

/* Recent lines of one process: a sample is matched to the lines nearest in
 * time, so live bytes do not lag RSS by up to an interval. */
#define STATS_HISTORY 8
typedef struct proc_hist {
    pid_t pid;
    proc_stats_t line[STATS_HISTORY]; /* allocator lines, oldest first */
    size_t nlines;
    bool has_app; /* the latest app-stats line */
    uint64_t app_live;
} proc_hist_t;

typedef struct stats_table {
    proc_hist_t *v;
    size_t n, cap;
    char buf[8192]; /* an incomplete line carried between reads */
    size_t len;
    bool discarding; /* skipping the rest of an over-long line */
    uint64_t lines, bad_lines;
} stats_table_t;

/* Parse one line (no newline); 0 if accepted, -1 if not a stats line. */
int stats_parse_line(const char *line, size_t len, proc_stats_t *out);
/* Feed raw bytes read from the stats pipe at time now_ms (monotonic);
 * complete lines are applied. Lines without t_ms= get now_ms. */
void stats_feed(stats_table_t *t, const char *data, size_t n, uint64_t now_ms);
proc_hist_t *stats_find(stats_table_t *t, pid_t pid);
/* The allocator's figures for pid at monotonic time t_ms, into *out: live
 * and free bytes interpolated between the lines either side of t_ms, the
 * rest from the nearer line. Only out->alloc_kind == STATS_NONE if there is
 * no usable line. out->glibc_arena_free points into the table. */
void stats_at(stats_table_t *t, pid_t pid, uint64_t t_ms, uint64_t max_ahead_ms,
              proc_stats_t *out);
/* Drop entries whose pid is not in pids[0..n). */
void stats_prune(stats_table_t *t, const pid_t *pids, size_t n);
void stats_free(stats_table_t *t);

/* ---- timeline.c ---- */
typedef struct sample {
    uint64_t t_ms;
    unsigned procs, reporting;
    uint64_t rss, pss, anon, lazyfree;
    uint64_t live;           /* UNKNOWN when no process reports */
    uint64_t unreported_rss; /* RSS of processes that report no live bytes */
    uint64_t free_held;      /* UNKNOWN unless the allocator reports it */
    uint64_t tide_active, tide_dirty, tide_mapped, tide_metadata, tide_purged;
    uint64_t glibc_arenas, glibc_free, glibc_system, glibc_mmap;
    const char *glibc_arena_free; /* may be NULL */
    uint64_t limit_soft, limit_hard; /* the largest any process has, UNKNOWN: none */
} sample_t;

void csv_write_header(FILE *f);
void csv_write_row(FILE *f, const sample_t *s);

/* A timeline read back from timeline.csv: what the summary and the report
 * need. Unknown values are UNKNOWN. */
typedef struct series {
    size_t n;
    uint64_t *t_ms, *rss, *live, *unreported_rss, *free_held, *tide_dirty;
    uint64_t *limit_soft, *limit_hard; /* UNKNOWN where no limit */
    unsigned *procs, *reporting;
    char *final_arena_free; /* glibc_arena_free of the last row that has one */
} series_t;

int series_read(const char *csv_path, series_t *s, char *err, size_t errsize);
void series_free(series_t *s);

/* What summary.txt records about a run (key=value lines). */
typedef struct run_meta {
    char *allocator; /* tide, glibc, jemalloc, ..., or a path */
    char *library;   /* preloaded file, "" for none */
    char *command;
    char *exit_desc; /* "exited with status 3", "killed by signal 9 (Killed)" */
    int exit_status; /* what tide run returned */
    uint64_t interval_ms, duration_ms;
    uint64_t hwm;    /* kernel high-water mark of the largest process, or UNKNOWN */
    char *frag_note; /* with --prof: who pins the free space (run_prof.c), or NULL */
} run_meta_t;

int meta_write(const char *path, const run_meta_t *m);
int meta_read(const char *path, run_meta_t *m);
void meta_free(run_meta_t *m);

typedef struct summary {
    size_t samples;
    uint64_t peak_rss, peak_t_ms; /* sampled peak of the summed RSS */
    uint64_t hwm;                 /* from run_meta, may be UNKNOWN */
    uint64_t final_rss, final_live; /* final_live may be UNKNOWN */
    uint64_t not_live;            /* final_rss - final_live, or UNKNOWN */
    double not_live_pct;          /* share of final RSS, or -1 */
    uint64_t final_unreported_rss;
    unsigned final_procs, final_reporting;
    char diagnosis[512];          /* at exit: the last sample */
    /* The same rules at two more moments (live bytes known): the sample of
     * peak RSS, and the steady state, from the first sample where live
     * bytes reach 90% of their peak to the last one at 90% or more (its
     * median sample by not-live share). A server's last sample falls in
     * its shutdown, when live bytes drop before RSS does. */
    bool has_moments;
    double peak_not_live_pct, steady_not_live_pct;
    uint64_t moment_peak_t_ms, steady_from_ms, steady_to_ms, steady_t_ms;
    size_t steady_samples;
    char peak_diagnosis[512], steady_diagnosis[512];
    /* The memory limits the process reported (the largest seen; UNKNOWN:
     * none), and how close RSS came: peak RSS over the lower limit. */
    uint64_t limit_soft, limit_hard;
    double limit_peak_pct;
} summary_t;

void summarize(const series_t *s, const run_meta_t *m, summary_t *out);

/* ---- report_load.c, report_html.c, report_text.c ---- */
typedef struct run_data {
    const char *dir;
    const char *label;
    run_meta_t meta;
    series_t series;
    summary_t sum;
    /* DIR/sites.csv (tide run --prof): the top sites' live bytes over time */
    size_t nsites;
    struct site_series {
        char *name;
        uint64_t *t, *live;
        size_t n;
    } sites[8];
} run_data_t;

/* Load DIR/timeline.csv and DIR/summary.txt; 0 or -1 with a message. */
int run_load(const char *dir, run_data_t *r);
void run_unload(run_data_t *r);
int report_write_html(const char *path, const char *title, run_data_t *runs, size_t n);
void report_print_table(FILE *f, run_data_t *runs, size_t n);

/* ---- commands ---- */
/* Connect to a running tidemalloc process's socket ("tidemalloc.<pid>",
 * served when it runs with TIDE_CONF=stats_socket:true) and send one
 * request line. Returns the connected socket, or -1 after printing why
 * (prefixed with cmd; `hint` says how to start the process) with the exit
 * status to use in *status (2: the pid argument is bad, 1: otherwise). */
int socket_request(const char *cmd, const char *pid_arg, const char *request, const char *hint, int *status);

int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif
