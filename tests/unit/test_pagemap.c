/* pagemap: address -> span for every page tidemalloc hands out
 * (src/core/pagemap.h).  Every free starts with pagemap_lookup, so the map
 * must be exact: each page of a range given to pagemap_set decodes to that
 * span and no page next to it does; an address never set, anywhere in the
 * 48-bit space the two levels cover, decodes to span_none (the foreign
 * pointer the slow path reports); clearing (setting span_none) restores
 * that; ranges that straddle a leaf table (16 GiB) and ranges near the top
 * of user space work like any other; a leaf that cannot be allocated makes
 * pagemap_set fail and leaves the map unchanged; and the allocator's own
 * blocks decode to the spans that hold them.
 *
 * The test maps its fake spans over address space it has reserved itself
 * (PROT_NONE mappings), so the allocator can never be handed those pages
 * while the test writes their entries. */
#define _GNU_SOURCE 1
#include "runner.h"
#include "check.h"
#include "tidemalloc.h"
#include "core/large.h"
#include "core/pagemap.h"
#include "core/size_class.h"
#include "platform/os.h"

#include <sys/mman.h>

#define LEAF_SPAN ((uintptr_t)1 << PM_L2_SHIFT) /* address space of one leaf */
#define USER_TOP ((uintptr_t)1 << 47)          /* end of x86-64 user space */

/* Descriptors only the page map points at; their contents do not matter. */
static span_t fake_span[3];

/* Address space nobody else can be given: PROT_NONE, never touched. */
static char *reserve_address_space(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(p != MAP_FAILED);
    return p;
}

/* The first and the last byte of each of npages pages from start decode to
 * span. */
static void check_pages_map_to(const char *start, size_t npages, const span_t *span)
{
    for (size_t i = 0; i < npages; i++) {
        const char *page = start + (i << OS_PAGE_SHIFT);
        CHECK_MSG(pagemap_lookup(page) == span, "page %zu (%p) of %zu", i, (const void *)page, npages);
        CHECK_MSG(pagemap_lookup(page + OS_PAGE_SIZE - 1) == span, "end of page %zu of %zu", i,
                  npages);
    }
}

/* Map [start, start + npages pages) to span, check it and both neighbours,
 * clear it and check that everything is span_none again. */
static void check_set_and_clear(char *start, size_t npages, span_t *span)
{
    check_pages_map_to(start - OS_PAGE_SIZE, npages + 2, &span_none);
    CHECK(pagemap_set(start, npages, span));
    check_pages_map_to(start, npages, span);
    CHECK(pagemap_lookup(start - 1) == &span_none);
    CHECK(pagemap_lookup(start + (npages << OS_PAGE_SHIFT)) == &span_none);
    CHECK(pagemap_set(start, npages, &span_none));
    check_pages_map_to(start - OS_PAGE_SIZE, npages + 2, &span_none);
}

TEST(unset_addresses_decode_to_span_none)
{
    static char global_bytes[64];
    char stack_bytes[64];
    const uintptr_t addresses[] = {
        0, OS_PAGE_SIZE, (uintptr_t)global_bytes, (uintptr_t)opaque_ptr(stack_bytes),
        LEAF_SPAN - 1, LEAF_SPAN, USER_TOP - OS_PAGE_SIZE, USER_TOP - 1,
        /* The map covers 2^48 (bits 47..34 pick the leaf): the upper half
         * of the first level is all zero leaves too. */
        USER_TOP, ((uintptr_t)1 << 48) - 1,
    };
    for (size_t i = 0; i < sizeof addresses / sizeof addresses[0]; i++)
        CHECK_MSG(pagemap_lookup((const void *)addresses[i]) == &span_none, "address %#lx",
                  (unsigned long)addresses[i]);
    /* span_none is the all-zero sentinel: kind SPAN_NONE, no owner. */
    CHECK_EQ(span_none.kind, SPAN_NONE);
    CHECK_EQ(span_owner_fast(&span_none), 0);
}

