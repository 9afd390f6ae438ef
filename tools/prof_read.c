/* prof_read — heap profiles into one model (tools/prof.h).
 *
 * heap_v2 (jemalloc's text format, written by tidemalloc's prof_format
 * heap_v2): a header "heap_v2/<period>", a "t*:" totals line and per-thread
 * lines, then per stack "@ 0x... 0x..." (innermost first) followed by its
 * "t*: objs: bytes [accum objs: accum bytes]" line, then MAPPED_LIBRARIES:
 * and a copy of /proc/<pid>/maps. Counts are raw samples; they are
 * un-sampled here as jeprof does. Every stack pc is a return address.
 *
 * pprof (gzipped profile.proto): the sample types a heap profile has
 * (inuse_space, inuse_objects, alloc_space, alloc_objects), already
 * estimates; location addresses are call sites. */
#include "prof.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

double unsample_scale(double objs, double bytes, uint64_t period)
{
    if (period == 0 || objs <= 0 || bytes <= 0)
        return 1.0;
    double ratio = bytes / objs / (double)period;
    return 1.0 / (1.0 - exp(-ratio));
}

static void add_stack(profile_t *p, const pstack_t *s)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->stacks = xrealloc(p->stacks, p->cap * sizeof *p->stacks);
    }
    p->stacks[p->n++] = *s;
}

static void add_map(profile_t *p, const pmap_t *m)
{
    if (p->nmaps == p->maps_cap) {
        p->maps_cap = p->maps_cap ? 2 * p->maps_cap : 32;
        p->maps = xrealloc(p->maps, p->maps_cap * sizeof *p->maps);
    }
    p->maps[p->nmaps++] = *m;
}

void profile_free(profile_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->stacks[i].pc);
    free(p->stacks);
    for (size_t i = 0; i < p->nmaps; i++)
        free(p->maps[i].path);
    free(p->maps);
    for (size_t i = 0; i < p->nknown; i++) {
        free(p->known[i].func);
        free(p->known[i].file);
    }
    free(p->known);
    free(p->file);
    memset(p, 0, sizeof *p);
}

/* ---- heap_v2 ------------------------------------------------------------- */

static bool parse_u64_at(const char **s, uint64_t *v, int base)
{
    const char *p = *s;
    if (!isxdigit((unsigned char)*p))
        return false;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(p, &end, base);
    if (end == p || errno)
        return false;
    *v = x;
    *s = end;
    return true;
}

static bool lit(const char **s, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(*s, w, n) != 0)
        return false;
    *s += n;
    return true;
}

/* "t*: objs: bytes [aobjs: abytes]" or "t<id>: ..." after leading blanks. */
static bool parse_counts(const char *s, bool *star, uint64_t v[4])
{
    while (*s == ' ')
        s++;
    if (!lit(&s, "t"))
        return false;
    if (*s == '*') {
        *star = true;
        s++;
    } else {
        uint64_t id;
        *star = false;
        if (!parse_u64_at(&s, &id, 10))
            return false;
    }
    return lit(&s, ": ") && parse_u64_at(&s, &v[0], 10) && lit(&s, ": ") &&
           parse_u64_at(&s, &v[1], 10) && lit(&s, " [") && parse_u64_at(&s, &v[2], 10) &&
           lit(&s, ": ") && parse_u64_at(&s, &v[3], 10) && lit(&s, "]") && *s == 0;
}

/* One of tidemalloc's "tide_" lines (leading blanks skipped): the
 * fragmentation view, or (stack != NULL, after that stack's t* line) a
 * stack's pinned bytes. false if it is not one, or malformed. */
