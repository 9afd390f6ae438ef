/* prof_pprof — the profile as a gzipped pprof profile.proto, the format of
 * Go's heap profiles, which `go tool pprof` and continuous profilers read.
 *
 * Sample types, in the order Go's heap profiles use: alloc_objects/count,
 * alloc_space/bytes, inuse_objects/count, inuse_space/bytes (the default),
 * then pinned/bytes (the free bytes inside partly used slabs the stack's
 * live blocks pin, prof_pinned.c), filled with the rows' unbiased
 * estimates; the comments carry heap_v2's "tide_" lines (pinned bytes by
 * size class and occupancy bin, when profiling started); period space/bytes = the mean
 * sampling interval. Mappings are the executable mappings of
 * /proc/self/maps (the program's own first), with GNU build ids where the
 * loaded object has one. One Location per distinct pc, at pc - 1: the rows
 * hold return addresses, and pc - 1 lies inside the call instruction, so a
 * call that ends its function is not charged to the next one. Each
 * Location carries its Function (name from the file's symbols) and Line
 * (file and line from its DWARF line table) where the mapped file has them
 * (prof_symbolize.c), so the profile reads without the binaries; a mapping
 * all of whose locations were named says so (has_functions, has_filenames,
 * has_line_numbers), and pprof then does not look for the file.
 *
 * Runs inside the allocator: no malloc. Every top-level field is streamed
 * straight into the gzip writer (a message's top level has no length);
 * each sub-message is built in a small scratch buffer first. */
#define _GNU_SOURCE
#include "prof.h"
#include "prof_snap.h"
#include "gzip.h"
#include "prof_symbolize.h"
#include "platform/os.h"

#include <errno.h>
#include <link.h>
#include <string.h>
#include <time.h>

_Static_assert(sizeof(uintptr_t) == sizeof(uint64_t), "64-bit pcs");

/* ---- protobuf wire format ---------------------------------------------- */

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