TEST(set_ranges_round_trip_and_clear)
{
    const size_t bytes = (size_t)64 << 20;
    char *base = reserve_address_space(bytes);
    check_set_and_clear(base + OS_PAGE_SIZE, 1, &fake_span[0]);
    check_set_and_clear(base + (100 << OS_PAGE_SHIFT), 37, &fake_span[1]);
    check_set_and_clear(base + (1000 << OS_PAGE_SHIFT), 4096, &fake_span[2]);

    /* Neighbouring ranges keep their own spans; overwriting a middle part
     * changes only that part. */
    char *a = base + (8192 << OS_PAGE_SHIFT);
    CHECK(pagemap_set(a, 10, &fake_span[0]));
    CHECK(pagemap_set(a + (10 << OS_PAGE_SHIFT), 5, &fake_span[1]));
    check_pages_map_to(a, 10, &fake_span[0]);
    check_pages_map_to(a + (10 << OS_PAGE_SHIFT), 5, &fake_span[1]);
    CHECK(pagemap_set(a + (3 << OS_PAGE_SHIFT), 2, &fake_span[2]));
    check_pages_map_to(a, 3, &fake_span[0]);
    check_pages_map_to(a + (3 << OS_PAGE_SHIFT), 2, &fake_span[2]);
    check_pages_map_to(a + (5 << OS_PAGE_SHIFT), 5, &fake_span[0]);
    check_pages_map_to(a + (10 << OS_PAGE_SHIFT), 5, &fake_span[1]);
    CHECK(pagemap_set(a, 15, &span_none));
    check_pages_map_to(a - OS_PAGE_SIZE, 17, &span_none);
    /* Zero pages: nothing changes. */
    CHECK(pagemap_set(a, 0, &fake_span[0]));
    CHECK(pagemap_lookup(a) == &span_none);
    munmap(base, bytes);
}

TEST(ranges_across_a_leaf_boundary)
{
    /* Two leaves' worth of address space holds a leaf boundary with room
     * on both sides. */
    const size_t bytes = 2 * LEAF_SPAN;
    char *base = reserve_address_space(bytes);
    char *boundary = (char *)(((uintptr_t)base + LEAF_SPAN) & ~(LEAF_SPAN - 1));
    CHECK(boundary - base >= 16 * (ptrdiff_t)OS_PAGE_SIZE);
    CHECK(base + bytes - boundary >= 16 * (ptrdiff_t)OS_PAGE_SIZE);
    check_set_and_clear(boundary - 3 * OS_PAGE_SIZE, 6, &fake_span[0]);
    /* Ending exactly at the boundary, starting exactly at it. */
    check_set_and_clear(boundary - 4 * OS_PAGE_SIZE, 4, &fake_span[1]);
    check_set_and_clear(boundary, 4, &fake_span[2]);
    /* Both sides set to different spans at once stay apart. */
    CHECK(pagemap_set(boundary - OS_PAGE_SIZE, 1, &fake_span[0]));
    CHECK(pagemap_set(boundary, 1, &fake_span[1]));
    CHECK(pagemap_lookup(boundary - 1) == &fake_span[0]);
    CHECK(pagemap_lookup(boundary) == &fake_span[1]);
    CHECK(pagemap_set(boundary - OS_PAGE_SIZE, 2, &span_none));
    check_pages_map_to(boundary - 2 * OS_PAGE_SIZE, 4, &span_none);
    munmap(base, bytes);
}

TEST(addresses_near_the_top_of_user_space)
{
    /* A free 1 MiB in the highest leaf there is room in (the stack and
     * the vDSO sit somewhere up there: try candidates downwards). */
    const size_t bytes = (size_t)1 << 20;
    char *high = NULL;
    for (uintptr_t at = USER_TOP - 2 * bytes; at > USER_TOP - 64 * LEAF_SPAN && !high; at -= 64 * bytes) {
        void *p = mmap((void *)at, bytes, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == (void *)at)
            high = p;
        else if (p != MAP_FAILED)
            munmap(p, bytes); /* a kernel without MAP_FIXED_NOREPLACE placed it elsewhere */
    }
    CHECK_MSG(high != NULL, "no free megabyte in the top 64 leaves of user space");
    CHECK_GE((uintptr_t)high >> PM_L2_SHIFT, (USER_TOP >> PM_L2_SHIFT) - 64);
    check_set_and_clear(high + OS_PAGE_SIZE, 200, &fake_span[0]);
    munmap(high, bytes);
}

