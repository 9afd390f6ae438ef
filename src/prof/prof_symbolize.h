/* prof_symbolize — code addresses to function, file and line, read from
 * the loaded ELF files (prof_symbolize.c), for profiles that read on a
 * machine without the binaries. */
#ifndef TIDE_PROF_SYMBOLIZE_H
#define TIDE_PROF_SYMBOLIZE_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

typedef struct prof_section {
    const uint8_t *data;
    uint64_t size;
} prof_section_t;

/* One ELF file, mapped read-only. */
typedef struct prof_elf {
    const uint8_t *map;
    size_t size;
    const Elf64_Phdr *phdr;
    unsigned phnum;
    prof_section_t syms, sym_names, line, line_str, str;
} prof_elf_t;

/* One address to name. In: vaddr (the file's own address: runtime
 * address - bias) and id (the caller's). Out: func, file, dir (NULL when
 * unknown or not needed) and line (0: unknown); the strings point into the
 * mapping. */
typedef struct prof_symbol {
    uint64_t vaddr, id;
    const char *func, *file, *dir;
    uint32_t line;
} prof_symbol_t;

bool prof_elf_open(prof_elf_t *e, const char *path);
void prof_elf_close(prof_elf_t *e);
/* The bias (runtime - vaddr) of a mapping that starts at `start` and maps
 * the file from file_offset; false if no loadable segment holds it. */
bool prof_elf_vaddr(const prof_elf_t *e, uint64_t start, uint64_t file_offset, uint64_t *bias);
/* Fill in what the file says about s[0..n) (which it sorts by vaddr). */
void prof_elf_resolve(const prof_elf_t *e, prof_symbol_t *s, size_t n);

#pragma GCC visibility pop

#endif
