/* Alignment: 16 bytes for requests of 16 or more from malloc, calloc and
 * realloc; the requested alignment from posix_memalign, aligned_alloc and
 * memalign; a page from valloc and pvalloc. */
#include "alloc_api.h"

static void check_block(void *p, size_t n, size_t align)
{
    CHECK_NOT_NULL(p);
    CHECK_ALIGNED(p, align);
    CHECK_GE(malloc_usable_size(p), n);
    pattern_fill(p, n, (uintptr_t)p ^ n);
    CHECK_PATTERN(p, n, (uintptr_t)p ^ n);
}

TEST(malloc_alignment_every_small_size)
{
    enum { N = 4200 };
    static void *p[N];
    for (size_t n = 0; n < N; n++) {
        p[n] = malloc(opaque_size(n));
        CHECK_NOT_NULL(p[n]);
        CHECK_ALIGNED(p[n], min_align_for(n));
    }
    for (size_t n = 0; n < N; n++)
        free(p[n]);
}

TEST(malloc_alignment_large_sizes)
{
    for (size_t n = 4096; n <= (64u << 20); n *= 2) {
        size_t sizes[] = {n - 1, n, n + 1, n + 15, n + 17, n * 3 / 2};
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            void *p = malloc(opaque_size(sizes[k]));
            CHECK_NOT_NULL(p);
            CHECK_ALIGNED(p, 16);
            ((volatile char *)p)[sizes[k] - 1] = 1;
            free(p);
        }
    }
}

TEST(calloc_and_realloc_alignment)
{
    for (size_t n = 1; n < 3000; n += 7) {
        void *p = calloc(1, opaque_size(n));
        CHECK_NOT_NULL(p);
        CHECK_ALIGNED(p, min_align_for(n));
        void *q = calloc(opaque_size(n), 3);
        CHECK_NOT_NULL(q);
        CHECK_ALIGNED(q, 16);
        p = realloc(p, opaque_size(n * 5 + 16));
        CHECK_NOT_NULL(p);
        CHECK_ALIGNED(p, 16);
        p = realloc(p, opaque_size(n + 16));
        CHECK_NOT_NULL(p);
        CHECK_ALIGNED(p, 16);
        free(p);
        free(q);
    }
}

/* Sizes to try for a given alignment. */
static size_t n_aligned_sizes(size_t a, size_t *out)
{
    size_t k = 0;
    out[k++] = 1;
    out[k++] = 8;
    out[k++] = 24;
    out[k++] = a - 1;
    out[k++] = a;
    out[k++] = a + 1;
    out[k++] = 3 * a;
    out[k++] = 5000;
    out[k++] = 70000;
    out[k++] = 300000;
    return k;
}

TEST(posix_memalign_alignments)
{
    for (size_t a = sizeof(void *); a <= (16u << 20); a *= 2) {
        size_t sizes[16];
        size_t ns = n_aligned_sizes(a, sizes);
        for (size_t k = 0; k < ns; k++) {
            if (sizes[k] > (4u << 20) && a > (1u << 20))
                continue;
            void *p = (void *)0x1;
            errno = 0;
            int rc = posix_memalign(&p, opaque_size(a), opaque_size(sizes[k]));
            CHECK_ERRNO(rc, 0);
            check_block(p, sizes[k], a < 16 && sizes[k] >= 16 ? 16 : a);
            free(p);
        }
    }
}

TEST(aligned_alloc_alignments)
{
    for (size_t a = 1; a <= (16u << 20); a *= 2) {
        size_t sizes[16];
        size_t ns = n_aligned_sizes(a < 8 ? 8 : a, sizes);
        for (size_t k = 0; k < ns; k++) {
            /* C17: size should be a multiple of the alignment; glibc does
             * not require it, and neither may tidemalloc. */
            void *p = aligned_alloc(opaque_size(a), opaque_size(sizes[k]));
            check_block(p, sizes[k], a < min_align_for(sizes[k]) ? min_align_for(sizes[k]) : a);
            free(p);
        }
    }
}

