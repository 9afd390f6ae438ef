/* mem_limits — where the memory limits come from and how the charge is kept
 * current: the options limit_soft and limit_hard, resolved against the
 * cgroup when `auto`, the sampling of the process's (or cgroup's) charge,
 * and the pressure stall trigger that wakes the background thread. The
 * limits themselves, and what they do, are core/limit.h's. */
#ifndef TIDE_MEM_LIMITS_H
#define TIDE_MEM_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* How often the charge is sampled while a limit is set: every 250 ms, or
 * every 2 s where a pressure stall trigger wakes the thread in between. */
#define LIMITS_SAMPLE_MS 250
#define LIMITS_SAMPLE_PSI_MS 2000

/* Resolve the options (at start, and on tide_config_set): read the cgroup
 * if either limit is auto, sample the charge, set core/limit.h's limits,
 * and purge what the soft limit no longer allows. */
void limits_configure(void);
/* From the background thread: re-read the cgroup (auto), sample the charge,
 * apply the curve. Returns when it wants to run next (UINT64_MAX: only when
 * woken anyway). */
uint64_t limits_tick(uint64_t now);
/* From the background thread while background_thread is off: nothing
 * would end a stall, so none is kept (the dirty cap follows the curve). */
void limits_idle_tick(void);
/* A request was refused at the hard limit even after purging: count it,
 * and say so on stderr the first time. */
void limits_note_failure(size_t size);
void limits_fork_child(void);

#pragma GCC visibility pop

#endif
