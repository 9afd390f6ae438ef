/* The page heap and its helpers: bitmap runs, the run tree's first fit
 * (checked against a linear scan), address-ordered placement, dirty
 * accounting, purging, and the decay window. */
#include "runner.h"
#include "check.h"
#include "core/bitmap.h"
#include "core/decay.h"
#include "platform/os.h"
#include "core/page_heap.h"
#include "core/pagemap.h"
#include "core/run_tree.h"

#include <stdlib.h>
#include <string.h>

static size_t naive_first_fit(const uint64_t *bits, size_t nbits, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < nbits; i++) {
        run = bm_get(bits, i) ? run + 1 : 0;
        if (run == n)
            return i + 1 - n;
    }
    return SIZE_MAX;
}

TEST(run_tree_first_fit_matches_a_linear_scan)
{
    static uint64_t bits[RT_WORDS];
    static run_tree_t tree;
    const size_t nbits = RT_WORDS * 64;
    srand(7);
    bm_assign(bits, 0, nbits, 1);
    rt_update(&tree, bits, 0, nbits);
    for (int round = 0; round < 20000; round++) {
        size_t a = (size_t)rand() % nbits;
        size_t len = 1 + (size_t)rand() % (rand() % 8 == 0 ? 2000 : 40);
        size_t b = a + len > nbits ? nbits : a + len;
        bm_assign(bits, a, b, rand() % 2);
        rt_update(&tree, bits, a, b);
        size_t n = 1 + (size_t)rand() % (rand() % 4 == 0 ? 3000 : 70);
        CHECK_EQ(rt_first_fit(&tree, bits, n), naive_first_fit(bits, nbits, n));
    }
}

TEST(bitmap_runs_and_counts)
{
    uint64_t w[4] = { 0, 0, 0, 0 };
    bm_assign(w, 10, 150, 1);
    CHECK_EQ(bm_count(w, 0, 256), 140);
    CHECK_EQ(bm_next(w, 256, 0, 1), 10);
    CHECK_EQ(bm_next(w, 256, 10, 0), 150);
    CHECK_EQ(bm_prev_end(w, 200, 1), 150);
    CHECK_EQ(bm_prev_end(w, 100, 0), 10);
    bm_assign(w, 64, 128, 0);
    CHECK_EQ(bm_count(w, 0, 256), 76);
}

TEST(decay_allows_what_was_freed_within_the_window)
{
    decay_t d;
    decay_init(&d, 1600, 1000);
    decay_note(&d, 100, 1000);
    decay_note(&d, 50, 1900);
    CHECK_EQ(decay_allowed(&d, 2000), 150);
    /* The first 100 pages expire one window (plus a bucket) after 1000. */
    CHECK_EQ(decay_allowed(&d, 1000 + 1600 + 100), 50);
    CHECK(decay_next_change(&d) <= 1900 + 1600 + 100);
    CHECK_EQ(decay_allowed(&d, 1900 + 1600 + 100), 0);
    CHECK_EQ(decay_next_change(&d), UINT64_MAX);
    decay_t zero;
    decay_init(&zero, 0, 0);
    decay_note(&zero, 10, 0);
    CHECK_EQ(decay_allowed(&zero, 0), 0);
}

TEST(first_fit_reuses_the_lowest_free_run_and_accounts_dirt)
{
    page_heap_set_policy(60000, (size_t)1 << 40); /* no purging during the test */
    span_t *a = page_heap_alloc(8, 1), *b = page_heap_alloc(8, 1), *c = page_heap_alloc(8, 1);
    CHECK(a && b && c);
    CHECK(a->region == b->region && b->region == c->region);
    CHECK(a->start < b->start && b->start < c->start);
    char *b_start = b->start;
    page_heap_stats_t before, after;
    page_heap_stats(&before);
    memset(b->start, 0xab, 8 * OS_PAGE_SIZE);
    page_heap_free(b);
    page_heap_stats(&after);
    CHECK_EQ(after.dirty_pages, before.dirty_pages + 8);
    CHECK_EQ(after.active_pages, before.active_pages - 8);
    span_t *d = page_heap_alloc(4, 1);
    CHECK(d->start == b_start);   /* the lowest hole, not fresh pages */
    CHECK(!d->clean);             /* it was dirty: calloc must zero it */
    page_heap_free(d);
    page_heap_purge_all();
    page_heap_stats(&after);
    CHECK_EQ(after.dirty_pages, 0);
    CHECK(after.purged_pages >= 8);
    span_t *e = page_heap_alloc(8, 1);
    CHECK(e->start == b_start);
    CHECK(e->clean);              /* purged pages read as zero */
    for (size_t i = 0; i < 8 * OS_PAGE_SIZE; i++)
        CHECK(e->start[i] == 0);
    span_t *f = page_heap_alloc(3, 16); /* aligned run */
    CHECK((uintptr_t)f->start % (16 * OS_PAGE_SIZE) == 0);
    CHECK(page_heap_resize(e, 4));     /* shrink in place */
    CHECK_EQ(e->npages, 4);
    page_heap_free(a);
    page_heap_free(c);
    page_heap_free(e);
    page_heap_free(f);
}

TEST(slab_runs_are_cached_whole_until_a_purge_needs_them)
{
    page_heap_set_policy(60000, (size_t)1 << 40); /* no purging until asked */
    bool mapped;
    span_t *s = page_heap_alloc_slab(5, &mapped);
    CHECK(s != NULL);
    CHECK(!mapped); /* fresh from a region: the caller maps it */
    CHECK(pagemap_set(s->start, s->npages, s));
    char *start = s->start;
    page_heap_stats_t before, after;
    page_heap_stats(&before);
    page_heap_free_slab(s);
    page_heap_stats(&after);
    CHECK_EQ(after.dirty_pages, before.dirty_pages + 5);  /* counted as dirty */
    CHECK_EQ(after.active_pages, before.active_pages - 5);
    /* Its pages still lead to the descriptor, which no free accepts. */
    CHECK(pagemap_lookup(start + 4 * OS_PAGE_SIZE) == s);
    CHECK_EQ(s->kind, SPAN_NONE);
    CHECK_EQ(span_owner_fast(s), 0);
    /* Another length does not take it; the same length does, mapped. */
    span_t *other = page_heap_alloc_slab(3, &mapped);
    CHECK(!mapped && other->start != start);
    span_t *again = page_heap_alloc_slab(5, &mapped);
    CHECK(mapped && again == s && again->start == start && again->npages == 5);
    CHECK(!again->clean && again->kind == SPAN_NONE && again->used == 0);
    CHECK(pagemap_set(other->start, other->npages, other));
    /* A purge empties the cache first: pages unmapped, then purged. */
    page_heap_free_slab(again);
    page_heap_free_slab(other);
    page_heap_purge_all();
    page_heap_stats(&after);
    CHECK_EQ(after.dirty_pages, 0);
    CHECK(pagemap_lookup(start) == &span_none);
    span_t *fresh = page_heap_alloc_slab(5, &mapped);
    CHECK(!mapped && fresh->clean);
    page_heap_free(fresh);
}
