/* tide prof — reading, symbolizing and presenting heap profiles.
 *
 *   prof_read.c   heap_v2 text (jemalloc's format) and gzipped pprof
 *                 profile.proto into one model; un-sampling
 *   symbolize.c   pc -> function and file:line through the profile's
 *                 mappings and addr2line
 *   flame.c       the SVG flame graph
 *   prof.c        `tide prof top|flame|diff|folded|dump`
 */
#ifndef TIDE_PROF_TOOL_H
#define TIDE_PROF_TOOL_H

#include "tide.h"

/* One stack: pc[0] is the innermost frame (the allocation site). */
typedef struct pstack {
    uint64_t *pc;
    uint32_t depth;
    /* Estimated totals (un-sampled). */
    double live_objs, live_bytes, accum_objs, accum_bytes;
    /* Free bytes in partly used slabs its live blocks pin (tidemalloc's
     * profiles only; an estimate already). */
    double pinned;
} pstack_t;

/* tidemalloc's fragmentation view of a profile: heap_v2's "tide_" lines or
 * the same lines as pprof comments (docs/PROFILING.md). */
#define PFRAG_MAX 64
typedef struct pfrag_row {
    uint64_t key; /* block size, or occupancy tenth */
    double pinned, free;
} pfrag_row_t;

typedef struct pfrag {
    bool present;
    double pinned, free; /* estimate over all stacks; the allocator's count */
    pfrag_row_t cls[PFRAG_MAX], bin[PFRAG_MAX];
    size_t ncls, nbin;
    bool has_start, mid_run;
    uint64_t started_unix_ms, live_at_start, unattributed;
} pfrag_t;

typedef struct pmap {
    uint64_t start, limit, offset;
    char *path; /* NULL for anonymous and [pseudo] mappings */
} pmap_t;

typedef struct profile {
    char *file;         /* as named on the command line */
    const char *format; /* "heap_v2" or "pprof" */
    uint64_t period;    /* mean sampling interval in bytes; 0: every allocation */
    /* heap_v2 stacks hold return addresses (symbolize pc - 1); pprof
     * locations are already call sites. */
    bool return_addresses;
    pstack_t *stacks;
    size_t n, cap;
    pmap_t *maps;
    size_t nmaps, maps_cap;
    /* pprof only: names the profile already carries, per location address
     * (NULL where none). Parallel to nothing: looked up by address. */
    struct known_fn *known;
    size_t nknown;
    pfrag_t frag;
} profile_t;

struct known_fn {
    uint64_t addr;
    char *func, *file;
    int64_t line;
};

/* Load FILE (heap_v2 text, or pprof, gzipped or not). 0, or -1 with one
 * line of explanation in err (without the file name). */
int profile_read(const char *path, profile_t *p, char *err, size_t errsize);
void profile_free(profile_t *p);
/* Add the mappings of a /proc/PID/maps file to p (tide top); -1 if unreadable. */
int profile_maps_read(const char *path, profile_t *p);

/* jeprof's un-sampling of a heap_v2 stack: n samples of total size bytes
 * stand for n * scale allocations, scale = 1 / (1 - exp(-avg / period)). */
double unsample_scale(double objs, double bytes, uint64_t period);

/* ---- symbolize.c ---- */
typedef struct sym {
    const char *func; /* never NULL: a name, "lib.so+0x1f2" or "0x7f..." */
    const char *loc;  /* "file.c:12" or NULL */
} sym_t;

typedef struct symtab symtab_t;

/* Symbolize every pc of the profile (one addr2line per object file). */
symtab_t *symtab_build(const profile_t *p);
sym_t symtab_get(const symtab_t *t, uint64_t pc);
/* How many innermost frames belong to the allocator (jemalloc's files
 * start inside it): frames up to an allocator entry point (malloc, new,
 * ...) and leading frames inside a shared library, other than libc, that
 * defines malloc. Leaves at least one frame. */
uint32_t symtab_trim(const symtab_t *t, const uint64_t *pc, uint32_t depth);
void symtab_free(symtab_t *t);

/* ---- flame.c ---- */
typedef struct flame_node flame_node_t;
/* A tree of frames, root = all stacks. */
flame_node_t *flame_new(void);
/* frames[0] is the outermost. */
void flame_add(flame_node_t *root, const char *const *frames, size_t n, double value);
int flame_write_svg(const char *path, flame_node_t *root, const char *title, const char *unit_note);
void flame_free(flame_node_t *root);

/* ---- prof.c ---- */
int cmd_prof(int argc, char **argv);

/* A profile with its symbols, allocator frames trimmed. */
typedef struct loaded {
    profile_t p;
    symtab_t *sym;
} loaded_t;
/* 0, or -1 after one line "tide prof CMD: PATH: what is wrong". */
int load(const char *cmd, const char *path, loaded_t *l);
void unload(loaded_t *l);

/* Figures summed by a string key (a function, a stack). */
typedef struct agg {
    char *key;
    double v[2];      /* bytes: flat (or OLD), cum (or NEW) */
    double objs, cum_objs;
    const char *loc;  /* file:line of the biggest leaf site */
    double loc_bytes;
    const char *cloc; /* ... or of the biggest call through it */
    double cloc_bytes;
    uint64_t seen_in; /* last stack counted in cum (1-based) */
} agg_t;

typedef struct aggmap {
    agg_t *v;
    size_t n, cap;
    size_t *slot; /* index + 1, 0 empty */
    size_t nslot;
} aggmap_t;

agg_t *agg_get(aggmap_t *m, const char *key);
void agg_free(aggmap_t *m);
/* The stack's frames, outermost first (or innermost first), joined by sep. */
char *stack_key(const loaded_t *l, const pstack_t *s, const char *sep, bool leaf_first);
/* "12.3 MiB" (or exact bytes) into buf. */
const char *fmt_val(double v, bool exact, char *buf, size_t size);

typedef struct opts {
    long n;
    bool cum, alloc, exact, help;
    const char *out, *title;
    const char *file[2];
    int nfiles;
} opts_t;
/* The common options of tide prof's commands, want_files files; -1 after
 * a message. */
int parse_opts(const char *cmd, int argc, char **argv, opts_t *o, int want_files);
void prof_usage(FILE *f);
/* The start of a one-file command: its options (o holds the defaults),
 * --help, the profile loaded into *l. -1 when the command goes on, else
 * the status to exit with (the message already printed). */
int open_one(const char *cmd, int argc, char **argv, opts_t *o, loaded_t *l);

/* "profiling started while the process ran ..." when it did. */
void print_mid_run_note(const pfrag_t *f, bool exact);

/* ---- prof_frag.c ---- */
/* tide prof frag [-n N] [--bytes] FILE */
int prof_frag(int argc, char **argv);

#endif
