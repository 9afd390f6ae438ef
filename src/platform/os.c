/* os — the system calls behind os.h, and failure injection for the tests.
 *
 * Invariant: no function here calls malloc; a failure injected by
 * os_fail_*_after looks to callers exactly like the real failure (NULL or
 * false with errno set as the kernel would).
 */
#define _GNU_SOURCE
#include "os.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"

/* platform/lock.h: held allocator locks plus entered slow paths. */
__thread unsigned critical_depth;

static _Atomic unsigned fail_reserve_countdown;
static _Atomic unsigned fail_purge_countdown;
static _Atomic unsigned fail_release_countdown;
/* Calls made so far (mmap + mremap, madvise), for the fault-injection tests
 * to know whether the nth call happened. */
static _Atomic unsigned long reserve_calls, purge_calls;

/* Counts down to 1 and fires once; 0 means never. */
static bool inject_failure(_Atomic unsigned *countdown)
{
    unsigned n = atomic_load_explicit(countdown, memory_order_relaxed);
    while (n != 0) {
        if (atomic_compare_exchange_weak(countdown, &n, n - 1))
            return n == 1;
    }
    return false;
}

void os_fail_reserve_after(unsigned n) { atomic_store(&fail_reserve_countdown, n); }
void os_fail_purge_after(unsigned n) { atomic_store(&fail_purge_countdown, n); }
void os_fail_release_after(unsigned n) { atomic_store(&fail_release_countdown, n); }
unsigned long os_reserve_calls(void) { return atomic_load(&reserve_calls); }
unsigned long os_purge_calls(void) { return atomic_load(&purge_calls); }

/* The memory calls leave errno as it was: a failure is their result, and
 * the caller decides what errno a program sees (ENOMEM from malloc, nothing
 * from free). */
static void *map_anon_flags(size_t size, int prot, int flags)
{
    atomic_fetch_add_explicit(&reserve_calls, 1, memory_order_relaxed);
    if (inject_failure(&fail_reserve_countdown))
        return NULL;
    int saved_errno = errno;
    void *p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    errno = saved_errno;
    return p == MAP_FAILED ? NULL : p;
}

static void *map_anon(size_t size, int prot)
{
    return map_anon_flags(size, prot, MAP_NORESERVE);
}

static void *map_aligned(size_t size, size_t align, int flags)
{
    if (align <= OS_PAGE_SIZE)
        return map_anon_flags(size, PROT_READ | PROT_WRITE, flags);
    /* Over-reserve, then trim both ends to the alignment. */
    size_t span = size + align - OS_PAGE_SIZE;
    if (span < size)
        return NULL;
    char *raw = map_anon_flags(span, PROT_READ | PROT_WRITE, flags);
    if (!raw)
        return NULL;
    char *aligned = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    if (aligned > raw)
        munmap(raw, (size_t)(aligned - raw));
    size_t tail = (size_t)((raw + span) - (aligned + size));
    if (tail)
        munmap(aligned + size, tail);
    return aligned;
}

void *os_reserve(size_t size, size_t align)
{
    return map_aligned(size, align, MAP_NORESERVE);
}

void *os_map_block(size_t size, size_t align)
{
    return map_aligned(size, align, 0);
}

void *os_reserve_readonly(size_t size)
{
    return map_anon(size, PROT_READ);
}

/* ---- releases the kernel refused, retried ---- */

#define PENDING_RELEASES 1024

static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { void *p; size_t size; } pending[PENDING_RELEASES];
static size_t npending;
static _Atomic size_t pending_bytes;

static bool unmap(void *p, size_t size)
{
    if (inject_failure(&fail_release_countdown))
        return false;
    return munmap(p, size) == 0;
}

/* Under pending_lock. */
static void retry_pending_locked(void)
{
    for (size_t i = 0; i < npending;) {
        if (unmap(pending[i].p, pending[i].size)) {
            atomic_fetch_sub_explicit(&pending_bytes, pending[i].size, memory_order_relaxed);
            pending[i] = pending[--npending];
        } else {
            i++;
        }
    }
}

void os_release(void *p, size_t size)
{
    int saved_errno = errno;
    bool ok = unmap(p, size);
    pthread_mutex_lock(&pending_lock);
    if (!ok) {
        madvise(p, size, MADV_DONTNEED);
        if (npending < PENDING_RELEASES) {
            pending[npending].p = p;
            pending[npending].size = size;
            npending++;
            atomic_fetch_add_explicit(&pending_bytes, size, memory_order_relaxed);
        }
    } else if (npending) {
        retry_pending_locked(); /* a mapping went away: there may be room now */
    }
    pthread_mutex_unlock(&pending_lock);
    errno = saved_errno;
}

