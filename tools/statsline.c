/* Statistics lines written to the stats pipe by the processes tide runs:
 *
 *   tide-stats pid=P t_ms=T live=B active=B dirty=B mapped=B metadata=B purged=B
 *   glibc-stats pid=P t_ms=T arenas=N free=B system=B mmap=B arena_free=B,B,...
 *   app-stats pid=P live=B          (a program reporting its own live bytes)
 *
 * Space-separated key=value pairs after the first word; unknown keys are
 * ignored, so either side may add some. The latest line of each pid wins. */
#include "tide.h"

#include <stdlib.h>
#include <string.h>

static bool key_is(const char *k, size_t kn, const char *name)
{
    return strlen(name) == kn && memcmp(k, name, kn) == 0;
}

int stats_parse_line(const char *line, size_t len, proc_stats_t *o)
{
    memset(o, 0, sizeof *o);
    o->live = o->free_held = UNKNOWN;
    o->alloc_t_ms = UNKNOWN;
    uint64_t pid = 0, live = UNKNOWN, free_b = UNKNOWN, system = UNKNOWN, mmap_b = 0;
    uint64_t active = UNKNOWN, dirty = UNKNOWN, mapped = UNKNOWN, metadata = UNKNOWN;
    uint64_t purged = UNKNOWN, arenas = UNKNOWN, t_ms = UNKNOWN;
    const char *arena_free = NULL;
    size_t arena_free_len = 0;

    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    size_t i = 0;
    while (i < len && line[i] != ' ')
        i++;
    enum stats_kind kind;
    if (key_is(line, i, "tide-stats"))
        kind = STATS_TIDE;
    else if (key_is(line, i, "glibc-stats"))
        kind = STATS_GLIBC;
    else if (key_is(line, i, "app-stats"))
        kind = STATS_APP;
    else
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
        const char *k = line + ks, *v = line + vs;
        size_t vn = i - vs;
        uint64_t x;
        if (key_is(k, kn, "arena_free")) {
            arena_free = v;
            arena_free_len = vn;
            continue;
        }
        if (!parse_u64(v, vn, &x))
            continue; /* a value we do not understand: ignore the key */
        if (key_is(k, kn, "pid")) pid = x;
        else if (key_is(k, kn, "t_ms")) t_ms = x;
        else if (key_is(k, kn, "live")) live = x;
        else if (key_is(k, kn, "active")) active = x;
        else if (key_is(k, kn, "dirty")) dirty = x;
        else if (key_is(k, kn, "mapped")) mapped = x;
        else if (key_is(k, kn, "metadata")) metadata = x;
        else if (key_is(k, kn, "purged")) purged = x;
        else if (key_is(k, kn, "arenas")) arenas = x;
        else if (key_is(k, kn, "free")) free_b = x;
        else if (key_is(k, kn, "system")) system = x;
        else if (key_is(k, kn, "mmap")) mmap_b = x;
    }
    if (pid == 0 || pid > 0x7fffffff)
        return -1;
    o->pid = (pid_t)pid;

    switch (kind) {
    case STATS_TIDE:
        if (live == UNKNOWN)
            return -1;
        o->alloc_kind = STATS_TIDE;
        o->alloc_t_ms = t_ms;
        o->live = live;
        o->tide_active = active;
        o->tide_dirty = dirty;
        o->tide_mapped = mapped;
        o->tide_metadata = metadata;
        o->tide_purged = purged;
        /* Free bytes tidemalloc holds resident: free room inside active
         * pages, plus freed pages not yet purged. */
        if (active != UNKNOWN && dirty != UNKNOWN)
            o->free_held = (active > live ? active - live : 0) + dirty;
        return 0;
    case STATS_GLIBC:
        if (system == UNKNOWN || free_b == UNKNOWN)
            return -1;
        o->alloc_kind = STATS_GLIBC;
        o->alloc_t_ms = t_ms;
        o->glibc_arenas = arenas;
        o->glibc_free = free_b;
        o->glibc_system = system;
        o->glibc_mmap = mmap_b;
        /* In-use chunks of the arenas, plus chunks mmapped on their own. */
        o->live = (system > free_b ? system - free_b : 0) + mmap_b;
        o->free_held = free_b;
        if (arena_free && arena_free_len) {
            char *s = xmalloc(arena_free_len + 1);
            for (size_t j = 0; j < arena_free_len; j++)
                s[j] = arena_free[j] == ',' ? ';' : arena_free[j];
            s[arena_free_len] = '\0';
            /* Only digits and separators may reach the CSV. */
            if (strspn(s, "0123456789;") != arena_free_len) {
                free(s);
                s = NULL;
            }
            o->glibc_arena_free = s;
        }
        return 0;
    case STATS_APP:
        if (live == UNKNOWN)
            return -1;
        o->has_app = true;
        o->app_live = live;
        return 0;
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
