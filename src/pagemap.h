/* pagemap — address → span, for every page tidemalloc hands out.
 *
 * Two levels cover the 47-bit user address space: bits 47..34 select a leaf
 * table, bits 33..12 a page in it. Entries are stored as offsets from a base
 * (the leaf from an all-zero leaf, the span from span_none), so an address
 * tidemalloc never mapped decodes to span_none with no branch: the free fast
 * path does two loads and no NULL check, and a foreign pointer simply lands
 * in the slow path, which reports it.
 */
#ifndef TIDE_PAGEMAP_H
#define TIDE_PAGEMAP_H

#include "os.h"
#include "span.h"

#pragma GCC visibility push(hidden)

#define PM_L1_BITS 14
#define PM_L2_BITS 22
#define PM_L2_SHIFT (OS_PAGE_SHIFT + PM_L2_BITS)

/* All three live in one object so the lookup needs a single base address;
 * the zero leaf comes first, so a leaf's offset from the base is also its
 * offset from the zero leaf and an unset first-level entry (0) means it. */
typedef struct pagemap {
    uintptr_t zero_leaf[(size_t)1 << PM_L2_BITS];
    uintptr_t l1[(size_t)1 << PM_L1_BITS]; /* leaf offset from the base */
    span_t none;                           /* the sentinel span_none */
} pagemap_t;

/* In .bss: the zero leaf is never written, so reading it costs no RSS. */
extern pagemap_t pagemap;

static inline span_t *pagemap_lookup(const void *p)
{
    /* Integer arithmetic: leaves and spans lie outside `pagemap`, so the
     * offsets may not be applied to a pointer into it. */
    uintptr_t a = (uintptr_t)p;
    uintptr_t base = (uintptr_t)&pagemap;
    /* No mask on i: user addresses on Linux x86-64 are below 2^47 (the
     * map covers 2^48); a non-canonical pointer may fault here rather
     * than be reported, like any other wild pointer. */
    uintptr_t i = a >> PM_L2_SHIFT;
    uintptr_t j = (a >> OS_PAGE_SHIFT) & (((uintptr_t)1 << PM_L2_BITS) - 1);
    uintptr_t leaf = *(const uintptr_t *)(base + offsetof(pagemap_t, l1) + i * sizeof(uintptr_t));
    uintptr_t entry = *(const uintptr_t *)(base + leaf + j * sizeof(uintptr_t));
    return (span_t *)(base + offsetof(pagemap_t, none) + entry);
}

/* Map npages pages from start to span (span_none clears). Returns false if a
 * leaf table could not be allocated. */
bool pagemap_set(const void *start, size_t npages, span_t *span);

void pagemap_fork_prepare(void);
void pagemap_fork_parent(void);
void pagemap_fork_child(void);

#pragma GCC visibility pop

#endif