TEST(memalign_alignments)
{
    for (size_t a = 1; a <= (16u << 20); a *= 2) {
        size_t sizes[16];
        size_t ns = n_aligned_sizes(a < 8 ? 8 : a, sizes);
        for (size_t k = 0; k < ns; k++) {
            void *p = memalign(opaque_size(a), opaque_size(sizes[k]));
            check_block(p, sizes[k], a < min_align_for(sizes[k]) ? min_align_for(sizes[k]) : a);
            free(p);
        }
    }
}

TEST(aligned_blocks_many_live)
{
    /* Many live aligned blocks of mixed alignment: all aligned, all keep
     * their contents. */
    enum { N = 2000 };
    static void *p[N];
    static size_t sz[N];
    test_rng r = {77};
    for (int i = 0; i < N; i++) {
        size_t a = (size_t)16 << rng_below(&r, 9); /* 16 .. 4096 */
        sz[i] = 1 + rng_below(&r, 3000);
        p[i] = aligned_alloc(opaque_size(a), opaque_size(sz[i]));
        CHECK_NOT_NULL(p[i]);
        CHECK_ALIGNED(p[i], a);
        pattern_fill(p[i], sz[i], (uint64_t)i);
    }
    for (int i = 0; i < N; i++) {
        CHECK_PATTERN(p[i], sz[i], (uint64_t)i);
        free(p[i]);
    }
}

TEST(aligned_zero_size)
{
    /* Size 0 with every alignment: a unique, aligned, freeable block
     * (posix_memalign may also return NULL). */
    for (size_t a = sizeof(void *); a <= (4u << 20); a *= 2) {
        void *p = (void *)0x1;
        int rc = posix_memalign(&p, opaque_size(a), opaque_size(0));
        CHECK_MSG(rc == 0, "posix_memalign(align %zu, 0) returned %d (%s)", a, rc,
                  check_errno_name(rc));
        if (rc == 0 && p != NULL)
            CHECK_ALIGNED(p, a);
        if (rc == 0)
            free(p);
        void *q = aligned_alloc(opaque_size(a), opaque_size(0));
        CHECK_MSG(q != NULL, "aligned_alloc(%zu, 0) returned NULL (errno %d)", a, errno);
        CHECK_ALIGNED(q, a);
        void *r = memalign(opaque_size(a), opaque_size(0));
        CHECK_MSG(r != NULL, "memalign(%zu, 0) returned NULL (errno %d)", a, errno);
        CHECK_ALIGNED(r, a);
        CHECK(q != r);
        free(q);
        free(r);
    }
}

TEST(valloc_page_aligned)
{
    size_t pg = page_size();
    size_t sizes[] = {0, 1, 100, pg - 1, pg, pg + 1, 3 * pg + 5, 1u << 20};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        void *p = valloc(opaque_size(sizes[k]));
        CHECK_NOT_NULL(p);
        CHECK_ALIGNED(p, pg);
        if (sizes[k])
            check_block(p, sizes[k], pg);
        free(p);
    }
}

TEST(pvalloc_rounds_to_pages)
{
    size_t pg = page_size();
    size_t sizes[] = {0, 1, 100, pg - 1, pg, pg + 1, 3 * pg + 5, (1u << 20) + 1};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        size_t rounded = (n + pg - 1) / pg * pg; /* glibc: pvalloc(0) is 0 pages */
        unsigned char *p = pvalloc(opaque_size(n));
        CHECK_NOT_NULL(p);
        CHECK_ALIGNED(p, pg);
        /* pvalloc allocates whole pages: all of them are the caller's. */
        CHECK_GE(malloc_usable_size(p), rounded);
        pattern_fill(p, rounded, rounded);
        CHECK_PATTERN(p, rounded, rounded);
        free(p);
    }
}
