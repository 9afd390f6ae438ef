/* meta: the allocator's own bookkeeping memory (src/core/meta.h).  Heaps,
 * regions and span descriptors live there, so it must keep what meta.h
 * promises: every block zeroed and 64-byte aligned (descriptors are laid
 * out by cache line), blocks never overlapping, also when threads take them
 * at once, requests above the 1 MiB chunk served too; none of it inside a
 * page-heap region or known to the page map (meta memory is never a heap
 * block, and freeing it must be reported), meta_owns telling it from other
 * memory (the leak check must not scan it), and meta_bytes counting what
 * was handed out. */
#include "runner.h"
#include "check.h"
#include "tidemalloc.h"
#include "core/meta.h"
#include "core/page_heap.h"
#include "core/pagemap.h"

#include <pthread.h>
#include <stdlib.h>

#define META_ALIGN 64

struct meta_block {
    unsigned char *p;
    size_t size;
    uint64_t seed; /* of the pattern written into it */
};

/* Every promise of meta.h about one block of size bytes: aligned, zeroed,
 * owned by meta and by nothing else; then fill it with its pattern. */
static void check_fresh_meta_block(const struct meta_block *b)
{
    unsigned char *p = b->p;
    size_t size = b->size;
    CHECK_NOT_NULL(p);
    CHECK_ALIGNED(p, META_ALIGN);
    CHECK_BYTES(p, size, 0);
    CHECK(meta_owns(p));
    CHECK(meta_owns(p + size - 1));
    CHECK(!page_heap_owns(p));
    CHECK(pagemap_lookup(p) == &span_none);
    pattern_fill(p, size, b->seed);
}

static int by_address(const void *a, const void *b)
{
    const struct meta_block *x = a, *y = b;
    return x->p < y->p ? -1 : x->p > y->p;
}

/* Take a block of size bytes into *b, check it as fresh and fill it. */
static void take_and_check(struct meta_block *b, size_t size, uint64_t seed)
{
    b->size = size;
    b->seed = seed;
    b->p = meta_alloc(size);
    check_fresh_meta_block(b);
}

static void check_patterns(const struct meta_block *blocks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CHECK_PATTERN(blocks[i].p, blocks[i].size, blocks[i].seed);
}

/* No two blocks share a byte: sorted by address, each ends before the next
 * begins. */
static void check_disjoint(struct meta_block *blocks, size_t n)
{
    qsort(blocks, n, sizeof *blocks, by_address);
    for (size_t i = 1; i < n; i++)
        CHECK_MSG(blocks[i - 1].p + blocks[i - 1].size <= blocks[i].p,
                  "%p (%zu bytes) overlaps %p", (void *)blocks[i - 1].p, blocks[i - 1].size,
                  (void *)blocks[i].p);
}

TEST(blocks_are_zeroed_aligned_disjoint_and_counted)
{
    enum { N = 3000 };
    static struct meta_block blocks[N];
    test_rng rng = {11};
    for (size_t i = 0; i < N; i++) {
        /* Sizes that are not multiples of 64, and some of exactly 64. */
        size_t size = i % 7 == 0 ? META_ALIGN : 1 + rng_below(&rng, 2000);
        size_t before = meta_bytes();
        take_and_check(&blocks[i], size, i);
        /* The count grows by the request rounded up to 64 bytes (no other
         * thread takes meta memory meanwhile). */
        CHECK_EQ(meta_bytes() - before, (size + META_ALIGN - 1) & ~(size_t)(META_ALIGN - 1));
    }
    /* Nothing written later reached an earlier block. */
    check_patterns(blocks, N);
    check_disjoint(blocks, N);
}

TEST(requests_above_a_chunk_are_served_whole)
{
    const size_t sizes[] = {((size_t)1 << 20) + 1, (size_t)3 << 20, ((size_t)5 << 20) + 12345};
    struct meta_block blocks[3 + 2];
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        take_and_check(&blocks[n], sizes[i], n);
        n++;
        /* Small requests keep working after a big one. */
        if (i < 2) {
            take_and_check(&blocks[n], 200, n);
            n++;
        }
    }
    check_patterns(blocks, n);
    check_disjoint(blocks, n);
}

TEST(other_memory_is_not_meta_memory)
{
    static char global_bytes[256];
    char stack_bytes[64];
    CHECK(!meta_owns(global_bytes));
    CHECK(!meta_owns(opaque_ptr(stack_bytes)));
    /* Blocks the allocator hands out come from the page heap (small and
     * large) or their own mapping (huge), never from meta memory. */
    const size_t sizes[] = {16, 4000, 100000, (size_t)40 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = tide_malloc(sizes[i]);
        CHECK_NOT_NULL(p);
        CHECK_MSG(!meta_owns(p), "a block of %zu bytes", sizes[i]);
        tide_free(p);
    }
}

/* Threads taking meta blocks at the same time get disjoint blocks. */
enum { META_THREADS = 4, META_PER_THREAD = 2000 };
static struct meta_block thread_blocks[META_THREADS * META_PER_THREAD];

static void *take_meta_blocks(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    test_rng rng = {t + 1};
    for (size_t i = 0; i < META_PER_THREAD; i++) {
        size_t k = t * META_PER_THREAD + i;
        take_and_check(&thread_blocks[k], 1 + rng_below(&rng, 300), k);
    }
    return NULL;
}

TEST(concurrent_callers_get_disjoint_blocks)
{
    pthread_t threads[META_THREADS];
    for (size_t t = 0; t < META_THREADS; t++)
        CHECK(pthread_create(&threads[t], NULL, take_meta_blocks, (void *)(uintptr_t)t) == 0);
    for (size_t t = 0; t < META_THREADS; t++)
        CHECK(pthread_join(threads[t], NULL) == 0);
    check_patterns(thread_blocks, META_THREADS * META_PER_THREAD);
    check_disjoint(thread_blocks, META_THREADS * META_PER_THREAD);
}
