/* run_sample — the rows of timeline.csv: the process tree's memory matched
 * with each process's allocator figures at the same moment.
 *
 * A sample is taken in two steps: at its time T the process tree and each
 * process's smaps_rollup are read (RSS is a snapshot); later, once each
 * process that reports statistics has written a line stamped after T (or
 * after a few intervals at most), each process is matched with its figures
 * at T and the row is written. Invariants: rows are written in the order
 * their samples were taken, each exactly once; and the statistics of a
 * process are kept while the tree or a waiting sample still holds it, so a
 * process that exits between a sample and its row still gets its figures. */
#include "run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sampler_init(sampler_t *c, FILE *csv, int stats_rfd, uint64_t t0, uint64_t interval)
{
    memset(c, 0, sizeof *c);
    c->csv = csv;
    c->stats_rfd = stats_rfd;
    c->t0 = t0;
    c->interval = interval;
    c->max_delay = interval * 4 > 1000 ? interval * 4 : 1000;
}

bool sampler_drain(sampler_t *c)
{
    char buf[16384];
    for (;;) {
        ssize_t r = read(c->stats_rfd, buf, sizeof buf);
        if (r > 0) {
            stats_feed(&c->stats, buf, (size_t)r, mono_ms());
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        return r != 0; /* EAGAIN: empty for now */
    }
}

/* A limit (0 or UNKNOWN: none): the largest any process has. */
static void acc_limit(uint64_t *dst, uint64_t v)
{
    if (v != UNKNOWN && v != 0 && (*dst == UNKNOWN || v > *dst))
        *dst = v;
}

static void acc(uint64_t *dst, uint64_t v)
{
    if (v == UNKNOWN)
        return;
    *dst = *dst == UNKNOWN ? v : *dst + v;
}

/* Add one process's allocator figures to the row. Of glibc's per-arena
 * list only one process's fits a cell: the largest's. */
static void add_allocator_figures(sample_t *s, const proc_stats_t *ps, uint64_t rss,
                                  uint64_t *biggest_glibc)
{
    acc(&s->free_held, ps->free_held);
    if (ps->alloc_kind == STATS_TIDE) {
        acc(&s->tide_active, ps->tide_active);
        acc(&s->tide_dirty, ps->tide_dirty);
        acc(&s->tide_mapped, ps->tide_mapped);
        acc(&s->tide_metadata, ps->tide_metadata);
        acc(&s->tide_purged, ps->tide_purged);
        acc_limit(&s->limit_soft, ps->tide_limit_soft);
        acc_limit(&s->limit_hard, ps->tide_limit_hard);
        return;
    }
    acc(&s->glibc_arenas, ps->glibc_arenas);
    acc(&s->glibc_free, ps->glibc_free);
    acc(&s->glibc_system, ps->glibc_system);
    acc(&s->glibc_mmap, ps->glibc_mmap);
    if (rss >= *biggest_glibc) {
        *biggest_glibc = rss;
        s->glibc_arena_free = ps->glibc_arena_free;
    }
}

/* Write a sample as a row of timeline.csv. */
static void write_row(sampler_t *c, const pending_t *p)
{
    sample_t s;
    memset(&s, 0, sizeof s);
    s.t_ms = p->t - c->t0;
    s.free_held = s.tide_active = s.tide_dirty = s.tide_mapped = UNKNOWN;
    s.tide_metadata = s.tide_purged = UNKNOWN;
    s.limit_soft = s.limit_hard = UNKNOWN;
    s.glibc_arenas = s.glibc_free = s.glibc_system = s.glibc_mmap = UNKNOWN;
    uint64_t live = 0, biggest_glibc = 0;
    for (size_t i = 0; i < p->n; i++) {
        const mem_t *m = &p->procs[i].mem;
        s.procs++;
        s.rss += m->rss;
        s.pss += m->pss;
        s.anon += m->anon;
        s.lazyfree += m->lazyfree;
        proc_stats_t ps;
        stats_at(&c->stats, p->procs[i].pid, p->procs[i].t, c->interval, &ps);
        proc_hist_t *h = stats_find(&c->stats, p->procs[i].pid);
        uint64_t l = UNKNOWN;
        if (ps.alloc_kind != STATS_NONE)
            l = ps.live;
        else if (h && h->has_app)
            l = h->app_live;
        if (l == UNKNOWN) {
            s.unreported_rss += m->rss;
            continue;
        }
        s.reporting++;
        live += l;
        if (ps.alloc_kind != STATS_NONE)
            add_allocator_figures(&s, &ps, m->rss, &biggest_glibc);
    }
    s.live = s.reporting ? live : UNKNOWN;
    csv_write_row(c->csv, &s);
    fflush(c->csv);
    c->samples++;
}

/* Every process of the sample that reports statistics has a line stamped
 * at or after its moment (processes that never reported are not waited
 * for), or the sample has waited long enough. */
static bool ready(sampler_t *c, const pending_t *p, uint64_t now)
{
    if (now >= p->t + c->max_delay)
        return true;
    for (size_t i = 0; i < p->n; i++) {
        proc_hist_t *h = stats_find(&c->stats, p->procs[i].pid);
        if (h && h->nlines && h->line[h->nlines - 1].alloc_t_ms < p->procs[i].t)
            return false;
    }
    return true;
}

/* Write the samples that are ready, in order (all of them if `all`). */
static void flush_samples(sampler_t *c, uint64_t now, bool all)
{
    size_t done = 0;
    while (done < c->nqueue && (all || ready(c, &c->queue[done], now))) {
        write_row(c, &c->queue[done]);
        free(c->queue[done].procs);
        done++;
    }
    if (done) {
        memmove(c->queue, c->queue + done, (c->nqueue - done) * sizeof *c->queue);
        c->nqueue -= done;
    }
}

static void keep_pid(sampler_t *c, size_t *n, pid_t pid)
{
    if (*n == c->keep_cap) {
        c->keep_cap = c->keep_cap ? c->keep_cap * 2 : 64;
        c->keep = xrealloc(c->keep, c->keep_cap * sizeof *c->keep);
    }
    c->keep[(*n)++] = pid;
}

/* Statistics of processes gone from the tree are dropped, unless a sample
 * still waiting to be written needs them. */
static void prune_stats(sampler_t *c, size_t ntree)
{
    size_t nk = 0;
    for (size_t i = 0; i < ntree; i++)
        keep_pid(c, &nk, c->pids[i]);
    for (size_t q = 0; q < c->nqueue; q++)
        for (size_t i = 0; i < c->queue[q].n; i++)
            keep_pid(c, &nk, c->queue[q].procs[i].pid);
    stats_prune(&c->stats, c->keep, nk);
}

void sampler_take(sampler_t *c, uint64_t now)
{
    sampler_drain(c);
    flush_samples(c, now, false);
    size_t n = proctree_list(getpid(), &c->pids, &c->pids_cap);
    pending_t p = { now, NULL, 0 };
    for (size_t i = 0; i < n; i++) {
        mem_t m;
        uint64_t t = mono_ms();
        if (smaps_read(c->pids[i], &m) != 0)
            continue;
        if (!p.procs)
            p.procs = xmalloc(n * sizeof *p.procs);
        p.procs[p.n++] = (proc_mem_t){ c->pids[i], m, t };
    }
    prune_stats(c, n);
    if (p.n == 0) {
        free(p.procs); /* nothing alive yet, or only zombies: no row */
        return;
    }
    if (c->nqueue == c->queue_cap) {
        c->queue_cap = c->queue_cap ? c->queue_cap * 2 : 8;
        c->queue = xrealloc(c->queue, c->queue_cap * sizeof *c->queue);
    }
    c->queue[c->nqueue++] = p;
}

void sampler_finish(sampler_t *c)
{
    sampler_drain(c);
    flush_samples(c, mono_ms(), true);
}

void sampler_free(sampler_t *c)
{
    stats_free(&c->stats);
    free(c->pids);
    free(c->keep);
    free(c->queue);
}
