/* tide prof — heap profiles: top sites, flame graphs, diffs, folded stacks,
 * and asking a running process for a dump. See docs/PROFILING.md. */
#include "prof.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void prof_usage(FILE *f)
{
    fputs("usage: tide prof COMMAND [options] FILE...\n"
          "\n"
          "Heap profiles written by tidemalloc (TIDE_CONF=prof:true; heap_v2 text or\n"
          "gzipped pprof), or by jemalloc (heap_v2).\n"
          "\n"
          "  top [-n N] [--cum] [--alloc] [--bytes] FILE\n"
          "        the functions holding the most live bytes (estimates), with the\n"
          "        file:line of their biggest allocation site; --cum sorts by bytes held\n"
          "        below the function, --alloc uses bytes ever allocated\n"
          "  flame [-o OUT.svg] [--alloc] [--title TEXT] FILE\n"
          "        an SVG flame graph of live bytes (default output: FILE.svg)\n"
          "  diff [-n N] [--alloc] [--bytes] OLD NEW\n"
          "        what grew from OLD to NEW: by function, then by stack\n"
          "  folded [--alloc] FILE\n"
          "        symbolized folded stacks (\"outer;...;inner bytes\") on stdout\n"
          "  frag [-n N] [--bytes] FILE\n"
          "        who pins the free space inside partly used slabs: pinned bytes by\n"
          "        site, by stack, by size class and by slab occupancy (tidemalloc's\n"
          "        profiles)\n"
          "  dump PID\n"
          "        make a running process write a profile now; prints its path (the\n"
          "        process runs with TIDE_CONF=prof:true,stats_socket:true)\n"
          "  start PID [--rate BYTES]\n"
          "        turn profiling on in a running process (TIDE_CONF=stats_socket:true),\n"
          "        one sample per BYTES allocated on average (a power of two); only what\n"
          "        it allocates from then on is sampled\n"
          "  stop PID\n"
          "        turn it off again (the samples taken stay for dumps)\n"
          "\n"
          "Addresses are symbolized with addr2line through the profile's mappings.\n",
          f);
}

/* ---- loading -------------------------------------------------------------- */

int load(const char *cmd, const char *path, loaded_t *l)
{
    char err[256];
    if (profile_read(path, &l->p, err, sizeof err) != 0) {
        fprintf(stderr, "tide prof %s: %s: %s\n", cmd, path, err);
        profile_free(&l->p);
        return -1;
    }
    l->sym = symtab_build(&l->p);
    for (size_t i = 0; i < l->p.n; i++) {
        pstack_t *s = &l->p.stacks[i];
        uint32_t k = symtab_trim(l->sym, s->pc, s->depth);
        if (k) {
            memmove(s->pc, s->pc + k, (s->depth - k) * sizeof *s->pc);
            s->depth -= k;
        }
    }
    return 0;
}

void unload(loaded_t *l)
{
    symtab_free(l->sym);
    profile_free(&l->p);
}

static double st_bytes(const pstack_t *s, bool alloc) { return alloc ? s->accum_bytes : s->live_bytes; }
static double st_objs(const pstack_t *s, bool alloc) { return alloc ? s->accum_objs : s->live_objs; }

/* ---- aggregation by string key --------------------------------------------- */

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

agg_t *agg_get(aggmap_t *m, const char *key)
{
    if (2 * (m->n + 1) > m->nslot) {
        size_t ns = m->nslot ? 2 * m->nslot : 64;
        free(m->slot);
        m->slot = xcalloc(ns, sizeof *m->slot);
        m->nslot = ns;
        for (size_t i = 0; i < m->n; i++) {
            size_t h = hash_str(m->v[i].key) & (ns - 1);
            while (m->slot[h])
                h = (h + 1) & (ns - 1);
            m->slot[h] = i + 1;
        }
    }
    size_t h = hash_str(key) & (m->nslot - 1);
    while (m->slot[h]) {
        agg_t *a = &m->v[m->slot[h] - 1];
        if (strcmp(a->key, key) == 0)
            return a;
        h = (h + 1) & (m->nslot - 1);
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->v = xrealloc(m->v, m->cap * sizeof *m->v);
    }
    agg_t *a = &m->v[m->n];
    memset(a, 0, sizeof *a);
    a->key = xstrdup(key);
    m->slot[h] = ++m->n;
    return a;
}

void agg_free(aggmap_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].key);
    free(m->v);
    free(m->slot);
}

