/* pagemap — address → span, for every page tidemalloc hands out.
 *
 * Two levels cover the 48-bit address space: bits 47..34 select a leaf
 * table, bits 33..12 a page in it. Every first-level entry points at a leaf,
 * an all-zero one until a real leaf is needed, and holds that leaf's address
 * minus the part of the page number the first level already used (i << 22
 * entries): the leaf entry is then at entry + (a >> 12) * 8, with no mask.
 * The first level is initialised in the object file (relocations), so the
 * lookup is safe before any constructor has run. Leaf entries are offsets
 * from span_none, so an address tidemalloc never mapped decodes to
 * span_none with no branch: the free fast path does two loads and no NULL
 * check, and a foreign pointer simply lands in the slow path, which
 * reports it.
 */
#ifndef TIDE_PAGEMAP_H
#define TIDE_PAGEMAP_H

#include "platform/os.h"
#include "span.h"

#pragma GCC visibility push(hidden)

#define PM_L1_BITS 14
#define PM_L2_BITS 22
#define PM_L2_SHIFT (OS_PAGE_SHIFT + PM_L2_BITS)

/* Both in one object so the lookup needs a single base address, and the
 * sentinel first, so that base is also the origin of the leaf entries. */
typedef struct pagemap {
    span_t none;                           /* the sentinel span_none */
    uintptr_t l1[(size_t)1 << PM_L1_BITS]; /* leaf - (i << PM_L2_BITS) * 8 */
} pagemap_t;

extern pagemap_t pagemap;
_Static_assert(offsetof(pagemap_t, none) == 0, "span_none is the lookup's origin");

static inline span_t *pagemap_lookup(const void *p)
{
    /* Integer arithmetic: the biased leaf addresses point outside any
     * object until the page number is added. */
    uintptr_t a = (uintptr_t)p;
    uintptr_t base = (uintptr_t)&pagemap;
    /* No mask on the first-level index: user addresses on Linux x86-64 are
     * below 2^47 (the map covers 2^48); a non-canonical pointer may fault
     * here rather than be reported, like any other wild pointer. */
    uintptr_t leaf = *(const uintptr_t *)(base + offsetof(pagemap_t, l1) +
                                          (a >> PM_L2_SHIFT) * sizeof(uintptr_t));
    uintptr_t entry = *(const uintptr_t *)(leaf + (a >> OS_PAGE_SHIFT) * sizeof(uintptr_t));
    return (span_t *)(base + entry); /* base == &span_none */
}

/* Map npages pages from start to span (span_none clears). Returns false if a
 * leaf table could not be allocated. */
bool pagemap_set(const void *start, size_t npages, span_t *span);

void pagemap_fork_prepare(void);
void pagemap_fork_parent(void);
void pagemap_fork_child(void);

#pragma GCC visibility pop

#endif
