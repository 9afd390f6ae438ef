/* symbolize — profile addresses to function names and file:line.
 *
 * An address (pc - 1 for heap_v2's return addresses, which lands inside
 * the call instruction) is placed in the mapping that holds it, from the
 * profile's copy of /proc/PID/maps: file offset = addr - start + offset.
 * The file's ELF program headers turn that offset into the address the
 * object was linked at (the same number for shared libraries and PIE, not
 * for fixed-address programs), and one `addr2line -f -C` per object file
 * names all its addresses at once.
 *
 * A stripped object (Debian's libraries) has only its dynamic symbols, and
 * addr2line then names an address after the nearest symbol below it even
 * when that symbol ends long before; for such files the name comes from
 * the dynamic symbol that really contains the address, or none.
 * Those names are mangled, and addr2line -C demangles only the names it
 * finds itself, so they go through the C++ runtime's demangler.
 * Whatever cannot be named keeps "file+0xaddress" (what addr2line takes)
 * or the bare address. */
#include "prof.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct esym {
    uint64_t value, size;
    const char *name; /* into the object's string table copy */
} esym_t;

typedef struct objfile {
    const char *path;
    bool elf;
    Elf64_Phdr *ph;
    size_t nph;
    bool has_symtab; /* .symtab present: addr2line's names are good */
    esym_t *dyn;     /* defined functions of .dynsym, by address */
    size_t ndyn;
    char *dynstr;
    bool allocator; /* a shared library, not libc, that defines malloc */
} objfile_t;

typedef struct entry {
    uint64_t pc; /* as in the profile */
    uint64_t addr;
    bool used;
    char *func, *loc;
    objfile_t *obj;
    uint64_t vaddr; /* within obj, valid when obj */
} entry_t;

struct symtab {
    entry_t *e;
    size_t mask, n;
    objfile_t *obj;
    size_t nobj;
};

/* libstdc++'s Itanium-ABI demangler (declared in <cxxabi.h>, C++ only). */
char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

static char *demangled_copy(const char *name)
{
    if (strncmp(name, "_Z", 2) == 0) {
        int status = -1;
        char *d = __cxa_demangle(name, NULL, NULL, &status);
        if (status == 0 && d)
            return d;
        free(d);
    }
    return xstrdup(name);
}

static entry_t *slot(const symtab_t *t, uint64_t pc)
{
    size_t i = (size_t)((pc * 0x9e3779b97f4a7c15ull) >> 17) & t->mask;
    while (t->e[i].used && t->e[i].pc != pc)
        i = (i + 1) & t->mask;
    return &t->e[i];
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static bool pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    return pread(fd, buf, n, (off_t)off) == (ssize_t)n;
}

static int cmp_esym(const void *a, const void *b)
{
    uint64_t x = ((const esym_t *)a)->value, y = ((const esym_t *)b)->value;
    return x < y ? -1 : x > y;
}

/* Program headers, whether .symtab exists, and .dynsym's functions. */
static void obj_load(objfile_t *o)
{
    int fd = open(o->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    Elf64_Ehdr eh;
    if (!pread_all(fd, &eh, sizeof eh, 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 4096) {
        close(fd);
        return;
    }
    o->ph = xmalloc((eh.e_phnum ? eh.e_phnum : 1) * sizeof *o->ph);
    if (!pread_all(fd, o->ph, eh.e_phnum * sizeof *o->ph, eh.e_phoff)) {
        close(fd);
        return;
    }
    o->nph = eh.e_phnum;
    o->elf = true;
    if (eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shnum > 0 && eh.e_shnum < 65280) {
        Elf64_Shdr *sh = xmalloc(eh.e_shnum * sizeof *sh);
        if (pread_all(fd, sh, eh.e_shnum * sizeof *sh, eh.e_shoff)) {
            for (unsigned i = 0; i < eh.e_shnum; i++) {
                if (sh[i].sh_type == SHT_SYMTAB)
                    o->has_symtab = true;
                if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh.e_shnum ||
                    sh[i].sh_entsize != sizeof(Elf64_Sym) || sh[i].sh_size > (256u << 20))
                    continue;
                const Elf64_Shdr *str = &sh[sh[i].sh_link];
                if (str->sh_size > (256u << 20))
                    continue;
                size_t nsym = sh[i].sh_size / sizeof(Elf64_Sym);
                Elf64_Sym *sym = xmalloc((nsym ? nsym : 1) * sizeof *sym);
                o->dynstr = xmalloc(str->sh_size + 1);
                if (pread_all(fd, sym, nsym * sizeof *sym, sh[i].sh_offset) &&
                    pread_all(fd, o->dynstr, str->sh_size, str->sh_offset)) {
                    o->dynstr[str->sh_size] = 0;
                    o->dyn = xmalloc((nsym ? nsym : 1) * sizeof *o->dyn);
                    for (size_t k = 0; k < nsym; k++) {
                        unsigned type = ELF64_ST_TYPE(sym[k].st_info);
                        if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym[k].st_shndx == SHN_UNDEF ||
                            sym[k].st_size == 0 || sym[k].st_name >= str->sh_size)
                            continue;
                        o->dyn[o->ndyn++] = (esym_t){ sym[k].st_value, sym[k].st_size, o->dynstr + sym[k].st_name };
                    }
                    if (o->ndyn > 1)
                        qsort(o->dyn, o->ndyn, sizeof *o->dyn, cmp_esym);
                }
                free(sym);
            }
        }
        free(sh);
    }
    close(fd);
}

