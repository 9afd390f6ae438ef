/* mesh — how much meshing (Mesh, PLDI 2019) would free, measured before
 * anyone builds it.
 *
 * Meshing maps two slabs of one class whose live blocks sit at different
 * offsets onto one set of physical pages, and gives the other set back.
 * The estimate: take every partly used slab's map of live blocks
 * (core/slab_census.h, slab_live_map, under the page heap's lock), then per
 * class go through the slabs sparsest first (by occupancy bin) and pair
 * each unpaired slab with the first later unpaired one, among the next
 * MESH_PROBES, whose live blocks do not overlap. A pair frees the pages of
 * the smaller carved part: the merged slab needs the union of the two.
 * Greedy and bounded, like Mesh's own pairing, so it is a lower bound of
 * what an optimal matching would find.
 *
 * Beside it, what purging in place would return: the pages of a partly
 * used slab that lie wholly inside its free blocks, except a page holding
 * a free block's first FREE_LINK_BYTES (its free-list link lives there, so
 * that page must stay). Only blocks of a page or more can free one. This
 * is the "return a freed block's whole pages on the decay clock,
 * without waiting for its slab to empty", measured before it is built.
 */
#include "frag.h"

#include <string.h>

#include "tidemalloc.h"

#include "core/size_class.h"
#include "core/slab_census.h"
#include "platform/os.h"
#include "prof/prof_snap.h"

#define MESH_PROBES 64
/* The free-list link at the start of a free block (core/slab.c). */
#define FREE_LINK_BYTES 16

typedef struct mesh_slab {
    uint32_t used, capacity, pages, words;
    uint8_t cls, bin;
    bool paired;
    size_t bits; /* offset of its live map in the bits scratch, in words */
} mesh_slab_t;

typedef struct mesh_ctx {
    scratch_t slabs, bits;
    uint64_t *inplace; /* per class, bytes */
} mesh_ctx_t;

static bool live_bit(const uint64_t *map, uint64_t i)
{
    return map[i / 64] >> (i % 64) & 1;
}

/* Bytes of whole pages inside free blocks of one slab (see the top). */
static uint64_t inplace_bytes(const uint64_t *map, uint32_t capacity, uint32_t block_size)
{
    if (block_size < OS_PAGE_SIZE)
        return 0;
    uint64_t end = (uint64_t)capacity * block_size, pages = 0;
    for (uint64_t pg = 0; (pg + 1) * OS_PAGE_SIZE <= end; pg++) {
        uint64_t lo = pg * OS_PAGE_SIZE, hi = lo + OS_PAGE_SIZE;
        bool free_page = true;
        for (uint64_t b = lo / block_size; b * block_size < hi && free_page; b++) {
            uint64_t start = b * block_size;
            free_page = !live_bit(map, b) && !(start + FREE_LINK_BYTES > lo && start < hi);
        }
        pages += free_page;
    }
    return pages << OS_PAGE_SHIFT;
}

static void collect(const span_t *s, const slab_occ_t *o, void *arg)
{
    mesh_ctx_t *m = arg;
    if (!o->partly_used)
        return;
    uint32_t words = (o->capacity + 63) / 64;
    mesh_slab_t e = {
        .used = o->used, .capacity = o->capacity, .words = words, .cls = o->cls, .bin = o->bin,
        .pages = (uint32_t)(((uint64_t)o->capacity * o->block_size + OS_PAGE_SIZE - 1) >> OS_PAGE_SHIFT),
        .bits = m->bits.n / sizeof(uint64_t),
    };
    if (!scratch_room(&m->bits, words * sizeof(uint64_t)) || !scratch_room(&m->slabs, sizeof e))
        return;
    uint64_t *map = (uint64_t *)(m->bits.p + m->bits.n);
    slab_live_map(s, o->capacity, map);
    if (m->inplace)
        m->inplace[o->cls] += inplace_bytes(map, o->capacity, o->block_size);
    m->bits.n += words * sizeof(uint64_t);
    scratch_put(&m->slabs, &e, sizeof e);
}

static bool disjoint(const uint64_t *a, const uint64_t *b, uint32_t words)
{
    for (uint32_t i = 0; i < words; i++)
        if (a[i] & b[i])
            return false;
    return true;
}

bool mesh_estimate(tide_frag_cell_t *classes, tide_frag_cell_t *total, uint64_t *inplace)
{
    mesh_ctx_t m;
    memset(&m, 0, sizeof m);
    m.inplace = inplace;
    slab_census_walk(collect, &m);
    bool ok = !m.slabs.failed && !m.bits.failed;
    mesh_slab_t *v = (mesh_slab_t *)m.slabs.p;
    size_t n = m.slabs.n / sizeof *v;
    const uint64_t *bits = (const uint64_t *)m.bits.p;
    /* The order of the pairing: by class, sparsest bin first. */
    scratch_t order = { 0 };
    if (n && scratch_room(&order, n * sizeof(uint32_t))) {
        uint32_t *ord = (uint32_t *)order.p;
        for (unsigned cls = 0; cls < SC_COUNT; cls++) {
            size_t first = 0, k = 0;
            for (size_t i = 0; i < n; i++)
                k += v[i].cls < cls;
            first = k;
            for (unsigned bin = 0; bin < CENSUS_BINS; bin++)
                for (size_t i = 0; i < n; i++)
                    if (v[i].cls == cls && v[i].bin == bin)
                        ord[k++] = (uint32_t)i;
            for (size_t a = first; a < k; a++) {
                mesh_slab_t *x = &v[ord[a]];
                if (x->paired)
                    continue;
                unsigned probes = 0;
                for (size_t b = a + 1; b < k && probes < MESH_PROBES; b++) {
                    mesh_slab_t *y = &v[ord[b]];
                    if (y->paired)
                        continue;
                    probes++;
                    uint32_t words = x->words < y->words ? x->words : y->words;
                    if (x->used + y->used > (x->capacity > y->capacity ? x->capacity : y->capacity) ||
                        !disjoint(bits + x->bits, bits + y->bits, words))
                        continue;
                    x->paired = y->paired = true;
                    uint64_t freed = (uint64_t)(x->pages < y->pages ? x->pages : y->pages) << OS_PAGE_SHIFT;
                    classes[cls].mesh_bytes += freed;
                    classes[cls].mesh_pairs++;
                    total->mesh_bytes += freed;
                    total->mesh_pairs++;
                    break;
                }
            }
        }
    } else if (n) {
        ok = false;
    }
    scratch_free(&order);
    scratch_free(&m.slabs);
    scratch_free(&m.bits);
    return ok;
}