void os_retry_releases(void)
{
    if (atomic_load_explicit(&pending_bytes, memory_order_relaxed) == 0)
        return;
    int saved_errno = errno;
    pthread_mutex_lock(&pending_lock);
    retry_pending_locked();
    pthread_mutex_unlock(&pending_lock);
    errno = saved_errno;
}

size_t os_pending_release_bytes(void)
{
    return atomic_load_explicit(&pending_bytes, memory_order_relaxed);
}

void os_fork_prepare(void) { pthread_mutex_lock(&pending_lock); }
void os_fork_parent(void) { pthread_mutex_unlock(&pending_lock); }
void os_fork_child(void) { pthread_mutex_init(&pending_lock, NULL); }

bool os_purge(void *p, size_t size)
{
    atomic_fetch_add_explicit(&purge_calls, 1, memory_order_relaxed);
    if (inject_failure(&fail_purge_countdown))
        return false;
    int saved_errno = errno;
    bool ok = madvise(p, size, MADV_DONTNEED) == 0;
    errno = saved_errno;
    return ok;
}

void *os_remap(void *p, size_t old_size, size_t new_size)
{
    atomic_fetch_add_explicit(&reserve_calls, 1, memory_order_relaxed);
    if (inject_failure(&fail_reserve_countdown))
        return NULL;
    int saved_errno = errno;
    void *q = mremap(p, old_size, new_size, MREMAP_MAYMOVE);
    errno = saved_errno;
    return q == MAP_FAILED ? NULL : q;
}

void *os_remap_to(void *p, size_t old_size, size_t new_size, void *dest)
{
    atomic_fetch_add_explicit(&reserve_calls, 1, memory_order_relaxed);
    if (inject_failure(&fail_reserve_countdown))
        return NULL;
    int saved_errno = errno;
    void *q = dest ? mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, dest)
                   : mremap(p, old_size, new_size, 0);
    errno = saved_errno;
    return q == MAP_FAILED ? NULL : q;
}

uint64_t os_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

unsigned os_cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return (unsigned)n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

unsigned os_current_cpu(void)
{
    int saved = errno;
    int cpu = sched_getcpu();
    errno = saved;
    return cpu > 0 ? (unsigned)cpu : 0u;
}

/* ---- output and files ---- */

bool os_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w == 0 || errno != EINTR) {
            return false;
        }
    }
    return true;
}

long os_read(int fd, void *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0 || errno != EINTR)
            return (long)r;
    }
}

int os_open_read(const char *path)
{
    return open(path, O_RDONLY | O_CLOEXEC);
}