static objfile_t *obj_get(symtab_t *t, const char *path)
{
    for (size_t i = 0; i < t->nobj; i++)
        if (strcmp(t->obj[i].path, path) == 0)
            return &t->obj[i];
    return NULL; /* all registered before use */
}

/* The link-time address of file offset off, from the PT_LOAD that maps it. */
static bool obj_vaddr(const objfile_t *o, uint64_t off, uint64_t *vaddr)
{
    for (size_t i = 0; i < o->nph; i++) {
        const Elf64_Phdr *ph = &o->ph[i];
        if (ph->p_type == PT_LOAD && off >= ph->p_offset && off < ph->p_offset + ph->p_filesz) {
            *vaddr = off - ph->p_offset + ph->p_vaddr;
            return true;
        }
    }
    return false;
}

/* The dynamic function symbol containing vaddr, or NULL. */
static const char *obj_dyn_name(const objfile_t *o, uint64_t vaddr)
{
    size_t lo = 0, hi = o->ndyn;
    while (lo < hi) { /* first symbol above vaddr */
        size_t mid = lo + (hi - lo) / 2;
        if (o->dyn[mid].value <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0;) { /* aliases share an address: any containing one */
        if (vaddr < o->dyn[i].value + o->dyn[i].size)
            return o->dyn[i].name;
        if (lo - i > 16)
            break;
    }
    return NULL;
}

static char *shell_quote(const char *s)
{
    size_t n = 3;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 4 : 1;
    char *q = xmalloc(n), *o = q;
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = 0;
    return q;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
}

/* Name every entry of object o, with one addr2line run. */
static void addr2line_obj(symtab_t *t, objfile_t *o)
{
    char tmpl[] = "/tmp/tide-sym.XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "w");
    size_t n = 0, cap = 0;
    entry_t **order = NULL;
    for (size_t i = 0; i <= t->mask; i++) {
        entry_t *e = &t->e[i];
        if (!e->used || e->obj != o || e->func)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            order = xrealloc(order, cap * sizeof *order);
        }
        order[n++] = e;
        fprintf(f, "0x%llx\n", (unsigned long long)e->vaddr);
    }
    fclose(f);
    if (n) {
        char *q = shell_quote(o->path);
        char *cmd = xasprintf("addr2line -f -C -e %s < %s 2>/dev/null", q, tmpl);
        FILE *p = popen(cmd, "r");
        if (p) {
            char func[4096], loc[4096];
            for (size_t k = 0; k < n; k++) {
                if (!fgets(func, sizeof func, p) || !fgets(loc, sizeof loc, p))
                    break;
                chomp(func);
                chomp(loc);
                char *disc = strstr(loc, " (discriminator");
                if (disc)
                    *disc = 0;
                if (loc[0] != '?' && loc[0]) {
                    char *colon = strrchr(loc, ':');
                    if (colon && strcmp(colon, ":0") != 0 && strcmp(colon, ":?") != 0)
                        order[k]->loc = xstrdup(base_name(loc));
                }
                /* Trust the name where addr2line had a symbol table or
                 * debug information (a line) for the object. */
                if (strcmp(func, "??") != 0 && func[0] && (o->has_symtab || order[k]->loc))
                    order[k]->func = xstrdup(func);
            }
            pclose(p);
        }
        free(cmd);
        free(q);
    }
    /* Stripped objects: the dynamic symbol that contains the address. */
    for (size_t k = 0; k < n; k++) {
        if (order[k]->func)
            continue;
        const char *name = obj_dyn_name(o, order[k]->vaddr);
        if (name)
            order[k]->func = demangled_copy(name);
    }
    free(order);
    unlink(tmpl);
}

