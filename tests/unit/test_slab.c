/* slab: blocks of one size class in a span, and the slab's place in its
 * owner's heap (src/core/slab.h, slab.c, span.h's invariants), through this
 * thread's real heap: slab_alloc, tide_free (its fast path, and
 * slab_free_slow behind it), slab_collect_pending, slab_release_spares.
 *
 * Checked, because every small malloc and free relies on them: blocks of a
 * class are distinct, start a whole block inside their slab and have the
 * block size's natural alignment (up to a page: slabs start on one);
 * `used` counts the blocks handed out, including those other threads freed
 * until the owner collects them; the current slab refills from its local
 * frees, then from remote frees, before the heap looks elsewhere, and then
 * takes a partial slab before its spare or a new one; a full slab is on no
 * list and comes back into a partial bin with its first free; a slab whose
 * every block comes home becomes the class's one spare, and the next is
 * released; blocks freed by another thread come back through
 * slab_collect_pending, counted exactly (chains longer than one batch);
 * and a pointer inside a block, or a block freed twice (head of the local
 * list, of the free list, or of another thread's batch), is reported in
 * one line and aborts (forked children). */
#define _GNU_SOURCE 1
#include "runner.h"
#include "check.h"
#include "expect_misuse.h"
#include "tidemalloc.h"
#include "core/heap.h"
#include "core/pagemap.h"
#include "core/slab.h"
#include "platform/os.h"

#include <pthread.h>
#include <stdlib.h>

/* This thread's heap, set up by a first allocation (which also
 * initialises the process, as slab_alloc's callers must).  Read as
 * tls_heap, not heap_get(): that is an asm gcc may move before the
 * allocation that sets the heap up. */
static heap_t *test_heap(void)
{
    tide_free(tide_malloc(1));
    heap_t *h = tls_heap;
    CHECK(h != &heap_empty && h->state == HEAP_ACTIVE);
    CHECK(heap_thread_init() == h);
    return h;
}

static unsigned class_of_block_size(uint32_t block_size)
{
    unsigned cls = sc_of_size(block_size);
    CHECK_EQ(sc_block_size[cls], block_size);
    return cls;
}

/* The alignment a block of this size must have: its lowest set bit, up to
 * a page (what alloc_generic relies on for aligned requests). */
static uintptr_t natural_alignment(uint32_t block_size)
{
    uintptr_t a = block_size & -block_size;
    return a < OS_PAGE_SIZE ? a : OS_PAGE_SIZE;
}

/* p is a block of class cls in a slab of h, at a block boundary. */
static span_t *check_block_of_class(const void *p, const heap_t *h, unsigned cls)
{
    span_t *s = pagemap_lookup(p);
    CHECK_EQ(s->kind, SPAN_SMALL);
    CHECK_EQ(s->class_idx, cls);
    CHECK_EQ(s->block_size, sc_block_size[cls]);
    CHECK(s->owner == h);
    CHECK_ALIGNED(s->start, OS_PAGE_SIZE);
    size_t off = (size_t)((const char *)p - s->start);
    CHECK_MSG((const char *)p >= s->start && off % s->block_size == 0, "block %p, slab at %p", p,
              (void *)s->start);
    CHECK_LT(off / s->block_size, s->reserved);
    CHECK_LE(off + s->block_size, s->npages << OS_PAGE_SHIFT);
    CHECK_ALIGNED(p, natural_alignment(s->block_size));
    return s;
}

static void *take_block(heap_t *h, unsigned cls)
{
    void *p = slab_alloc(h, cls);
    CHECK(p != NULL && p != SLAB_SAMPLE);
    check_block_of_class(p, h, cls);
    return p;
}

struct block_list {
    size_t n;
    void *block[4096 + 64]; /* the most blocks one slab holds: 64 KiB / 16 */
};

static void list_add(struct block_list *l, void *p)
{
    CHECK_LT(l->n, sizeof l->block / sizeof l->block[0]);
    l->block[l->n++] = p;
}

