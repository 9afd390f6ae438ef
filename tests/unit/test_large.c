/* large: blocks above the size classes (src/core/large.h).  A large block
 * is a run of whole pages from the page heap, a huge one (above
 * HUGE_THRESHOLD, or aligned above a quarter of it) a mapping of its own;
 * realloc and malloc_usable_size trust what this module says about them.
 * Checked: the block starts its span, is aligned as asked, its usable size
 * is the request rounded up to pages, blocks are disjoint and writable,
 * zero=true gives zeroed memory even on reused dirty pages; huge blocks are
 * outside the page heap, counted in large_huge_bytes while they live and
 * unmapped when freed (the count back to zero); large_resize grows a run in
 * place when the pages after it are free, refuses (leaving the block as it
 * was) when they are taken or when the size needs another kind of block,
 * and remaps huge blocks keeping their contents; large_free of a pointer
 * inside a block is reported and aborts.
 *
 * The decay policy is set so nothing is purged during a case: page reuse
 * is then exactly the page heap's first fit. */
#define _GNU_SOURCE 1
#include "runner.h"
#include "check.h"
#include "expect_misuse.h"
#include "core/large.h"
#include "core/page_heap.h"
#include "core/pagemap.h"
#include "core/size_class.h"
#include "platform/os.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define PAGES(n) ((size_t)(n) << OS_PAGE_SHIFT)
#define MIB ((size_t)1 << 20)

static size_t round_to_pages(size_t size)
{
    return (size + OS_PAGE_SIZE - 1) & ~(OS_PAGE_SIZE - 1);
}

static void no_purging(void)
{
    page_heap_set_policy(600000, (size_t)1 << 40);
}

/* large_alloc, checked: the block starts its span, which has the expected
 * kind, and the usable size is the request in whole pages. */
static char *alloc_checked(size_t size, size_t align, bool zero, unsigned kind)
{
    char *p = large_alloc(size, align, zero);
    CHECK_MSG(p != NULL, "large_alloc(%zu, %zu)", size, align);
    span_t *s = pagemap_lookup(p);
    CHECK_MSG(s->kind == kind, "size %zu align %zu: kind %u", size, align, s->kind);
    CHECK(s->start == p);
    CHECK_ALIGNED(p, align > OS_PAGE_SIZE ? align : OS_PAGE_SIZE);
    CHECK_EQ(large_usable_size(s), round_to_pages(size ? size : 1));
    CHECK_EQ(span_owner_fast(s), 0); /* never the small-block fast path */
    return p;
}

/* Is [p, p + bytes) mapped at all (mincore fails with ENOMEM on a hole)? */
static bool mapped(const void *p, size_t bytes)
{
    static unsigned char vec[(64 * MIB) >> OS_PAGE_SHIFT];
    CHECK_LE(bytes >> OS_PAGE_SHIFT, sizeof vec);
    if (mincore((void *)p, bytes, vec) == 0)
        return true;
    CHECK_ERRNO(errno, ENOMEM);
    return false;
}

TEST(blocks_are_whole_pages_starting_their_span)
{
    const size_t sizes[] = {SC_SMALL_MAX + 1, PAGES(4), PAGES(4) + 1, 100000, MIB,
                            5 * MIB + 3, HUGE_THRESHOLD};
    enum { N = sizeof sizes / sizeof sizes[0] };
    char *blocks[N];
    for (size_t i = 0; i < N; i++) {
        blocks[i] = alloc_checked(sizes[i], 0, false, SPAN_LARGE);
        span_t *s = pagemap_lookup(blocks[i]);
        CHECK(s->region != NULL);
        CHECK(page_heap_owns(blocks[i]));
        /* Every usable byte is writable: up to the end of the last page. */
        pattern_fill(blocks[i], large_usable_size(s), i);
    }
    for (size_t i = 0; i < N; i++) {
        span_t *s = pagemap_lookup(blocks[i]);
        CHECK_PATTERN(blocks[i], large_usable_size(s), i);
        for (size_t j = 0; j < N; j++)
            CHECK(j == i || blocks[j] + large_usable_size(pagemap_lookup(blocks[j])) <= blocks[i] ||
                  blocks[i] + large_usable_size(s) <= blocks[j]);
    }
    for (size_t i = 0; i < N; i++) {
        large_free(pagemap_lookup(blocks[i]), blocks[i], "free");
        CHECK(pagemap_lookup(blocks[i]) == &span_none);
    }
    /* Size 0 (aligned_alloc(big, 0)) still gets a block of its own. */
    char *empty = alloc_checked(0, PAGES(2), false, SPAN_LARGE);
    large_free(pagemap_lookup(empty), empty, "free");
}

