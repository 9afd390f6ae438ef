/* cgroup — the memory limits of the cgroup this process runs in, read from
 * the files the kernel exports (cgroup v2 memory.max, memory.high,
 * memory.current; v1 memory.limit_in_bytes, memory.soft_limit_in_bytes,
 * memory.usage_in_bytes), under a root that is /sys/fs/cgroup on a real
 * machine and a fixture directory in the tests. */
#ifndef TIDE_CGROUP_H
#define TIDE_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

#define CGROUP_ROOT_DEFAULT "/sys/fs/cgroup"
#define CGROUP_PATH_MAX 512

typedef struct cgroup_memory {
    int version;      /* 2, 1, or 0: no memory controller found */
    uint64_t max;     /* the hard limit (v2 memory.max, v1 limit_in_bytes); 0: none */
    uint64_t high;    /* the reclaim point (v2 memory.high, v1 soft_limit_in_bytes); 0: none */
    uint64_t current; /* the charge now (memory.current, usage_in_bytes); 0 if unread */
    char dir[CGROUP_PATH_MAX];      /* the directory current was read from */
    char pressure[CGROUP_PATH_MAX]; /* its memory.pressure (v2 with PSI), else "" */
} cgroup_memory_t;

/* Find this process's memory cgroup under root (its path from
 * /proc/self/cgroup; where that path does not exist under root, as in a
 * container with its own cgroup namespace or a fixture, the nearest
 * ancestor that does) and read it. The limits are the smallest of the
 * directory's and its ancestors' up to root, as the kernel enforces them.
 * Never allocates. */
void cgroup_read(const char *root, cgroup_memory_t *out);
/* Only the charge, from out->dir as cgroup_read found it (cheap: one file). */
uint64_t cgroup_read_current(const cgroup_memory_t *cg);

#pragma GCC visibility pop

#endif
