/* cgroup — finding this process's memory cgroup and reading its limits
 * (cgroup.h says what is read).
 *
 * Invariant: a value the kernel writes as "no limit" ("max" in v2; in v1 a
 * page counter's maximum, about 2^63) reads as 0, and so does a file that
 * is missing or unparsable: a limit is reported only when a file states one.
 */
#include "cgroup.h"

#include <stdbool.h>
#include <string.h>

#include "os.h"

/* v1 writes its "unlimited" as PAGE_COUNTER_MAX pages, rounded to a page:
 * anything at or above 2^62 bytes is no limit a machine could reach. */
#define CGROUP_UNLIMITED ((uint64_t)1 << 62)

static bool join(char *out, size_t cap, const char *a, const char *b, size_t bn)
{
    size_t an = strlen(a);
    if (an + bn + 1 > cap)
        return false;
    memcpy(out, a, an);
    memcpy(out + an, b, bn);
    out[an + bn] = 0;
    return true;
}

/* The number in dir/name; 0 for "max", a missing file or no number. */
static uint64_t read_value(const char *dir, const char *name, bool *found)
{
    char path[CGROUP_PATH_MAX + 64], buf[64];
    size_t dn = strlen(dir), nn = strlen(name);
    if (dn + nn + 2 > sizeof path)
        return 0;
    memcpy(path, dir, dn);
    path[dn] = '/';
    memcpy(path + dn + 1, name, nn + 1);
    if (os_read_file(path, buf, sizeof buf) < 0)
        return 0;
    if (found)
        *found = true;
    uint64_t v = 0;
    size_t i = 0;
    for (; buf[i] >= '0' && buf[i] <= '9'; i++) {
        if (v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(buf[i] - '0');
    }
    if (i == 0 || v >= CGROUP_UNLIMITED)
        return 0;
    return v;
}

/* The path this process's line for the hierarchy gives: "0::/a/b" for v2,
 * "4:memory:/a/b" (or "4:memory,cpu:/a/b") for v1. */
static bool own_path(const char *text, int version, char *out, size_t cap)
{
    const char *line = text;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *c1 = memchr(line, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
        if (c2) {
            const char *ctl = c1 + 1;
            size_t cn = (size_t)(c2 - ctl);
            bool match = false;
            if (version == 2)
                match = c1 - line == 1 && line[0] == '0' && cn == 0;
            else
                for (const char *t = ctl; t < c2;) {
                    const char *comma = memchr(t, ',', (size_t)(c2 - t));
                    size_t tn = comma ? (size_t)(comma - t) : (size_t)(c2 - t);
                    if (tn == 6 && memcmp(t, "memory", 6) == 0)
                        match = true;
                    t += tn + 1;
                }
            size_t pn = len - (size_t)(c2 + 1 - line);
            if (match && pn + 1 <= cap) {
                memcpy(out, c2 + 1, pn);
                out[pn] = 0;
                return true;
            }
        }
        line = end ? end + 1 : NULL;
    }
    return false;
}

static uint64_t min_limit(uint64_t a, uint64_t b)
{
    return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

void cgroup_read(const char *root, cgroup_memory_t *out)
{
    memset(out, 0, sizeof *out);
    char base[CGROUP_PATH_MAX], probe[CGROUP_PATH_MAX];
    const char *max_name, *high_name, *current_name;
    /* v2 has cgroup.controllers at its root; v1 mounts the memory
     * controller's hierarchy in a directory of its own. */
    if (join(probe, sizeof probe, root, "/cgroup.controllers", 19) && os_file_exists(probe)) {
        out->version = 2;
        if (!join(base, sizeof base, root, "", 0))
            return;
        max_name = "memory.max", high_name = "memory.high", current_name = "memory.current";
    } else if (join(base, sizeof base, root, "/memory", 7) && os_file_exists(base)) {
        out->version = 1;
        max_name = "memory.limit_in_bytes", high_name = "memory.soft_limit_in_bytes";
        current_name = "memory.usage_in_bytes";
    } else {
        return;
    }
    char text[2048], rel[CGROUP_PATH_MAX];
    if (os_read_file("/proc/self/cgroup", text, sizeof text) < 0 || !own_path(text, out->version, rel, sizeof rel))
        rel[0] = 0;
    /* Walk from the process's own directory up to the root: the first that
     * exists is where the charge is read; the limits are the smallest on
     * the way up (a parent's limit binds its children). */
    size_t rn = strlen(rel);
    while (rn > 0 && rel[rn - 1] == '/')
        rn--;
    bool have_dir = false;
    for (;;) {
        char dir[CGROUP_PATH_MAX];
        if (join(dir, sizeof dir, base, rel, rn) && os_file_exists(dir)) {
            bool found = false;
            uint64_t cur = read_value(dir, current_name, &found);
            if (!have_dir && found) {
                have_dir = true;
                out->current = cur;
                memcpy(out->dir, dir, sizeof dir);
                if (out->version == 2 && join(probe, sizeof probe, dir, "/memory.pressure", 16) &&
                    os_file_exists(probe))
                    memcpy(out->pressure, probe, sizeof probe);
            }
            if (have_dir) {
                out->max = min_limit(out->max, read_value(dir, max_name, NULL));
                out->high = min_limit(out->high, read_value(dir, high_name, NULL));
            }
        }
        if (rn == 0)
            break;
        while (rn > 0 && rel[rn - 1] != '/')
            rn--;
        while (rn > 0 && rel[rn - 1] == '/')
            rn--;
    }
    if (!have_dir)
        out->version = 0;
}

uint64_t cgroup_read_current(const cgroup_memory_t *cg)
{
    if (!cg->version)
        return 0;
    return read_value(cg->dir, cg->version == 2 ? "memory.current" : "memory.usage_in_bytes", NULL);
}