TEST(alignment_up_to_a_quarter_of_the_huge_threshold_stays_large)
{
    for (size_t align = 16; align <= HUGE_THRESHOLD >> 2; align *= 2) {
        char *p = alloc_checked(20000, align, false, SPAN_LARGE);
        char *q = alloc_checked(PAGES(3), align, false, SPAN_LARGE);
        CHECK(p + large_usable_size(pagemap_lookup(p)) <= q || q + PAGES(3) <= p);
        large_free(pagemap_lookup(p), p, "free");
        large_free(pagemap_lookup(q), q, "free");
    }
    /* Above that, a mapping of its own, aligned all the same. */
    char *h = alloc_checked(MIB, HUGE_THRESHOLD >> 1, false, SPAN_HUGE);
    large_free(pagemap_lookup(h), h, "free");
}

TEST(zeroed_blocks_are_zero_on_reused_dirty_pages)
{
    no_purging();
    const size_t size = 256 << 10;
    char *dirty = alloc_checked(size, 0, false, SPAN_LARGE);
    memset(dirty, 0xa5, size);
    large_free(pagemap_lookup(dirty), dirty, "free");
    /* First fit gives the same, now dirty, pages back. */
    char *zeroed = alloc_checked(size, 0, true, SPAN_LARGE);
    CHECK(zeroed == dirty);
    CHECK(!pagemap_lookup(zeroed)->clean);
    CHECK_BYTES(zeroed, size, 0);
    large_free(pagemap_lookup(zeroed), zeroed, "free");
    /* A huge block is a fresh mapping: zero. */
    char *huge = alloc_checked(HUGE_THRESHOLD + 1, 0, true, SPAN_HUGE);
    CHECK_BYTES(huge, HUGE_THRESHOLD + 1, 0);
    large_free(pagemap_lookup(huge), huge, "free");
}

TEST(huge_blocks_are_own_mappings_counted_while_they_live)
{
    CHECK_EQ(large_huge_bytes(), 0);
    const size_t size_a = HUGE_THRESHOLD + 1, size_b = 48 * MIB + 5;
    char *a = alloc_checked(size_a, 0, false, SPAN_HUGE);
    char *b = alloc_checked(size_b, 0, false, SPAN_HUGE);
    span_t *sa = pagemap_lookup(a), *sb = pagemap_lookup(b);
    CHECK(sa != sb);
    CHECK(sa->region == NULL && sb->region == NULL);
    CHECK(!page_heap_owns(a) && !page_heap_owns(b));
    CHECK_EQ(large_huge_bytes(), round_to_pages(size_a) + round_to_pages(size_b));
    a[0] = 1, a[size_a - 1] = 2;
    b[0] = 3, b[size_b - 1] = 4;
    CHECK(mapped(a, round_to_pages(size_a)));
    large_free(sa, a, "free");
    /* Gone: unmapped, unknown to the page map, no longer counted. */
    CHECK(!mapped(a, OS_PAGE_SIZE));
    CHECK(pagemap_lookup(a) == &span_none);
    CHECK_EQ(large_huge_bytes(), round_to_pages(size_b));
    CHECK(b[0] == 3 && b[size_b - 1] == 4);
    large_free(sb, b, "free");
    CHECK(!mapped(b, OS_PAGE_SIZE));
    CHECK_EQ(large_huge_bytes(), 0);
}

