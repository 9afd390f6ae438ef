/* Statistics lines written to the stats pipe by the processes tide runs:
 *
 *   tide-stats pid=P t_ms=T live=B active=B dirty=B mapped=B metadata=B purged=B ...
 *   glibc-stats pid=P t_ms=T arenas=N free=B system=B mmap=B arena_free=B,B,...
 *   app-stats pid=P live=B          (a program reporting its own live bytes)
 *
 * The keys of each kind come from src/service/stats_line_keys.h, the one
 * definition the writers share. Space-separated key=value pairs after the
 * first word; unknown keys are ignored, so either side may add some. The
 * latest line of each pid wins. */
#include "tide.h"

#include <stdlib.h>
#include <string.h>

#include "stats_line_keys.h"

/* Each kind's keys as indices into parsed_line_t.v, in the header's order. */
#define TIDE_KEY(id, name) TIDE_KEY_##id,
enum { TIDE_STATS_LINE_KEYS(TIDE_KEY) TIDE_KEYS };
#undef TIDE_KEY
#define GLIBC_KEY(id, name) GLIBC_KEY_##id,
enum { TIDE_GLIBC_STATS_LINE_KEYS(GLIBC_KEY) GLIBC_KEYS };
#undef GLIBC_KEY
#define APP_KEY(id, name) APP_KEY_##id,
enum { TIDE_APP_STATS_LINE_KEYS(APP_KEY) APP_KEYS };
#undef APP_KEY

#define KEY_NAME(id, name) name,
static const char *const tide_keys[] = { TIDE_STATS_LINE_KEYS(KEY_NAME) };
static const char *const glibc_keys[] = { TIDE_GLIBC_STATS_LINE_KEYS(KEY_NAME) };
static const char *const app_keys[] = { TIDE_APP_STATS_LINE_KEYS(KEY_NAME) };
#undef KEY_NAME

#define MAX_KEYS 16
_Static_assert(TIDE_KEYS <= MAX_KEYS && GLIBC_KEYS <= MAX_KEYS && APP_KEYS <= MAX_KEYS,
               "a stats line has more keys than parsed_line_t holds");

typedef struct line_format {
    const char *tag;
    enum stats_kind kind;
    const char *const *keys;
    size_t nkeys;
    int text_key; /* the one key kept as text (a per-arena list), or -1 */
} line_format_t;

static const line_format_t formats[] = {
    { TIDE_STATS_LINE_TAG, STATS_TIDE, tide_keys, TIDE_KEYS, -1 },
    { TIDE_GLIBC_STATS_LINE_TAG, STATS_GLIBC, glibc_keys, GLIBC_KEYS, GLIBC_KEY_arena_free },
    { TIDE_APP_STATS_LINE_TAG, STATS_APP, app_keys, APP_KEYS, -1 },
};

/* One line split into its format's keys. */
typedef struct parsed_line {
    const line_format_t *format;
    uint64_t v[MAX_KEYS]; /* UNKNOWN where absent or not a number */
    const char *text;     /* the text key's value (not terminated), or NULL */
    size_t text_len;
} parsed_line_t;

static bool key_is(const char *k, size_t kn, const char *name)
{
    return strlen(name) == kn && memcmp(k, name, kn) == 0;
}

static int key_index(const line_format_t *f, const char *k, size_t kn)
{
    for (size_t i = 0; i < f->nkeys; i++)
        if (key_is(k, kn, f->keys[i]))
            return (int)i;
    return -1;
}

static void take_value(parsed_line_t *p, const char *k, size_t kn, const char *v, size_t vn)
{
    int key = key_index(p->format, k, kn);
    if (key < 0)
        return; /* a key of another kind of line, or a newer writer's */
    if (key == p->format->text_key) {
        p->text = v;
        p->text_len = vn;
        return;
    }
    uint64_t x;
    if (parse_u64(v, vn, &x)) /* a value we do not understand: ignore the key */
        p->v[key] = x;
}

/* The line's kind from its first word, then its key=value pairs; -1 if it is
 * no stats line. */
