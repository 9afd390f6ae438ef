/* tidemalloc — public API.
 *
 * Two ways in:
 *   - LD_PRELOAD=libtidemalloc.so.0 (build/libtidemalloc.so in the build
 *     tree), or link with -ltidemalloc (pkg-config tidemalloc, or CMake's
 *     find_package(tidemalloc)): malloc, free, ... and C++ operator
 *     new/delete are all served by tidemalloc.
 *   - The tide_* functions below, which work the same whether or not the
 *     standard names are overridden (sanitizer builds use only these).
 *
 * Semantics follow glibc's documentation: 16-byte alignment for requests of
 * 16 bytes or more, malloc(0) returns a unique freeable pointer, failures
 * return NULL with errno ENOMEM, a failed realloc leaves the block intact.
 */
#ifndef TIDEMALLOC_H
#define TIDEMALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The release, in one place: CMake reads these lines (cmake/version.cmake)
 * for the project version, the library file name, tidemalloc.pc, the CMake
 * package and the Debian packages, and refuses a TIDE_VERSION that disagrees
 * with the three numbers. The soname follows the ABI, not this (README.md,
 * "Versions"). */
#define TIDE_VERSION_MAJOR 0
#define TIDE_VERSION_MINOR 1
#define TIDE_VERSION_PATCH 0
#define TIDE_VERSION "0.1.0"

#if defined(__GNUC__)
#define TIDE_EXPORT __attribute__((visibility("default")))
#define TIDE_MALLOC_ATTR __attribute__((malloc, warn_unused_result))
#else
#define TIDE_EXPORT
#define TIDE_MALLOC_ATTR
#endif

/* TIDE_VERSION of the library actually loaded, which may be newer than the
 * header a program was built with. */
TIDE_EXPORT const char *tide_version(void);

TIDE_EXPORT TIDE_MALLOC_ATTR void *tide_malloc(size_t size);
TIDE_EXPORT void tide_free(void *ptr);
TIDE_EXPORT TIDE_MALLOC_ATTR void *tide_calloc(size_t count, size_t size);
TIDE_EXPORT void *tide_realloc(void *ptr, size_t size);
TIDE_EXPORT void *tide_reallocarray(void *ptr, size_t count, size_t size);
TIDE_EXPORT int tide_posix_memalign(void **out, size_t alignment, size_t size);
TIDE_EXPORT TIDE_MALLOC_ATTR void *tide_aligned_alloc(size_t alignment, size_t size);
TIDE_EXPORT TIDE_MALLOC_ATTR void *tide_memalign(size_t alignment, size_t size);
TIDE_EXPORT TIDE_MALLOC_ATTR void *tide_valloc(size_t size);
TIDE_EXPORT TIDE_MALLOC_ATTR void *tide_pvalloc(size_t size);
TIDE_EXPORT size_t tide_malloc_usable_size(const void *ptr);
/* C23 sized frees: size (and alignment) must be what was requested. */
TIDE_EXPORT void tide_free_sized(void *ptr, size_t size);
TIDE_EXPORT void tide_free_aligned_sized(void *ptr, size_t alignment, size_t size);

/* Return every freed-but-not-yet-purged page to the OS now. */
TIDE_EXPORT void tide_purge(void);

/* A snapshot of the allocator's memory, in bytes unless named a count.
 * Fields are documented in docs/STATS.md. */
typedef struct tide_stats {
    uint64_t live_usable;     /* usable bytes of blocks handed out and not freed */
    uint64_t active;          /* pages in use by slabs and large blocks */
    uint64_t mapped;          /* address space reserved from the OS */
    uint64_t dirty;           /* freed pages not yet returned to the OS */
    uint64_t retained;        /* mapped, free and purged (costs no RSS) */
    uint64_t metadata;        /* allocator bookkeeping */
    uint64_t purged;          /* total bytes returned with MADV_DONTNEED */
    uint64_t purge_calls;     /* madvise calls made to purge */
    uint64_t huge_live;       /* bytes in direct mappings (huge blocks) */
    uint64_t regions;         /* page-heap regions reserved */
    uint64_t threads;         /* thread heaps in use */
    uint64_t orphan_heaps;    /* heaps left by exited threads, awaiting reuse */
    uint64_t live_requested;  /* requested bytes of the blocks in live_usable: an
                                 unbiased estimate from the byte sampler (0 with
                                 TIDE_CONF=stats_sample:false) */
} tide_stats_t;

/* Fill *out with a snapshot; returns 0 on success. */
TIDE_EXPORT int tide_stats_get(tide_stats_t *out);

/* One size class of small blocks. */
typedef struct tide_class_stats {
    uint64_t block_size;
    uint64_t blocks_in_use;   /* handed out and not freed */
    uint64_t blocks_capacity; /* blocks the class's slabs can hold */
    uint64_t slabs;
    uint64_t slab_bytes;      /* pages held by the class's slabs */
} tide_class_stats_t;

/* Fill out[0..max) with the size classes, smallest first; returns how many
 * classes there are (which may exceed max). Utilization of a class is
 * blocks_in_use / blocks_capacity. */
TIDE_EXPORT int tide_stats_classes(tide_class_stats_t *out, size_t max);

/* Fragmentation: free space inside partly used slabs (slabs with both live
 * and free blocks), which no purge can return while one block of the slab
 * is live. Fields are documented in docs/STATS.md. */