static void free_all(struct block_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        tide_free(l->block[i]);
    l->n = 0;
}

/* Take every block the current slab of cls still has (a first block makes
 * one current if there is none), appending them to out.  Returns the slab:
 * all handed out, and still current (nothing has tried to refill it). */
static span_t *drain_current(heap_t *h, unsigned cls, struct block_list *out)
{
    if (h->cur[cls] == &span_none)
        list_add(out, take_block(h, cls));
    span_t *s = h->cur[cls];
    while (s->used < s->reserved) {
        void *p = take_block(h, cls);
        CHECK(pagemap_lookup(p) == s);
        list_add(out, p);
    }
    CHECK(h->cur[cls] == s);
    CHECK(s->free == NULL && s->local_free == NULL);
    CHECK_EQ(s->capacity, s->reserved);
    return s;
}

/* s is full and on no list: its next free must take the slow path. */
static void check_full_and_parked(const heap_t *h, const span_t *s)
{
    CHECK(h->cur[s->class_idx] != s);
    CHECK_EQ(s->used, s->reserved);
    CHECK_EQ(s->bin, SPAN_NO_BIN);
    CHECK_EQ(span_owner_fast(s), 0);
}

static bool list_has(const struct block_list *l, const void *p)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->block[i] == p)
            return true;
    return false;
}

static int by_address(const void *a, const void *b)
{
    const char *x = *(void *const *)a, *y = *(void *const *)b;
    return x < y ? -1 : x > y;
}

/* ---- another thread's frees ---- */

struct remote_frees {
    void **block;
    size_t n;
};

static void *free_remotely(void *arg)
{
    struct remote_frees *r = arg;
    for (size_t i = 0; i < r->n; i++)
        tide_free(r->block[i]);
    /* Hand the batched chains to the slabs' owner now (its exit would
     * too).  The heap the frees set up: tls_heap (see test_heap). */
    slab_flush_remote(tls_heap);
    return NULL;
}

/* Another thread frees n blocks from `block` and exits. */
static void free_from_another_thread(void **block, size_t n)
{
    struct remote_frees r = {block, n};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, free_remotely, &r) == 0);
    CHECK(pthread_join(t, NULL) == 0);
}

/* ---- cases ---- */

TEST(blocks_of_every_class_are_distinct_aligned_and_inside_their_slab)
{
    heap_t *h = test_heap();
    static struct block_list blocks;
    for (unsigned cls = 0; cls < SC_COUNT; cls++) {
        uint32_t bs = sc_block_size[cls];
        blocks.n = 0;
        span_t *first = drain_current(h, cls, &blocks);
        for (size_t i = 0; i < blocks.n; i++)
            pattern_fill(blocks.block[i], bs, (uintptr_t)blocks.block[i]);
        /* Full: the next block comes from another slab, and the full one
         * leaves the heap's lists. */
        void *next = take_block(h, cls);
        span_t *second = pagemap_lookup(next);
        CHECK(second != first);
        CHECK(h->cur[cls] == second);
        check_full_and_parked(h, first);
        uint32_t second_used = second->used - 1;
        list_add(&blocks, next);
        pattern_fill(next, bs, (uintptr_t)next);
        /* Distinct and disjoint, and no block's contents reached another. */
        for (size_t i = 0; i < blocks.n; i++)
            CHECK_PATTERN(blocks.block[i], bs, (uintptr_t)blocks.block[i]);
        qsort(blocks.block, blocks.n, sizeof blocks.block[0], by_address);
        for (size_t i = 1; i < blocks.n; i++)
            CHECK_MSG((char *)blocks.block[i - 1] + bs <= (char *)blocks.block[i],
                      "class %u (%u B): %p and %p", cls, bs, blocks.block[i - 1], blocks.block[i]);
        free_all(&blocks);
        CHECK_EQ(second->used, second_used);
    }
}

