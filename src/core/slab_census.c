/* slab_census — the occupancy of every slab, read from outside its owner
 * thread (definitions and invariant in slab_census.h). */
#include "slab_census.h"

#include <string.h>

#include "heap.h"
#include "page_heap.h"
#include "platform/os.h"

bool slab_occupancy(const span_t *s, slab_occ_t *o)
{
    if (__atomic_load_n(&s->kind, __ATOMIC_RELAXED) != SPAN_SMALL)
        return false;
    uint32_t cap = __atomic_load_n(&s->capacity, __ATOMIC_RELAXED);
    uint32_t used = __atomic_load_n(&s->used, __ATOMIC_RELAXED);
    uint32_t bs = __atomic_load_n(&s->block_size, __ATOMIC_RELAXED);
    uint8_t cls = __atomic_load_n(&s->class_idx, __ATOMIC_RELAXED);
    if (cap == 0 || bs == 0 || cls >= SC_COUNT)
        return false;
    if (used > cap) /* read mid-update */
        used = cap;
    o->used = used;
    o->capacity = cap;
    o->block_size = bs;
    o->cls = cls;
    unsigned bin = (unsigned)((uint64_t)used * CENSUS_BINS / cap);
    o->bin = (uint8_t)(bin >= CENSUS_BINS ? CENSUS_BINS - 1 : bin);
    o->partly_used = used > 0 && used < cap;
    return true;
}

static void add_to(census_cell_t *c, const slab_occ_t *o)
{
    c->slabs++;
    c->partly_used += o->partly_used;
    c->carved += (uint64_t)o->capacity * o->block_size;
    c->live += (uint64_t)o->used * o->block_size;
    c->free += occ_free_bytes(o);
}

typedef struct walk_ctx {
    void (*fn)(const span_t *s, const slab_occ_t *o, void *arg);
    void *arg;
} walk_ctx_t;

static void walk_one(const span_t *s, void *arg)
{
    walk_ctx_t *w = arg;
    slab_occ_t o;
    if (slab_occupancy(s, &o))
        w->fn(s, &o, w->arg);
}

void slab_census_walk(void (*fn)(const span_t *s, const slab_occ_t *o, void *arg), void *arg)
{
    walk_ctx_t w = { fn, arg };
    page_heap_walk(walk_one, &w);
}

static void count_slab(const span_t *s, const slab_occ_t *o, void *arg)
{
    (void)s;
    slab_census_t *c = arg;
    add_to(&c->all, o);
    add_to(&c->cls[o->cls], o);
    add_to(&c->bin[o->bin], o);
}

static void count_cached(heap_t *h, void *arg)
{
    slab_census_t *c = arg;
    for (unsigned i = 0; i < SC_CENTRAL_COUNT; i++) {
        uint64_t b = (uint64_t)__atomic_load_n(&h->cache[i].n, __ATOMIC_RELAXED) * sc_block_size[SC_CENTRAL_FIRST + i];
        c->cls[SC_CENTRAL_FIRST + i].cached += b;
        c->all.cached += b;
    }
}

void slab_census_take(slab_census_t *c)
{
    memset(c, 0, sizeof *c);
    slab_census_walk(count_slab, c);
    heap_walk(count_cached, c);
}

/* Clear the bit of every block on the list from b; stops at a link that is
 * not a block of s (the owner changed the list under us) and after
 * capacity blocks (a cycle seen mid-update). */
static void clear_list(const span_t *s, uint32_t capacity, const block_t *b, uint64_t *bits)
{
    uintptr_t start = (uintptr_t)s->start, end = start + (uintptr_t)capacity * s->block_size;
    for (uint32_t n = 0; b && n < capacity; n++) {
        uintptr_t p = (uintptr_t)b & ~(uintptr_t)1;
        if (p < start || p >= end || (p - start) % s->block_size)
            return;
        uint32_t i = (uint32_t)((p - start) / s->block_size);
        bits[i / 64] &= ~((uint64_t)1 << (i % 64));
        b = block_peek_next((const block_t *)p);
    }
}

void slab_live_map(const span_t *s, uint32_t capacity, uint64_t *bits)
{
    uint32_t words = (capacity + 63) / 64;
    memset(bits, 0xff, words * sizeof *bits);
    if (capacity % 64)
        bits[words - 1] = ((uint64_t)1 << (capacity % 64)) - 1;
    clear_list(s, capacity, __atomic_load_n(&s->free, __ATOMIC_RELAXED), bits);
    clear_list(s, capacity, __atomic_load_n(&s->local_free, __ATOMIC_RELAXED), bits);
    clear_list(s, capacity, __atomic_load_n(&s->prof_rest, __ATOMIC_RELAXED), bits);
    clear_list(s, capacity, (const block_t *)atomic_load_explicit(&s->thread_free, memory_order_relaxed), bits);
}