#define TIDE_FRAG_BINS 10
typedef struct tide_frag_cell {
    uint64_t slabs;        /* slabs with a carved block */
    uint64_t partly_used;  /* of them, with live and free blocks */
    uint64_t carved_bytes; /* blocks carved: the slabs' touched part */
    uint64_t live_bytes;   /* blocks handed out (cached ones included) */
    uint64_t cached_bytes; /* of live: free blocks in threads' caches */
    uint64_t free_bytes;   /* free blocks inside partly used slabs */
    uint64_t mesh_bytes;   /* what meshing would free (TIDE_FRAG_MESH) */
    uint64_t mesh_pairs;   /* slab pairs it would merge */
} tide_frag_cell_t;

typedef struct tide_frag_stats {
    tide_frag_cell_t total;
    tide_frag_cell_t bins[TIDE_FRAG_BINS]; /* by occupancy: bins[i] holds slabs i*10 % to (i+1)*10 % used */
} tide_frag_stats_t;

/* Also estimate what meshing (Mesh, PLDI 2019) would free: a greedy pairing
 * of partly used slabs of one class whose live blocks do not overlap. This
 * reads every slab's free lists under the page heap's lock. */
#define TIDE_FRAG_MESH 1
/* Fill *out and, per size class, classes[0..max) (block size in
 * classes[i] via tide_stats_classes); returns the number of classes (which
 * may exceed max), or -1 if out is NULL. */
TIDE_EXPORT int tide_stats_frag(tide_frag_stats_t *out, tide_frag_cell_t *classes, size_t max, int flags);

/* The memory limits (docs/CONFIG.md, "Memory limits") and how close the
 * process is to them, in bytes; a limit of 0 is none. */
typedef struct tide_limit_stats {
    uint64_t soft;            /* limit_soft in force */
    uint64_t hard;            /* limit_hard in force */
    uint64_t charge;          /* what both are compared with: allocator + outside */
    uint64_t allocator;       /* the allocator's resident share: active + dirty + metadata */
    uint64_t outside;         /* the rest of the process's or cgroup's charge, as last sampled */
    uint64_t headroom;        /* the lower limit minus charge (0 at or past it, or with no limit) */
    uint64_t dirty_cap;       /* dirty bytes the soft limit lets stay now (UINT64_MAX: no soft limit) */
    uint64_t failures;        /* allocations refused at the hard limit (NULL, ENOMEM) */
    uint64_t cgroup_max;      /* the cgroup's memory.max or memory.limit_in_bytes (0: none or unread) */
    uint64_t cgroup_high;     /* ...memory.high or memory.soft_limit_in_bytes */
    uint64_t cgroup_current;  /* ...memory.current or memory.usage_in_bytes, as last read */
    int32_t cgroup_version;   /* 2, 1, or 0: no cgroup read (explicit limits, or none found) */
    int32_t soft_source;      /* TIDE_LIMIT_NONE, _OPTION or _CGROUP */
    int32_t hard_source;
    int32_t pressure_trigger; /* 1: a PSI trigger wakes the background thread; 0: none (sampling only) */
    uint64_t pressure_events; /* memory stalls the trigger reported (each purges every dirty page) */
    uint64_t pressure_now;    /* 1 while the last stall is recent (dirty_cap is 0), else 0 */
} tide_limit_stats_t;
#define TIDE_LIMIT_NONE 0
#define TIDE_LIMIT_OPTION 1
#define TIDE_LIMIT_CGROUP 2

/* Fill *out; returns 0 on success. */
TIDE_EXPORT int tide_stats_limit(tide_limit_stats_t *out);

#define TIDE_STATS_TEXT 0
#define TIDE_STATS_JSON 1
#define TIDE_STATS_PROMETHEUS 2
/* Write the statistics, with every size class, to fd as text, JSON or
 * Prometheus text exposition (with the process's RSS). Returns 0 on
 * success, -1 for an unknown format or a failed write. Fields and metric
 * names are documented in docs/STATS.md. */
TIDE_EXPORT int tide_stats_print(int fd, int format);

/* Heap profiling (TIDE_CONF=prof:true; docs/PROFILING.md): write a profile
 * now, in the formats prof_format names, as <prof_prefix>.<pid>.<seq>.manual.heap.
 * The first file's path goes to path_out (if not NULL and path_cap is big
 * enough). Returns 0, ENOENT when profiling is off, EIO when nothing could be
 * written (the reason is printed once to stderr). */
TIDE_EXPORT int tide_prof_dump(char *path_out, size_t path_cap);

/* Profiling without a restart (jemalloc's prof.active): the profiler is
 * compiled in and idle until started. tide_prof_start turns it on (or, if
 * it is on, changes the rate), with mean_sample_bytes as the mean sampling
 * interval (a power of two; 0 keeps the current rate, TIDE_CONF's
 * lg_prof_sample or 512 KiB). Only what is allocated from then on is
 * sampled; the profiles say so (docs/PROFILING.md). tide_prof_stop stops
 * sampling; samples already taken stay until their blocks are freed, and
 * tide_prof_dump still writes them. Both return 0 or an errno value
 * (EINVAL: a rate that is not a power of two). tide_prof_active returns 1
 * while profiling is on, else 0. */
TIDE_EXPORT int tide_prof_start(uint64_t mean_sample_bytes);
TIDE_EXPORT int tide_prof_stop(void);
TIDE_EXPORT int tide_prof_active(void);

/* Change an option at run time: decay_ms, dirty_max, background_thread,
 * stats_interval_ms, stats_fd and stats_print (see docs/CONFIG.md). Returns 0,
 * or EINVAL for an unknown key or a bad value (nothing is printed). */
TIDE_EXPORT int tide_config_set(const char *key, const char *value);

#ifdef __cplusplus
}
#endif

#endif /* TIDEMALLOC_H */
