/* Failure semantics: NULL + ENOMEM for impossible sizes and for calloc /
 * reallocarray overflow, EINVAL from posix_memalign for bad alignments, and
 * a failed realloc leaves the original block intact. */
#include <stdint.h>
#include "alloc_api.h"

/* Sizes no allocator can satisfy: SIZE_MAX, everything above PTRDIFF_MAX,
 * PTRDIFF_MAX itself (more than the address space) and sizes just below
 * SIZE_MAX that overflow when rounded up to a size class or page. */
static const size_t impossible[] = {
    SIZE_MAX,
    SIZE_MAX - 1,
    SIZE_MAX - 15,
    SIZE_MAX - 16,
    SIZE_MAX - 4095,
    SIZE_MAX - 4096,
    SIZE_MAX - (1u << 20),
    SIZE_MAX - (64u << 20),
    SIZE_MAX / 2 + 1,            /* PTRDIFF_MAX + 1 */
    SIZE_MAX / 2 + 4096,
    (size_t)PTRDIFF_MAX,
    (size_t)PTRDIFF_MAX - 4095,
    (size_t)1 << 62,
};
#define N_IMPOSSIBLE (sizeof impossible / sizeof impossible[0])

#define EXPECT_ENOMEM(call, what, n)                                         \
    do {                                                                     \
        errno = 0;                                                           \
        void *p_ = (call);                                                   \
        int e_ = errno;                                                      \
        CHECK_MSG(p_ == NULL, "%s(%zu) returned %p", what, (size_t)(n), p_); \
        CHECK_MSG(e_ == ENOMEM, "%s(%zu): errno %d (%s), expected ENOMEM",   \
                  what, (size_t)(n), e_, check_errno_name(e_));              \
    } while (0)

TEST(malloc_impossible_sizes_enomem)
{
    for (size_t k = 0; k < N_IMPOSSIBLE; k++)
        EXPECT_ENOMEM(malloc(opaque_size(impossible[k])), "malloc", impossible[k]);
}

TEST(calloc_impossible_and_overflow_enomem)
{
    for (size_t k = 0; k < N_IMPOSSIBLE; k++) {
        EXPECT_ENOMEM(calloc(1, opaque_size(impossible[k])), "calloc(1,n)", impossible[k]);
        EXPECT_ENOMEM(calloc(opaque_size(impossible[k]), 1), "calloc(n,1)", impossible[k]);
    }
    /* Products that overflow size_t (their truncated value is small). */
    static const size_t pairs[][2] = {
        {SIZE_MAX, 2},
        {2, SIZE_MAX},
        {SIZE_MAX / 2 + 1, 2},   /* wraps to 0 */
        {(size_t)1 << 32, (size_t)1 << 32}, /* wraps to 0 */
        {((size_t)1 << 32) + 1, (size_t)1 << 32}, /* wraps to 2^32 */
        {SIZE_MAX / 3 + 1, 3},   /* wraps to 2 */
        {65537, 281470681743362ULL}, /* 2^64 - 1 + 65537: wraps to 65536 */
        {SIZE_MAX, SIZE_MAX},    /* wraps to 1 */
        {(size_t)1 << 33, (size_t)1 << 31}, /* exactly 2^64: wraps to 0 */
        {16, SIZE_MAX / 16 + 1},
    };
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        errno = 0;
        void *p = calloc(opaque_size(pairs[k][0]), opaque_size(pairs[k][1]));
        int e = errno;
        CHECK_MSG(p == NULL, "calloc(%zu, %zu) returned %p", pairs[k][0], pairs[k][1], p);
        CHECK_MSG(e == ENOMEM, "calloc(%zu, %zu): errno %d (%s)", pairs[k][0],
                  pairs[k][1], e, check_errno_name(e));
    }
    /* Large but representable products beyond PTRDIFF_MAX. */
    EXPECT_ENOMEM(calloc(opaque_size(SIZE_MAX / 4), 3), "calloc(SIZE_MAX/4,3)", 0);
}

