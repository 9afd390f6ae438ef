/* purger — the background thread that keeps purging when the program idles.
 *
 * jemalloc's default and mimalloc only purge when the program calls into
 * them, so after a burst RSS stays at its peak. The background thread is started lazily,
 * the first time freed pages are waiting, sleeps until the decay policy's
 * next deadline, and sleeps indefinitely when nothing is dirty.
 * TIDE_CONF=background_thread:false switches it off.
 */
#ifndef TIDE_BACKGROUND_H
#define TIDE_BACKGROUND_H

#include <stdbool.h>

#pragma GCC visibility push(hidden)

/* Dirty pages appeared where there were none: wake (or start) the background thread. */
void background_notify(void);
void background_fork_prepare(void);
void background_fork_parent(void);
void background_fork_child(void);

#pragma GCC visibility pop

#endif
