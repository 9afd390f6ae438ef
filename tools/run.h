/* `tide run`, in the pieces cmd_run (run.c) strings together:
 *
 *   run_options.c  the command line and the usage text
 *   run_alloc.c    which library an allocator name preloads
 *   run_child.c    starting the command, its signals, waiting for it
 *   run_sample.c   sampling the process tree into timeline.csv
 *   run_summary.c  summary.txt, report.html and the summary printed at the end
 *
 * Only run*.c include this; what other commands share is in tide.h. */
#ifndef TIDE_RUN_H
#define TIDE_RUN_H

#include "tide.h"

#include <signal.h>
#include <sys/resource.h>

/* ---- run_options.c ---- */
#define RUN_DEFAULT_ALLOCATOR "tide"

typedef struct run_options {
    const char *alloc_name; /* as given: a name from the table, none or a path */
    const char *out;        /* the output directory */
    uint64_t interval_ms;   /* 1 to 3600000 */
    bool quiet;
    bool prof;            /* --prof, or prof:true in TIDE_CONF: heap profiles into OUT/prof */
    bool list_allocators; /* print the allocator table instead of running */
    char **cmd;           /* NULL-terminated, at least one word unless listing */
} run_options_t;

/* What run_parse_options returns when cmd_run is to go on. */
#define RUN_OPTIONS_OK (-1)

/* RUN_OPTIONS_OK, or the status to exit with at once (help: 0; bad usage:
 * TIDE_EXIT_OWN, after saying why on stderr). */
int run_parse_options(int argc, char **argv, run_options_t *o);

/* ---- run_prof.c ---- */
/* Append the profiling options (dumps into OUT/prof) to TIDE_CONF. */
void run_prof_setenv(const char *out, uint64_t interval_ms);
/* Read OUT/prof's dumps: write OUT/sites.csv and set *note (malloc'ed, or
 * NULL) to the fragmentation sentence. 0, or -1 if there was nothing. */
int run_prof_report(const char *out, uint64_t start_unix_ms, char **note);

/* ---- run_alloc.c ---- */
typedef struct alloc_choice {
    const char *name;     /* as given */
    char *library;        /* to preload, or NULL */
    enum stats_kind kind; /* statistics lines to expect */
} alloc_choice_t;

/* 0, or -1 with why in err. */
int resolve_allocator(const char *name, alloc_choice_t *a, char *err, size_t errsize);
/* The table's names, "tide, glibc, ..." with `default_mark` after the
 * default's name, into f. */
void allocator_names(FILE *f, const char *default_mark);
/* The table as tools/allocators.tsv has it, one tab-separated row a line. */
void allocator_table_print(FILE *f);

/* ---- run_sample.c ---- */
/* A process's memory, read at t (monotonic ms). */
typedef struct proc_mem {
    pid_t pid;
    mem_t mem;
    uint64_t t;
} proc_mem_t;

/* A sample taken and not yet written: its processes' memory. */
typedef struct pending {
    uint64_t t; /* monotonic ms of the sample */
    proc_mem_t *procs;
    size_t n;
} pending_t;

typedef struct sampler {
    int stats_rfd; /* the stats pipe, non-blocking */
    stats_table_t stats;
    uint64_t t0, interval;
    pid_t *pids;
    size_t pids_cap;
    pending_t *queue; /* samples taken, not yet written, oldest first */
    size_t nqueue, queue_cap;
    uint64_t max_delay; /* how long a sample may wait for its lines */
    pid_t *keep;        /* scratch: pids whose statistics are still needed */
    size_t keep_cap;
    FILE *csv;
    size_t samples;
} sampler_t;

/* Sample rows into csv (its header already written), reading statistics
 * lines from stats_rfd; times relative to t0. */
void sampler_init(sampler_t *c, FILE *csv, int stats_rfd, uint64_t t0, uint64_t interval);
/* Read whatever the stats pipe holds; false once every writer has gone. */
bool sampler_drain(sampler_t *c);
/* Take the sample due at `now`, and write the earlier ones that are ready. */
void sampler_take(sampler_t *c, uint64_t now);
/* The command has ended: read the last lines, write every sample left. */
void sampler_finish(sampler_t *c);
void sampler_free(sampler_t *c);

/* ---- run_child.c ---- */
typedef struct child {
    pid_t pid;
    int stats_rfd;      /* our end of the stats pipe */
    uint64_t start_ms;  /* monotonic ms just before the fork */
    sigset_t orig_mask; /* tide's signal mask before it blocked its own */
} child_t;

/* Start cmd with the allocator's library preloaded and the stats pipe's
 * write end in $TIDE_STATS_FD. 0; or the status to exit with (after saying
 * why on stderr): 127 or 126 if cmd could not be run, TIDE_EXIT_OWN if tide
 * could not start it. */
int child_start(char **cmd, const alloc_choice_t *a, uint64_t interval, child_t *c);
/* Sample every interval until the command ends; its wait status and
 * resource usage into *status and *ru. tide's signals stay blocked outside
 * the wait (the caller gives c->orig_mask back when it is done). */
void child_watch(child_t *c, sampler_t *s, uint64_t interval, int *status, struct rusage *ru);

/* ---- run_summary.c ---- */
/* What is known once the command has ended. */
typedef struct run_result {
    int wait_status;
    struct rusage ru;
    uint64_t duration_ms;
    const char *csv_path; /* timeline.csv, complete */
} run_result_t;

/* Write summary.txt and report.html, print the summary unless quiet; the
 * status tide run exits with (the command's, or TIDE_EXIT_OWN). */
int run_report(const run_options_t *o, const alloc_choice_t *a, const run_result_t *r);

#endif
