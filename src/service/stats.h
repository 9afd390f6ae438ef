/* stats — snapshots of where the memory is, and their text forms. */
#ifndef TIDE_STATS_H
#define TIDE_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/textbuf.h"

#pragma GCC visibility push(hidden)

/* Write one "tide-stats key=value ..." line to fd. */
void stats_write_line(int fd);
/* The report (TIDE_STATS_TEXT, _JSON or _PROMETHEUS) into o, without the
 * per-class table unless classes; -1 for an unknown format. The caller
 * flushes. */
int stats_print_to(textbuf_t *o, int format, bool classes);
/* stats_prometheus.c: the Prometheus text exposition. */
int stats_prometheus_to(textbuf_t *o);
/* Rewrite the stats_file option's file (by rename, so a reader never sees
 * half of it); false if it could not be written. */
bool stats_file_write(void);
bool stats_file_enabled(void);
#define STATS_FILE_DEFAULT_MS 10000

#pragma GCC visibility pop

#endif
