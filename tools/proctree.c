/* The process tree below a pid, and per-process memory from smaps_rollup. */
#include "tide.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void push(pid_t **pids, size_t *n, size_t *cap, pid_t p)
{
    for (size_t i = 0; i < *n; i++)
        if ((*pids)[i] == p)
            return;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *pids = xrealloc(*pids, *cap * sizeof **pids);
    }
    (*pids)[(*n)++] = p;
}

/* Read a whole small /proc file into buf; returns its length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t r = read(fd, buf + len, size - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

/* Children of every thread of `pid`, via /proc/PID/task/TID/children. */
static void children_of(pid_t pid, pid_t **pids, size_t *n, size_t *cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return; /* gone */
    struct dirent *e;
    char buf[4096];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char cpath[300];
        snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", (int)pid, e->d_name);
        if (read_file(cpath, buf, sizeof buf) <= 0)
            continue;
        char *s = buf;
        for (;;) {
            char *end;
            long c = strtol(s, &end, 10);
            if (end == s)
                break;
            if (c > 0)
                push(pids, n, cap, (pid_t)c);
            s = end;
        }
    }
    closedir(d);
}

/* Fallback: one scan of /proc/<pid>/stat, then the transitive closure. */
static void scan_all(pid_t root, pid_t **pids, size_t *n, size_t *cap)
{
    pid_t *all = NULL, *parent = NULL;
    size_t na = 0, ca = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *e;
    char buf[1024];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        if (read_file(path, buf, sizeof buf) <= 0)
            continue;
        char *rp = strrchr(buf, ')'); /* comm may contain spaces and parens */
        if (!rp)
            continue;
        char state;
        int ppid;
        if (sscanf(rp + 1, " %c %d", &state, &ppid) != 2)
            continue;
        if (na == ca) {
            ca = ca ? ca * 2 : 256;
            all = xrealloc(all, ca * sizeof *all);
            parent = xrealloc(parent, ca * sizeof *parent);
        }
        all[na] = (pid_t)atoi(e->d_name);
        parent[na++] = (pid_t)ppid;
    }
    closedir(d);
    size_t start = *n;
    for (size_t i = 0; i < na; i++)
        if (parent[i] == root)
            push(pids, n, cap, all[i]);
    for (size_t k = start; k < *n; k++)
        for (size_t i = 0; i < na; i++)
            if (parent[i] == (*pids)[k])
                push(pids, n, cap, all[i]);
    free(all);
    free(parent);
}

size_t proctree_list(pid_t root, pid_t **pids, size_t *cap)
{
    /* The children files need CONFIG_PROC_CHILDREN; fall back to a scan. */
    static int have_children_file = -1;
    if (have_children_file < 0) {
        char self[64];
        snprintf(self, sizeof self, "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
        have_children_file = access(self, R_OK) == 0;
    }
    size_t n = 0;
    if (!have_children_file) {
        scan_all(root, pids, &n, cap);
        return n;
    }
    children_of(root, pids, &n, cap);
    for (size_t k = 0; k < n; k++)
        children_of((*pids)[k], pids, &n, cap);
    return n;
}

static uint64_t field_kb(const char *buf, const char *name)
{
    const char *p = buf;
    size_t nl = strlen(name);
    while ((p = strstr(p, name)) != NULL) {
        if (p == buf || p[-1] == '\n')
            return strtoull(p + nl, NULL, 10) * 1024u;
        p += nl;
    }
    return 0;
}

int smaps_read(pid_t pid, mem_t *out)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    ssize_t len = read_file(path, buf, sizeof buf);
    if (len <= 0 || !strstr(buf, "\nRss:"))
        return -1; /* gone, a zombie (no mm), or not ours to read */
    out->rss = field_kb(buf, "Rss:");
    out->pss = field_kb(buf, "Pss:");
    out->anon = field_kb(buf, "Anonymous:");
    out->lazyfree = field_kb(buf, "LazyFree:");
    return 0;
}
