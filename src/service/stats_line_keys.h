/* stats_line_keys — the one definition of the statistics line format.
 *
 * `tide run` reads one line per process per interval from a pipe:
 *
 *   tide-stats  pid=P t_ms=T live=B ...   tidemalloc itself
 *                                         (src/service/stats.c)
 *   glibc-stats pid=P t_ms=T arenas=N ... tools/glibc_shim.c
 *   app-stats   pid=P live=B              any program, about itself
 *                                         (tools/demo_workload.c does)
 *
 * and tools/statsline.c parses them. Writers and reader expand the lists
 * below, so a key renamed or added here changes both sides at once; before
 * this header each side spelled the keys itself and they could drift apart
 * without any build or test noticing.
 *
 * Each list is X(id, "key"), in the order the writer puts the keys on the
 * line; id is the key as a C identifier, for users that paste it into names
 * of their own (an enum constant, a struct field). The reader ignores keys
 * it does not know, so a writer may append a key before the reader uses it;
 * a key must never come back with another meaning.
 *
 * Plain C: no includes, so the library, the tool and the libc-only glibc
 * shim can all include it. */
#ifndef TIDE_STATS_LINE_KEYS_H
#define TIDE_STATS_LINE_KEYS_H

/* The first word of a line: which writer, and so which list, it follows. */
#define TIDE_STATS_LINE_TAG "tide-stats"
#define TIDE_GLIBC_STATS_LINE_TAG "glibc-stats"
#define TIDE_APP_STATS_LINE_TAG "app-stats"

/* Who wrote the line, and when: first on every allocator's line. pid is the
 * writer's getpid(); t_ms is CLOCK_MONOTONIC in milliseconds, the clock tide
 * samples memory by. */
#define TIDE_STATS_LINE_HEAD_KEYS(X) \
    X(pid, "pid")                    \
    X(t_ms, "t_ms")

/* tidemalloc's own figures, in bytes unless a count (docs/STATS.md says what
 * each is): the fields of tide_stats_t, live being live_usable, then the
 * limits in force (0: none) and the failures at the hard one
 * (tide_limit_stats_t). */
#define TIDE_STATS_LINE_KEYS(X)          \
    TIDE_STATS_LINE_HEAD_KEYS(X)         \
    X(live, "live")                      \
    X(live_requested, "live_requested")  \
    X(active, "active")                  \
    X(dirty, "dirty")                    \
    X(mapped, "mapped")                  \
    X(retained, "retained")              \
    X(metadata, "metadata")              \
    X(purged, "purged")                  \
    X(purge_calls, "purge_calls")        \
    X(threads, "threads")                \
    X(limit_soft, "limit_soft")          \
    X(limit_hard, "limit_hard")          \
    X(limit_failures, "limit_failures")

/* glibc's figures from malloc_info: the numbers, then the per-arena lists
 * (comma-separated, one value per arena), which the shim leaves off a line
 * they would make too long for one atomic write. */
#define TIDE_GLIBC_STATS_LINE_NUMBER_KEYS(X) \
    TIDE_STATS_LINE_HEAD_KEYS(X)             \
    X(arenas, "arenas")                      \
    X(free, "free")                          \
    X(system, "system")                      \
    X(mmap, "mmap")
#define TIDE_GLIBC_STATS_LINE_LIST_KEYS(X) \
    X(arena_free, "arena_free")            \
    X(arena_system, "arena_system")
#define TIDE_GLIBC_STATS_LINE_KEYS(X)     \
    TIDE_GLIBC_STATS_LINE_NUMBER_KEYS(X)  \
    TIDE_GLIBC_STATS_LINE_LIST_KEYS(X)

/* A program's own live bytes. No t_ms: such a line is taken as of when it
 * arrives. */
#define TIDE_APP_STATS_LINE_KEYS(X) \
    X(pid, "pid")                   \
    X(live, "live")

#endif