TEST(resize_grows_in_place_only_into_free_pages)
{
    no_purging();
    char *x = alloc_checked(PAGES(32), 0, false, SPAN_LARGE);
    span_t *sx = pagemap_lookup(x);
    pattern_fill(x, PAGES(8), 7);
    /* Shrinking is always in place; growing back into the pages it just
     * gave up too. */
    CHECK(large_resize(sx, x, PAGES(8)) == x);
    CHECK_EQ(large_usable_size(sx), PAGES(8));
    CHECK(large_resize(sx, x, PAGES(32)) == x);
    CHECK_EQ(large_usable_size(sx), PAGES(32));
    CHECK(large_resize(sx, x, PAGES(8)) == x);
    CHECK(large_resize(sx, x, PAGES(8)) == x); /* the same size: nothing to do */

    /* Take the pages right after x: first fit fills lower holes first, so
     * keep taking runs until one lands there. */
    enum { MAX_BLOCKERS = 4096 };
    static char *blockers[MAX_BLOCKERS];
    size_t nblockers = 0;
    char *after = NULL;
    while (after != x + PAGES(8)) {
        CHECK_LT(nblockers, MAX_BLOCKERS);
        after = blockers[nblockers++] = alloc_checked(PAGES(24), 0, false, SPAN_LARGE);
    }
    CHECK(large_resize(sx, x, PAGES(9)) == NULL);
    CHECK_EQ(large_usable_size(sx), PAGES(8));
    CHECK(pagemap_lookup(x) == sx && pagemap_lookup(after)->start == after);
    /* Never into a huge size: that needs its own mapping. */
    CHECK(large_resize(sx, x, HUGE_THRESHOLD + 1) == NULL);
    CHECK_EQ(large_usable_size(sx), PAGES(8));
    CHECK_PATTERN(x, PAGES(8), 7);

    large_free(pagemap_lookup(after), after, "free");
    nblockers--;
    CHECK(large_resize(sx, x, PAGES(32)) == x);
    CHECK_EQ(large_usable_size(sx), PAGES(32));
    CHECK_PATTERN(x, PAGES(8), 7);
    pattern_fill(x, PAGES(32), 8); /* all of it is ours again */
    for (size_t i = 0; i < nblockers; i++)
        large_free(pagemap_lookup(blockers[i]), blockers[i], "free");
    large_free(sx, x, "free");
}

TEST(resize_remaps_huge_blocks_keeping_contents)
{
    CHECK_EQ(large_huge_bytes(), 0);
    char *h = alloc_checked(HUGE_THRESHOLD + 1, 0, false, SPAN_HUGE);
    span_t *s = pagemap_lookup(h);
    pattern_fill(h, OS_PAGE_SIZE, 1);
    pattern_fill(h + HUGE_THRESHOLD - OS_PAGE_SIZE, OS_PAGE_SIZE, 2);
    char *g = large_resize(s, h, 2 * HUGE_THRESHOLD);
    CHECK_NOT_NULL(g);
    CHECK(pagemap_lookup(g) == s && s->start == g);
    if (g != h)
        CHECK(pagemap_lookup(h) == &span_none); /* moved: the old address is forgotten */
    CHECK_EQ(large_usable_size(s), 2 * HUGE_THRESHOLD);
    CHECK_EQ(large_huge_bytes(), 2 * HUGE_THRESHOLD);
    CHECK_PATTERN(g, OS_PAGE_SIZE, 1);
    CHECK_PATTERN(g + HUGE_THRESHOLD - OS_PAGE_SIZE, OS_PAGE_SIZE, 2);
    g[2 * HUGE_THRESHOLD - 1] = 3;
    /* Shrinking stays huge down to half the threshold... */
    const size_t small_huge = HUGE_THRESHOLD / 2 + OS_PAGE_SIZE;
    char *k = large_resize(s, g, small_huge);
    CHECK_NOT_NULL(k);
    CHECK(pagemap_lookup(k) == s);
    CHECK_EQ(large_usable_size(s), small_huge);
    CHECK_EQ(large_huge_bytes(), small_huge);
    CHECK_PATTERN(k, OS_PAGE_SIZE, 1);
    /* ...below that the caller must move it to a page run. */
    CHECK(large_resize(s, k, HUGE_THRESHOLD / 2) == NULL);
    CHECK_EQ(large_usable_size(s), small_huge);
    large_free(s, k, "free");
    CHECK_EQ(large_huge_bytes(), 0);
}

struct interior_free {
    span_t *span;
    char *ptr;
};

static void free_interior(void *arg)
{
    struct interior_free *f = arg;
    large_free(f->span, f->ptr, "free");
}

TEST(free_of_an_interior_pointer_is_reported)
{
    const char *why = "pointer is inside a block, not at its start";
    char *large = alloc_checked(MIB, 0, false, SPAN_LARGE);
    char *huge = alloc_checked(HUGE_THRESHOLD + 1, 0, false, SPAN_HUGE);
    struct interior_free cases[] = {
        {pagemap_lookup(large), large + OS_PAGE_SIZE},
        {pagemap_lookup(large), large + 16},
        {pagemap_lookup(huge), huge + (HUGE_THRESHOLD >> 1)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_misuse(free_interior, &cases[i], "free", cases[i].ptr, why);
    /* The children's aborts left the blocks here as they were. */
    large_free(pagemap_lookup(large), large, "free");
    large_free(pagemap_lookup(huge), huge, "free");
}