/* The stack's frames, outermost first (or innermost first), joined by sep. */
char *stack_key(const loaded_t *l, const pstack_t *s, const char *sep, bool leaf_first)
{
    size_t len = 1, seplen = strlen(sep);
    for (uint32_t i = 0; i < s->depth; i++)
        len += strlen(symtab_get(l->sym, s->pc[i]).func) + seplen;
    char *k = xmalloc(len), *o = k;
    for (uint32_t j = 0; j < s->depth; j++) {
        const char *f = symtab_get(l->sym, s->pc[leaf_first ? j : s->depth - 1 - j]).func;
        size_t n = strlen(f);
        memcpy(o, f, n);
        o += n;
        if (j + 1 < s->depth) {
            memcpy(o, sep, seplen);
            o += seplen;
        }
    }
    *o = 0;
    return k;
}

const char *fmt_val(double v, bool exact, char *buf, size_t size)
{
    if (exact)
        snprintf(buf, size, "%.0f", v);
    else if (v < 0) {
        buf[0] = '-';
        fmt_bytes((uint64_t)(-v + 0.5), buf + 1, size - 1);
    } else
        fmt_bytes((uint64_t)(v + 0.5), buf, size);
    return buf;
}

/* ---- options ---------------------------------------------------------------- */


int parse_opts(const char *cmd, int argc, char **argv, opts_t *o, int want_files)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            o->help = true;
        else if (strcmp(a, "--cum") == 0)
            o->cum = true;
        else if (strcmp(a, "--alloc") == 0)
            o->alloc = true;
        else if (strcmp(a, "--bytes") == 0)
            o->exact = true;
        else if ((strcmp(a, "-n") == 0 || strcmp(a, "-o") == 0 || strcmp(a, "--title") == 0) && i + 1 < argc) {
            const char *v = argv[++i];
            if (a[1] == 'n') {
                char *end;
                o->n = strtol(v, &end, 10);
                if (*end || o->n < 0) {
                    fprintf(stderr, "tide prof %s: -n wants a count, got '%s'\n", cmd, v);
                    return -1;
                }
            } else if (a[1] == 'o')
                o->out = v;
            else
                o->title = v;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "tide prof %s: unknown option '%s' (see tide prof --help)\n", cmd, a);
            return -1;
        } else if (o->nfiles < 2)
            o->file[o->nfiles++] = a;
        else {
            fprintf(stderr, "tide prof %s: too many files\n", cmd);
            return -1;
        }
    }
    if (o->help)
        return 0;
    if (o->nfiles != want_files) {
        fprintf(stderr, "tide prof %s: expected %s\n", cmd, want_files == 1 ? "one profile file" : "two profile files, OLD and NEW");
        return -1;
    }
    return 0;
}

int open_one(const char *cmd, int argc, char **argv, opts_t *o, loaded_t *l)
{
    if (parse_opts(cmd, argc, argv, o, 1) != 0)
        return 2;
    if (o->help) {
        prof_usage(stdout);
        return 0;
    }
    return load(cmd, o->file[0], l) != 0 ? 1 : -1;
}

/* ---- top ------------------------------------------------------------------- */

void print_mid_run_note(const pfrag_t *f, bool exact)
{
    if (!f->has_start || !f->mid_run)
        return;
    char b[32], when[64];
    time_t t = (time_t)(f->started_unix_ms / 1000);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    printf("profiling started while the process ran (%s, %s live then): only what was allocated since is "
           "sampled, so these figures leave out what was already live\n",
           when, fmt_val((double)f->live_at_start, exact, b, sizeof b));
}

static int cmp_agg_flat(const void *a, const void *b)
{
    const agg_t *x = a, *y = b;
    if (x->v[0] != y->v[0])
        return x->v[0] < y->v[0] ? 1 : -1;
    return strcmp(x->key, y->key);
}

static int cmp_agg_cum(const void *a, const void *b)
{
    const agg_t *x = a, *y = b;
    if (x->v[1] != y->v[1])
        return x->v[1] < y->v[1] ? 1 : -1;
    return strcmp(x->key, y->key);
}