static bool parse_tide_line(const char *s, pfrag_t *f, pstack_t *stack)
{
    while (*s == ' ')
        s++;
    uint64_t a, b, c, d;
    if (lit(&s, "tide_pinned: ") && parse_u64_at(&s, &a, 10)) {
        if (*s == 0 && stack) {
            stack->pinned = (double)a;
            return true;
        }
        if (lit(&s, " free: ") && parse_u64_at(&s, &b, 10) && *s == 0) {
            f->present = true;
            f->pinned = (double)a;
            f->free = (double)b;
            return true;
        }
        return false;
    }
    bool is_cls = lit(&s, "tide_class: ");
    if (is_cls || lit(&s, "tide_bin: ")) {
        if (!(parse_u64_at(&s, &a, 10) && lit(&s, " pinned: ") && parse_u64_at(&s, &b, 10) && lit(&s, " free: ") &&
              parse_u64_at(&s, &c, 10) && *s == 0))
            return false;
        pfrag_row_t *rows = is_cls ? f->cls : f->bin;
        size_t *n = is_cls ? &f->ncls : &f->nbin;
        if (*n < PFRAG_MAX)
            rows[(*n)++] = (pfrag_row_t){ a, (double)b, (double)c };
        return true;
    }
    if (lit(&s, "tide_started: mid_run: ") && parse_u64_at(&s, &a, 10) && lit(&s, " unix_ms: ") &&
        parse_u64_at(&s, &b, 10) && lit(&s, " live_at_start: ") && parse_u64_at(&s, &c, 10) &&
        lit(&s, " unattributed: ") && parse_u64_at(&s, &d, 10) && *s == 0) {
        f->has_start = true;
        f->mid_run = a != 0;
        f->started_unix_ms = b;
        f->live_at_start = c;
        f->unattributed = d;
        return true;
    }
    return false;
}

/* One line of /proc/PID/maps; false if it is not one. */
static bool parse_maps_line(const char *s, pmap_t *m)
{
    memset(m, 0, sizeof *m);
    if (!parse_u64_at(&s, &m->start, 16) || !lit(&s, "-") || !parse_u64_at(&s, &m->limit, 16) ||
        !lit(&s, " ") || strlen(s) < 5)
        return false;
    s += 4;
    if (!lit(&s, " ") || !parse_u64_at(&s, &m->offset, 16))
        return false;
    for (int f = 0; f < 2; f++) { /* dev, inode */
        while (*s == ' ')
            s++;
        if (!*s)
            return false;
        while (*s && *s != ' ')
            s++;
    }
    while (*s == ' ')
        s++;
    if (m->start >= m->limit)
        return false;
    if (*s == '/')
        m->path = xstrdup(s);
    return true;
}

static void fill_estimates(pstack_t *st, const uint64_t v[4], uint64_t period)
{
    double sl = unsample_scale((double)v[0], (double)v[1], period);
    double sa = unsample_scale((double)v[2], (double)v[3], period);
    st->live_objs = (double)v[0] * sl;
    st->live_bytes = (double)v[1] * sl;
    st->accum_objs = (double)v[2] * sa;
    st->accum_bytes = (double)v[3] * sa;
}

