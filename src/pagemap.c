#include "pagemap.h"

#include <pthread.h>

pagemap_t pagemap __attribute__((aligned(4096))); /* all zero: span_none is SPAN_NONE, no owner */

static pthread_mutex_t leaf_lock = PTHREAD_MUTEX_INITIALIZER;

#define L1_MASK (((uintptr_t)1 << PM_L1_BITS) - 1)
#define L2_MASK (((uintptr_t)1 << PM_L2_BITS) - 1)
#define LEAF_BYTES (sizeof(uintptr_t) << PM_L2_BITS)

static uintptr_t *leaf_for(uintptr_t a)
{
    uintptr_t *slot = &pagemap.l1[(a >> PM_L2_SHIFT) & L1_MASK];
    uintptr_t off = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (off == 0) {
        pthread_mutex_lock(&leaf_lock);
        off = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (off == 0) {
            void *leaf = os_reserve(LEAF_BYTES, OS_PAGE_SIZE);
            if (leaf) {
                off = (uintptr_t)leaf - (uintptr_t)&pagemap;
                __atomic_store_n(slot, off, __ATOMIC_RELEASE);
            }
        }
        pthread_mutex_unlock(&leaf_lock);
        if (off == 0)
            return NULL;
    }
    return (uintptr_t *)((uintptr_t)&pagemap + off);
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
