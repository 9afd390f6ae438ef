/* report — one-line messages to stderr, formatted without allocating. */
#ifndef TIDE_REPORT_H
#define TIDE_REPORT_H

#include <stddef.h>

#pragma GCC visibility push(hidden)

/* "tidemalloc: <source>: bad option '<item>': <why>" */
void report_config_error(const char *source, const char *item, size_t len, const char *why);
/* "tidemalloc: <call>(<ptr>): <why>", then abort. */
__attribute__((noreturn, cold)) void report_misuse(const char *call, const void *ptr, const char *why);
/* "tidemalloc: <text>" */
void report_warning(const char *text);

#pragma GCC visibility pop

#endif