/* Whether the leaf covering p is still the shared zero leaf (pagemap.h:
 * a first-level entry holds its leaf's address minus i << PM_L2_BITS
 * entries, and every entry starts at the same all-zero leaf; addresses at
 * 2^48 - 1 are never set, so the last entry always has it). */
static bool leaf_is_unallocated(const void *p)
{
    const uintptr_t leaf_bytes = sizeof(uintptr_t) << PM_L2_BITS;
    const size_t last = ((size_t)1 << PM_L1_BITS) - 1;
    uintptr_t zero_leaf = pagemap.l1[last] + last * leaf_bytes;
    size_t i = (uintptr_t)p >> PM_L2_SHIFT;
    return pagemap.l1[i] + i * leaf_bytes == zero_leaf;
}

TEST(leaf_that_cannot_be_allocated_fails_the_set)
{
    /* Address space in a leaf nobody has needed yet (leaves are never
     * given back, and the kernel may hand out space another test used:
     * keep reserving until one is fresh). */
    enum { TRIES = 8 };
    const size_t bytes = 2 * LEAF_SPAN;
    char *reserved[TRIES];
    char *fresh = NULL;
    int n = 0;
    while (n < TRIES && !fresh) {
        char *base = reserved[n++] = reserve_address_space(bytes);
        /* The reservation's start, then each leaf boundary in it. */
        for (char *at = base; at + 8 * OS_PAGE_SIZE <= base + bytes && !fresh;
             at = (char *)(((uintptr_t)at & ~(LEAF_SPAN - 1)) + LEAF_SPAN))
            if (leaf_is_unallocated(at))
                fresh = at + OS_PAGE_SIZE;
    }
    CHECK_MSG(fresh != NULL, "no address space in an unallocated leaf after %d tries", TRIES);
    /* Its reservation failing: false, and the map unchanged. */
    unsigned long calls = os_reserve_calls();
    os_fail_reserve_after(1);
    bool ok = pagemap_set(fresh, 3, &fake_span[0]);
    os_fail_reserve_after(0);
    CHECK_EQ(os_reserve_calls(), calls + 1); /* it did try to reserve the leaf */
    CHECK(!ok);
    CHECK(leaf_is_unallocated(fresh));
    check_pages_map_to(fresh - OS_PAGE_SIZE, 5, &span_none);
    /* With the OS giving memory again the same call works. */
    check_set_and_clear(fresh, 3, &fake_span[0]);
    CHECK(!leaf_is_unallocated(fresh));
    for (int i = 0; i < n; i++)
        munmap(reserved[i], bytes);
}

TEST(allocator_blocks_decode_to_their_spans)
{
    /* Small: every page of the slab leads to it.  Large and huge: the
     * block's first page (the one free looks up). */
    void *small = tide_malloc(100);
    CHECK_NOT_NULL(small);
    span_t *s = pagemap_lookup(small);
    CHECK_EQ(s->kind, SPAN_SMALL);
    CHECK_EQ(s->block_size, sc_block_size[sc_of_size(100)]);
    CHECK((char *)small >= s->start && (char *)small < s->start + (s->npages << OS_PAGE_SHIFT));
    check_pages_map_to(s->start, s->npages, s);

    const size_t sizes[] = {100000, HUGE_THRESHOLD + 1};
    const unsigned kinds[] = {SPAN_LARGE, SPAN_HUGE};
    for (size_t i = 0; i < 2; i++) {
        char *p = tide_malloc(sizes[i]);
        CHECK_NOT_NULL(p);
        span_t *ls = pagemap_lookup(p);
        CHECK_EQ(ls->kind, kinds[i]);
        CHECK(ls->start == p);
        check_pages_map_to(p, 1, ls);
        tide_free(p);
        /* Freed: the page map forgets it (a second free is reported). */
        CHECK(pagemap_lookup(p) == &span_none);
    }
    tide_free(small);
}