static int prof_top(int argc, char **argv)
{
    opts_t o = { .n = 20 };
    loaded_t l;
    int rc = open_one("top", argc, argv, &o, &l);
    if (rc >= 0)
        return rc;
    aggmap_t m = { 0 };
    double total = 0, total_objs = 0;
    for (size_t i = 0; i < l.p.n; i++) {
        const pstack_t *s = &l.p.stacks[i];
        double b = st_bytes(s, o.alloc), ob = st_objs(s, o.alloc);
        if (s->depth == 0 || b <= 0)
            continue;
        total += b;
        total_objs += ob;
        sym_t leaf = symtab_get(l.sym, s->pc[0]);
        agg_t *a = agg_get(&m, leaf.func);
        a->v[0] += b;
        a->objs += ob;
        if (leaf.loc && b > a->loc_bytes) {
            a->loc = leaf.loc;
            a->loc_bytes = b;
        }
        for (uint32_t k = 0; k < s->depth; k++) {
            sym_t f = symtab_get(l.sym, s->pc[k]);
            a = agg_get(&m, f.func);
            if (a->seen_in == i + 1)
                continue; /* recursion: count a stack once */
            a->seen_in = i + 1;
            a->v[1] += b;
            if (f.loc && b > a->cloc_bytes) {
                a->cloc = f.loc;
                a->cloc_bytes = b;
            }
            a->cum_objs += ob;
        }
    }
    if (m.n > 1)
        qsort(m.v, m.n, sizeof *m.v, o.cum ? cmp_agg_cum : cmp_agg_flat);
    char b1[32], b2[32], b3[32];
    printf("%s: %s profile, sample period %s\n", o.file[0], l.p.format,
           l.p.period ? fmt_bytes(l.p.period, b1, sizeof b1) : "none (every allocation)");
    printf("%s: %s in %.0f objects (estimates)\n", o.alloc ? "allocated" : "live",
           fmt_val(total, o.exact, b2, sizeof b2), total_objs);
    print_mid_run_note(&l.p.frag, o.exact);
    printf("%12s %6s %6s %12s %6s %10s  %s\n", "flat", "flat%", "sum%", "cum", "cum%", "objects", "function (site)");
    double sum = 0;
    size_t shown = 0;
    for (size_t i = 0; i < m.n && (o.n == 0 || shown < (size_t)o.n); i++) {
        agg_t *a = &m.v[i];
        if ((o.cum ? a->v[1] : a->v[0]) <= 0)
            break;
        sum += a->v[0];
        double t = total > 0 ? total : 1;
        printf("%12s %5.1f%% %5.1f%% %12s %5.1f%% %10.0f  %s", fmt_val(a->v[0], o.exact, b1, sizeof b1),
               100 * a->v[0] / t, 100 * sum / t, fmt_val(a->v[1], o.exact, b3, sizeof b3), 100 * a->v[1] / t,
               o.cum ? a->cum_objs : a->objs, a->key);
        if (a->loc || a->cloc)
            printf(" (%s)", a->loc ? a->loc : a->cloc);
        putchar('\n');
        shown++;
    }
    if (m.n == 0)
        printf("(no %s bytes in this profile)\n", o.alloc ? "allocated" : "live");
    agg_free(&m);
    unload(&l);
    return 0;
}

/* ---- folded ---------------------------------------------------------------- */

static int cmp_agg_key(const void *a, const void *b)
{
    return strcmp(((const agg_t *)a)->key, ((const agg_t *)b)->key);
}

static void by_stack(const loaded_t *l, bool alloc, aggmap_t *m, int which, const char *sep, bool leaf_first)
{
    for (size_t i = 0; i < l->p.n; i++) {
        const pstack_t *s = &l->p.stacks[i];
        double b = st_bytes(s, alloc);
        if (s->depth == 0 || b <= 0)
            continue;
        char *k = stack_key(l, s, sep, leaf_first);
        agg_get(m, k)->v[which] += b;
        free(k);
    }
}

static int prof_folded(int argc, char **argv)
{
    opts_t o = { 0 };
    loaded_t l;
    int rc = open_one("folded", argc, argv, &o, &l);
    if (rc >= 0)
        return rc;
    aggmap_t m = { 0 };
    by_stack(&l, o.alloc, &m, 0, ";", false);
    if (m.n > 1)
        qsort(m.v, m.n, sizeof *m.v, cmp_agg_key);
    for (size_t i = 0; i < m.n; i++)
        if (llround(m.v[i].v[0]) > 0)
            printf("%s %lld\n", m.v[i].key, llround(m.v[i].v[0]));
    agg_free(&m);
    unload(&l);
    return 0;
}

/* ---- flame ----------------------------------------------------------------- */

