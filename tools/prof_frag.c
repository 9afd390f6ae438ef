/* tide prof frag FILE — who pins the free space inside partly used slabs.
 *
 * Reads the pinned bytes tidemalloc writes per stack (heap_v2's
 * "tide_pinned:" lines, pprof's `pinned` sample type) and the fragmentation
 * view beside them (by size class and by slab-occupancy bin, with the
 * allocator's own count), and prints them by allocating function, by whole
 * stack, by class and by bin. docs/PROFILING.md explains the estimator. */
#include "prof.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_agg_pinned(const void *a, const void *b)
{
    const agg_t *x = a, *y = b;
    if (x->v[0] != y->v[0])
        return x->v[0] < y->v[0] ? 1 : -1;
    return strcmp(x->key, y->key);
}

static double pct(double part, double whole)
{
    return whole > 0 ? 100 * part / whole : 0;
}

/* By function (v[0] pinned, v[1] live) or by stack, most pinned first. */
static void print_sites(aggmap_t *m, const opts_t *o, double total, bool stacks)
{
    if (m->n > 1)
        qsort(m->v, m->n, sizeof *m->v, cmp_agg_pinned);
    char b1[32], b2[32];
    printf("%12s %7s %12s %8s  %s\n", "pinned", "pinned%", "live", "pin/live", stacks ? "stack (allocation site first)" : "function (site)");
    size_t shown = 0;
    for (size_t i = 0; i < m->n && (o->n == 0 || shown < (size_t)o->n); i++) {
        agg_t *a = &m->v[i];
        if (a->v[0] < 0.5)
            break;
        printf("%12s %6.1f%% %12s %8.2f  %s", fmt_val(a->v[0], o->exact, b1, sizeof b1), pct(a->v[0], total),
               fmt_val(a->v[1], o->exact, b2, sizeof b2), a->v[1] > 0 ? a->v[0] / a->v[1] : 0, a->key);
        if (!stacks && a->loc)
            printf(" (%s)", a->loc);
        putchar('\n');
        shown++;
    }
    if (shown == 0)
        printf("  (no site pins anything)\n");
}

static void print_rows(const char *title, const char *key_head, const pfrag_row_t *rows, size_t n, bool bins,
                       const opts_t *o)
{
    char b1[32], b2[32], key[32];
    printf("\nby %s:\n%12s %12s %12s %7s\n", title, key_head, "pinned", "free", "est/free");
    for (size_t i = 0; i < n; i++) {
        const pfrag_row_t *r = &rows[i];
        if (bins)
            snprintf(key, sizeof key, "%3llu-%3llu%%", (unsigned long long)r->key * 10,
                     (unsigned long long)r->key * 10 + 10);
        else
            snprintf(key, sizeof key, "%llu B", (unsigned long long)r->key);
        printf("%12s %12s %12s %6.0f%%\n", key, fmt_val(r->pinned, o->exact, b1, sizeof b1),
               fmt_val(r->free, o->exact, b2, sizeof b2), pct(r->pinned, r->free));
    }
    if (n == 0)
        printf("  (no partly used slab)\n");
}

int prof_frag(int argc, char **argv)
{
    opts_t o = { .n = 10 };
    loaded_t l;
    int rc = open_one("frag", argc, argv, &o, &l);
    if (rc >= 0)
        return rc;
    const pfrag_t *f = &l.p.frag;
    if (!f->present) {
        fprintf(stderr, "tide prof frag: %s: no pinned bytes in this profile (it was not written by a tidemalloc "
                        "with fragmentation attribution)\n", o.file[0]);
        unload(&l);
        return 1;
    }
    aggmap_t fn = { 0 }, st = { 0 };
    double sum_pinned = 0, live = 0;
    for (size_t i = 0; i < l.p.n; i++) {
        const pstack_t *s = &l.p.stacks[i];
        if (s->depth == 0 || (s->pinned <= 0 && s->live_bytes <= 0))
            continue;
        sum_pinned += s->pinned;
        live += s->live_bytes;
        sym_t leaf = symtab_get(l.sym, s->pc[0]);
        agg_t *a = agg_get(&fn, leaf.func);
        a->v[0] += s->pinned;
        a->v[1] += s->live_bytes;
        if (leaf.loc && s->pinned >= a->loc_bytes) {
            a->loc = leaf.loc;
            a->loc_bytes = s->pinned;
        }
        char *k = stack_key(&l, s, " <- ", true);
        a = agg_get(&st, k);
        a->v[0] += s->pinned;
        a->v[1] += s->live_bytes;
        free(k);
    }
    char b1[32], b2[32], b3[32];
    printf("%s: %s profile, sample period %s\n", o.file[0], l.p.format,
           l.p.period ? fmt_bytes(l.p.period, b1, sizeof b1) : "none (every allocation)");
    printf("free space inside partly used slabs: %s (the allocator's count when the profile was written)\n",
           fmt_val(f->free, o.exact, b1, sizeof b1));
    printf("pinned, estimated from the samples: %s (%.0f%% of it), by the sites holding %s live\n",
           fmt_val(sum_pinned, o.exact, b2, sizeof b2), pct(sum_pinned, f->free), fmt_val(live, o.exact, b3, sizeof b3));
    print_mid_run_note(f, o.exact);
    if (f->unattributed)
        printf("%s live in samples taken without stacks is attributed to no site\n",
               fmt_val((double)f->unattributed, o.exact, b1, sizeof b1));
    printf("\nby allocating function, most pinned first:\n");
    print_sites(&fn, &o, sum_pinned, false);
    printf("\nby stack:\n");
    print_sites(&st, &o, sum_pinned, true);
    print_rows("size class", "block size", f->cls, f->ncls, false, &o);
    print_rows("slab occupancy (share of a slab's carved blocks in use)", "occupancy", f->bin, f->nbin, true, &o);
    agg_free(&fn);
    agg_free(&st);
    unload(&l);
    return 0;
}
