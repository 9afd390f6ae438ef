/* stats — snapshots of where the memory is, and their text forms. */
#ifndef TIDE_STATS_H
#define TIDE_STATS_H

#include <stdint.h>

#pragma GCC visibility push(hidden)

/* Write one "tide-stats key=value ..." line to fd. */
void stats_write_line(int fd);

#pragma GCC visibility pop

#endif
