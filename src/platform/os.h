/* os — every system call the allocator makes goes through here.
 * Porting tidemalloc means rewriting os.c. */
#ifndef TIDE_OS_H
#define TIDE_OS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#pragma GCC visibility push(hidden)

#define OS_PAGE_SHIFT 12
#define OS_PAGE_SIZE ((size_t)1 << OS_PAGE_SHIFT)

/* Reserve size bytes of read-write address space, aligned to align (a power
 * of two, at least a page). Pages cost nothing until touched. NULL on failure. */
void *os_reserve(size_t size, size_t align);
/* Reserve read-only zero memory: it costs no RSS when read. */
void *os_reserve_readonly(size_t size);
void os_release(void *p, size_t size);
/* Give the pages back to the OS; they read as zero afterwards. */
bool os_purge(void *p, size_t size);
/* Move/grow a whole mapping (mremap); NULL on failure. */
void *os_remap(void *p, size_t old_size, size_t new_size);
/* Resize a mapping without letting the kernel pick a new place: in place
 * when dest is NULL, else moved onto dest, a mapping of the caller's that
 * it replaces. NULL on failure (the mapping is then unchanged). */
void *os_remap_to(void *p, size_t old_size, size_t new_size, void *dest);
/* Make pages inaccessible (guard pages) or read-write again. */
bool os_protect(void *p, size_t size, bool accessible);
/* Monotonic milliseconds, cheap (coarse clock). */
uint64_t os_now_ms(void);
/* Write to stderr without allocating. */
void os_write_stderr(const char *s, size_t n);

/* Start a detached helper thread with a small stack and every signal
 * blocked (a helper must never take a signal meant for the program). */
bool os_thread_start(void *(*fn)(void *), size_t stack_bytes);

/* Failure injection for tests: make the nth next reserve (or purge) fail.
 * 0 disables.  "Reserve" is every mmap the library makes (os_reserve,
 * os_reserve_readonly: regions, huge blocks, metadata, page-map leaves) and
 * every mremap (os_remap); "purge" is every madvise (os_purge).  The
 * counters say how many such calls were made so far. */
void os_fail_reserve_after(unsigned n);
void os_fail_purge_after(unsigned n);
unsigned long os_reserve_calls(void);
unsigned long os_purge_calls(void);

#pragma GCC visibility pop

#endif