static size_t varint(uint8_t *b, uint64_t v)
{
    size_t i = 0;
    while (v >= 0x80) {
        b[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[i++] = (uint8_t)v;
    return i;
}

/* A sub-message under construction. */
typedef struct msg {
    uint8_t *b;
    size_t n, cap;
} msg_t;

static void msg_varint(msg_t *m, unsigned field, uint64_t v)
{
    if (m->cap - m->n < 20)
        return; /* sized by the caller; cannot happen */
    m->n += varint(m->b + m->n, (uint64_t)field << 3 | WIRE_VARINT);
    m->n += varint(m->b + m->n, v);
}

/* A nested message of at most 40 bytes (a Line). */
static void msg_nested(msg_t *m, unsigned field, const uint8_t *p, size_t len)
{
    if (m->cap - m->n < 20 + len)
        return;
    m->n += varint(m->b + m->n, (uint64_t)field << 3 | WIRE_LEN);
    m->n += varint(m->b + m->n, len);
    memcpy(m->b + m->n, p, len);
    m->n += len;
}

/* Top-level fields, into the gzip stream. */
static void top_varint(gzip_writer_t *g, unsigned field, uint64_t v)
{
    uint8_t b[20];
    size_t n = varint(b, (uint64_t)field << 3 | WIRE_VARINT);
    n += varint(b + n, v);
    gzip_write(g, b, n);
}

static void top_bytes(gzip_writer_t *g, unsigned field, const void *p, size_t len)
{
    uint8_t b[20];
    size_t n = varint(b, (uint64_t)field << 3 | WIRE_LEN);
    n += varint(b + n, len);
    gzip_write(g, b, n);
    gzip_write(g, p, len);
}

/* Profile field numbers (profile.proto). */
enum {
    P_SAMPLE_TYPE = 1, P_SAMPLE = 2, P_MAPPING = 3, P_LOCATION = 4, P_FUNCTION = 5,
    P_STRING_TABLE = 6, P_TIME_NANOS = 9, P_PERIOD_TYPE = 11, P_PERIOD = 12,
    P_COMMENT = 13, P_DEFAULT_SAMPLE_TYPE = 14,
};

/* ---- strings ----------------------------------------------------------- */

/* The fixed part of the string table; index 0 must be "". */
enum {
    S_EMPTY, S_ALLOC_OBJECTS, S_COUNT, S_ALLOC_SPACE, S_BYTES,
    S_INUSE_OBJECTS, S_INUSE_SPACE, S_SPACE, S_PINNED, S_FIXED
};
static const char *const fixed_strings[S_FIXED] = {
    "", "alloc_objects", "count", "alloc_space", "bytes",
    "inuse_objects", "inuse_space", "space", "pinned",
};

/* The "tide_" lines as strings of the table, remembered for the comments. */
#define FRAG_LINES_MAX (1 + PROF_FRAG_CLASSES + PROF_FRAG_BINS + 1)
typedef struct frag_strings {
    gzip_writer_t *g;
    uint64_t *nstr;
    uint64_t idx[FRAG_LINES_MAX];
    unsigned n;
} frag_strings_t;

/* ---- mappings ---------------------------------------------------------- */

#define BUILD_ID_MAX 64

typedef struct mapping {
    uint64_t start, limit, offset;
    size_t name_off, name_len; /* in the names scratch */
    uint64_t id;
    uint64_t name_str, build_id_str; /* string table indices (0: none) */
    uint8_t build_id[BUILD_ID_MAX];
    size_t build_id_len;
    bool is_exe;
} mapping_t;

typedef struct maps {
    scratch_t v;     /* mapping_t[], in address order */
    scratch_t names; /* file names, back to back */
    size_t n;
} maps_t;

typedef struct maps_ctx {
    maps_t *m;
    const char *exe;
    size_t exe_len;
} maps_ctx_t;

/* Executable file mappings only: anonymous ones, [vdso] and [vsyscall]
 * hold no code pprof could name. */
static void maps_line(void *ctx, const os_mapping_t *om)
{
    maps_ctx_t *c = ctx;
    maps_t *m = c->m;
    if (!om->executable || om->path_len == 0 || om->path[0] == '[')
        return;
    mapping_t mp;
    memset(&mp, 0, sizeof mp);
    mp.start = om->start;
    mp.limit = om->end;
    mp.offset = om->offset;
    mp.name_off = m->names.n;
    mp.name_len = om->path_len;
    mp.is_exe = c->exe_len == mp.name_len && memcmp(om->path, c->exe, c->exe_len) == 0;
    if (!scratch_put(&m->names, om->path, mp.name_len) || !scratch_put(&m->v, &mp, sizeof mp))
        return;
    m->n++;
}

static bool maps_read(maps_t *m, char *line, size_t line_cap, char *exe, size_t exe_cap)
{
    long exe_len = os_readlink("/proc/self/exe", exe, exe_cap);
    maps_ctx_t c = { .m = m, .exe = exe, .exe_len = exe_len < 0 ? 0 : (size_t)exe_len };
    if (!os_maps_foreach(line, line_cap, maps_line, &c))
        return false;
    return !m->v.failed && !m->names.failed;
}

static mapping_t *maps_at(maps_t *m, size_t i)
{
    return (mapping_t *)m->v.p + i;
}

/* The mapping holding addr, by binary search (maps are in address order). */
static mapping_t *maps_find(maps_t *m, uint64_t addr)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        mapping_t *mp = maps_at(m, mid);
        if (addr < mp->start)
            hi = mid;
        else if (addr >= mp->limit)
            lo = mid + 1;
        else
            return mp;
    }
    return NULL;
}

/* GNU build ids from the loaded objects' PT_NOTE segments (in memory, so
 * no file is read). */
static int build_id_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    maps_t *m = ctx;
    const uint8_t *id = NULL;
    size_t id_len = 0;
    for (int i = 0; i < info->dlpi_phnum && !id; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (end - p >= 12) {
            uint32_t namesz, descsz, type;
            memcpy(&namesz, p, 4);
            memcpy(&descsz, p + 4, 4);
            memcpy(&type, p + 8, 4);
            size_t name_pad = ((size_t)namesz + 3) & ~(size_t)3;
            size_t desc_pad = ((size_t)descsz + 3) & ~(size_t)3;
            if ((size_t)(end - p) - 12 < name_pad + desc_pad)
                break;
            if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(p + 12, "GNU", 4) == 0 &&
                descsz > 0 && descsz <= BUILD_ID_MAX) {
                id = p + 12 + name_pad;
                id_len = descsz;
                break;
            }
            p += 12 + name_pad + desc_pad;
        }
    }
    if (!id)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        for (size_t k = 0; k < m->n; k++) {
            mapping_t *mp = maps_at(m, k);
            if (mp->start >= (lo & ~(uint64_t)(OS_PAGE_SIZE - 1)) && mp->start < hi) {
                memcpy(mp->build_id, id, id_len);
                mp->build_id_len = id_len;
            }
        }
    }
    return 0;
}

/* ---- pc -> location id ------------------------------------------------- */

typedef struct loc_slot {
    uint64_t pc, id; /* id 0: empty */
} loc_slot_t;

