// What a program that looks for jemalloc by its symbols sees, and does,
// under tidemalloc: RocksDB's HasJemalloc() (port/jemalloc_helper.h) asks
// whether twelve functions resolve, declared weak; when they do, RocksDB
// dumps malloc_stats_print into its LOG, and its no-dump allocator asks
// for an arena of its own. This probe does the same, written here.
// Prints "jemalloc interface: yes|no" and exits 0 when every call behaved
// as documented (docs/COMPAT.md).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" {
void *mallocx(size_t, int) __attribute__((weak));
void *rallocx(void *, size_t, int) __attribute__((weak));
size_t xallocx(void *, size_t, size_t, int) __attribute__((weak));
size_t sallocx(const void *, int) __attribute__((weak));
void dallocx(void *, int) __attribute__((weak));
void sdallocx(void *, size_t, int) __attribute__((weak));
size_t nallocx(size_t, int) __attribute__((weak));
int mallctl(const char *, void *, size_t *, void *, size_t) __attribute__((weak));
int mallctlnametomib(const char *, size_t *, size_t *) __attribute__((weak));
int mallctlbymib(const size_t *, size_t, void *, size_t *, void *, size_t) __attribute__((weak));
void malloc_stats_print(void (*)(void *, const char *), void *, const char *) __attribute__((weak));
size_t malloc_usable_size(void *) noexcept __attribute__((weak));
}

static bool has_jemalloc_interface()
{
    return mallocx && rallocx && xallocx && sallocx && dallocx && sdallocx && nallocx && mallctl &&
           mallctlnametomib && mallctlbymib && malloc_stats_print && malloc_usable_size;
}

static void append(void *ctx, const char *s) { static_cast<std::string *>(ctx)->append(s); }

static int fail(const char *what)
{
    std::fprintf(stderr, "FAIL: %s\n", what);
    return 1;
}

int main()
{
    bool yes = has_jemalloc_interface();
    std::printf("jemalloc interface: %s\n", yes ? "yes" : "no");
    if (!yes)
        return 0;
    std::string stats; // DumpMallocStats
    malloc_stats_print(append, &stats, "");
    if (stats.find("tidemalloc") == std::string::npos)
        return fail("malloc_stats_print did not write tidemalloc's report");
    unsigned arena = 0; // JemallocNodumpAllocator: an arena of its own
    size_t len = sizeof arena;
    if (mallctl("arenas.create", &arena, &len, nullptr, 0) != ENOENT)
        return fail("arenas.create is not ENOENT");
    unsigned tcache;
    len = sizeof tcache;
    if (mallctl("tcache.create", &tcache, &len, nullptr, 0) != ENOENT)
        return fail("tcache.create is not ENOENT");
    const int tcache_none = 1 << 8, align64 = 6;
    void *p = mallocx(1000, tcache_none | align64);
    if (!p || (reinterpret_cast<uintptr_t>(p) & 63) != 0 || sallocx(p, 0) != nallocx(1000, align64))
        return fail("mallocx with MALLOCX_TCACHE_NONE | MALLOCX_LG_ALIGN(6)");
    std::memset(p, 7, 1000);
    p = rallocx(p, 5000, 0);
    if (!p || static_cast<unsigned char *>(p)[999] != 7)
        return fail("rallocx");
    sdallocx(p, 5000, tcache_none);
    std::printf("malloc_stats_print: %zu bytes of tidemalloc's report; arenas.create: ENOENT\n", stats.size());
    return 0;
}