static int read_heap_v2(char *text, size_t len, profile_t *p, char *err, size_t errsize)
{
    if (len == 0 || text[len - 1] != '\n') {
        snprintf(err, errsize, "truncated heap_v2 profile: the last line is incomplete");
        return -1;
    }
    p->format = "heap_v2";
    p->return_addresses = true;
    enum { TOTALS, BODY, STACK_COUNTS, MAPS } state = TOTALS;
    pstack_t cur = { 0 };
    bool stack_open = false; /* the last line was a stack's t* line (or its thread lines) */
    size_t lineno = 0;
    char *line = text, *next;
    for (; line < text + len; line = next) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        *nl = 0;
        next = nl + 1;
        lineno++;
        if (lineno == 1) {
            const char *s = line;
            if (!lit(&s, "heap_v2/") || !parse_u64_at(&s, &p->period, 10) || *s) {
                snprintf(err, errsize, "not a heap_v2 profile: the first line is not 'heap_v2/<sample period>'");
                return -1;
            }
            continue;
        }
        if (state == MAPS) {
            pmap_t m;
            if (parse_maps_line(line, &m))
                add_map(p, &m);
            else if (*line) {
                snprintf(err, errsize, "line %zu: not a /proc/PID/maps line in MAPPED_LIBRARIES", lineno);
                return -1;
            }
            continue;
        }
        if (line[0] == 0)
            continue;
        bool star;
        uint64_t v[4];
        if (strcmp(line, "MAPPED_LIBRARIES:") == 0) {
            if (state == STACK_COUNTS) {
                snprintf(err, errsize, "line %zu: the stack above has no 't*:' line", lineno);
                return -1;
            }
            if (state == TOTALS) {
                snprintf(err, errsize, "line %zu: MAPPED_LIBRARIES before the 't*:' totals line", lineno);
                return -1;
            }
            state = MAPS;
        } else if (line[0] == '@') {
            if (state == STACK_COUNTS) {
                snprintf(err, errsize, "line %zu: the stack above has no 't*:' line", lineno);
                return -1;
            }
            if (state == TOTALS) {
                snprintf(err, errsize, "line %zu: a stack before the 't*:' totals line", lineno);
                return -1;
            }
            memset(&cur, 0, sizeof cur);
            stack_open = false;
            size_t cap = 0;
            const char *s = line + 1;
            for (;;) {
                while (*s == ' ')
                    s++;
                if (!*s)
                    break;
                uint64_t pc;
                if (!lit(&s, "0x") || !parse_u64_at(&s, &pc, 16) || (*s && *s != ' ')) {
                    free(cur.pc);
                    snprintf(err, errsize, "line %zu: a stack frame is not a hex address", lineno);
                    return -1;
                }
                if (cur.depth == cap) {
                    cap = cap ? 2 * cap : 16;
                    cur.pc = xrealloc(cur.pc, cap * sizeof *cur.pc);
                }
                cur.pc[cur.depth++] = pc;
            }
            if (cur.depth == 0) {
                snprintf(err, errsize, "line %zu: an empty stack", lineno);
                return -1;
            }
            state = STACK_COUNTS;
        } else if (parse_counts(line, &star, v)) {
            if (state == TOTALS) {
                if (!star) {
                    snprintf(err, errsize, "line %zu: expected the 't*:' totals line", lineno);
                    return -1;
                }
                state = BODY;
            } else if (state == STACK_COUNTS) {
                if (!star) {
                    free(cur.pc);
                    snprintf(err, errsize, "line %zu: a stack's first line must be 't*:'", lineno);
                    return -1;
                }
                fill_estimates(&cur, v, p->period);
                add_stack(p, &cur);
                memset(&cur, 0, sizeof cur);
                state = BODY;
                stack_open = true;
            } /* per-thread lines: the t* line already sums them */
        } else if (state == BODY && parse_tide_line(line, &p->frag, p->n && stack_open ? &p->stacks[p->n - 1] : NULL)) {
            /* tidemalloc's own lines */
        } else {
            free(cur.pc);
            snprintf(err, errsize, "line %zu: unexpected '%.40s'", lineno, line);
            return -1;
        }
    }
    if (state == STACK_COUNTS) {
        free(cur.pc);
        snprintf(err, errsize, "truncated heap_v2 profile: the last stack has no 't*:' line");
        return -1;
    }
    if (state != MAPS) {
        snprintf(err, errsize, "truncated heap_v2 profile: no MAPPED_LIBRARIES section");
        return -1;
    }
    return 0;
}

/* ---- pprof ------------------------------------------------------------- */

typedef struct pb {
    const uint8_t *p, *end;
    bool bad;
} pb_t;

static uint64_t pb_varint(pb_t *b)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (b->p >= b->end) {
            b->bad = true;
            return 0;
        }
        uint8_t c = *b->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    b->bad = true;
    return 0;
}

/* Next field: its number, wire type, and for length-delimited ones the
 * contents (in *sub); false at the end or on corrupt input. */
static bool pb_field(pb_t *b, unsigned *field, unsigned *wire, uint64_t *v, pb_t *sub)
{
    if (b->bad || b->p >= b->end)
        return false;
    uint64_t key = pb_varint(b);
    *field = (unsigned)(key >> 3);
    *wire = (unsigned)(key & 7);
    switch (*wire) {
    case 0:
        *v = pb_varint(b);
        break;
    case 1:
        if (b->end - b->p < 8)
            b->bad = true;
        else
            memcpy(v, b->p, 8), b->p += 8;
        break;
    case 5:
        if (b->end - b->p < 4)
            b->bad = true;
        else {
            uint32_t x;
            memcpy(&x, b->p, 4);
            *v = x;
            b->p += 4;
        }
        break;
    case 2: {
        uint64_t n = pb_varint(b);
        if (b->bad || n > (uint64_t)(b->end - b->p)) {
            b->bad = true;
            break;
        }
        sub->p = b->p;
        sub->end = b->p + n;
        sub->bad = false;
        b->p += n;
        break;
    }
    default:
        b->bad = true;
    }
    return !b->bad && *field != 0;
}