int os_open_write(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

bool os_object_path(const void *addr, char *out, size_t cap)
{
    Dl_info info;
    if (cap == 0 || !dladdr(addr, &info) || !info.dli_fname || !info.dli_fname[0])
        return false;
    size_t n = strnlen(info.dli_fname, cap - 1);
    memcpy(out, info.dli_fname, n);
    out[n] = 0;
    return true;
}

uint64_t os_rss_bytes(void)
{
    char buf[128];
    if (os_read_file("/proc/self/statm", buf, sizeof buf) < 0)
        return 0;
    /* "size resident shared ...", in pages */
    const char *p = buf;
    while (*p && *p != ' ')
        p++;
    uint64_t pages = 0;
    for (p++; *p >= '0' && *p <= '9'; p++)
        pages = pages * 10 + (uint64_t)(*p - '0');
    return pages << OS_PAGE_SHIFT;
}

const uint8_t *os_map_file(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    void *p = MAP_FAILED;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return NULL;
    *size = (size_t)st.st_size;
    return p;
}

long os_read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    while (n + 1 < cap) {
        long r = os_read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    return n ? (long)n : -1;
}

bool os_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Pressure files live in procfs and cgroup2fs only; anything else (a test
 * fixture's plain file) would take the trigger text as data, and a poll for
 * POLLPRI on it would never return. */
#define PROC_FS_MAGIC 0x9fa0
#define CGROUP2_FS_MAGIC 0x63677270

int os_psi_trigger(const char *path, const char *spec)
{
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct statfs fs;
    if (fstatfs(fd, &fs) != 0 || (fs.f_type != PROC_FS_MAGIC && fs.f_type != CGROUP2_FS_MAGIC)) {
        close(fd);
        return -1;
    }
    size_t n = strlen(spec) + 1; /* the kernel wants the terminating NUL */
    if (write(fd, spec, n) != (ssize_t)n) {
        close(fd);
        return -1;
    }
    return fd;
}

bool os_psi_wait(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLPRI };
    for (;;) {
        int r = poll(&p, 1, -1);
        if (r > 0)
            return (p.revents & (POLLERR | POLLNVAL | POLLHUP)) == 0;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

bool os_rename(const char *from, const char *to)
{
    return rename(from, to) == 0;
}

bool os_close(int fd)
{
    return close(fd) == 0;
}

void os_unlink(const char *path)
{
    unlink(path);
}

long os_readlink(const char *path, char *buf, size_t cap)
{
    return (long)readlink(path, buf, cap);
}

int os_getpid(void)
{
    return (int)getpid();
}

const char *os_getenv(const char *name)
{
    return secure_getenv(name);
}

uint64_t os_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- /proc/self/maps ---- */

static const char *parse_hex(const char *p, const char *end, uint64_t *out)
{
    uint64_t v = 0;
    const char *start = p;
    for (; p < end; p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else
            break;
        v = v << 4 | d;
    }
    *out = v;
    return p > start ? p : NULL;
}

/* "start-end perms offset dev inode path"; false for a malformed line. */
static bool parse_mapping(const char *line, const char *end, os_mapping_t *m)
{
    uint64_t start, stop;
    const char *p = parse_hex(line, end, &start);
    if (!p || p == end || *p++ != '-' || !(p = parse_hex(p, end, &stop)) || end - p < 6 || *p++ != ' ')
        return false;
    m->start = (uintptr_t)start;
    m->end = (uintptr_t)stop;
    m->readable = p[0] == 'r';
    m->writable = p[1] == 'w';
    m->executable = p[2] == 'x';
    m->private_ = p[3] == 'p';
    p += 5;
    if (!(p = parse_hex(p, end, &m->offset)))
        return false;
    for (int field = 0; field < 2; field++) { /* dev, inode */
        while (p < end && *p == ' ')
            p++;
        while (p < end && *p != ' ')
            p++;
    }
    while (p < end && *p == ' ')
        p++;
    m->path = p;
    m->path_len = (size_t)(end - p);
    m->line = line;
    m->line_len = (size_t)(end - line);
    return true;
}

bool os_maps_foreach(char *buf, size_t cap, void (*fn)(void *ctx, const os_mapping_t *m), void *ctx)
{
    int fd = os_open_read("/proc/self/maps");
    if (fd < 0)
        return false;
    size_t len = 0;
    bool skipping = false; /* the rest of a line too long for buf */
    bool ok = true;
    for (;;) {
        long r = os_read(fd, buf + len, cap - len);
        if (r <= 0) {
            ok = r == 0;
            break;
        }
        len += (size_t)r;
        size_t start = 0;
        for (size_t i = 0; i < len; i++) {
            if (buf[i] != '\n')
                continue;
            os_mapping_t m;
            if (!skipping && parse_mapping(buf + start, buf + i, &m))
                fn(ctx, &m);
            skipping = false;
            start = i + 1;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        if (len == cap) {
            skipping = true;
            len = 0;
        }
    }
    close(fd);
    return ok;
}

/* ---- sockets ---- */

int os_listen_abstract(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    size_t n = strlen(name);
    if (n > sizeof addr.sun_path - 1)
        n = sizeof addr.sun_path - 1;
    memcpy(addr.sun_path + 1, name, n);
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    if (bind(fd, (struct sockaddr *)&addr, alen) != 0 || listen(fd, 8) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int os_listen_path(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    size_t n = strlen(path);
    if (n == 0 || n > sizeof addr.sun_path - 1)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    memcpy(addr.sun_path, path, n);
    /* A socket left by an earlier process of this PID is stale. */
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 8) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int os_accept(int listen_fd, unsigned timeout_ms)
{
    int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return -1;
    struct timeval tv = { (time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000 };
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return c;
}

/* ---- signals and random numbers ---- */

bool os_signal_install(int sig, void (*handler)(int, siginfo_t *, void *), struct sigaction *previous)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, previous) == 0;
}

void os_signal_default(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
}

bool os_random(void *buf, size_t n)
{
    return getrandom(buf, n, GRND_NONBLOCK) == (ssize_t)n;
}

bool os_thread_start(void *(*fn)(void *), size_t stack_bytes)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, stack_bytes);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t tid;
    int saved_errno = errno; /* started from free's path too, which keeps errno */
    bool ok = pthread_create(&tid, &attr, fn, NULL) == 0;
    errno = saved_errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return ok;
}

bool os_protect(void *p, size_t size, bool accessible)
{
    int saved_errno = errno;
    bool ok = mprotect(p, size, accessible ? PROT_READ | PROT_WRITE : PROT_NONE) == 0;
    errno = saved_errno;
    return ok;
}
