/* os — the platform layer: every system call the allocator makes goes
 * through here (memory, time, threads, output and files, the process's
 * maps, sockets, signals, random numbers), so porting tidemalloc means
 * rewriting os.c. Nothing here allocates with malloc, so every function
 * may run inside malloc, and the ones marked so inside a signal handler.
 *
 * Invariant: a failed call leaves no partial effect behind (a mapping half
 * made, a descriptor open); the memory calls (reserve, release, purge,
 * remap, protect) report failure by their result alone and leave errno as
 * it was, so free, which must never change errno, needs no errno handling
 * of its own. */
#ifndef TIDE_OS_H
#define TIDE_OS_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdbool.h>

#pragma GCC visibility push(hidden)

#define OS_PAGE_SHIFT 12
#define OS_PAGE_SIZE ((size_t)1 << OS_PAGE_SHIFT)

/* Reserve size bytes of read-write address space, aligned to align (a power
 * of two, at least a page). Pages cost nothing until touched. NULL on failure. */
void *os_reserve(size_t size, size_t align);
/* Memory handed to the program whole (a huge block): like os_reserve, but
 * charged to the kernel's overcommit accounting, so a request no machine
 * could back (malloc of 64 TiB) fails here, as it does under glibc, rather
 * than succeeding and faulting later. */
void *os_map_block(size_t size, size_t align);
/* Reserve read-only zero memory: it costs no RSS when read. */
void *os_reserve_readonly(size_t size);
/* Unmap. If the kernel refuses (at vm.max_map_count, an unmap that would
 * split a mapping fails), the pages are purged instead, so they cost no
 * RSS, and the unmap is retried on every later release and by
 * os_retry_releases: nothing is lost, and os_pending_release_bytes counts
 * what is still mapped meanwhile. errno is left as it was. */
void os_release(void *p, size_t size);
void os_retry_releases(void);
size_t os_pending_release_bytes(void);
void os_fork_prepare(void);
void os_fork_parent(void);
void os_fork_child(void);
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
/* CPUs this process may run on (at least 1), and the one the caller runs on
 * now (0 if unknown): neither enters the kernel on Linux with rseq. */
unsigned os_cpu_count(void);
unsigned os_current_cpu(void);
/* ---- output and files ---- */

/* All n bytes to fd, through EINTR and short writes; false if the file
 * took fewer (full disk, closed pipe). Signal-safe. */
bool os_write_all(int fd, const void *buf, size_t n);
/* read(2) through EINTR: bytes read, 0 at the end, -1 on error. */
long os_read(int fd, void *buf, size_t n);
/* -1 on failure (errno says why); descriptors are close-on-exec. */
int os_open_read(const char *path);
int os_open_write(const char *path); /* created or truncated, mode 0644 */
/* false if the data may not have reached the file (close reported an error). */
bool os_close(int fd);
bool os_rename(const char *from, const char *to); /* atomic within a filesystem */
/* A regular file mapped read-only (release with os_release(p, *size)). */
const uint8_t *os_map_file(const char *path, size_t *size);
uint64_t os_rss_bytes(void); /* this process's resident set, 0 if unknown */
/* A whole small file (cgroup, /proc) into buf, NUL-terminated: the bytes
 * read, or -1 if it cannot be opened or read (or is empty). */
long os_read_file(const char *path, char *buf, size_t cap);
bool os_file_exists(const char *path);
/* A pressure stall trigger (Documentation/accounting/psi.rst): `spec` such
 * as "some 200000 2000000" written to a pressure file (a cgroup v2
 * memory.pressure, /proc/pressure/memory). The descriptor, or -1 where the
 * kernel offers none (or the file is not in procfs or cgroup2fs). */
int os_psi_trigger(const char *path, const char *spec);
/* Block until the trigger fires (true) or the descriptor fails (false). */
bool os_psi_wait(int fd);
/* The file of the loaded object (library or program) that holds addr. */
bool os_object_path(const void *addr, char *out, size_t cap);
void os_unlink(const char *path);
/* The target of a symbolic link, not NUL-terminated; -1 on failure. */
long os_readlink(const char *path, char *buf, size_t cap);
int os_getpid(void);
/* The environment variable, NULL when unset or in a set-user-ID program. */
const char *os_getenv(const char *name);
/* Wall-clock time, nanoseconds since 1970 (profiles carry it). */
uint64_t os_realtime_ns(void);

/* ---- the process's mappings: the one reader of /proc/self/maps ---- */

typedef struct os_mapping {
    uintptr_t start, end;
    uint64_t offset;
    bool readable, writable, executable, private_;
    const char *path; /* "" for anonymous mappings; "[stack]" and the like */
    size_t path_len;
    const char *line; /* the whole line as the kernel wrote it, without '\n' */
    size_t line_len;
} os_mapping_t;

/* Call fn for each mapping in address order, parsing the file through buf
 * (cap bytes: lines longer than that are skipped). The strings point into
 * buf and are valid during the call. false if the file could not be read. */
bool os_maps_foreach(char *buf, size_t cap, void (*fn)(void *ctx, const os_mapping_t *m), void *ctx);

/* ---- sockets ---- */

/* A listening Unix stream socket at the abstract address "\0name"; -1 on
 * failure. */
int os_listen_abstract(const char *name);
/* The same at a filesystem path (a stale socket there is replaced). */
int os_listen_path(const char *path);
/* The next connection, its reads timing out after timeout_ms; -1 on error. */
int os_accept(int listen_fd, unsigned timeout_ms);

/* ---- signals and random numbers ---- */

/* Install handler (SA_SIGINFO | SA_ONSTACK | SA_NODEFER) for sig, keeping
 * the one it replaces in *previous. */
bool os_signal_install(int sig, void (*handler)(int, siginfo_t *, void *), struct sigaction *previous);
/* Back to the default action for sig. Signal-safe. */
void os_signal_default(int sig);
/* n random bytes from the kernel without blocking; false if it had none
 * yet (the caller mixes in something weaker). */
bool os_random(void *buf, size_t n);

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
void os_fail_release_after(unsigned n); /* every munmap (os_release) */
unsigned long os_reserve_calls(void);
unsigned long os_purge_calls(void);

#pragma GCC visibility pop

#endif