symtab_t *symtab_build(const profile_t *p)
{
    size_t total = 0;
    for (size_t i = 0; i < p->n; i++)
        total += p->stacks[i].depth;
    symtab_t *t = xcalloc(1, sizeof *t);
    size_t cap = 64;
    while (cap < 2 * total + 2)
        cap *= 2;
    t->e = xcalloc(cap, sizeof *t->e);
    t->mask = cap - 1;
    for (size_t i = 0; i < p->n; i++) {
        for (uint32_t k = 0; k < p->stacks[i].depth; k++) {
            uint64_t pc = p->stacks[i].pc[k];
            entry_t *e = slot(t, pc);
            if (e->used)
                continue;
            e->used = true;
            e->pc = pc;
            e->addr = p->return_addresses && pc ? pc - 1 : pc;
            t->n++;
        }
    }
    /* Names the profile carries (pprof with functions; its addresses are
     * the pcs themselves). */
    for (size_t k = 0; k < p->nknown && !p->return_addresses; k++) {
        entry_t *e = slot(t, p->known[k].addr);
        if (e->used && !e->func) {
            e->func = xstrdup(p->known[k].func);
            if (p->known[k].file && p->known[k].line > 0)
                e->loc = xasprintf("%s:%lld", base_name(p->known[k].file), (long long)p->known[k].line);
        }
    }
    /* Every object file that holds an address, loaded once. */
    t->obj = xcalloc(p->nmaps ? p->nmaps : 1, sizeof *t->obj);
    for (size_t i = 0; i <= t->mask; i++) {
        entry_t *e = &t->e[i];
        if (!e->used || e->func)
            continue;
        const pmap_t *mp = NULL;
        for (size_t m = 0; m < p->nmaps && !mp; m++)
            if (e->addr >= p->maps[m].start && e->addr < p->maps[m].limit)
                mp = &p->maps[m];
        if (!mp || !mp->path)
            continue;
        objfile_t *o = obj_get(t, mp->path);
        if (!o) {
            o = &t->obj[t->nobj++];
            o->path = mp->path;
            obj_load(o);
        }
        uint64_t off = e->addr - mp->start + mp->offset;
        e->obj = o;
        if (!o->elf || !obj_vaddr(o, off, &e->vaddr)) {
            e->func = xasprintf("%s+0x%llx", base_name(mp->path), (unsigned long long)off);
            e->obj = NULL;
        }
    }
    const char *exe = NULL; /* the program: the first mapped file */
    for (size_t m = 0; m < p->nmaps && !exe; m++)
        exe = p->maps[m].path;
    for (size_t k = 0; k < t->nobj; k++) {
        objfile_t *o = &t->obj[k];
        const char *b = base_name(o->path);
        if (exe && strcmp(o->path, exe) != 0 && strncmp(b, "libc.so", 7) != 0 && strncmp(b, "libc-", 5) != 0)
            for (size_t i = 0; i < o->ndyn && !o->allocator; i++)
                o->allocator = strcmp(o->dyn[i].name, "malloc") == 0;
        if (o->elf)
            addr2line_obj(t, o);
    }
    for (size_t i = 0; i <= t->mask; i++) {
        entry_t *e = &t->e[i];
        if (!e->used || e->func)
            continue;
        if (e->obj)
            e->func = xasprintf("%s+0x%llx", base_name(e->obj->path), (unsigned long long)e->vaddr);
        else
            e->func = xasprintf("0x%llx", (unsigned long long)e->addr);
    }
    return t;
}

static bool is_entry_point(const char *f)
{
    static const char *const names[] = {
        "malloc", "calloc", "realloc", "free", "posix_memalign", "aligned_alloc", "memalign",
        "valloc", "pvalloc", "reallocarray", "mallocx", "rallocx", "xallocx", "sdallocx",
        "tide_malloc", "tide_calloc", "tide_realloc", "tide_aligned_alloc", "tide_posix_memalign",
        "tide_memalign",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(f, names[i]) == 0)
            return true;
    return strncmp(f, "operator new", 12) == 0 || strncmp(f, "je_", 3) == 0 ||
           strncmp(f, "_Znw", 4) == 0 || strncmp(f, "_Zna", 4) == 0;
}

uint32_t symtab_trim(const symtab_t *t, const uint64_t *pc, uint32_t depth)
{
    uint32_t keep_from = 0;
    for (uint32_t i = 0; i < depth; i++) {
        entry_t *e = slot(t, pc[i]);
        if (e->used && e->obj && e->obj->allocator && i == keep_from)
            keep_from = i + 1; /* still inside the allocator library */
        else if (e->used && e->func && is_entry_point(e->func))
            keep_from = i + 1;
    }
    return keep_from < depth ? keep_from : depth - 1 + (depth == 0);
}

sym_t symtab_get(const symtab_t *t, uint64_t pc)
{
    entry_t *e = slot(t, pc);
    if (!e->used)
        return (sym_t){ "?", NULL };
    return (sym_t){ e->func, e->loc };
}

void symtab_free(symtab_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i <= t->mask; i++) {
        free(t->e[i].func);
        free(t->e[i].loc);
    }
    free(t->e);
    for (size_t k = 0; k < t->nobj; k++) {
        free(t->obj[k].ph);
        free(t->obj[k].dyn);
        free(t->obj[k].dynstr);
    }
    free(t->obj);
    free(t);
}
