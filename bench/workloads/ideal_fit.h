/* ideal_fit — a simulated allocator that no real one beats on fragmentation
 * without moving objects, for bounding what a workload's targets can ask.
 *
 * It places blocks in a virtual address space (nothing is mapped for them):
 * best fit over every free byte, no header, 16-byte alignment, free chunks
 * coalesced with both neighbours at once, and no size classes, so any hole
 * serves any size. Its resident memory is every page that holds a live
 * byte: a page goes back the moment its last byte is freed, with no decay
 * and no slab or run granularity. Best fit with coalescing is the policy
 * the allocator studies found least fragmenting on real traces (Wilson and
 * Johnstone, "The memory fragmentation problem: solved?", ISMM 1998); with
 * page-exact return added it is an ideal, not a design.
 *
 * Invariants:
 *  - Free chunks never touch: a freed chunk is merged with free neighbours
 *    before it is filed, so each free chunk is bounded by live bytes or the
 *    top of the used address space.
 *  - head[u] / tail[u] name (index + 1) the free chunk that starts / ends
 *    at unit u (16 bytes a unit), 0 elsewhere.
 *  - A chunk of n units sits in bin n when n < IDEAL_BINS, else in the big
 *    list; a bin's bit in `nonempty` is set iff the bin holds a chunk.
 */
#ifndef IDEAL_FIT_H
#define IDEAL_FIT_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define IDEAL_UNIT 16u
#define IDEAL_BINS 8192u                 /* exact bins below 128 KiB */
#define IDEAL_SPACE_UNITS (1ull << 28)   /* 4 GiB of simulated address space */

typedef struct ideal_chunk {
    uint64_t start, units;
    uint32_t prev, next; /* within its bin or the big list (index + 1) */
} ideal_chunk_t;

typedef struct ideal_fit {
    ideal_chunk_t *c;
    uint32_t nchunks, free_slot; /* records in use; a freed record's chain (index + 1) */
    uint32_t bin[IDEAL_BINS], big;
    uint64_t nonempty[IDEAL_BINS / 64];
    uint32_t *head, *tail;
    uint64_t top; /* units handed out from the fresh end */
} ideal_fit_t;

static void *ideal_map(uint64_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int ideal_init(ideal_fit_t *f)
{
    memset(f, 0, sizeof *f);
    f->c = ideal_map((IDEAL_SPACE_UNITS / 2) * sizeof(ideal_chunk_t));
    f->head = ideal_map(IDEAL_SPACE_UNITS * sizeof(uint32_t));
    f->tail = ideal_map(IDEAL_SPACE_UNITS * sizeof(uint32_t));
    return f->c && f->head && f->tail ? 0 : -1;
}

static uint32_t *ideal_list(ideal_fit_t *f, uint64_t units)
{
    return units < IDEAL_BINS ? &f->bin[units] : &f->big;
}

static void ideal_link(ideal_fit_t *f, uint32_t i)
{
    ideal_chunk_t *k = &f->c[i - 1];
    uint32_t *l = ideal_list(f, k->units);
    k->prev = 0;
    k->next = *l;
    if (*l)
        f->c[*l - 1].prev = i;
    *l = i;
    if (k->units < IDEAL_BINS)
        f->nonempty[k->units / 64] |= 1ull << (k->units % 64);
    f->head[k->start] = i;
    f->tail[k->start + k->units - 1] = i;
}

static void ideal_unlink(ideal_fit_t *f, uint32_t i)
{
    ideal_chunk_t *k = &f->c[i - 1];
    uint32_t *l = ideal_list(f, k->units);
    if (k->prev)
        f->c[k->prev - 1].next = k->next;
    else
        *l = k->next;
    if (k->next)
        f->c[k->next - 1].prev = k->prev;
    if (!*l && k->units < IDEAL_BINS)
        f->nonempty[k->units / 64] &= ~(1ull << (k->units % 64));
    f->head[k->start] = 0;
    f->tail[k->start + k->units - 1] = 0;
}

static uint32_t ideal_record(ideal_fit_t *f, uint64_t start, uint64_t units)
{
    uint32_t i = f->free_slot;
    if (i)
        f->free_slot = f->c[i - 1].next;
    else
        i = ++f->nchunks;
    f->c[i - 1] = (ideal_chunk_t){ .start = start, .units = units };
    return i;
}

static void ideal_drop(ideal_fit_t *f, uint32_t i)
{
    f->c[i - 1].next = f->free_slot;
    f->free_slot = i;
}

/* The smallest free chunk of at least `units`, or 0. */
static uint32_t ideal_best(ideal_fit_t *f, uint64_t units)
{
    if (units < IDEAL_BINS) {
        for (uint64_t w = units / 64; w < IDEAL_BINS / 64; w++) {
            uint64_t m = f->nonempty[w];
            if (w == units / 64)
                m &= ~0ull << (units % 64);
            if (m)
                return f->bin[w * 64 + (uint64_t)__builtin_ctzll(m)];
        }
    }
    uint32_t best = 0;
    for (uint32_t i = f->big; i; i = f->c[i - 1].next)
        if (f->c[i - 1].units >= units && (!best || f->c[i - 1].units < f->c[best - 1].units))
            best = i;
    return best;
}

/* The block's address in bytes (UINT64_MAX when the space is used up). */
static uint64_t ideal_alloc(ideal_fit_t *f, uint64_t bytes)
{
    uint64_t units = (bytes + IDEAL_UNIT - 1) / IDEAL_UNIT;
    if (!units)
        units = 1;
    uint32_t i = ideal_best(f, units);
    if (!i) {
        if (f->top + units > IDEAL_SPACE_UNITS)
            return UINT64_MAX;
        f->top += units;
        return (f->top - units) * IDEAL_UNIT;
    }
    ideal_unlink(f, i);
    ideal_chunk_t *k = &f->c[i - 1];
    uint64_t at = k->start;
    if (k->units > units) {
        k->start += units;
        k->units -= units;
        ideal_link(f, i);
    } else {
        ideal_drop(f, i);
    }
    return at * IDEAL_UNIT;
}

static void ideal_free(ideal_fit_t *f, uint64_t addr, uint64_t bytes)
{
    uint64_t start = addr / IDEAL_UNIT, units = (bytes + IDEAL_UNIT - 1) / IDEAL_UNIT;
    if (!units)
        units = 1;
    if (start && f->tail[start - 1]) {
        uint32_t l = f->tail[start - 1];
        ideal_unlink(f, l);
        start = f->c[l - 1].start;
        units += f->c[l - 1].units;
        ideal_drop(f, l);
    }
    uint64_t end = start + units;
    if (end < f->top && f->head[end]) {
        uint32_t r = f->head[end];
        ideal_unlink(f, r);
        units += f->c[r - 1].units;
        ideal_drop(f, r);
    }
    if (start + units == f->top) { /* the fresh end grows back */
        f->top = start;
        return;
    }
    ideal_link(f, ideal_record(f, start, units));
}

#endif