/* A repeated integer field, packed or not: call add for each value. */
typedef struct u64vec {
    uint64_t *v;
    size_t n, cap;
} u64vec_t;

static void vec_push(u64vec_t *a, uint64_t x)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 8;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = x;
}

static void pb_repeated(unsigned wire, uint64_t v, pb_t *sub, u64vec_t *out, bool *bad)
{
    if (wire == 0) {
        vec_push(out, v);
        return;
    }
    if (wire != 2) {
        *bad = true;
        return;
    }
    while (sub->p < sub->end && !sub->bad)
        vec_push(out, pb_varint(sub));
    if (sub->bad)
        *bad = true;
}

typedef struct ploc {
    uint64_t id, mapping_id, addr, function_id;
    int64_t line;
} ploc_t;

typedef struct pfunc {
    uint64_t id, name, file;
} pfunc_t;

static int cmp_loc(const void *a, const void *b)
{
    uint64_t x = ((const ploc_t *)a)->id, y = ((const ploc_t *)b)->id;
    return x < y ? -1 : x > y;
}

static int read_pprof(const uint8_t *data, size_t len, profile_t *p, char *err, size_t errsize)
{
    p->format = "pprof";
    p->return_addresses = false;
    pb_t b = { data, data + len, false }, sub, s2;
    unsigned field, wire, f2, w2;
    uint64_t v, v2;
    /* Pass 1: the string table, sample types, locations, functions, mappings. */
    const uint8_t **str = NULL;
    size_t *str_len = NULL, nstr = 0, str_cap = 0;
    u64vec_t types = { 0 }, comments = { 0 };
    ploc_t *locs = NULL;
    size_t nlocs = 0, locs_cap = 0;
    pfunc_t *fns = NULL;
    size_t nfns = 0, fns_cap = 0;
    typedef struct { uint64_t id, start, limit, offset, file; } pmapping_t;
    pmapping_t *maps = NULL;
    size_t nmaps = 0, maps_cap = 0;
    bool bad = false;
    size_t nsamples = 0;
    while (pb_field(&b, &field, &wire, &v, &sub)) {
        if (field == 6 && wire == 2) {
            if (nstr == str_cap) {
                str_cap = str_cap ? 2 * str_cap : 64;
                str = xrealloc(str, str_cap * sizeof *str);
                str_len = xrealloc(str_len, str_cap * sizeof *str_len);
            }
            str[nstr] = sub.p;
            str_len[nstr++] = (size_t)(sub.end - sub.p);
        } else if (field == 1 && wire == 2) {
            uint64_t type = 0, unit = 0;
            while (pb_field(&sub, &f2, &w2, &v2, &s2))
                if (f2 == 1) type = v2; else if (f2 == 2) unit = v2;
            vec_push(&types, type);
            (void)unit;
            bad |= sub.bad;
        } else if (field == 4 && wire == 2) {
            ploc_t l = { 0 };
            while (pb_field(&sub, &f2, &w2, &v2, &s2)) {
                if (f2 == 1) l.id = v2;
                else if (f2 == 2) l.mapping_id = v2;
                else if (f2 == 3) l.addr = v2;
                else if (f2 == 4 && w2 == 2 && !l.function_id) { /* first Line: innermost */
                    pb_t s3 = s2;
                    unsigned f3, w3;
                    uint64_t v3;
                    pb_t s4;
                    while (pb_field(&s3, &f3, &w3, &v3, &s4))
                        if (f3 == 1) l.function_id = v3; else if (f3 == 2) l.line = (int64_t)v3;
                    bad |= s3.bad;
                }
            }
            bad |= sub.bad;
            if (nlocs == locs_cap) {
                locs_cap = locs_cap ? 2 * locs_cap : 64;
                locs = xrealloc(locs, locs_cap * sizeof *locs);
            }
            locs[nlocs++] = l;
        } else if (field == 5 && wire == 2) {
            pfunc_t fn = { 0 };
            while (pb_field(&sub, &f2, &w2, &v2, &s2))
                if (f2 == 1) fn.id = v2; else if (f2 == 2) fn.name = v2; else if (f2 == 4) fn.file = v2;
            bad |= sub.bad;
            if (nfns == fns_cap) {
                fns_cap = fns_cap ? 2 * fns_cap : 64;
                fns = xrealloc(fns, fns_cap * sizeof *fns);
            }
            fns[nfns++] = fn;
        } else if (field == 3 && wire == 2) {
            pmapping_t m = { 0 };
            while (pb_field(&sub, &f2, &w2, &v2, &s2)) {
                if (f2 == 1) m.id = v2;
                else if (f2 == 2) m.start = v2;
                else if (f2 == 3) m.limit = v2;
                else if (f2 == 4) m.offset = v2;
                else if (f2 == 5) m.file = v2;
            }
            bad |= sub.bad;
            if (nmaps == maps_cap) {
                maps_cap = maps_cap ? 2 * maps_cap : 32;
                maps = xrealloc(maps, maps_cap * sizeof *maps);
            }
            maps[nmaps++] = m;
        } else if (field == 2) {
            nsamples++;
        } else if (field == 12 && wire == 0) {
            p->period = v;
        } else if (field == 13) {
            pb_repeated(wire, v, &sub, &comments, &bad);
        }
    }
    int rc = -1;
    if (b.bad || bad) {
        snprintf(err, errsize, "corrupt or truncated pprof profile (bad protobuf data)");
        goto out;
    }
    if (nstr == 0 || str_len[0] != 0 || types.n == 0) {
        snprintf(err, errsize, "not a pprof profile (no string table or sample types)");
        goto out;
    }
    int idx[5] = { -1, -1, -1, -1, -1 }; /* inuse_objects, inuse_space, alloc_objects, alloc_space, pinned */
    static const char *const want[5] = { "inuse_objects", "inuse_space", "alloc_objects", "alloc_space", "pinned" };
    for (size_t i = 0; i < types.n; i++) {
        if (types.v[i] >= nstr) {
            snprintf(err, errsize, "corrupt pprof profile (string index out of range)");
            goto out;
        }
        for (int k = 0; k < 5; k++)
            if (str_len[types.v[i]] == strlen(want[k]) && memcmp(str[types.v[i]], want[k], str_len[types.v[i]]) == 0)
                idx[k] = (int)i;
    }
    if (idx[1] < 0) {
        snprintf(err, errsize, "pprof profile without an inuse_space sample type: not a heap profile");
        goto out;
    }
    for (size_t i = 0; i < comments.n; i++) {
        if (comments.v[i] >= nstr)
            continue;
        char *c = xasprintf("%.*s", (int)str_len[comments.v[i]], (const char *)str[comments.v[i]]);
        parse_tide_line(c, &p->frag, NULL); /* other comments are not ours */
        free(c);
    }
#define STR(i) ((i) < nstr ? xasprintf("%.*s", (int)str_len[i], (const char *)str[i]) : xstrdup(""))
    for (size_t i = 0; i < nmaps; i++) {
        pmap_t m = { maps[i].start, maps[i].limit, maps[i].offset, NULL };
        if (maps[i].file && maps[i].file < nstr && str_len[maps[i].file] && str[maps[i].file][0] == '/')
            m.path = STR(maps[i].file);
        add_map(p, &m);
    }
    if (nlocs > 1)
        qsort(locs, nlocs, sizeof *locs, cmp_loc);
    for (size_t i = 0; i < nlocs; i++) {
        if (!locs[i].function_id)
            continue;
        for (size_t k = 0; k < nfns; k++) {
            if (fns[k].id != locs[i].function_id)
                continue;
            p->known = xrealloc(p->known, (p->nknown + 1) * sizeof *p->known);
            struct known_fn *kf = &p->known[p->nknown++];
            kf->addr = locs[i].addr;
            kf->func = STR(fns[k].name);
            kf->file = fns[k].file ? STR(fns[k].file) : NULL;
            kf->line = locs[i].line;
            break;
        }
    }
    /* Pass 2: the samples. */
    b = (pb_t){ data, data + len, false };
    while (pb_field(&b, &field, &wire, &v, &sub)) {
        if (field != 2 || wire != 2)
            continue;
        u64vec_t ids = { 0 }, vals = { 0 };
        while (pb_field(&sub, &f2, &w2, &v2, &s2)) {
            if (f2 == 1)
                pb_repeated(w2, v2, &s2, &ids, &bad);
            else if (f2 == 2)
                pb_repeated(w2, v2, &s2, &vals, &bad);
        }
        bad |= sub.bad;
        if (vals.n != types.n)
            bad = true;
        pstack_t st = { 0 };
        st.pc = xmalloc((ids.n ? ids.n : 1) * sizeof *st.pc);
        for (size_t i = 0; i < ids.n && !bad; i++) {
            ploc_t key = { .id = ids.v[i] };
            ploc_t *l = nlocs ? bsearch(&key, locs, nlocs, sizeof *locs, cmp_loc) : NULL;
            if (!l)
                bad = true;
            else
                st.pc[st.depth++] = l->addr;
        }
        if (!bad) {
            double vv[5];
            for (int k = 0; k < 5; k++)
                vv[k] = idx[k] >= 0 ? (double)(int64_t)vals.v[idx[k]] : 0;
            st.live_objs = vv[0];
            st.live_bytes = vv[1];
            st.accum_objs = vv[2];
            st.accum_bytes = vv[3];
            st.pinned = vv[4];
            add_stack(p, &st);
        } else {
            free(st.pc);
        }
        free(ids.v);
        free(vals.v);
        if (bad) {
            snprintf(err, errsize, "corrupt pprof profile (a sample's locations or values do not match)");
            goto out;
        }
    }
#undef STR
    rc = 0;
out:
    free(str);
    free(str_len);
    free(types.v);
    free(comments.v);
    free(locs);
    free(fns);
    free(maps);
    return rc;
}