TEST(current_slab_refills_from_local_then_remote_frees_then_a_partial_slab)
{
    heap_t *h = test_heap();
    const unsigned cls = class_of_block_size(256);
    static struct block_list held, local, remote;
    held.n = local.n = remote.n = 0;
    span_t *s = drain_current(h, cls, &held);
    CHECK_GE(held.n, 60);
    /* 5 blocks freed by this thread, 40 by another (two chains). */
    for (size_t i = 0; i < 5; i++) {
        list_add(&local, held.block[--held.n]);
        tide_free(local.block[i]);
    }
    for (size_t i = 0; i < 40; i++)
        list_add(&remote, held.block[--held.n]);
    free_from_another_thread(remote.block, remote.n);
    /* Remote frees count in `used` until collected. */
    CHECK_EQ(s->used, s->reserved - 5);
    CHECK(atomic_load(&s->thread_free) & 1); /* queued on h->pending */

    /* First the local frees come back, then the remote ones, all from s. */
    for (size_t i = 0; i < local.n; i++) {
        void *p = take_block(h, cls);
        CHECK_MSG(list_has(&local, p), "allocation %zu: %p is not one of the local frees", i, p);
        list_add(&held, p);
    }
    CHECK(h->cur[cls] == s);
    CHECK_EQ(s->used, s->reserved); /* the 40 remote frees still counted */
    for (size_t i = 0; i < remote.n; i++) {
        void *p = take_block(h, cls);
        CHECK_MSG(list_has(&remote, p), "allocation %zu: %p is not one of the remote frees", i, p);
        list_add(&held, p);
    }
    CHECK(h->cur[cls] == s);
    CHECK_EQ(s->used, s->reserved);

    /* Nothing left in s: another slab becomes current, s is parked full. */
    void *p = take_block(h, cls);
    span_t *other = pagemap_lookup(p);
    list_add(&held, p);
    CHECK(other != s && h->cur[cls] == other);
    check_full_and_parked(h, s);
    CHECK(h->pending == NULL);

    /* One free into the full slab puts it in a partial bin, owned again. */
    void *back = held.block[0];
    CHECK(pagemap_lookup(back) == s);
    held.block[0] = held.block[--held.n];
    tide_free(back);
    CHECK_EQ(s->used, s->reserved - 1);
    CHECK(s->bin < PARTIAL_BINS);
    CHECK(h->partial[cls][s->bin] == s);
    CHECK_EQ(span_owner_fast(s), h->key);
    /* When the current slab runs dry, that partial slab is taken before
     * the spare or a new slab: the block freed into it comes back. */
    CHECK(drain_current(h, cls, &held) == other);
    void *again = take_block(h, cls);
    CHECK(again == back);
    CHECK(h->cur[cls] == s);
    CHECK_EQ(s->bin, SPAN_NO_BIN);
    list_add(&held, again);
    free_all(&held);
}

/* A bin is a queue (slab.c, bin_insert): slabs that got a block back join
 * at the tail, and the refill takes the head, the slab that joined first
 * and has had the longest to gather frees. Taking the newest (a stack)
 * refilled larson's random replacement every 4 blocks. */
