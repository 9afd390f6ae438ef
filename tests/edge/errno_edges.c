/* errno at the edges, as glibc leaves it: free (every kind of block, and
 * the frees that give slabs and runs back and purge) never changes errno;
 * posix_memalign's ENOMEM is in errno too, its EINVAL leaves errno alone;
 * aligned_alloc, memalign, valloc and pvalloc fail with NULL and ENOMEM.
 * The same binary runs on plain glibc (the reference) and under
 * tidemalloc, default and hardened. Run with TIDE_CONF=decay_ms:0 so that
 * frees purge at once (madvise on the free path). */
#include "runner.h"
#include "check.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* C23; not in Debian 12's glibc, so looked up weakly. */
extern void free_sized(void *p, size_t size) __attribute__((weak));
extern void free_aligned_sized(void *p, size_t align, size_t size) __attribute__((weak));

#define SENTINEL 4242

static void free_keeps_errno(void *p)
{
    errno = SENTINEL;
    free(p);
    CHECK_EQ(errno, SENTINEL);
}

TEST(free_keeps_errno_for_every_kind_of_block)
{
    static const size_t sizes[] = { 0, 1, 16, 100, 1024, 4000, 14336, 20000, 100000, 1u << 20, 5u << 20,
                                    40u << 20, 100u << 20 };
    free_keeps_errno(NULL);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = malloc(sizes[i]);
        CHECK_NOT_NULL(p);
        memset(p, 1, sizes[i] < 65536 ? sizes[i] : 65536);
        free_keeps_errno(p);
    }
}

TEST(frees_that_release_slabs_and_purge_keep_errno)
{
    /* Whole slabs of several classes emptied, then large runs next to each
     * other freed: slabs go back to the page heap and pages are purged. */
    enum { N = 4000 };
    static void *blocks[N];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            blocks[i] = malloc((size_t)(16 << (i % 9)) + (size_t)round * 24);
            CHECK_NOT_NULL(blocks[i]);
            memset(blocks[i], 2, 16);
        }
        for (int i = 0; i < N; i++)
            free_keeps_errno(blocks[i]);
    }
}

TEST(sized_frees_keep_errno)
{
    if (!free_sized || !free_aligned_sized)
        return; /* glibc before 2.39 */
    for (size_t n = 8; n <= (8u << 20); n *= 4) {
        void *p = malloc(n);
        CHECK_NOT_NULL(p);
        errno = SENTINEL;
        free_sized(p, n);
        CHECK_EQ(errno, SENTINEL);
        void *q = aligned_alloc(256, n);
        CHECK_NOT_NULL(q);
        errno = SENTINEL;
        free_aligned_sized(q, 256, n);
        CHECK_EQ(errno, SENTINEL);
    }
}

TEST(realloc_to_zero_keeps_errno)
{
    void *p = malloc(300000);
    CHECK_NOT_NULL(p);
    errno = SENTINEL;
    void *q = realloc(p, 0);
    CHECK(q == NULL);
    CHECK_EQ(errno, SENTINEL);
}

TEST(posix_memalign_enomem_is_in_errno_too)
{
    void *p = (void *)&p;
    errno = SENTINEL;
    int rc = posix_memalign(&p, 64, SIZE_MAX - 4096);
    CHECK_EQ(rc, ENOMEM);
    CHECK_EQ(errno, ENOMEM);
    CHECK(p == (void *)&p);
    errno = SENTINEL;
    rc = posix_memalign(&p, (size_t)1 << 40, (size_t)1 << 46);
    CHECK_EQ(rc, ENOMEM);
    CHECK_EQ(errno, ENOMEM);
}

TEST(posix_memalign_einval_and_success_leave_errno)
{
    void *p = NULL;
    errno = SENTINEL;
    CHECK_EQ(posix_memalign(&p, 3, 16), EINVAL);
    CHECK_EQ(errno, SENTINEL);
    CHECK_EQ(posix_memalign(&p, 24, 16), EINVAL);
    CHECK_EQ(errno, SENTINEL);
    CHECK_EQ(posix_memalign(&p, 4096, 100), 0);
    CHECK_EQ(errno, SENTINEL);
    free(p);
}

TEST(aligned_forms_fail_with_enomem)
{
    volatile size_t huge = SIZE_MAX - 8192; /* volatile: not folded into a compile-time warning */
    errno = SENTINEL;
    CHECK(aligned_alloc(64, huge) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = SENTINEL;
    CHECK(memalign(64, huge) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = SENTINEL;
    CHECK(valloc(huge) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = SENTINEL;
    CHECK(pvalloc(huge) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = SENTINEL;
    CHECK(malloc(huge) == NULL);
    CHECK_EQ(errno, ENOMEM);
}
