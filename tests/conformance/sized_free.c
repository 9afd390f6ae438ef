/* free_sized and free_aligned_sized (C23), given the size (and alignment)
 * that was requested, release blocks like free(); the memory is reused
 * correctly afterwards. */
#include "alloc_api.h"

TEST(free_sized_all_kinds_of_blocks)
{
    for (int round = 0; round < 3; round++) {
        for (size_t n = 1; n < 300000; n = n * 3 / 2 + 1) {
            unsigned char *a = malloc(opaque_size(n));
            unsigned char *b = calloc(opaque_size(n), 1);
            unsigned char *c = malloc(opaque_size(n / 2 + 1));
            CHECK_NOT_NULL(a);
            CHECK_NOT_NULL(b);
            CHECK_NOT_NULL(c);
            CHECK_BYTES(b, n, 0);
            c = realloc(c, opaque_size(n));
            CHECK_NOT_NULL(c);
            pattern_fill(a, n, n);
            pattern_fill(b, n, n + 1);
            pattern_fill(c, n, n + 2);
            CHECK_PATTERN(a, n, n);
            CHECK_PATTERN(b, n, n + 1);
            CHECK_PATTERN(c, n, n + 2);
            free_sized(a, n);
            free_sized(b, n);
            free_sized(c, n); /* c's size is the one given to realloc */
        }
    }
    free_sized(NULL, 0);
    free_sized(NULL, 100);
}

TEST(free_sized_calloc_uses_product)
{
    unsigned char *p = calloc(opaque_size(10), opaque_size(100));
    CHECK_NOT_NULL(p);
    CHECK_BYTES(p, 1000, 0);
    free_sized(p, 1000);
}

TEST(free_aligned_sized_blocks)
{
    for (size_t a = 16; a <= (1u << 20); a *= 2) {
        for (size_t n = a; n <= 4 * a && n <= (2u << 20); n += a) {
            unsigned char *p = aligned_alloc(opaque_size(a), opaque_size(n));
            CHECK_NOT_NULL(p);
            CHECK_ALIGNED(p, a);
            pattern_fill(p, n, a + n);
            CHECK_PATTERN(p, n, a + n);
            free_aligned_sized(p, a, n);
        }
    }
    free_aligned_sized(NULL, 64, 0);
}

TEST(memory_reused_after_sized_frees)
{
    enum { N = 4000 };
    static unsigned char *p[N];
    static size_t sz[N];
    test_rng r = {9};
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++) {
            sz[i] = 1 + rng_below(&r, i % 50 == 0 ? 200000 : 2000);
            p[i] = malloc(opaque_size(sz[i]));
            CHECK_NOT_NULL(p[i]);
            pattern_fill(p[i], sz[i], (uint64_t)i + (uint64_t)round * N);
        }
        for (int i = 0; i < N; i++) {
            CHECK_PATTERN(p[i], sz[i], (uint64_t)i + (uint64_t)round * N);
            free_sized(p[i], sz[i]);
        }
    }
}