static int prof_flame(int argc, char **argv)
{
    opts_t o = { 0 };
    loaded_t l;
    int rc = open_one("flame", argc, argv, &o, &l);
    if (rc >= 0)
        return rc;
    flame_node_t *root = flame_new();
    const char **frames = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < l.p.n; i++) {
        const pstack_t *s = &l.p.stacks[i];
        if (s->depth > cap) {
            cap = s->depth;
            frames = xrealloc(frames, cap * sizeof *frames);
        }
        for (uint32_t k = 0; k < s->depth; k++)
            frames[k] = symtab_get(l.sym, s->pc[s->depth - 1 - k]).func;
        flame_add(root, frames, s->depth, st_bytes(s, o.alloc));
    }
    free(frames);
    char *out = o.out ? xstrdup(o.out) : xasprintf("%s.svg", o.file[0]);
    char *title = o.title ? xstrdup(o.title)
                          : xasprintf("%s bytes: %s", o.alloc ? "Allocated" : "Live", o.file[0]);
    rc = 0;
    if (flame_write_svg(out, root, title, o.alloc ? " of allocated bytes" : " of live bytes") != 0) {
        fprintf(stderr, "tide prof flame: cannot write %s: %s\n", out, strerror(errno));
        rc = 1;
    } else {
        fprintf(stderr, "tide prof flame: wrote %s\n", out);
    }
    free(out);
    free(title);
    flame_free(root);
    unload(&l);
    return rc;
}

/* ---- diff ------------------------------------------------------------------- */

static int cmp_agg_delta(const void *a, const void *b)
{
    const agg_t *x = a, *y = b;
    double dx = x->v[1] - x->v[0], dy = y->v[1] - y->v[0];
    if (dx != dy)
        return dx < dy ? 1 : -1;
    return strcmp(x->key, y->key);
}

static void print_delta_rows(aggmap_t *m, const opts_t *o, bool stacks)
{
    if (m->n > 1)
        qsort(m->v, m->n, sizeof *m->v, cmp_agg_delta);
    char b1[32], b2[32], b3[32];
    size_t shown = 0, grew = 0, shrank = 0;
    for (size_t i = 0; i < m->n; i++) {
        agg_t *a = &m->v[i];
        double d = a->v[1] - a->v[0];
        if (fabs(d) < 0.5)
            continue;
        d > 0 ? grew++ : shrank++;
        if (d <= 0 || (o->n && shown >= (size_t)o->n))
            continue;
        char delta[40];
        snprintf(delta, sizeof delta, "+%s", fmt_val(d, o->exact, b1, sizeof b1));
        if (stacks)
            printf("%13s  %12s -> %s\n        %s\n", delta, fmt_val(a->v[0], o->exact, b2, sizeof b2),
                   fmt_val(a->v[1], o->exact, b3, sizeof b3), a->key);
        else
            printf("%13s  %12s -> %-12s  %s\n", delta, fmt_val(a->v[0], o->exact, b2, sizeof b2),
                   fmt_val(a->v[1], o->exact, b3, sizeof b3), a->key);
        shown++;
    }
    if (!grew)
        printf("  (nothing grew)\n");
    if (shrank)
        printf("  (%zu %s shrank)\n", shrank, stacks ? "stacks" : "functions");
}

static int prof_diff(int argc, char **argv)
{
    opts_t o = { .n = 10 };
    if (parse_opts("diff", argc, argv, &o, 2) != 0)
        return 2;
    if (o.help) {
        prof_usage(stdout);
        return 0;
    }
    loaded_t l[2];
    if (load("diff", o.file[0], &l[0]) != 0)
        return 1;
    if (load("diff", o.file[1], &l[1]) != 0) {
        unload(&l[0]);
        return 1;
    }
    aggmap_t fn = { 0 }, st = { 0 };
    double total[2] = { 0, 0 };
    for (int w = 0; w < 2; w++) {
        for (size_t i = 0; i < l[w].p.n; i++) {
            const pstack_t *s = &l[w].p.stacks[i];
            double b = st_bytes(s, o.alloc);
            if (s->depth == 0 || b <= 0)
                continue;
            total[w] += b;
            sym_t leaf = symtab_get(l[w].sym, s->pc[0]);
            char *key = leaf.loc ? xasprintf("%s (%s)", leaf.func, leaf.loc) : xstrdup(leaf.func);
            agg_get(&fn, key)->v[w] += b;
            free(key);
        }
        by_stack(&l[w], o.alloc, &st, w, " <- ", true); /* the allocation site first */
    }
    char b1[32], b2[32], b3[32];
    const char *what = o.alloc ? "allocated" : "live";
    double d = total[1] - total[0];
    printf("%s -> %s: %s %s -> %s (%s%s)\n", o.file[0], o.file[1], what,
           fmt_val(total[0], o.exact, b1, sizeof b1), fmt_val(total[1], o.exact, b2, sizeof b2),
           d >= 0 ? "+" : "", fmt_val(d, o.exact, b3, sizeof b3));
    printf("\ngrew, by allocating function:\n");
    print_delta_rows(&fn, &o, false);
    printf("\ngrew, by stack (allocation site first):\n");
    print_delta_rows(&st, &o, true);
    agg_free(&fn);
    agg_free(&st);
    unload(&l[0]);
    unload(&l[1]);
    return 0;
}