TEST(calloc_zero_products_succeed)
{
    void *a = calloc(opaque_size(0), opaque_size(SIZE_MAX));
    void *b = calloc(opaque_size(SIZE_MAX), opaque_size(0));
    void *c = calloc(opaque_size(0), opaque_size(0));
    CHECK_NOT_NULL(a);
    CHECK_NOT_NULL(b);
    CHECK_NOT_NULL(c);
    CHECK(a != b && b != c && a != c);
    free(a);
    free(b);
    free(c);
}

TEST(reallocarray_overflow_enomem)
{
    static const size_t pairs[][2] = {
        {SIZE_MAX, 2}, {2, SIZE_MAX}, {SIZE_MAX / 2 + 1, 2},
        {(size_t)1 << 32, (size_t)1 << 32}, {SIZE_MAX / 3 + 1, 3},
        {1, SIZE_MAX}, {SIZE_MAX / 2 + 1, 1},
    };
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        size_t a = pairs[k][0], b = pairs[k][1];
        /* From NULL. */
        errno = 0;
        void *p = reallocarray(NULL, opaque_size(a), opaque_size(b));
        int e = errno;
        CHECK_MSG(p == NULL, "reallocarray(NULL, %zu, %zu) returned %p", a, b, p);
        CHECK_ERRNO(e, ENOMEM);
        /* From a live block: it must survive untouched. */
        size_t n = 100 + 37 * k;
        unsigned char *orig = malloc(opaque_size(n));
        CHECK_NOT_NULL(orig);
        pattern_fill(orig, n, 0xabc + k);
        errno = 0;
        p = reallocarray(orig, opaque_size(a), opaque_size(b));
        e = errno;
        CHECK_MSG(p == NULL, "reallocarray(p, %zu, %zu) returned %p", a, b, p);
        CHECK_ERRNO(e, ENOMEM);
        CHECK_PATTERN(orig, n, 0xabc + k);
        CHECK_GE(malloc_usable_size(orig), n);
        free(orig);
    }
    /* A valid reallocarray still works. */
    int *v = reallocarray(NULL, opaque_size(10), sizeof(int));
    CHECK_NOT_NULL(v);
    for (int i = 0; i < 10; i++)
        v[i] = i * i;
    v = reallocarray(v, opaque_size(100000), sizeof(int));
    CHECK_NOT_NULL(v);
    for (int i = 0; i < 10; i++)
        CHECK_EQ(v[i], i * i);
    free(v);
}

static void realloc_failure_keeps(size_t n)
{
    for (size_t k = 0; k < N_IMPOSSIBLE; k++) {
        unsigned char *orig = malloc(opaque_size(n));
        CHECK_NOT_NULL(orig);
        size_t usable = malloc_usable_size(orig);
        pattern_fill(orig, n, n * 31 + k);
        errno = 0;
        void *p = realloc(orig, opaque_size(impossible[k]));
        int e = errno;
        CHECK_MSG(p == NULL, "realloc(%zu-byte block, %zu) returned %p", n, impossible[k], p);
        CHECK_MSG(e == ENOMEM, "realloc(%zu-byte block, %zu): errno %d (%s)", n,
                  impossible[k], e, check_errno_name(e));
        CHECK_PATTERN(orig, n, n * 31 + k);
        CHECK_EQ(malloc_usable_size(orig), usable);
        /* Still a live, usable, reallocatable block. */
        unsigned char *q = realloc(orig, opaque_size(n + 1000));
        CHECK_NOT_NULL(q);
        CHECK_PATTERN(q, n, n * 31 + k);
        free(q);
    }
}

TEST(failed_realloc_leaves_block_intact)
{
    static const size_t sizes[] = {1, 16, 100, 1000, 5000, 70000, 1u << 20, 9u << 20};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        realloc_failure_keeps(sizes[k]);
}

TEST(failed_realloc_of_aligned_block_intact)
{
    unsigned char *orig = aligned_alloc(opaque_size(4096), opaque_size(10000));
    CHECK_NOT_NULL(orig);
    pattern_fill(orig, 10000, 99);
    errno = 0;
    CHECK_NULL(realloc(orig, opaque_size(SIZE_MAX - 100)));
    CHECK_ERRNO(errno, ENOMEM);
    CHECK_PATTERN(orig, 10000, 99);
    free(orig);
}