static int split_line(const char *line, size_t len, parsed_line_t *p)
{
    memset(p, 0, sizeof *p);
    for (size_t k = 0; k < MAX_KEYS; k++)
        p->v[k] = UNKNOWN;
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    size_t i = 0;
    while (i < len && line[i] != ' ')
        i++;
    for (size_t f = 0; f < sizeof formats / sizeof formats[0] && !p->format; f++)
        if (key_is(line, i, formats[f].tag))
            p->format = &formats[f];
    if (!p->format)
        return -1;

    while (i < len) {
        while (i < len && line[i] == ' ')
            i++;
        size_t ks = i;
        while (i < len && line[i] != ' ' && line[i] != '=')
            i++;
        size_t kn = i - ks;
        if (i >= len || line[i] != '=') {
            while (i < len && line[i] != ' ')
                i++;
            continue; /* a bare word: ignore */
        }
        i++;
        size_t vs = i;
        while (i < len && line[i] != ' ')
            i++;
        take_value(p, line + ks, kn, line + vs, i - vs);
    }
    return 0;
}

static bool pid_usable(uint64_t pid)
{
    return pid != 0 && pid <= 0x7fffffff; /* UNKNOWN (absent) is above it */
}

static int tide_line(const uint64_t *v, proc_stats_t *o)
{
    uint64_t live = v[TIDE_KEY_live], active = v[TIDE_KEY_active], dirty = v[TIDE_KEY_dirty];
    if (!pid_usable(v[TIDE_KEY_pid]) || live == UNKNOWN)
        return -1;
    o->pid = (pid_t)v[TIDE_KEY_pid];
    o->alloc_kind = STATS_TIDE;
    o->alloc_t_ms = v[TIDE_KEY_t_ms];
    o->live = live;
    o->tide_active = active;
    o->tide_dirty = dirty;
    o->tide_mapped = v[TIDE_KEY_mapped];
    o->tide_metadata = v[TIDE_KEY_metadata];
    o->tide_purged = v[TIDE_KEY_purged];
    o->tide_limit_soft = v[TIDE_KEY_limit_soft];
    o->tide_limit_hard = v[TIDE_KEY_limit_hard];
    /* Free bytes tidemalloc holds resident: free room inside active
     * pages, plus freed pages not yet purged. */
    if (active != UNKNOWN && dirty != UNKNOWN)
        o->free_held = (active > live ? active - live : 0) + dirty;
    return 0;
}

/* "f0,f1,..." as "f0;f1;..." for the CSV, or NULL if it holds anything but
 * digits and separators. */
static char *arena_list(const char *list, size_t len)
{
    char *s = xmalloc(len + 1);
    for (size_t j = 0; j < len; j++)
        s[j] = list[j] == ',' ? ';' : list[j];
    s[len] = '\0';
    if (strspn(s, "0123456789;") != len) {
        free(s);
        return NULL;
    }
    return s;
}

static int glibc_line(const parsed_line_t *p, proc_stats_t *o)
{
    const uint64_t *v = p->v;
    uint64_t free_b = v[GLIBC_KEY_free], system = v[GLIBC_KEY_system];
    uint64_t mmap_b = v[GLIBC_KEY_mmap] == UNKNOWN ? 0 : v[GLIBC_KEY_mmap];
    if (!pid_usable(v[GLIBC_KEY_pid]) || system == UNKNOWN || free_b == UNKNOWN)
        return -1;
    o->pid = (pid_t)v[GLIBC_KEY_pid];
    o->alloc_kind = STATS_GLIBC;
    o->alloc_t_ms = v[GLIBC_KEY_t_ms];
    o->glibc_arenas = v[GLIBC_KEY_arenas];
    o->glibc_free = free_b;
    o->glibc_system = system;
    o->glibc_mmap = mmap_b;
    /* In-use chunks of the arenas, plus chunks mmapped on their own. */
    o->live = (system > free_b ? system - free_b : 0) + mmap_b;
    o->free_held = free_b;
    if (p->text && p->text_len)
        o->glibc_arena_free = arena_list(p->text, p->text_len);
    return 0;
}

static int app_line(const uint64_t *v, proc_stats_t *o)
{
    if (!pid_usable(v[APP_KEY_pid]) || v[APP_KEY_live] == UNKNOWN)
        return -1;
    o->pid = (pid_t)v[APP_KEY_pid];
    o->has_app = true;
    o->app_live = v[APP_KEY_live];
    return 0;
}

int stats_parse_line(const char *line, size_t len, proc_stats_t *o)
{
    memset(o, 0, sizeof *o);
    o->live = o->free_held = UNKNOWN;
    o->tide_limit_soft = o->tide_limit_hard = UNKNOWN;
    o->alloc_t_ms = UNKNOWN;
    parsed_line_t p;
    if (split_line(line, len, &p) != 0)
        return -1;
    switch (p.format->kind) {
    case STATS_TIDE:
        return tide_line(p.v, o);
    case STATS_GLIBC:
        return glibc_line(&p, o);
    case STATS_APP:
        return app_line(p.v, o);
    default:
        return -1;
    }
}

