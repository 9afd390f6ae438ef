/* realloc keeps contents (up to the smaller size) while growing and
 * shrinking across size classes, small/large/huge, and keeps alignment. */
#include "alloc_api.h"

TEST(realloc_grow_shrink_keeps_prefix)
{
    static const size_t steps[] = {
        1, 7, 16, 17, 100, 33, 500, 1024, 3000, 8, 4096, 40000, 70000,
        1000, 300000, 2u << 20, 5000, 9u << 20, 100, 40u << 20, 64, 1,
    };
    unsigned char *p = NULL;
    size_t cur = 0;
    uint64_t seed = 1;
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        size_t n = steps[k];
        unsigned char *q = realloc(p, opaque_size(n));
        CHECK_NOT_NULL(q);
        CHECK_ALIGNED(q, min_align_for(n));
        size_t keep = cur < n ? cur : n;
        CHECK_PATTERN(q, keep, seed);
        CHECK_GE(malloc_usable_size(q), n);
        seed++;
        pattern_fill(q, n, seed);
        p = q;
        cur = n;
    }
    free(p);
}

TEST(realloc_every_small_transition)
{
    for (size_t a = 1; a <= 600; a += 3) {
        for (size_t b = 1; b <= 600; b += 29) {
            unsigned char *p = malloc(opaque_size(a));
            CHECK_NOT_NULL(p);
            pattern_fill(p, a, a * 1000 + b);
            unsigned char *q = realloc(p, opaque_size(b));
            CHECK_NOT_NULL(q);
            CHECK_PATTERN(q, a < b ? a : b, a * 1000 + b);
            CHECK_GE(malloc_usable_size(q), b);
            free(q);
        }
    }
}

TEST(realloc_growth_loop)
{
    /* The vector-doubling pattern, with other allocations in between. */
    size_t n = 8;
    unsigned char *p = malloc(n);
    CHECK_NOT_NULL(p);
    pattern_fill(p, n, 42);
    void *noise[64] = {0};
    int ni = 0;
    while (n < (24u << 20)) {
        size_t m = n + n / 2 + 8;
        unsigned char *q = realloc(p, opaque_size(m));
        CHECK_NOT_NULL(q);
        CHECK_PATTERN(q, n, 42);
        pattern_fill(q, m, 42);
        p = q;
        n = m;
        free(noise[ni % 64]);
        noise[ni % 64] = malloc(opaque_size((size_t)ni * 97 % 5000 + 1));
        CHECK_NOT_NULL(noise[ni % 64]);
        ni++;
    }
    for (int i = 0; i < 64; i++)
        free(noise[i]);
    free(p);
}

TEST(realloc_same_size_and_within_usable)
{
    for (size_t n = 1; n < 100000; n = n * 3 + 1) {
        unsigned char *p = malloc(opaque_size(n));
        CHECK_NOT_NULL(p);
        size_t u = malloc_usable_size(p);
        pattern_fill(p, u, n);
        p = realloc(p, opaque_size(n));
        CHECK_NOT_NULL(p);
        CHECK_PATTERN(p, n, n);
        p = realloc(p, opaque_size(u));
        CHECK_NOT_NULL(p);
        CHECK_PATTERN(p, n, n);
        pattern_fill(p, u, n + 1);
        CHECK_PATTERN(p, u, n + 1);
        free(p);
    }
}

TEST(realloc_of_aligned_blocks)
{
    static const size_t aligns[] = {64, 256, 4096, 65536};
    for (size_t k = 0; k < sizeof aligns / sizeof aligns[0]; k++) {
        unsigned char *p = aligned_alloc(opaque_size(aligns[k]), opaque_size(1000));
        CHECK_NOT_NULL(p);
        pattern_fill(p, 1000, k);
        p = realloc(p, opaque_size(100000));
        CHECK_NOT_NULL(p);
        CHECK_ALIGNED(p, 16);
        CHECK_PATTERN(p, 1000, k);
        p = realloc(p, opaque_size(10));
        CHECK_NOT_NULL(p);
        CHECK_PATTERN(p, 10, k);
        free(p);
    }
}

TEST(realloc_to_zero_does_not_crash)
{
    /* glibc frees the block and returns NULL; C17 leaves it to the
     * implementation.  Either NULL or a block that can be freed. */
    for (size_t n = 1; n < 200000; n *= 7) {
        void *p = malloc(opaque_size(n));
        CHECK_NOT_NULL(p);
        void *q = realloc(p, opaque_size(0));
        free(q);
    }
}
