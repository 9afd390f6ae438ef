/* malloc_usable_size reports at least the requested size, stays stable,
 * and every one of those bytes can be written without touching any other
 * block. */
#include "alloc_api.h"

struct blk {
    unsigned char *p;
    size_t usable;
};

static void fill_all_and_verify(size_t (*size_of)(int), int n, struct blk *b)
{
    for (int i = 0; i < n; i++) {
        size_t req = size_of(i);
        b[i].p = malloc(opaque_size(req));
        CHECK_NOT_NULL(b[i].p);
        b[i].usable = malloc_usable_size(b[i].p);
        CHECK_GE(b[i].usable, req);
        /* Every usable byte belongs to the caller: write them all. */
        pattern_fill(b[i].p, b[i].usable, (uint64_t)i * 131 + 7);
    }
    for (int i = 0; i < n; i++) {
        CHECK_EQ(malloc_usable_size(b[i].p), b[i].usable);
        CHECK_PATTERN(b[i].p, b[i].usable, (uint64_t)i * 131 + 7);
    }
    for (int i = 0; i < n; i++)
        free(b[i].p);
}

static size_t size_linear(int i) { return (size_t)i; }
static size_t size_mixed(int i)
{
    return (size_t)mix64((uint64_t)i) % ((i % 10 == 0) ? 400000 : 5000);
}

TEST(usable_size_every_small_request_writable)
{
    static struct blk b[4500];
    fill_all_and_verify(size_linear, 4500, b);
}

TEST(usable_size_mixed_requests_writable)
{
    static struct blk b[3000];
    fill_all_and_verify(size_mixed, 3000, b);
}

TEST(usable_size_null_is_zero)
{
    CHECK_EQ(malloc_usable_size(NULL), 0);
}

TEST(usable_size_large_writable)
{
    static const size_t sizes[] = {65536, 65537, 131071, 1u << 20, (1u << 20) + 1, 5u << 20, (12u << 20) + 7};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        unsigned char *p = malloc(opaque_size(sizes[k]));
        CHECK_NOT_NULL(p);
        size_t u = malloc_usable_size(p);
        CHECK_GE(u, sizes[k]);
        pattern_fill(p, u, sizes[k]);
        /* A neighbour allocated afterwards must not overlap the tail. */
        unsigned char *q = malloc(opaque_size(sizes[k]));
        CHECK_NOT_NULL(q);
        memset(q, 0x77, malloc_usable_size(q));
        CHECK_PATTERN(p, u, sizes[k]);
        free(q);
        free(p);
    }
}

TEST(usable_size_of_aligned_and_calloc_blocks)
{
    for (size_t a = 16; a <= 65536; a *= 4) {
        for (size_t n = 1; n < 20000; n = n * 5 + 3) {
            unsigned char *p = aligned_alloc(opaque_size(a), opaque_size(n));
            CHECK_NOT_NULL(p);
            size_t u = malloc_usable_size(p);
            CHECK_GE(u, n);
            pattern_fill(p, u, a ^ n);
            unsigned char *c = calloc(opaque_size(n), 1);
            CHECK_NOT_NULL(c);
            size_t cu = malloc_usable_size(c);
            CHECK_GE(cu, n);
            memset(c, 0x11, cu);
            CHECK_PATTERN(p, u, a ^ n);
            CHECK_BYTES(c, cu, 0x11);
            free(c);
            free(p);
        }
    }
}

TEST(usable_size_tail_survives_realloc)
{
    /* Growing within the usable size keeps every byte written there. */
    for (size_t n = 1; n < 50000; n = n * 2 + 1) {
        unsigned char *p = malloc(opaque_size(n));
        CHECK_NOT_NULL(p);
        size_t u = malloc_usable_size(p);
        pattern_fill(p, u, n);
        p = realloc(p, opaque_size(u));
        CHECK_NOT_NULL(p);
        CHECK_PATTERN(p, u, n);
        free(p);
    }
}
