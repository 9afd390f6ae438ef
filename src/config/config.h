/* config — options from TIDE_CONF="key:value,..." (or a program's own
 * `const char *tide_conf` symbol), documented in docs/CONFIG.md. */
#ifndef TIDE_CONFIG_H
#define TIDE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

typedef struct options {
    uint64_t decay_ms;       /* freed pages stay resident at most this long */
    size_t dirty_max;        /* ...and never more than this many bytes */
    bool background_thread;  /* purge while the program idles */
    uint64_t stats_interval_ms; /* write a stats line this often (0: never) */
    int64_t stats_fd;        /* ...to this file descriptor (default stderr) */
    bool stats_print;        /* print the statistics at exit */
    bool stats_socket;       /* serve statistics to `tide stats PID` */
    char stats_socket_path[256]; /* ...on this path (%p: the PID) instead of
                                    the abstract name tidemalloc.<pid> */
    char stats_file[256];    /* rewrite this file with Prometheus text on
                                each stats interval ("": never) */
    bool verbose;            /* one line at start: library, version, options */
    bool stats_sample;       /* sample allocations to estimate requested bytes */
    /* heap profiling (docs/PROFILING.md); jemalloc's names where it has one */
    bool prof;               /* record stacks of sampled allocations */
    uint64_t lg_prof_sample; /* mean sampling interval: 2^N bytes */
    char prof_prefix[256];   /* dump files: <prefix>.<pid>.<seq>.<trigger>.heap */
    int64_t lg_prof_interval; /* dump every 2^N bytes allocated (-1: never) */
    uint64_t prof_interval_ms; /* dump every N ms (0: never) */
    bool prof_gdump;         /* dump at each new high-water mark of live bytes */
    bool prof_final;         /* dump at exit */
    uint64_t prof_format;    /* PROF_FORMAT_* bits */
    bool prof_leak;          /* print the sampled allocations still live at exit */
    bool leak_check;         /* classify every block still allocated at exit */
    /* memory limits (docs/CONFIG.md, "Memory limits"): bytes, 0 for none,
       LIMIT_AUTO for the cgroup's */
    uint64_t limit_soft;     /* the decay tightens as the charge nears it */
    uint64_t limit_hard;     /* past it, allocations fail with ENOMEM */
    char cgroup_root[256];   /* where the cgroup filesystem is mounted */
    /* hardened build only (src/hardened/guarded.c) */
    uint64_t secure_sample;  /* one allocation in this many is guarded (0: none) */
    uint64_t secure_slots;   /* guarded slots: live plus recently freed */
} options_t;

#define LIMIT_AUTO UINT64_MAX

#define PROF_FORMAT_HEAP_V2 1u
#define PROF_FORMAT_PPROF 2u
#define PROF_FORMAT_FOLDED 4u

extern options_t options;

/* tide_config_set may change options while other threads read them: read
 * a field that can change at run time with OPT(field) (a relaxed atomic
 * load, a plain move on x86-64), and publish changes with config_publish. */
#define OPT(field) __atomic_load_n(&options.field, __ATOMIC_RELAXED)
/* Store every field of *next into `options`, each one atomically. */
void config_publish(const options_t *next);
/* Copy a string option (prof_prefix, stats_socket_path, stats_file: a
 * string cannot be read atomically, so under a lock). */
void config_string(const char *field, char *out, size_t cap);
#define config_prefix(out, cap) config_string(options.prof_prefix, out, cap)
/* Append every option as key:value, comma-separated, to t (no malloc). */
struct textbuf;
void config_describe(struct textbuf *t);

/* Parse the environment once; bad options are reported and ignored. */
void config_init(void);
/* Parse one "key:value,key:value" string into *o; reports each bad option
 * to stderr (prefixed with `source`). Returns the number of bad options. */
int config_parse(options_t *o, const char *text, const char *source);
/* Set one option in *o; NULL on success, else why the key or value is bad. */
const char *config_set_one(options_t *o, const char *key, const char *value);

#pragma GCC visibility pop

#endif