TEST(aligned_impossible_sizes_enomem)
{
    static const size_t aligns[] = {16, 64, 4096, 1u << 20};
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++) {
        for (size_t k = 0; k < N_IMPOSSIBLE; k++) {
            size_t n = impossible[k];
            EXPECT_ENOMEM(aligned_alloc(opaque_size(aligns[a]), opaque_size(n)), "aligned_alloc", n);
            EXPECT_ENOMEM(memalign(opaque_size(aligns[a]), opaque_size(n)), "memalign", n);
            void *p = (void *)0x1;
            errno = 0;
            int rc = posix_memalign(&p, opaque_size(aligns[a]), opaque_size(n));
            CHECK_MSG(rc == ENOMEM, "posix_memalign(align %zu, %zu) returned %d (%s)",
                      aligns[a], n, rc, check_errno_name(rc));
        }
    }
    for (size_t k = 0; k < N_IMPOSSIBLE; k++) {
        EXPECT_ENOMEM(valloc(opaque_size(impossible[k])), "valloc", impossible[k]);
        EXPECT_ENOMEM(pvalloc(opaque_size(impossible[k])), "pvalloc", impossible[k]);
    }
}

TEST(impossible_alignments_enomem)
{
    /* Valid powers of two that no address space can honour. */
    static const size_t aligns[] = {(size_t)1 << 62, (size_t)1 << 63};
    for (size_t a = 0; a < 2; a++) {
        void *p = (void *)0x1;
        int rc = posix_memalign(&p, opaque_size(aligns[a]), opaque_size(16));
        CHECK_MSG(rc == ENOMEM, "posix_memalign(align 0x%zx, 16) returned %d (%s)",
                  aligns[a], rc, check_errno_name(rc));
        EXPECT_ENOMEM(aligned_alloc(opaque_size(aligns[a]), opaque_size(16)), "aligned_alloc(huge align)", aligns[a]);
        EXPECT_ENOMEM(memalign(opaque_size(aligns[a]), opaque_size(16)), "memalign(huge align)", aligns[a]);
    }
}

TEST(posix_memalign_bad_alignment_einval)
{
    static const size_t bad[] = {
        0, 1, 2, 4, 3, 5, 12, 24, 48, 65, 96, 100, 4095, 4097, 12288,
        ((size_t)1 << 20) + 8, SIZE_MAX, SIZE_MAX / 2, ((size_t)1 << 63) + 8,
        sizeof(void *) / 2, sizeof(void *) + 1, 3 * sizeof(void *),
    };
    static const size_t sizes[] = {0, 1, 16, 100, 100000};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            void *p = (void *)0x1234;
            int rc = posix_memalign(&p, opaque_size(bad[k]), opaque_size(sizes[s]));
            CHECK_MSG(rc == EINVAL, "posix_memalign(align %zu, size %zu) returned %d (%s)",
                      bad[k], sizes[s], rc, check_errno_name(rc));
        }
    }
    /* The good alignments right next to the bad ones work. */
    static const size_t good[] = {sizeof(void *), 16, 32, 64, 4096, 8192, 1u << 20};
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
        void *p = NULL;
        CHECK_ERRNO(posix_memalign(&p, opaque_size(good[k]), opaque_size(100)), 0);
        CHECK_NOT_NULL(p);
        CHECK_ALIGNED(p, good[k]);
        free(p);
    }
}

TEST(allocator_usable_after_failures)
{
    /* A burst of failures must not poison later allocations. */
    for (int i = 0; i < 1000; i++) {
        void *bad = malloc(opaque_size(SIZE_MAX - (size_t)i));
        CHECK_NULL(bad);
        void *good = malloc(opaque_size((size_t)i + 1));
        CHECK_NOT_NULL(good);
        pattern_fill(good, (size_t)i + 1, (uint64_t)i);
        CHECK_PATTERN(good, (size_t)i + 1, (uint64_t)i);
        free(good);
    }
}