/* gunzip (any gzip, not only ours); -1 with a message if corrupt. */
static int gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, char *err, size_t errsize)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        snprintf(err, errsize, "zlib: cannot initialise");
        return -1;
    }
    size_t cap = len * 4 + 4096, n = 0;
    uint8_t *buf = xmalloc(cap);
    z.next_in = (uint8_t *)in;
    z.avail_in = (uInt)len;
    int r;
    do {
        if (cap - n < 4096) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        z.next_out = buf + n;
        z.avail_out = (uInt)(cap - n);
        r = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
    } while (r == Z_OK);
    inflateEnd(&z);
    if (r != Z_STREAM_END) {
        free(buf);
        snprintf(err, errsize, r == Z_BUF_ERROR ? "truncated gzip data (a pprof profile cut short?)"
                                                : "corrupt gzip data");
        return -1;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

int profile_read(const char *path, profile_t *p, char *err, size_t errsize)
{
    memset(p, 0, sizeof *p);
    p->file = xstrdup(path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsize, "%s", strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *data = xmalloc(cap + 1);
    size_t r;
    while ((r = fread(data + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) {
            cap *= 2;
            data = xrealloc(data, cap + 1);
        }
    }
    bool rerr = ferror(f);
    fclose(f);
    int rc = -1;
    if (rerr)
        snprintf(err, errsize, "read error (a directory?)");
    else if (len == 0)
        snprintf(err, errsize, "empty file");
    else if (len >= 2 && (uint8_t)data[0] == 0x1f && (uint8_t)data[1] == 0x8b) {
        uint8_t *raw;
        size_t raw_len;
        if (gunzip((uint8_t *)data, len, &raw, &raw_len, err, errsize) == 0) {
            if (raw_len >= 8 && memcmp(raw, "heap_v2/", 8) == 0) { /* a gzipped heap_v2 */
                raw = xrealloc(raw, raw_len + 1);
                raw[raw_len] = 0;
                rc = read_heap_v2((char *)raw, raw_len, p, err, errsize);
            } else {
                rc = read_pprof(raw, raw_len, p, err, errsize);
            }
            free(raw);
        }
    } else if (len >= 8 && memcmp(data, "heap_v2/", 8) == 0) {
        data[len] = 0;
        rc = read_heap_v2(data, len, p, err, errsize);
    } else {
        snprintf(err, errsize, "not a heap profile (neither heap_v2 text nor gzipped pprof)");
    }
    free(data);
    return rc;
}

int profile_maps_read(const char *path, profile_t *p)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = 0;
        pmap_t m;
        if (parse_maps_line(line, &m))
            add_map(p, &m);
    }
    free(line);
    fclose(f);
    return 0;
}
