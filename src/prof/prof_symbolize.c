/* prof_symbolize — names, files and lines for code addresses, read from
 * the loaded ELF files themselves, so that a profile carries them and
 * reads on a machine without the binaries.
 *
 * Function names come from .symtab (or, in a stripped file, .dynsym):
 * the STT_FUNC symbol whose [value, value + size) holds the address.
 * Files and lines come from DWARF's line-number programs (.debug_line,
 * versions 2 to 5; 32-bit DWARF; uncompressed sections only): the row
 * whose address range holds the address.
 *
 * Invariants: runs inside the allocator (a dump), so no malloc: the file
 * is mapped read-only through the platform layer and every result points
 * into that mapping, valid until prof_elf_close. A malformed file yields
 * fewer answers, never a read outside the mapping.
 */
#define _GNU_SOURCE
#include "prof_symbolize.h"

#include <elf.h>
#include <string.h>

#include "platform/os.h"

/* ---- bounded reading --------------------------------------------------- */

typedef struct cursor {
    const uint8_t *p, *end;
    bool bad;
} cursor_t;

static bool need(cursor_t *c, size_t n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = true;
        c->p = c->end;
        return false;
    }
    return true;
}

static void skip(cursor_t *c, uint64_t n)
{
    if (need(c, n))
        c->p += n;
}

static uint64_t read_fixed(cursor_t *c, size_t n)
{
    uint64_t v = 0;
    if (!need(c, n))
        return 0;
    memcpy(&v, c->p, n); /* little-endian, as x86-64 */
    c->p += n;
    return v;
}