proc_hist_t *stats_find(stats_table_t *t, pid_t pid)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].pid == pid)
            return &t->v[i];
    return NULL;
}

static void apply(stats_table_t *t, const char *line, size_t len, uint64_t now_ms)
{
    proc_stats_t in;
    t->lines++;
    if (stats_parse_line(line, len, &in) != 0) {
        t->bad_lines++;
        return;
    }
    proc_hist_t *e = stats_find(t, in.pid);
    if (!e) {
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 16;
            t->v = xrealloc(t->v, t->cap * sizeof *t->v);
        }
        e = &t->v[t->n++];
        memset(e, 0, sizeof *e);
        e->pid = in.pid;
    }
    if (in.has_app) {
        e->has_app = true;
        e->app_live = in.app_live;
        return;
    }
    /* No time, or a clock other than CLOCK_MONOTONIC in ms (a line reaches
     * us within milliseconds of being written): use the time it arrived. */
    if (in.alloc_t_ms == UNKNOWN || in.alloc_t_ms > now_ms + 1000 ||
        in.alloc_t_ms + 10000 < now_ms)
        in.alloc_t_ms = now_ms;
    /* A line older than the newest (an exec'd image restarting, or a clock
     * we do not share) restarts the history. */
    if (e->nlines && in.alloc_t_ms < e->line[e->nlines - 1].alloc_t_ms) {
        for (size_t i = 0; i < e->nlines; i++)
            free(e->line[i].glibc_arena_free);
        e->nlines = 0;
    }
    if (e->nlines == STATS_HISTORY) {
        free(e->line[0].glibc_arena_free);
        memmove(&e->line[0], &e->line[1], (STATS_HISTORY - 1) * sizeof e->line[0]);
        e->nlines--;
    }
    e->line[e->nlines++] = in;
}

void stats_feed(stats_table_t *t, const char *data, size_t n, uint64_t now_ms)
{
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '\n') {
            if (!t->discarding)
                apply(t, t->buf, t->len, now_ms);
            t->len = 0;
            t->discarding = false;
        } else if (!t->discarding) {
            if (t->len + 1 >= sizeof t->buf) {
                t->discarding = true; /* no stats line is this long */
                t->bad_lines++;
                t->len = 0;
            } else {
                t->buf[t->len++] = c;
            }
        }
    }
}

static uint64_t lerp(uint64_t a, uint64_t b, double f)
{
    if (a == UNKNOWN || b == UNKNOWN)
        return f < 0.5 ? a : b;
    return (uint64_t)((double)a + ((double)b - (double)a) * f + 0.5);
}

void stats_at(stats_table_t *t, pid_t pid, uint64_t t_ms, uint64_t max_ahead_ms,
              proc_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->live = out->free_held = UNKNOWN;
    out->tide_limit_soft = out->tide_limit_hard = UNKNOWN;
    proc_hist_t *e = stats_find(t, pid);
    if (!e || !e->nlines)
        return;
    /* before: the newest line at or before t_ms; after: the oldest after. */
    const proc_stats_t *before = NULL, *after = NULL;
    for (size_t i = 0; i < e->nlines; i++) {
        if (e->line[i].alloc_t_ms <= t_ms)
            before = &e->line[i];
        else if (!after)
            after = &e->line[i];
    }
    /* A line after the sample stands for it alone only if close; with a
     * line before it too, interpolating beats either. */
    if (!before && after && after->alloc_t_ms - t_ms > max_ahead_ms)
        after = NULL;
    if (!before && !after)
        return;
    if (!before || !after) {
        *out = before ? *before : *after;
        return;
    }
    double f = (double)(t_ms - before->alloc_t_ms) /
               (double)(after->alloc_t_ms - before->alloc_t_ms);
    *out = f < 0.5 ? *before : *after;
    if (before->alloc_kind == after->alloc_kind) {
        out->live = lerp(before->live, after->live, f);
        out->free_held = lerp(before->free_held, after->free_held, f);
    }
}

void stats_prune(stats_table_t *t, const pid_t *pids, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        bool keep = false;
        for (size_t j = 0; j < n && !keep; j++)
            keep = pids[j] == t->v[i].pid;
        if (keep) {
            t->v[w++] = t->v[i];
        } else {
            for (size_t k = 0; k < t->v[i].nlines; k++)
                free(t->v[i].line[k].glibc_arena_free);
        }
    }
    t->n = w;
}

void stats_free(stats_table_t *t)
{
    stats_prune(t, NULL, 0);
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}