TEST(a_bin_is_a_queue_the_refill_takes_the_slab_that_joined_first)
{
    heap_t *h = test_heap();
    const unsigned cls = class_of_block_size(320);
    static struct block_list held;
    held.n = 0;
    span_t *a = drain_current(h, cls, &held);
    list_add(&held, take_block(h, cls));
    span_t *b = drain_current(h, cls, &held);
    list_add(&held, take_block(h, cls));
    span_t *c = h->cur[cls];
    CHECK(a != b && b != c && a != c);
    check_full_and_parked(h, a);
    check_full_and_parked(h, b);

    /* a gets a block back first, then b: both join the fullest bin, a at the head. */
    void *from_a = NULL, *from_b = NULL;
    for (size_t i = 0; i < held.n && !(from_a && from_b); i++) {
        span_t *s = pagemap_lookup(held.block[i]);
        if (s == a && !from_a)
            from_a = held.block[i], held.block[i] = NULL;
        else if (s == b && !from_b)
            from_b = held.block[i], held.block[i] = NULL;
    }
    CHECK(from_a && from_b);
    tide_free(from_a);
    tide_free(from_b);
    CHECK_EQ(a->bin, 0);
    CHECK_EQ(b->bin, 0);
    CHECK(h->partial[cls][0] == a && a->next == b && b->prev == a);
    CHECK(h->partial_tail[cls][0] == b && b->next == NULL);

    /* c runs dry: a, the first to join, becomes current and gives its block back; b waits, now at the head. */
    size_t kept = held.n;
    drain_current(h, cls, &held);
    void *p = take_block(h, cls);
    CHECK(p == from_a && h->cur[cls] == a);
    CHECK_EQ(a->bin, SPAN_NO_BIN);
    CHECK(h->partial[cls][0] == b && h->partial_tail[cls][0] == b && b->prev == NULL);
    list_add(&held, p);
    CHECK_GT(held.n, kept);
    for (size_t i = 0; i < held.n; i++)
        if (held.block[i])
            tide_free(held.block[i]);
    held.n = 0;
}

TEST(remote_frees_are_collected_and_counted)
{
    heap_t *h = test_heap();
    const unsigned cls = class_of_block_size(512);
    static struct block_list held;
    held.n = 0;
    slab_release_spares(h);
    span_t *s = drain_current(h, cls, &held);
    size_t from_s = held.n;
    list_add(&held, take_block(h, cls)); /* s is full and parked now */
    check_full_and_parked(h, s);
    CHECK_EQ(s->reserved, 128);
    CHECK_EQ(from_s, 128); /* a fresh slab of this class: every block is ours */

    /* 70 blocks from another thread: chains of 32, 32 and 6. */
    free_from_another_thread(held.block, 70);
    CHECK_EQ(s->used, s->reserved); /* still counted */
    CHECK(h->pending == s);
    CHECK(atomic_load(&s->thread_free) & 1);
    slab_collect_pending(h);
    CHECK(h->pending == NULL);
    CHECK_EQ(atomic_load(&s->thread_free), 0);
    CHECK_EQ(s->used, s->reserved - 70);
    /* Settled into the bin of its fullness: 58 of 128 used, under half. */
    CHECK_EQ(s->bin, 2);
    CHECK(h->partial[cls][2] == s);
    CHECK_EQ(span_owner_fast(s), h->key);

    /* The rest from another thread: every block home, s is the spare. */
    free_from_another_thread(held.block + 70, from_s - 70);
    CHECK_EQ(s->used, from_s - 70);
    slab_collect_pending(h);
    CHECK_EQ(s->used, 0);
    CHECK(h->spare[cls] == s);
    CHECK_EQ(s->bin, SPAN_NO_BIN);
    CHECK(h->partial[cls][2] == NULL);
    CHECK(pagemap_lookup(s->start) == s && s->kind == SPAN_SMALL);
    tide_free(held.block[from_s]);
}