/* ---- dump -------------------------------------------------------------------- */

/* Send one request on the process's socket and print its "OK <text>"
 * answer (0) or its "ERR <reason>" (1). */
static int socket_verb(const char *cmd, const char *pid_arg, const char *request, const char *hint)
{
    int status;
    int fd = socket_request(cmd, pid_arg, request, hint, &status);
    if (fd < 0)
        return status;
    char buf[4096 + 1];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            n += (size_t)r;
    close(fd);
    buf[n] = 0;
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;
    if (strncmp(buf, "OK ", 3) == 0 && buf[3]) {
        printf("%s\n", buf + 3);
        return 0;
    }
    if (strncmp(buf, "ERR ", 4) == 0) {
        fprintf(stderr, "%s: process %s: %s\n", cmd, pid_arg, buf + 4);
        return 1;
    }
    if (n == 0)
        fprintf(stderr, "%s: process %s closed the connection without an answer (a tidemalloc older than this "
                        "tool?)\n", cmd, pid_arg);
    else
        fprintf(stderr, "%s: process %s answered '%.80s', not OK or ERR\n", cmd, pid_arg, buf);
    return 1;
}

/* dump PID | start PID [--rate BYTES] | stop PID */
static int prof_control(const char *verb, int argc, char **argv)
{
    const char *pid_arg = NULL;
    uint64_t rate = 0;
    char cmd[32];
    snprintf(cmd, sizeof cmd, "tide prof %s", verb);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            prof_usage(stdout);
            return 0;
        }
        if (strcmp(verb, "start") == 0 && strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (!parse_size(v, &rate) || rate == 0 || (rate & (rate - 1))) {
                fprintf(stderr, "%s: --rate wants a power of two of bytes (e.g. 65536 or 64K), got '%s'\n", cmd, v);
                return 2;
            }
            continue;
        }
        if (pid_arg || argv[i][0] == '-') {
            fprintf(stderr, "%s: expected one process id%s, got '%s'\n", cmd,
                    strcmp(verb, "start") == 0 ? " (and --rate BYTES)" : "", argv[i]);
            return 2;
        }
        pid_arg = argv[i];
    }
    char req[64];
    if (strcmp(verb, "dump") == 0)
        return socket_verb(cmd, pid_arg, "prof_dump\n",
                           "does not listen: start it with TIDE_CONF=prof:true,stats_socket:true");
    if (strcmp(verb, "start") == 0)
        snprintf(req, sizeof req, "prof_start %llu\n", (unsigned long long)rate);
    else
        snprintf(req, sizeof req, "prof_stop\n");
    return socket_verb(cmd, pid_arg, req, "does not listen: start it with TIDE_CONF=stats_socket:true");
}

int cmd_prof(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        prof_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *c = argv[1];
    if (strcmp(c, "top") == 0)
        return prof_top(argc - 1, argv + 1);
    if (strcmp(c, "flame") == 0)
        return prof_flame(argc - 1, argv + 1);
    if (strcmp(c, "diff") == 0)
        return prof_diff(argc - 1, argv + 1);
    if (strcmp(c, "folded") == 0)
        return prof_folded(argc - 1, argv + 1);
    if (strcmp(c, "dump") == 0 || strcmp(c, "start") == 0 || strcmp(c, "stop") == 0)
        return prof_control(c, argc - 1, argv + 1);
    if (strcmp(c, "frag") == 0)
        return prof_frag(argc - 1, argv + 1);
    fprintf(stderr, "tide prof: unknown command '%s'\n\n", c);
    prof_usage(stderr);
    return 2;
}
