/* pagemap — the two-level address → span table: leaves made on first use
 * from the OS, the sentinel for everything else.
 *
 * Invariant: every first-level entry points at a leaf (the shared zero leaf
 * until a real one is made), biased so the free path needs no mask, and
 * every leaf entry is an offset from the sentinel, so a pointer tidemalloc
 * never mapped decodes to span_none. Leaves are never freed.
 */
#include "pagemap.h"
#include "platform/lock.h"

#include <pthread.h>

#define L2_MASK (((uintptr_t)1 << PM_L2_BITS) - 1)
#define LEAF_BYTES (sizeof(uintptr_t) << PM_L2_BITS)

/* In .bss and never written, so reading it costs no RSS. */
static uintptr_t zero_leaf[(size_t)1 << PM_L2_BITS];

/* First-level entry i before a leaf exists: the zero leaf, biased. */
#define ZERO_ENTRY(i) ((uintptr_t)zero_leaf - (uintptr_t)(i) * LEAF_BYTES)
#define ZE4(i) ZERO_ENTRY(i), ZERO_ENTRY((i) + 1), ZERO_ENTRY((i) + 2), ZERO_ENTRY((i) + 3)
#define ZE16(i) ZE4(i), ZE4((i) + 4), ZE4((i) + 8), ZE4((i) + 12)
#define ZE64(i) ZE16(i), ZE16((i) + 16), ZE16((i) + 32), ZE16((i) + 48)
#define ZE256(i) ZE64(i), ZE64((i) + 64), ZE64((i) + 128), ZE64((i) + 192)
#define ZE1K(i) ZE256(i), ZE256((i) + 256), ZE256((i) + 512), ZE256((i) + 768)
#define ZE4K(i) ZE1K(i), ZE1K((i) + 1024), ZE1K((i) + 2048), ZE1K((i) + 3072)
#define ZE16K(i) ZE4K(i), ZE4K((i) + 4096), ZE4K((i) + 8192), ZE4K((i) + 12288)
_Static_assert(PM_L1_BITS == 14, "ZE16K fills 2^14 first-level entries");

/* span_none is all zero: SPAN_NONE, no owner. */
pagemap_t pagemap __attribute__((aligned(4096))) = {.l1 = {ZE16K(0)}};

static pthread_mutex_t leaf_lock = PTHREAD_MUTEX_INITIALIZER;

static uintptr_t *leaf_for(uintptr_t a)
{
    uintptr_t i = a >> PM_L2_SHIFT;
    uintptr_t *slot = &pagemap.l1[i];
    uintptr_t entry = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (entry == ZERO_ENTRY(i)) {
        lock_acquire(&leaf_lock);
        entry = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (entry == ZERO_ENTRY(i)) {
            void *leaf = os_reserve(LEAF_BYTES, OS_PAGE_SIZE);
            if (leaf) {
                entry = (uintptr_t)leaf - i * LEAF_BYTES;
                __atomic_store_n(slot, entry, __ATOMIC_RELEASE);
            }
        }
        lock_release(&leaf_lock);
        if (entry == ZERO_ENTRY(i))
            return NULL;
    }
    return (uintptr_t *)(entry + i * LEAF_BYTES);
}

bool pagemap_set(const void *start, size_t npages, span_t *span)
{
    uintptr_t a = (uintptr_t)start;
    uintptr_t value = (uintptr_t)span - (uintptr_t)&span_none;
    while (npages > 0) {
        uintptr_t *leaf = leaf_for(a);
        if (!leaf)
            return false;
        size_t i = (a >> OS_PAGE_SHIFT) & L2_MASK;
        size_t n = ((size_t)1 << PM_L2_BITS) - i;
        if (n > npages)
            n = npages;
        for (size_t k = 0; k < n; k++)
            __atomic_store_n(&leaf[i + k], value, __ATOMIC_RELAXED);
        npages -= n;
        a += n << OS_PAGE_SHIFT;
    }
    return true;
}


void pagemap_fork_prepare(void) { pthread_mutex_lock(&leaf_lock); }
void pagemap_fork_parent(void) { pthread_mutex_unlock(&leaf_lock); }
void pagemap_fork_child(void) { pthread_mutex_init(&leaf_lock, NULL); }
