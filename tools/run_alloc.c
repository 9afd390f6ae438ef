/* run_alloc — which library `tide run --allocator NAME` preloads, and which
 * statistics lines it will write.
 *
 * The named allocators are tools/allocators.tsv, the one list bench/ reads
 * too, here as the header CMake generates from it (allocator_table.h): a
 * name, soname or package changed there changes tide and the benchmarks
 * alike. What the list does not say is tide run's own business and stays
 * here: `none`, a path, where a library built here is found (beside the
 * tide binary in the build tree, else through the install layout) and that the C library's malloc is watched through the glibc
 * shim. Invariant: a name resolves to nothing to preload (none), to a
 * library that was readable when it was resolved, or to an error that says
 * how to get one. */
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allocator_table.h"

#ifndef TIDE_MULTIARCH
#define TIDE_MULTIARCH "x86_64-linux-gnu"
#endif
/* TIDE_BIN_TO_LIBDIR, TIDE_BIN_TO_SHIMDIR and TIDE_LIB_SONAME, the install
 * layout, come from the build (tools/CMakeLists.txt). */
#define SYSLIB "/usr/lib/" TIDE_MULTIARCH "/"

/* Preloaded for the C library's own malloc: it has nothing to preload, but
 * the shim reports glibc's figures. */
#define GLIBC_SHIM "libtide_glibc_shim.so"

typedef struct allocator_entry {
    const char *name, *family;
    const char *package; /* NULL: built here, or nothing to preload */
    const char *sonames[TIDE_ALLOCATOR_SONAMES_MAX]; /* preferred first; NULL ends */
} allocator_entry_t;

#define ENTRY(name, family, package, ...) { name, family, package, { __VA_ARGS__ } },
static const allocator_entry_t allocators[] = { TIDE_ALLOCATOR_TABLE(ENTRY) };
#undef ENTRY
#define NALLOCATORS (sizeof allocators / sizeof allocators[0])

void allocator_names(FILE *f, const char *default_mark)
{
    for (size_t i = 0; i < NALLOCATORS; i++)
        fprintf(f, "%s%s%s", i ? ", " : "", allocators[i].name,
                strcmp(allocators[i].name, RUN_DEFAULT_ALLOCATOR) == 0 ? default_mark : "");
}

void allocator_table_print(FILE *f)
{
    for (size_t i = 0; i < NALLOCATORS; i++) {
        const allocator_entry_t *e = &allocators[i];
        fprintf(f, "%s\t%s\t%s\t", e->name, e->family, e->package ? e->package : "-");
        for (size_t j = 0; e->sonames[j]; j++)
            fprintf(f, "%s%s", j ? "," : "", e->sonames[j]);
        fputs(e->sonames[0] ? "\n" : "-\n", f);
    }
}

static const allocator_entry_t *find_allocator(const char *name)
{
    for (size_t i = 0; i < NALLOCATORS; i++)
        if (strcmp(allocators[i].name, name) == 0)
            return &allocators[i];
    return NULL;
}

/* DIR (relative to tide's directory, "" for that directory itself) /FILE,
 * with DIR made canonical so that summaries name /usr/lib/..., not
 * /usr/bin/../lib/...; NULL if it is not there. */
static char *beside_exe(const char *exe, const char *dir, const char *file)
{
    char *path = xasprintf("%s/%s", exe, dir);
    char real[PATH_MAX];
    char *lib = realpath(path, real) ? xasprintf("%s/%s", real, file) : NULL;
    free(path);
    if (lib && access(lib, R_OK) != 0) {
        free(lib);
        lib = NULL;
    }
    return lib;
}

/* tidemalloc, or the shim for glibc: built by this project. In the build
 * tree they are beside tide; installed, where make install or the Debian
 * package put them relative to tide (bin/ -> lib/, where the runtime has
 * only the soname, and the shim's own directory). */
static int resolve_built_here(const allocator_entry_t *e, alloc_choice_t *a, char *err,
                              size_t errsize)
{
    bool glibc = strcmp(e->family, "glibc") == 0;
    const char *file = glibc ? GLIBC_SHIM : e->sonames[0];
    if (!file)
        return 0; /* nothing to preload, nothing to watch it by */
    const char *installed_dir = glibc ? TIDE_BIN_TO_SHIMDIR : TIDE_BIN_TO_LIBDIR;
    const char *installed_file = glibc ? GLIBC_SHIM : TIDE_LIB_SONAME;
    char *exe = exe_dir();
    char *lib = beside_exe(exe, "", file);
    if (!lib)
        lib = beside_exe(exe, installed_dir, installed_file);
    if (!lib) {
        snprintf(err, errsize,
                 "%s not found beside %s/tide, nor %s in %s/%s: build it with `make build` "
                 "(or install it: make install)",
                 file, exe, installed_file, exe, installed_dir);
        free(exe);
        return -1;
    }
    free(exe);
    a->library = lib;
    a->kind = glibc ? STATS_GLIBC : strcmp(e->family, "tide") == 0 ? STATS_TIDE : STATS_NONE;
    return 0;
}

/* From a Debian package: the first of its sonames that is installed. */
static int resolve_packaged(const allocator_entry_t *e, alloc_choice_t *a, char *err,
                            size_t errsize)
{
    for (size_t j = 0; e->sonames[j]; j++) {
        char *lib = xasprintf(SYSLIB "%s", e->sonames[j]);
        if (access(lib, R_OK) == 0) {
            a->library = lib;
            return 0;
        }
        free(lib);
    }
    snprintf(err, errsize,
             "%s is not installed (no " SYSLIB "%s): install the Debian package %s "
             "(apt-get install %s)",
             e->name, e->sonames[0], e->package, e->package);
    return -1;
}

static int resolve_path(const char *name, alloc_choice_t *a, char *err, size_t errsize)
{
    char real[PATH_MAX];
    if (!realpath(name, real) || access(real, R_OK) != 0) {
        snprintf(err, errsize, "allocator library %s: %s", name, strerror(errno));
        return -1;
    }
    a->library = xstrdup(real);
    return 0;
}

int resolve_allocator(const char *name, alloc_choice_t *a, char *err, size_t errsize)
{
    memset(a, 0, sizeof *a);
    a->name = name;
    if (strcmp(name, "none") == 0)
        return 0;
    const allocator_entry_t *e = find_allocator(name);
    if (e && e->package)
        return resolve_packaged(e, a, err, errsize);
    if (e)
        return resolve_built_here(e, a, err, errsize);
    if (strchr(name, '/') || strstr(name, ".so"))
        return resolve_path(name, a, err, errsize);
    char *names = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&names, &len);
    if (m) {
        allocator_names(m, "");
        fclose(m);
    }
    snprintf(err, errsize, "unknown allocator '%s': expected %s, none or a path to a .so", name,
             names ? names : "");
    free(names);
    return -1;
}