typedef struct loc_table {
    scratch_t mem;
    loc_slot_t *slot;
    size_t mask;
} loc_table_t;

static bool loc_init(loc_table_t *t, size_t frames)
{
    size_t cap = 16;
    while (cap < 2 * frames)
        cap *= 2;
    if (!scratch_room(&t->mem, cap * sizeof(loc_slot_t)))
        return false;
    t->slot = (loc_slot_t *)t->mem.p; /* fresh pages read as zero */
    t->mask = cap - 1;
    return true;
}

static loc_slot_t *loc_slot(loc_table_t *t, uint64_t pc)
{
    uint64_t h = pc * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)(h >> 20) & t->mask;
    while (t->slot[i].id && t->slot[i].pc != pc)
        i = (i + 1) & t->mask;
    return &t->slot[i];
}

/* ---- the writer -------------------------------------------------------- */

static void put_value_type(gzip_writer_t *g, msg_t *m, unsigned field, uint64_t type, uint64_t unit)
{
    m->n = 0;
    msg_varint(m, 1, type);
    msg_varint(m, 2, unit);
    top_bytes(g, field, m->b, m->n);
}

/* ---- names, files and lines ------------------------------------------ */

typedef struct named_ctx {
    gzip_writer_t *g;
    msg_t *m;
    uint64_t *nstr;
    char *path; /* scratch for a file name */
    size_t path_cap;
    scratch_t syms; /* prof_symbol_t[] of one mapping */
} named_ctx_t;

static uint64_t put_string(named_ctx_t *c, const char *a, const char *sep, const char *b)
{
    size_t na = strlen(a), ns = sep ? strlen(sep) : 0, nb = b ? strlen(b) : 0;
    if (na + ns + nb > c->path_cap)
        nb = ns = 0, na = na > c->path_cap ? c->path_cap : na;
    memcpy(c->path, a, na);
    if (ns) /* memcpy may not be given NULL, even for 0 bytes */
        memcpy(c->path + na, sep, ns);
    if (nb)
        memcpy(c->path + na + ns, b, nb);
    top_bytes(c->g, P_STRING_TABLE, c->path, na + ns + nb);
    return (*c->nstr)++;
}

/* One location, with its function (id = the location's) and line. */
static void put_location(named_ctx_t *c, uint64_t mapping_id, uint64_t addr, const prof_symbol_t *sym)
{
    msg_t *m = c->m;
    uint8_t line[40];
    size_t line_len = 0;
    if (sym && sym->func) {
        uint64_t name = put_string(c, sym->func, NULL, NULL);
        uint64_t file = !sym->file ? 0 : sym->dir ? put_string(c, sym->dir, "/", sym->file)
                                                  : put_string(c, sym->file, NULL, NULL);
        m->n = 0;
        msg_varint(m, 1, sym->id);
        msg_varint(m, 2, name);
        msg_varint(m, 3, name);
        if (file)
            msg_varint(m, 4, file);
        top_bytes(c->g, P_FUNCTION, m->b, m->n);
        line_len += varint(line, 1 << 3 | WIRE_VARINT);
        line_len += varint(line + line_len, sym->id);
        if (sym->line) {
            line_len += varint(line + line_len, 2 << 3 | WIRE_VARINT);
            line_len += varint(line + line_len, sym->line);
        }
    }
    m->n = 0;
    msg_varint(m, 1, sym ? sym->id : 0);
    msg_varint(m, 2, mapping_id);
    msg_varint(m, 3, addr);
    if (line_len)
        msg_nested(m, 4, line, line_len);
    top_bytes(c->g, P_LOCATION, m->b, m->n);
}