TEST(an_emptied_slab_is_the_one_spare_and_the_next_is_released)
{
    heap_t *h = test_heap();
    const unsigned cls = class_of_block_size(1024);
    static struct block_list a_blocks, b_blocks, held;
    a_blocks.n = b_blocks.n = held.n = 0;
    slab_release_spares(h);
    for (unsigned c = 0; c < SC_COUNT; c++)
        CHECK(h->spare[c] == NULL);
    for (unsigned b = 0; b < PARTIAL_BINS; b++)
        CHECK(h->partial[cls][b] == NULL);

    /* Two full slabs a and b, and a current one. */
    span_t *a = drain_current(h, cls, &a_blocks);
    void *first_of_b = take_block(h, cls);
    list_add(&b_blocks, first_of_b);
    span_t *b = drain_current(h, cls, &b_blocks);
    list_add(&held, take_block(h, cls));
    span_t *current = h->cur[cls];
    CHECK(a != b && b != current && a != current);
    check_full_and_parked(h, a);
    check_full_and_parked(h, b);

    free_all(&a_blocks);
    CHECK(h->spare[cls] == a);
    CHECK_EQ(a->used, 0);
    CHECK_EQ(a->bin, SPAN_NO_BIN);
    CHECK(a->kind == SPAN_SMALL && pagemap_lookup(a->start) == a);

    /* The class has its spare: b goes back to the page heap, and its
     * pages no longer lead to a live slab (a free there is reported). */
    char *b_start = b->start;
    free_all(&b_blocks);
    CHECK(h->spare[cls] == a);
    CHECK_EQ(pagemap_lookup(b_start)->kind, SPAN_NONE);
    CHECK_EQ(span_owner_fast(pagemap_lookup(first_of_b)), 0);

    /* With no partial slab, the spare is what the class takes next. */
    CHECK(drain_current(h, cls, &held) == current);
    void *p = take_block(h, cls);
    CHECK(pagemap_lookup(p) == a);
    CHECK(h->cur[cls] == a && h->spare[cls] == NULL);
    list_add(&held, p);
    free_all(&held);

    /* `current` emptied while a was current: it is the spare now.
     * slab_release_spares gives every spare back. */
    CHECK(h->spare[cls] == current);
    span_t *spare = current;
    char *spare_start = spare->start;
    slab_release_spares(h);
    CHECK(h->spare[cls] == NULL);
    CHECK_EQ(pagemap_lookup(spare_start)->kind, SPAN_NONE);
}

/* ---- misuse, each in a forked child ---- */

struct bad_free {
    heap_t *heap;
    span_t *span;
    void *ptr;
};

static void free_slow_directly(void *arg)
{
    struct bad_free *f = arg;
    slab_free_slow(f->heap, f->span, f->ptr, "free");
}

static void free_then_free_slow(void *arg)
{
    struct bad_free *f = arg;
    tide_free(f->ptr);
    slab_free_slow(f->heap, f->span, f->ptr, "free");
}

static void *free_twice(void *p)
{
    tide_free(p);
    tide_free(p);
    return NULL;
}

static void free_twice_in_another_thread(void *arg)
{
    struct bad_free *f = arg;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, free_twice, f->ptr) == 0);
    pthread_join(t, NULL);
}

TEST(interior_pointers_and_double_frees_are_reported)
{
    heap_t *h = test_heap();
    const unsigned cls = class_of_block_size(64);
    char *p = take_block(h, cls);
    char *q = take_block(h, cls);
    span_t *s = pagemap_lookup(p);
    CHECK(pagemap_lookup(q) == s);
    CHECK_NOT_NULL(s->free); /* a block still on the free list */
    const char *inside = "pointer is inside a block, not at its start";
    const char *twice = "double free (block is already free)";

    struct bad_free interior = {h, s, p + 16};
    expect_misuse(free_slow_directly, &interior, "free", p + 16, inside);
    struct bad_free interior_odd = {h, s, p + 1};
    expect_misuse(free_slow_directly, &interior_odd, "free", p + 1, inside);
    /* The most recently freed block (the local list's head) again. */
    struct bad_free local_head = {h, s, p};
    expect_misuse(free_then_free_slow, &local_head, "free", p, twice);
    /* A block that was never handed out: the head of the free list. */
    struct bad_free free_head = {h, s, s->free};
    expect_misuse(free_slow_directly, &free_head, "free", s->free, twice);
    /* Another thread freeing the same block twice in a row (its batch's
     * head). */
    struct bad_free remote_head = {h, s, q};
    expect_misuse(free_twice_in_another_thread, &remote_head, "free", q, twice);

    /* The children's aborts changed nothing here. */
    CHECK(check_block_of_class(p, h, cls) == s);
    tide_free(p);
    tide_free(q);
}
