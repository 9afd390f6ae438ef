/* symbolize — profile addresses to function names and file:line.
 *
 * An address (pc - 1 for heap_v2's return addresses, which lands inside
 * the call instruction) is placed in the mapping that holds it, from the
 * profile's copy of /proc/PID/maps: file offset = addr - start + offset.
 * The file's ELF program headers turn that offset into the address the
 * object was linked at (the same number for shared libraries and PIE, not
 * for fixed-address programs), and one `addr2line -f -C` per object file
 * names all its addresses at once. Whatever cannot be named keeps
 * "file+0xaddress" (what addr2line would take) or the bare address. */
#include "prof.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct entry {
    uint64_t pc; /* as in the profile */
    uint64_t addr;
    bool used;
    char *func, *loc;
    const pmap_t *map;
    uint64_t vaddr; /* within map's file, valid when map */
} entry_t;

struct symtab {
    entry_t *e;
    size_t mask, n;
};

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

/* The link-time address of file offset off, from the PT_LOAD that maps it;
 * false if the file is not a readable 64-bit ELF file. */
static bool elf_vaddr(const char *path, uint64_t off, uint64_t *vaddr)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Elf64_Ehdr eh;
    bool ok = false;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
        for (unsigned i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph)
                break;
            if (ph.p_type == PT_LOAD && off >= ph.p_offset && off < ph.p_offset + ph.p_filesz) {
                *vaddr = off - ph.p_offset + ph.p_vaddr;
                ok = true;
                break;
            }
        }
    }
    close(fd);
    return ok;
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

/* Name every entry whose mapping is `path`, with one addr2line run. */
static void addr2line_file(symtab_t *t, const char *path)
{
    char tmpl[] = "/tmp/tide-sym.XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "w");
    size_t n = 0;
    entry_t **order = NULL;
    for (size_t i = 0; i <= t->mask; i++) {
        entry_t *e = &t->e[i];
        if (!e->used || !e->map || e->func || strcmp(e->map->path, path) != 0)
            continue;
        order = xrealloc(order, (n + 1) * sizeof *order);
        order[n++] = e;
        fprintf(f, "0x%llx\n", (unsigned long long)e->vaddr);
    }
    fclose(f);
    if (n) {
        char *q = shell_quote(path);
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
                if (strcmp(func, "??") != 0 && func[0])
                    order[k]->func = xstrdup(func);
                if (loc[0] != '?' && loc[0]) {
                    char *colon = strrchr(loc, ':');
                    if (colon && strcmp(colon, ":0") != 0 && strcmp(colon, ":?") != 0)
                        order[k]->loc = xstrdup(base_name(loc));
                }
            }
            pclose(p);
        }
        free(cmd);
        free(q);
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
    /* Names the profile carries (pprof with functions). */
    for (size_t k = 0; k < p->nknown; k++) {
        for (size_t i = 0; i <= t->mask; i++) {
            entry_t *e = &t->e[i];
            if (e->used && e->addr == p->known[k].addr && !e->func) {
                e->func = xstrdup(p->known[k].func);
                if (p->known[k].file && p->known[k].line > 0)
                    e->loc = xasprintf("%s:%lld", base_name(p->known[k].file), (long long)p->known[k].line);
            }
        }
    }
    /* Place every other address in its mapping; one addr2line per file. */
    char **files = NULL;
    size_t nfiles = 0;
    for (size_t i = 0; i <= t->mask; i++) {
        entry_t *e = &t->e[i];
        if (!e->used || e->func)
            continue;
        for (size_t m = 0; m < p->nmaps; m++) {
            const pmap_t *mp = &p->maps[m];
            if (e->addr >= mp->start && e->addr < mp->limit) {
                if (mp->path)
                    e->map = mp;
                break;
            }
        }
        if (!e->map)
            continue;
        uint64_t off = e->addr - e->map->start + e->map->offset;
        if (!elf_vaddr(e->map->path, off, &e->vaddr)) {
            e->vaddr = off;
            e->func = xasprintf("%s+0x%llx", base_name(e->map->path), (unsigned long long)off);
            continue;
        }
        bool seen = false;
        for (size_t k = 0; k < nfiles && !seen; k++)
            seen = strcmp(files[k], e->map->path) == 0;
        if (!seen) {
            files = xrealloc(files, (nfiles + 1) * sizeof *files);
            files[nfiles++] = e->map->path;
        }
    }
    for (size_t k = 0; k < nfiles; k++)
        addr2line_file(t, files[k]);
    free(files);
    for (size_t i = 0; i <= t->mask; i++) {
        entry_t *e = &t->e[i];
        if (!e->used || e->func)
            continue;
        if (e->map)
            e->func = xasprintf("%s+0x%llx", base_name(e->map->path), (unsigned long long)e->vaddr);
        else
            e->func = xasprintf("0x%llx", (unsigned long long)e->addr);
    }
    return t;
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
    free(t);
}