static uint64_t read_uleb(cursor_t *c)
{
    uint64_t v = 0;
    for (unsigned shift = 0; need(c, 1); shift += 7) {
        uint8_t b = *c->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    return v;
}

static int64_t read_sleb(cursor_t *c)
{
    int64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0;
    while (need(c, 1)) {
        b = *c->p++;
        if (shift < 64)
            v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (shift < 64 && (b & 0x40))
        v |= -((int64_t)1 << shift);
    return v;
}

static const char *read_cstr(cursor_t *c)
{
    const uint8_t *s = c->p;
    while (need(c, 1) && *c->p)
        c->p++;
    if (!need(c, 1))
        return NULL;
    c->p++;
    return (const char *)s;
}

/* A NUL-terminated string at off in a section, or NULL. */
static const char *section_str(const prof_section_t *s, uint64_t off)
{
    if (!s->data || off >= s->size)
        return NULL;
    const char *p = (const char *)s->data + off;
    return memchr(p, 0, s->size - off) ? p : NULL;
}

/* ---- the file ---------------------------------------------------------- */

static prof_section_t section_of(const prof_elf_t *e, const Elf64_Shdr *sh)
{
    prof_section_t s = { 0 };
    if (sh->sh_type == SHT_NOBITS || (sh->sh_flags & SHF_COMPRESSED) || sh->sh_offset > e->size ||
        sh->sh_size > e->size - sh->sh_offset)
        return s;
    s.data = e->map + sh->sh_offset;
    s.size = sh->sh_size;
    return s;
}

bool prof_elf_open(prof_elf_t *e, const char *path)
{
    memset(e, 0, sizeof *e);
    e->map = os_map_file(path, &e->size);
    if (!e->map)
        return false;
    const Elf64_Ehdr *h = (const Elf64_Ehdr *)e->map;
    if (e->size < sizeof *h || memcmp(h->e_ident, ELFMAG, SELFMAG) != 0 || h->e_ident[EI_CLASS] != ELFCLASS64 ||
        h->e_shentsize != sizeof(Elf64_Shdr) || h->e_shoff > e->size ||
        (uint64_t)h->e_shnum * sizeof(Elf64_Shdr) > e->size - h->e_shoff ||
        h->e_phoff > e->size || (uint64_t)h->e_phnum * sizeof(Elf64_Phdr) > e->size - h->e_phoff) {
        prof_elf_close(e);
        return false;
    }
    e->phdr = (const Elf64_Phdr *)(e->map + h->e_phoff);
    e->phnum = h->e_phnum;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(e->map + h->e_shoff);
    prof_section_t names = h->e_shstrndx < h->e_shnum ? section_of(e, &sh[h->e_shstrndx]) : (prof_section_t){ 0 };
    const Elf64_Shdr *symtab = NULL, *dynsym = NULL;
    for (unsigned i = 0; i < h->e_shnum; i++) {
        const char *n = section_str(&names, sh[i].sh_name);
        if (sh[i].sh_type == SHT_SYMTAB)
            symtab = &sh[i];
        else if (sh[i].sh_type == SHT_DYNSYM)
            dynsym = &sh[i];
        else if (n && strcmp(n, ".debug_line") == 0)
            e->line = section_of(e, &sh[i]);
        else if (n && strcmp(n, ".debug_line_str") == 0)
            e->line_str = section_of(e, &sh[i]);
        else if (n && strcmp(n, ".debug_str") == 0)
            e->str = section_of(e, &sh[i]);
    }
    const Elf64_Shdr *syms = symtab ? symtab : dynsym;
    if (syms && syms->sh_link < h->e_shnum) {
        e->syms = section_of(e, syms);
        e->sym_names = section_of(e, &sh[syms->sh_link]);
    }
    return true;
}

void prof_elf_close(prof_elf_t *e)
{
    if (e->map)
        os_release((void *)e->map, e->size);
    memset(e, 0, sizeof *e);
}

bool prof_elf_vaddr(const prof_elf_t *e, uint64_t start, uint64_t file_offset, uint64_t *bias)
{
    for (unsigned i = 0; i < e->phnum; i++) {
        const Elf64_Phdr *ph = &e->phdr[i];
        if (ph->p_type != PT_LOAD || file_offset < (ph->p_offset & ~(uint64_t)(OS_PAGE_SIZE - 1)) ||
            file_offset >= ph->p_offset + ph->p_filesz)
            continue;
        /* runtime = vaddr + bias; the mapping starts at file_offset */
        *bias = start - (file_offset - ph->p_offset + ph->p_vaddr);
        return true;
    }
    return false;
}

/* ---- names ------------------------------------------------------------- */

/* The first of s[0..n) (sorted by vaddr) at or above addr. */
static size_t first_at(const prof_symbol_t *s, size_t n, uint64_t addr)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (s[mid].vaddr < addr)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

/* One pass over the symbols, each finding its targets by binary search:
 * O(symbols x log targets), for files with many thousands of symbols. */
static void resolve_names(const prof_elf_t *e, prof_symbol_t *s, size_t n)
{
    size_t nsyms = e->syms.size / sizeof(Elf64_Sym);
    const Elf64_Sym *sym = (const Elf64_Sym *)e->syms.data;
    for (size_t k = 0; k < nsyms; k++) {
        if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC || sym[k].st_shndx == SHN_UNDEF)
            continue;
        uint64_t lo = sym[k].st_value, hi = lo + (sym[k].st_size ? sym[k].st_size : 1);
        for (size_t i = first_at(s, n, lo); i < n && s[i].vaddr < hi; i++)
            if (!s[i].func)
                s[i].func = section_str(&e->sym_names, sym[k].st_name);
    }
}

/* ---- lines ------------------------------------------------------------- */

enum {
    DW_FORM_block = 0x09, DW_FORM_block1 = 0x0a, DW_FORM_data1 = 0x0b, DW_FORM_data2 = 0x05,
    DW_FORM_data4 = 0x06, DW_FORM_data8 = 0x07, DW_FORM_data16 = 0x1e, DW_FORM_string = 0x08,
    DW_FORM_strp = 0x0e, DW_FORM_udata = 0x0f, DW_FORM_line_strp = 0x1f,
    DW_LNCT_path = 1, DW_LNCT_directory_index = 2,
};

#define LINE_TABLE_MAX 512 /* directories or files per unit that can be named */

typedef struct unit_names {
    const char *dir[LINE_TABLE_MAX];
    const char *file[LINE_TABLE_MAX];
    uint16_t file_dir[LINE_TABLE_MAX];
    unsigned ndirs, nfiles;
} unit_names_t;

/* One attribute value of a v5 directory or file entry: a string, or a
 * number (*num); false if the form is one this reader does not know. */
static bool read_form(const prof_elf_t *e, cursor_t *c, uint64_t form, const char **str, uint64_t *num)
{
    *str = NULL;
    *num = 0;
    switch (form) {
    case DW_FORM_string: *str = read_cstr(c); return true;
    case DW_FORM_line_strp: *str = section_str(&e->line_str, read_fixed(c, 4)); return true;
    case DW_FORM_strp: *str = section_str(&e->str, read_fixed(c, 4)); return true;
    case DW_FORM_udata: *num = read_uleb(c); return true;
    case DW_FORM_data1: *num = read_fixed(c, 1); return true;
    case DW_FORM_data2: *num = read_fixed(c, 2); return true;
    case DW_FORM_data4: *num = read_fixed(c, 4); return true;
    case DW_FORM_data8: *num = read_fixed(c, 8); return true;
    case DW_FORM_data16: skip(c, 16); return true;
    case DW_FORM_block: skip(c, read_uleb(c)); return true;
    case DW_FORM_block1: skip(c, read_fixed(c, 1)); return true;
    default: return false;
    }
}

/* A v5 entry list (directories, or files): formats, then entries. */
static bool read_entries(const prof_elf_t *e, cursor_t *c, const char **names, uint16_t *dirs, unsigned *count)
{
    uint8_t nformats = (uint8_t)read_fixed(c, 1);
    uint64_t type[16], form[16];
    if (nformats > 16)
        return false;
    for (unsigned i = 0; i < nformats; i++) {
        type[i] = read_uleb(c);
        form[i] = read_uleb(c);
    }
    uint64_t n = read_uleb(c);
    for (uint64_t k = 0; k < n && !c->bad; k++) {
        const char *path = NULL;
        uint64_t dir = 0;
        for (unsigned i = 0; i < nformats; i++) {
            const char *s;
            uint64_t v;
            if (!read_form(e, c, form[i], &s, &v))
                return false;
            if (type[i] == DW_LNCT_path)
                path = s;
            else if (type[i] == DW_LNCT_directory_index)
                dir = v;
        }
        if (k < LINE_TABLE_MAX) {
            names[k] = path;
            if (dirs)
                dirs[k] = (uint16_t)dir;
            *count = (unsigned)k + 1;
        }
    }
    return !c->bad;
}

/* Before version 5: NUL-terminated lists, file entries with three ulebs. */
static bool read_old_entries(cursor_t *c, unit_names_t *u)
{
    u->dir[0] = NULL; /* the compilation directory, which is not here */
    u->ndirs = 1;
    const char *s;
    while ((s = read_cstr(c)) && *s)
        if (u->ndirs < LINE_TABLE_MAX)
            u->dir[u->ndirs++] = s;
    u->file[0] = NULL;
    u->nfiles = 1;
    while ((s = read_cstr(c)) && *s) {
        uint64_t dir = read_uleb(c);
        read_uleb(c);
        read_uleb(c);
        if (u->nfiles < LINE_TABLE_MAX) {
            u->file_dir[u->nfiles] = (uint16_t)dir;
            u->file[u->nfiles++] = s;
        }
    }
    return !c->bad;
}

/* Targets sorted by vaddr: those in [lo, hi) get the row's file and line. */
static void assign(prof_symbol_t *s, size_t n, uint64_t lo, uint64_t hi, const unit_names_t *u, uint64_t file,
                   uint64_t line)
{
    for (size_t a = first_at(s, n, lo); a < n && s[a].vaddr < hi; a++) {
        if (file >= u->nfiles || !u->file[file] || line == 0)
            continue;
        s[a].file = u->file[file];
        unsigned d = u->file_dir[file];
        s[a].dir = s[a].file[0] == '/' || d >= u->ndirs ? NULL : u->dir[d];
        s[a].line = (uint32_t)line;
    }
}

/* Run one unit's line-number program. */
static void run_unit(const prof_elf_t *e, cursor_t *c, prof_symbol_t *s, size_t n)
{
    uint16_t version = (uint16_t)read_fixed(c, 2);
    if (version < 2 || version > 5)
        return;
    if (version == 5)
        read_fixed(c, 2); /* address and segment selector sizes */
    uint64_t header_len = read_fixed(c, 4);
    if (!need(c, header_len))
        return;
    cursor_t h = { c->p, c->p + header_len, false };
    const uint8_t *program = c->p + header_len;
    uint8_t min_inst = (uint8_t)read_fixed(&h, 1);
    if (version >= 4)
        read_fixed(&h, 1); /* maximum operations per instruction: 1 on x86 */
    bool default_stmt = read_fixed(&h, 1) != 0;
    int8_t line_base = (int8_t)read_fixed(&h, 1);
    uint8_t line_range = (uint8_t)read_fixed(&h, 1), opcode_base = (uint8_t)read_fixed(&h, 1);
    uint8_t arg_count[256] = { 0 };
    for (unsigned i = 1; i < opcode_base; i++)
        arg_count[i] = (uint8_t)read_fixed(&h, 1);
    static unit_names_t u; /* dumps are serialized by the profiler */
    memset(&u, 0, sizeof u);
    bool names_ok = version == 5 ? read_entries(e, &h, u.dir, NULL, &u.ndirs) &&
                                       read_entries(e, &h, u.file, u.file_dir, &u.nfiles)
                                 : read_old_entries(&h, &u);
    if (!names_ok || line_range == 0 || h.bad)
        return;
    (void)default_stmt;

    cursor_t p = { program, c->end, false };
    uint64_t addr = 0, file = 1, line = 1, prev_addr = 0, prev_file = 0, prev_line = 0;
    bool have_prev = false;
#define EMIT_ROW()                                                                                 \
    do {                                                                                           \
        if (have_prev && addr > prev_addr)                                                         \
            assign(s, n, prev_addr, addr, &u, prev_file, prev_line);                               \
        prev_addr = addr, prev_file = file, prev_line = line, have_prev = true;                    \
    } while (0)
    while (p.p < p.end && !p.bad) {
        uint8_t op = (uint8_t)read_fixed(&p, 1);
        if (op >= opcode_base) {
            unsigned adj = op - opcode_base;
            addr += (uint64_t)(adj / line_range) * min_inst;
            line += (uint64_t)(int64_t)(line_base + (int)(adj % line_range));
            EMIT_ROW();
            continue;
        }
        switch (op) {
        case 0: { /* extended */
            uint64_t len = read_uleb(&p);
            if (len == 0 || !need(&p, len))
                return;
            cursor_t x = { p.p, p.p + len, false };
            p.p += len;
            uint8_t sub = (uint8_t)read_fixed(&x, 1);
            if (sub == 1) { /* end_sequence */
                EMIT_ROW();
                addr = 0, file = 1, line = 1, have_prev = false;
            } else if (sub == 2) { /* set_address */
                addr = read_fixed(&x, 8);
            }
            break;
        }
        case 1: EMIT_ROW(); break;                                   /* copy */
        case 2: addr += read_uleb(&p) * min_inst; break;             /* advance_pc */
        case 3: line += (uint64_t)read_sleb(&p); break;              /* advance_line */
        case 4: file = read_uleb(&p); break;                         /* set_file */
        case 8: addr += (uint64_t)((255 - opcode_base) / line_range) * min_inst; break; /* const_add_pc */
        case 9: addr += read_fixed(&p, 2); break;                    /* fixed_advance_pc */
        default:
            for (unsigned i = 0; i < arg_count[op]; i++)
                read_uleb(&p);
            break;
        }
    }
#undef EMIT_ROW
}

static void resolve_lines(const prof_elf_t *e, prof_symbol_t *s, size_t n)
{
    cursor_t all = { e->line.data, e->line.data + e->line.size, false };
    while (e->line.data && all.p < all.end && !all.bad) {
        uint64_t len = read_fixed(&all, 4);
        if (len >= 0xfffffff0u || !need(&all, len))
            return; /* 64-bit DWARF, or truncated */
        cursor_t unit = { all.p, all.p + len, false };
        all.p += len;
        run_unit(e, &unit, s, n);
    }
}

void prof_elf_resolve(const prof_elf_t *e, prof_symbol_t *s, size_t n)
{
    /* Sorted by vaddr for the line search (n is small: insertion sort). */
    for (size_t i = 1; i < n; i++) {
        prof_symbol_t t = s[i];
        size_t j = i;
        for (; j > 0 && s[j - 1].vaddr > t.vaddr; j--)
            s[j] = s[j - 1];
        s[j] = t;
    }
    resolve_names(e, s, n);
    resolve_lines(e, s, n);
}
