/* run_prof — `tide run --prof`: heap profiles every few samples into
 * OUT/prof/, and what they say once the command has ended:
 *   - OUT/sites.csv: t_ms,site,live_bytes,pinned_bytes for the five sites
 *     (allocating functions) that held the most live bytes at any dump,
 *     one row per site and dump; report.html draws them next to RSS;
 *   - summary.txt's frag_note: "X of RSS is free space inside partly used
 *     slabs (at T s); the sites pinning most are ..." from the dump where
 *     that free space was largest (the last one falls in the shutdown of a
 *     server, or after a program freed everything, as the verdicts do).
 * The process profiled is the one that wrote the most dumps (the command
 * itself, unless it is a launcher). */
#include "run.h"
#include "prof.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SITES 5
#define DUMPS_MAX 60

void run_prof_setenv(const char *out, uint64_t interval_ms)
{
    char *dir = xasprintf("%s/prof", out);
    if (mkdir_p(dir) != 0)
        fprintf(stderr, "tide run: cannot create %s: %s\n", dir, strerror(errno));
    uint64_t every = interval_ms * 5 < 500 ? 500 : interval_ms * 5;
    const char *old = getenv("TIDE_CONF");
    char *conf = xasprintf("%s%sprof:true,prof_interval_ms:%llu,prof_prefix:%s/p,prof_format:heap_v2",
                           old ? old : "", old && *old ? "," : "", (unsigned long long)every, dir);
    setenv("TIDE_CONF", conf, 1);
    free(conf);
    free(dir);
}

typedef struct dump {
    char *path;
    long pid;
    uint64_t t_ms;
} dump_t;

static int cmp_dump(const void *a, const void *b)
{
    const dump_t *x = a, *y = b;
    return x->t_ms < y->t_ms ? -1 : x->t_ms > y->t_ms;
}

static int cmp_v0(const void *a, const void *b)
{
    const agg_t *x = a, *y = b;
    return x->v[0] < y->v[0] ? 1 : x->v[0] > y->v[0] ? -1 : strcmp(x->key, y->key);
}

/* Live (v[0]) and pinned (v[1]) bytes by allocating function. */
static void by_site(const loaded_t *l, aggmap_t *m)
{
    for (size_t i = 0; i < l->p.n; i++) {
        const pstack_t *s = &l->p.stacks[i];
        if (s->depth == 0)
            continue;
        agg_t *a = agg_get(m, symtab_get(l->sym, s->pc[0]).func);
        a->v[0] += s->live_bytes;
        a->v[1] += s->pinned;
    }
}

int run_prof_report(const char *out, uint64_t start_unix_ms, char **note)
{
    *note = NULL;
    char *dir = xasprintf("%s/prof", out);
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return -1;
    }
    dump_t *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid;
        unsigned seq;
        char trig[16];
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".heap") != 0 ||
            sscanf(e->d_name, "p.%ld.%u.%15[a-z].heap", &pid, &seq, trig) != 3)
            continue;
        char *path = xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) {
            free(path);
            continue;
        }
        if (n == cap)
            v = xrealloc(v, (cap = cap ? 2 * cap : 64) * sizeof *v);
        uint64_t ms = (uint64_t)st.st_mtim.tv_sec * 1000 + (uint64_t)st.st_mtim.tv_nsec / 1000000;
        v[n++] = (dump_t){ path, pid, ms > start_unix_ms ? ms - start_unix_ms : 0 };
    }
    closedir(d);
    /* The process with the most dumps. */
    long best = 0;
    size_t best_n = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        for (size_t j = 0; j < n; j++)
            k += v[j].pid == v[i].pid;
        if (k > best_n) {
            best_n = k;
            best = v[i].pid;
        }
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].pid == best)
            v[m++] = v[i];
        else
            free(v[i].path);
    }
    qsort(v, m, sizeof *v, cmp_dump);
    /* At most DUMPS_MAX of them, evenly spread, the last one always. */
    size_t step = m > DUMPS_MAX ? (m + DUMPS_MAX - 1) / DUMPS_MAX : 1;
    aggmap_t *per = xcalloc(m ? m : 1, sizeof *per);
    aggmap_t peak = { 0 };
    bool *used = xcalloc(m ? m : 1, sizeof *used);
    pfrag_t last = { 0 }; /* of the dump with the most free space */
    size_t li = m;
    for (size_t i = 0; i < m; i++) {
        if (i % step && i != m - 1)
            continue;
        loaded_t l;
        if (load("run", v[i].path, &l) != 0)
            continue;
        used[i] = true;
        by_site(&l, &per[i]);
        for (size_t k = 0; k < per[i].n; k++) {
            agg_t *a = agg_get(&peak, per[i].v[k].key);
            if (per[i].v[k].v[0] > a->v[0])
                a->v[0] = per[i].v[k].v[0];
        }
        if (l.p.frag.present && (li == m || l.p.frag.free >= last.free)) {
            last = l.p.frag;
            li = i;
        }
        unload(&l);
    }
    int rc = -1;
    if (peak.n) {
        if (peak.n > 1)
            qsort(peak.v, peak.n, sizeof *peak.v, cmp_v0);
        char *csv = xasprintf("%s/sites.csv", out);
        FILE *f = fopen(csv, "w");
        if (f) {
            fprintf(f, "t_ms,site,live_bytes,pinned_bytes\n");
            for (size_t s = 0; s < SITES && s < peak.n; s++)
                for (size_t i = 0; i < m; i++) {
                    if (!used[i])
                        continue;
                    agg_t *a = agg_get(&per[i], peak.v[s].key);
                    fprintf(f, "%llu,\"%s\",%.0f,%.0f\n", (unsigned long long)v[i].t_ms, a->key, a->v[0], a->v[1]);
                }
            rc = fclose(f) == 0 ? 0 : -1;
        }
        free(csv);
        /* The note, from the dump with the most free space. */
        if (last.present && li < m) {
            aggmap_t *lp = &per[li];
            for (size_t k = 0; k < lp->n; k++) { /* sort by pinned */
                double t = lp->v[k].v[0];
                lp->v[k].v[0] = lp->v[k].v[1];
                lp->v[k].v[1] = t;
            }
            if (lp->n > 1)
                qsort(lp->v, lp->n, sizeof *lp->v, cmp_v0);
            char b[32];
            size_t len = 0;
            FILE *nf = open_memstream(note, &len);
            fprintf(nf, "%s of RSS is free space inside partly used slabs (at %.1f s, the most of any profile)",
                    fmt_bytes((uint64_t)last.free, b, sizeof b), (double)v[li].t_ms / 1000);
            size_t k = 0;
            for (; k < 3 && k < lp->n && lp->v[k].v[0] >= 1; k++)
                fprintf(nf, "%s%s (%s)", k ? ", " : "; the sites pinning most are ", lp->v[k].key,
                        fmt_bytes((uint64_t)lp->v[k].v[0], b, sizeof b));
            if (k == 0)
                fprintf(nf, "; no sampled site pins any of it");
            if (last.has_start && last.mid_run)
                fprintf(nf, " (profiling started mid-run: older blocks are not attributed)");
            fclose(nf);
        }
    }
    for (size_t i = 0; i < m; i++) {
        agg_free(&per[i]);
        free(v[i].path);
    }
    agg_free(&peak);
    free(per);
    free(used);
    free(v);
    free(dir);
    return rc;
}