/* A mapping, its locations, and the has_* flags its file earned. */
static void put_mapping(named_ctx_t *c, maps_t *maps, mapping_t *mp, loc_table_t *locs)
{
    c->syms.n = 0;
    for (size_t k = 0; k <= locs->mask; k++) {
        loc_slot_t *s = &locs->slot[k];
        uint64_t addr = s->pc ? s->pc - 1 : 0;
        if (s->id && addr >= mp->start && addr < mp->limit) {
            prof_symbol_t sym = { .vaddr = addr, .id = s->id };
            scratch_put(&c->syms, &sym, sizeof sym);
        }
    }
    prof_symbol_t *sym = (prof_symbol_t *)c->syms.p;
    size_t n = c->syms.failed ? 0 : c->syms.n / sizeof *sym;
    prof_elf_t elf;
    uint64_t bias = 0;
    size_t name_len = mp->name_len < c->path_cap - 1 ? mp->name_len : c->path_cap - 1;
    memcpy(c->path, maps->names.p + mp->name_off, name_len);
    c->path[name_len] = 0;
    bool have_file = n && prof_elf_open(&elf, c->path);
    if (have_file && prof_elf_vaddr(&elf, mp->start, mp->offset, &bias)) {
        for (size_t i = 0; i < n; i++)
            sym[i].vaddr -= bias;
        prof_elf_resolve(&elf, sym, n);
        for (size_t i = 0; i < n; i++)
            sym[i].vaddr += bias;
    }
    bool all_named = n > 0, all_lines = n > 0;
    for (size_t i = 0; i < n; i++) {
        all_named = all_named && sym[i].func;
        all_lines = all_lines && sym[i].line;
    }
    msg_t *m = c->m;
    m->n = 0;
    msg_varint(m, 1, mp->id);
    msg_varint(m, 2, mp->start);
    msg_varint(m, 3, mp->limit);
    msg_varint(m, 4, mp->offset);
    msg_varint(m, 5, mp->name_str);
    if (mp->build_id_str)
        msg_varint(m, 6, mp->build_id_str);
    if (all_named)
        msg_varint(m, 7, 1);
    if (all_lines) {
        msg_varint(m, 8, 1);
        msg_varint(m, 9, 1);
    }
    top_bytes(c->g, P_MAPPING, m->b, m->n);
    for (size_t i = 0; i < n; i++)
        put_location(c, mp->id, sym[i].vaddr, &sym[i]);
    if (have_file)
        prof_elf_close(&elf);
}

static const char hexdig[] = "0123456789abcdef";

static void put_frag_string(void *ctx, const char *line, size_t len)
{
    frag_strings_t *f = ctx;
    if (f->n == FRAG_LINES_MAX)
        return;
    top_bytes(f->g, P_STRING_TABLE, line, len);
    f->idx[f->n++] = (*f->nstr)++;
}

