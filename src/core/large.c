/* large — blocks above the largest size class: page runs from the page
 * heap, and, above HUGE_THRESHOLD, mappings of their own that realloc can
 * grow with mremap.
 *
 * Invariant: a large or huge block's first page maps to its span in the
 * page map, and no other page does; the block starts at span->start, so any
 * other pointer into it is reported as an interior free. huge_bytes counts
 * exactly the bytes of live huge mappings.
 */
#include "large.h"

#include <stdint.h>
#include <string.h>

#include <mitigation_hooks.h>

#include "limit.h"
#include "page_heap.h"
#include "pagemap.h"
#include "platform/os.h"
#include "platform/report.h"

void (*large_sample_free_hook)(span_t *s);

static _Atomic size_t huge_bytes, huge_count;
/* High-water marks, for glibc's malloc_stats "max mmap" lines. */
static _Atomic size_t huge_peak_bytes, huge_peak_count;

static void raise_peak(_Atomic size_t *peak, size_t v)
{
    size_t old = atomic_load_explicit(peak, memory_order_relaxed);
    while (v > old && !atomic_compare_exchange_weak_explicit(peak, &old, v, memory_order_relaxed,
                                                             memory_order_relaxed)) {
    }
}

/* A huge mapping appeared (count +1), went (-1) or changed size (0). */
static void huge_account(int count, size_t add, size_t sub)
{
    size_t bytes = atomic_fetch_add_explicit(&huge_bytes, add - sub, memory_order_relaxed) + add - sub;
    raise_peak(&huge_peak_bytes, bytes);
    if (count)
        raise_peak(&huge_peak_count,
                   atomic_fetch_add_explicit(&huge_count, (size_t)count, memory_order_relaxed) + (size_t)count);
}

static size_t pages_for(size_t size)
{
    return (size + OS_PAGE_SIZE - 1) >> OS_PAGE_SHIFT;
}

static void *huge_alloc(size_t size, size_t align)
{
    size_t bytes = pages_for(size) << OS_PAGE_SHIFT;
    if (limit_hard() && !limit_admit(page_heap_resident_bytes(), bytes))
        return NULL;
    span_t *s = page_heap_desc_alloc();
    if (!s)
        return NULL;
    char *p = os_map_block(bytes, align);
    if (!p) {
        page_heap_desc_free(s);
        return NULL;
    }
    s->kind = SPAN_HUGE;
    s->start = p;
    s->npages = bytes >> OS_PAGE_SHIFT;
    s->clean = 1;
    if (!pagemap_set(p, 1, s)) {
        os_release(p, bytes);
        page_heap_desc_free(s);
        return NULL;
    }
    huge_account(1, bytes, 0);
    return p;
}

void *large_alloc(size_t size, size_t align, bool zero)
{
    if (size > (size_t)PTRDIFF_MAX - ((size_t)1 << 30) || align > ((size_t)1 << 40))
        return NULL;
    if (size == 0)
        size = 1; /* aligned_alloc(big, 0) still needs a unique block */
    size = mitigation_large_pad(size);
    if (size > HUGE_THRESHOLD || align > (HUGE_THRESHOLD >> 2))
        return huge_alloc(size, align);
    size_t align_pages = align > OS_PAGE_SIZE ? align >> OS_PAGE_SHIFT : 1;
    span_t *s = mitigation_large_run(pages_for(size), align_pages);
    size = mitigation_large_zero_bytes(size);
    if (!s)
        return NULL;
    s->kind = SPAN_LARGE;
    if (!pagemap_set(s->start, 1, s)) {
        page_heap_free(s);
        return NULL;
    }
    if (zero && !s->clean)
        memset(s->start, 0, size);
    return s->start;
}

void large_free(span_t *s, void *p, const char *call)
{
    if (p != s->start)
        report_misuse(call, p, "pointer is inside a block, not at its start");
    if (s->prof)
        large_sample_free_hook(s);
    pagemap_set(s->start, 1, &span_none);
    if (s->kind == SPAN_HUGE) {
        size_t bytes = s->npages << OS_PAGE_SHIFT;
        huge_account(-1, 0, bytes);
        os_release(s->start, bytes);
        page_heap_desc_free(s);
    } else {
        page_heap_free(s);
    }
}

void *large_resize(span_t *s, void *p, size_t size)
{
    size_t npages = pages_for(size);
    if (s->kind == SPAN_LARGE) {
        if (size > HUGE_THRESHOLD || !page_heap_resize(s, npages))
            return NULL;
        return p;
    }
    /* Huge: stay huge while above the threshold; mremap moves pages, not bytes. */
    if (size <= HUGE_THRESHOLD / 2)
        return NULL;
    size_t old_bytes = s->npages << OS_PAGE_SHIFT, new_bytes = npages << OS_PAGE_SHIFT;
    if (new_bytes == old_bytes)
        return p;
    if (new_bytes > old_bytes && limit_hard() && !limit_admit(page_heap_resident_bytes(), new_bytes - old_bytes))
        return NULL;
    char *q = os_remap_to(s->start, old_bytes, new_bytes, NULL);
    if (!q) {
        /* Moving: the page map must know the new address before the block
         * is there, and recording it can fail (a new leaf). So reserve the
         * destination, record it, then move the pages onto it. */
        char *dest = os_reserve(new_bytes, OS_PAGE_SIZE);
        if (!dest)
            return NULL;
        if (!pagemap_set(dest, 1, s) || !(q = os_remap_to(s->start, old_bytes, new_bytes, dest))) {
            pagemap_set(dest, 1, &span_none);
            os_release(dest, new_bytes);
            return NULL;
        }
        pagemap_set(s->start, 1, &span_none);
        s->start = q;
    }
    s->npages = npages;
    huge_account(0, new_bytes, old_bytes);
    return q;
}

size_t large_usable_size(const span_t *s)
{
    return s->npages << OS_PAGE_SHIFT;
}

size_t large_huge_bytes(void)
{
    return atomic_load_explicit(&huge_bytes, memory_order_relaxed);
}

void large_huge_counts(huge_counts_t *out)
{
    out->count = atomic_load_explicit(&huge_count, memory_order_relaxed);
    out->bytes = atomic_load_explicit(&huge_bytes, memory_order_relaxed);
    out->peak_count = atomic_load_explicit(&huge_peak_count, memory_order_relaxed);
    out->peak_bytes = atomic_load_explicit(&huge_peak_bytes, memory_order_relaxed);
}
