/* prof_snap — scratch memory and the copy of the profile's rows. */
#include "prof_snap.h"

#include "platform/os.h"

#include <string.h>

bool scratch_room(scratch_t *s, size_t more)
{
    if (s->failed)
        return false;
    if (s->cap - s->n >= more)
        return true;
    size_t cap = s->cap ? s->cap : 64 * 1024;
    while (cap - s->n < more) {
        if (cap > SIZE_MAX / 2) {
            s->failed = true;
            return false;
        }
        cap *= 2;
    }
    cap = (cap + OS_PAGE_SIZE - 1) & ~(OS_PAGE_SIZE - 1);
    void *p = s->p ? os_remap(s->p, s->cap, cap) : os_reserve(cap, OS_PAGE_SIZE);
    if (!p) {
        s->failed = true;
        return false;
    }
    s->p = p;
    s->cap = cap;
    return true;
}

void *scratch_put(scratch_t *s, const void *p, size_t n)
{
    if (!scratch_room(s, n))
        return NULL;
    void *at = s->p + s->n;
    if (n)
        memcpy(at, p, n);
    s->n += n;
    return at;
}

void scratch_free(scratch_t *s)
{
    if (s->p)
        os_release(s->p, s->cap);
    s->p = NULL;
    s->n = s->cap = 0;
}

static void snap_row(const prof_row_t *r, void *ctx)
{
    prof_snap_t *s = ctx;
    uint32_t depth = r->depth > PROF_DEPTH_MAX ? PROF_DEPTH_MAX : r->depth;
    uint64_t hdr[PROF_SNAP_HDR] = {
        depth, r->live_objs, r->live_bytes, r->accum_objs, r->accum_bytes,
        r->est_live_objs, r->est_live_bytes, r->est_accum_objs, r->est_accum_bytes, r->est_pinned_bytes,
    };
    if (!scratch_room(&s->mem, sizeof hdr + depth * sizeof(uint64_t)))
        return;
    scratch_put(&s->mem, hdr, sizeof hdr);
    for (uint32_t i = 0; i < depth; i++) {
        uint64_t pc = r->pc[i];
        scratch_put(&s->mem, &pc, sizeof pc);
    }
    s->rows++;
    s->frames += depth;
}

bool prof_snap_take(prof_snap_t *s)
{
    memset(s, 0, sizeof *s);
    prof_rows(snap_row, s);
    return !s->mem.failed;
}

bool prof_snap_next(const prof_snap_t *s, size_t *pos, prof_row_t *row)
{
    size_t words = s->mem.n / sizeof(uint64_t);
    if (*pos + PROF_SNAP_HDR > words)
        return false;
    const uint64_t *w = (const uint64_t *)s->mem.p + *pos;
    row->depth = (uint32_t)w[0];
    row->live_objs = w[1];
    row->live_bytes = w[2];
    row->accum_objs = w[3];
    row->accum_bytes = w[4];
    row->est_live_objs = w[5];
    row->est_live_bytes = w[6];
    row->est_accum_objs = w[7];
    row->est_accum_bytes = w[8];
    row->est_pinned_bytes = w[9];
    row->pc = (const uintptr_t *)(w + PROF_SNAP_HDR);
    *pos += PROF_SNAP_HDR + row->depth;
    return true;
}

void prof_snap_free(prof_snap_t *s)
{
    scratch_free(&s->mem);
}
