/* report — one-line messages to stderr, formatted without allocating. */
#ifndef TIDE_REPORT_H
#define TIDE_REPORT_H

#include <stddef.h>

#pragma GCC visibility push(hidden)

/* "tidemalloc: <source>: bad option '<item>': <why>" */
void report_config_error(const char *source, const char *item, size_t len, const char *why);
/* "tidemalloc: <call>(<ptr>): <why>", then abort. */
__attribute__((noreturn, cold)) void report_misuse(const char *call, const void *ptr, const char *why);
/* Hardened build: "tidemalloc: <call>(<ptr>): <kind>[: <detail>] [size class <N>]"
 * (no size class when block_size is 0), then the allocation stack if the
 * heap profiler has one (the report_on_misuse hook), then abort. Safe in a
 * signal handler. */
__attribute__((noreturn, cold)) void report_heap_misuse(const char *call, const void *ptr, const char *kind,
                                                        const char *detail, size_t block_size);
/* fn(p) runs after a misuse line and before the abort: the heap profiler
 * registers one that prints where p was allocated when it is a sample. It
 * must neither allocate nor lock. */
void report_on_misuse(void (*fn)(const void *p));
/* "tidemalloc: invariant broken at <file>:<line>: <what>", then abort (the
 * TIDE_DEBUG build's validators, core/debug.h). */
__attribute__((noreturn, cold)) void report_invariant_broken(const char *file, int line, const char *what);
/* "tidemalloc: <text>" */
void report_warning(const char *text);

#pragma GCC visibility pop

#endif