bool prof_write_pprof(int fd)
{
    /* Scratch (the writer may run on a helper thread with a small stack):
     * the gzip block, a line buffer for /proc/self/maps, the program's
     * path, and one sub-message (a sample: up to PROF_DEPTH_MAX ids and
     * four values). */
    enum { LINE_CAP = 8192, EXE_CAP = 4096, MSG_CAP = 4096 };
    size_t work_size = (GZIP_BUF_SIZE + LINE_CAP + EXE_CAP + MSG_CAP + OS_PAGE_SIZE - 1) & ~(OS_PAGE_SIZE - 1);
    uint8_t *work = os_reserve(work_size, OS_PAGE_SIZE);
    if (!work)
        return false;
    uint8_t *gzbuf = work;
    char *line = (char *)work + GZIP_BUF_SIZE;
    char *exe = line + LINE_CAP;
    msg_t m = { .b = work + GZIP_BUF_SIZE + LINE_CAP + EXE_CAP, .n = 0, .cap = MSG_CAP };

    gzip_writer_t g;
    prof_snap_t snap;
    maps_t maps;
    loc_table_t locs;
    named_ctx_t nc;
    memset(&nc, 0, sizeof nc);
    memset(&maps, 0, sizeof maps);
    memset(&locs, 0, sizeof locs);
    bool ok = prof_snap_take(&snap);
    ok = ok && maps_read(&maps, line, LINE_CAP, exe, EXE_CAP);
    if (ok)
        dl_iterate_phdr(build_id_cb, &maps);
    ok = ok && loc_init(&locs, snap.frames);
    if (!ok)
        goto out;

    uint64_t now_ns = os_realtime_ns();
    gzip_begin(&g, fd, gzbuf);

    /* Sample types, as in Go's heap profiles. */
    put_value_type(&g, &m, P_SAMPLE_TYPE, S_ALLOC_OBJECTS, S_COUNT);
    put_value_type(&g, &m, P_SAMPLE_TYPE, S_ALLOC_SPACE, S_BYTES);
    put_value_type(&g, &m, P_SAMPLE_TYPE, S_INUSE_OBJECTS, S_COUNT);
    put_value_type(&g, &m, P_SAMPLE_TYPE, S_INUSE_SPACE, S_BYTES);
    put_value_type(&g, &m, P_SAMPLE_TYPE, S_PINNED, S_BYTES);

    /* The string table: fixed strings, then each mapping's file name and
     * build id. Mapping ids: the program's own mappings first (pprof takes
     * the first mapping for the main binary). */
    uint64_t nstr = 0;
    for (; nstr < S_FIXED; nstr++)
        top_bytes(&g, P_STRING_TABLE, fixed_strings[nstr], strlen(fixed_strings[nstr]));
    uint64_t next_id = 1;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < maps.n; i++) {
            mapping_t *mp = maps_at(&maps, i);
            if (mp->is_exe != (pass == 0))
                continue;
            mp->id = next_id++;
            mp->name_str = nstr++;
            top_bytes(&g, P_STRING_TABLE, maps.names.p + mp->name_off, mp->name_len);
            if (mp->build_id_len) {
                char hex[2 * BUILD_ID_MAX];
                for (size_t k = 0; k < mp->build_id_len; k++) {
                    hex[2 * k] = hexdig[mp->build_id[k] >> 4];
                    hex[2 * k + 1] = hexdig[mp->build_id[k] & 15];
                }
                mp->build_id_str = nstr++;
                top_bytes(&g, P_STRING_TABLE, hex, 2 * mp->build_id_len);
            }
        }
    }

    frag_strings_t frag = { .g = &g, .nstr = &nstr };
    prof_frag_lines(put_frag_string, &frag);
    for (unsigned i = 0; i < frag.n; i++)
        top_varint(&g, P_COMMENT, frag.idx[i]);

    put_value_type(&g, &m, P_PERIOD_TYPE, S_SPACE, S_BYTES);
    top_varint(&g, P_PERIOD, prof_sample_bytes());
    top_varint(&g, P_TIME_NANOS, now_ns);
    top_varint(&g, P_DEFAULT_SAMPLE_TYPE, S_INUSE_SPACE);

    /* Locations: one per distinct pc, numbered in the order met. */
    uint64_t nloc = 0;
    prof_row_t row;
    size_t pos = 0;
    while (prof_snap_next(&snap, &pos, &row)) {
        for (uint32_t i = 0; i < row.depth; i++) {
            loc_slot_t *s = loc_slot(&locs, row.pc[i]);
            if (!s->id) {
                s->pc = row.pc[i];
                s->id = ++nloc;
            }
        }
    }

    /* Mappings, in id order, each with its locations and what its file
     * says about them; then the locations outside every mapping. */
    nc = (named_ctx_t){ .g = &g, .m = &m, .nstr = &nstr, .path = exe, .path_cap = EXE_CAP };
    for (uint64_t id = 1; id < next_id; id++)
        for (size_t i = 0; i < maps.n; i++)
            if (maps_at(&maps, i)->id == id)
                put_mapping(&nc, &maps, maps_at(&maps, i), &locs);
    for (size_t k = 0; k <= locs.mask; k++) {
        loc_slot_t *s = &locs.slot[k];
        if (s->id && !maps_find(&maps, s->pc ? s->pc - 1 : 0)) {
            m.n = 0;
            msg_varint(&m, 1, s->id);
            msg_varint(&m, 3, s->pc ? s->pc - 1 : 0);
            top_bytes(&g, P_LOCATION, m.b, m.n);
        }
    }

    /* Samples: location ids leaf first (packed), then the four values. */
    pos = 0;
    while (prof_snap_next(&snap, &pos, &row)) {
        uint8_t ids[PROF_DEPTH_MAX * 10];
        size_t ids_len = 0;
        for (uint32_t i = 0; i < row.depth; i++)
            ids_len += varint(ids + ids_len, loc_slot(&locs, row.pc[i])->id);
        uint64_t values[5] = { row.est_accum_objs, row.est_accum_bytes,
                               row.est_live_objs, row.est_live_bytes, row.est_pinned_bytes };
        uint8_t vals[5 * 10];
        size_t vals_len = 0;
        for (int k = 0; k < 5; k++)
            vals_len += varint(vals + vals_len, values[k]);
        m.n = 0;
        m.n += varint(m.b + m.n, 1 << 3 | WIRE_LEN);
        m.n += varint(m.b + m.n, ids_len);
        memcpy(m.b + m.n, ids, ids_len);
        m.n += ids_len;
        m.n += varint(m.b + m.n, 2 << 3 | WIRE_LEN);
        m.n += varint(m.b + m.n, vals_len);
        memcpy(m.b + m.n, vals, vals_len);
        m.n += vals_len;
        top_bytes(&g, P_SAMPLE, m.b, m.n);
    }
    ok = gzip_end(&g);

out:
    prof_snap_free(&snap);
    scratch_free(&maps.v);
    scratch_free(&maps.names);
    scratch_free(&locs.mem);
    scratch_free(&nc.syms);
    os_release(work, work_size);
    return ok;
}
