/* malloc/free basics: malloc(0), free(NULL), contents, distinct and
 * non-overlapping blocks, large and huge blocks. */
#include <stdint.h>
#include "alloc_api.h"

TEST(malloc_zero_unique_and_freeable)
{
    enum { N = 1000 };
    static void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = malloc(opaque_size(0));
        CHECK_NOT_NULL(p[i]);
    }
    /* All distinct: sort the addresses and compare neighbours. */
    for (int i = 1; i < N; i++) {
        void *k = p[i];
        int j = i - 1;
        while (j >= 0 && (uintptr_t)p[j] > (uintptr_t)k) {
            p[j + 1] = p[j];
            j--;
        }
        p[j + 1] = k;
    }
    for (int i = 1; i < N; i++)
        CHECK_MSG(p[i] != p[i - 1], "malloc(0) returned %p twice", p[i]);
    for (int i = 0; i < N; i++)
        free(p[i]);
    /* And the allocator still works afterwards. */
    void *q = malloc(opaque_size(0));
    CHECK_NOT_NULL(q);
    void *r = malloc(opaque_size(0));
    CHECK_NOT_NULL(r);
    CHECK(q != r);
    free(q);
    free(r);
}

TEST(free_null_is_noop)
{
    free(NULL);
    free(opaque_ptr(NULL));
    void *p = malloc(opaque_size(32));
    CHECK_NOT_NULL(p);
    free(p);
}

TEST(contents_survive_many_sizes)
{
    enum { N = 3000 };
    static void *p[N];
    static size_t sz[N];
    test_rng r = {1};
    for (int i = 0; i < N; i++) {
        sz[i] = (i < 2048) ? (size_t)i + 1 : 1 + rng_below(&r, 100000);
        p[i] = malloc(opaque_size(sz[i]));
        CHECK_NOT_NULL(p[i]);
        pattern_fill(p[i], sz[i], (uint64_t)i * 7919);
    }
    /* Free every third block, reallocate it, and check nobody's bytes moved. */
    for (int i = 0; i < N; i += 3) {
        CHECK_PATTERN(p[i], sz[i], (uint64_t)i * 7919);
        free(p[i]);
    }
    for (int i = 0; i < N; i += 3) {
        p[i] = malloc(opaque_size(sz[i]));
        CHECK_NOT_NULL(p[i]);
        pattern_fill(p[i], sz[i], (uint64_t)i * 7919);
    }
    for (int i = 0; i < N; i++)
        CHECK_PATTERN(p[i], sz[i], (uint64_t)i * 7919);
    for (int i = 0; i < N; i++)
        free(p[i]);
}

struct span {
    uintptr_t lo, hi;
};

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

TEST(live_blocks_do_not_overlap)
{
    enum { N = 60000 };
    static struct span s[N];
    static void *p[N];
    test_rng r = {2};
    for (int i = 0; i < N; i++) {
        uint64_t k = rng_below(&r, 100);
        size_t n = k < 80 ? 1 + rng_below(&r, 128)
                 : k < 97 ? 1 + rng_below(&r, 4096)
                          : 1 + rng_below(&r, 300000);
        p[i] = malloc(opaque_size(n));
        CHECK_NOT_NULL(p[i]);
        /* Touch both ends. */
        ((volatile char *)p[i])[0] = 1;
        ((volatile char *)p[i])[n - 1] = 1;
        s[i].lo = (uintptr_t)p[i];
        s[i].hi = (uintptr_t)p[i] + n;
    }
    qsort(s, N, sizeof s[0], span_cmp);
    for (int i = 1; i < N; i++)
        CHECK_MSG(s[i - 1].hi <= s[i].lo,
                  "[0x%jx,0x%jx) overlaps [0x%jx,0x%jx)", (uintmax_t)s[i - 1].lo,
                  (uintmax_t)s[i - 1].hi, (uintmax_t)s[i].lo, (uintmax_t)s[i].hi);
    for (int i = 0; i < N; i++)
        free(p[i]);
}

TEST(large_and_huge_blocks_writable)
{
    static const size_t sizes[] = {
        64 << 10, (64 << 10) + 1, 100000, 256 << 10, (1 << 20) - 1, 1 << 20,
        (1 << 20) + 4097, 3 << 20, (8 << 20) + 12345, 32 << 20, 200 << 20,
    };
    size_t pg = page_size();
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = opaque_size(sizes[k]);
        unsigned char *p = malloc(n);
        CHECK_NOT_NULL(p);
        CHECK_ALIGNED(p, 16);
        /* One byte per page, plus the last byte. */
        for (size_t off = 0; off < n; off += pg)
            p[off] = (unsigned char)(off / pg + k);
        volatile unsigned char *last = p + n - 1;
        *last = 0xA5;
        for (size_t off = 0; off < n - 1; off += pg)
            CHECK_EQ(p[off], (unsigned char)(off / pg + k));
        CHECK_EQ(*last, 0xA5);
        if (n <= (8u << 20) + 12345) {
            pattern_fill(p, n, n);
            CHECK_PATTERN(p, n, n);
        }
        free(p);
    }
}

TEST(malloc_free_cycles_reuse_memory)
{
    /* Allocate and free the same shapes repeatedly: contents must always be
     * what this round wrote (a reused block is not handed out twice). */
    enum { N = 512 };
    static void *p[N];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < N; i++) {
            size_t n = 1 + (size_t)((i * 37 + round * 11) % 2000);
            p[i] = malloc(opaque_size(n));
            CHECK_NOT_NULL(p[i]);
            pattern_fill(p[i], n, (uint64_t)round << 32 | (uint64_t)i);
        }
        for (int i = 0; i < N; i++) {
            size_t n = 1 + (size_t)((i * 37 + round * 11) % 2000);
            CHECK_PATTERN(p[i], n, (uint64_t)round << 32 | (uint64_t)i);
            free(p[i]);
        }
    }
}

TEST(realloc_null_acts_as_malloc)
{
    char *p = realloc(NULL, opaque_size(100));
    CHECK_NOT_NULL(p);
    CHECK_ALIGNED(p, 16);
    pattern_fill(p, 100, 5);
    CHECK_PATTERN(p, 100, 5);
    free(p);
    p = realloc(NULL, opaque_size(0));
    CHECK_NOT_NULL(p);
    free(p);
}
