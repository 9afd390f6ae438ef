/* calloc returns zeroed memory: fresh, reused after a dirty free (small,
 * medium, large and huge blocks, same thread and other thread), after
 * realloc shrinks, and for every count/size split. */
#include <pthread.h>
#include "alloc_api.h"

static void dirty_then_calloc(size_t n, int rounds)
{
    enum { K = 64 };
    void *p[K];
    int k = n > (1u << 20) ? 4 : K;
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < k; i++) {
            p[i] = malloc(opaque_size(n));
            CHECK_NOT_NULL(p[i]);
            memset(p[i], 0xA5, malloc_usable_size(p[i]));
        }
        for (int i = 0; i < k; i++)
            free(p[i]);
        for (int i = 0; i < k; i++) {
            p[i] = calloc(1, opaque_size(n));
            CHECK_NOT_NULL(p[i]);
            CHECK_BYTES(p[i], n, 0);
            memset(p[i], 0x5A, n);
        }
        for (int i = 0; i < k; i++)
            free(p[i]);
    }
}

TEST(calloc_fresh_is_zero)
{
    for (size_t n = 1; n <= 5000; n += 13) {
        unsigned char *p = calloc(opaque_size(n), 1);
        CHECK_NOT_NULL(p);
        CHECK_BYTES(p, n, 0);
        free(p);
    }
}

TEST(calloc_reused_small_is_zero)
{
    for (size_t n = 1; n <= 1024; n++)
        dirty_then_calloc(n, 1);
    for (size_t n = 1024; n <= 32768; n = n * 5 / 4)
        dirty_then_calloc(n, 2);
}

TEST(calloc_reused_large_is_zero)
{
    static const size_t sizes[] = {
        32768, 65536, 65537, 100000, 200000, 1u << 20, (1u << 20) + 100,
        3u << 20, 8u << 20, (16u << 20) + 4096, 48u << 20,
    };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        dirty_then_calloc(sizes[k], 3);
}

TEST(calloc_zero_after_realloc_shrink)
{
    /* A block shrunk in place leaves dirty bytes behind its new end; a
     * calloc that gets them must still see zeros. */
    for (size_t n = 64; n <= (4u << 20); n *= 4) {
        for (int i = 0; i < 8; i++) {
            unsigned char *p = malloc(opaque_size(n));
            CHECK_NOT_NULL(p);
            memset(p, 0xEE, malloc_usable_size(p));
            p = realloc(p, opaque_size(n / 4));
            CHECK_NOT_NULL(p);
            unsigned char *q = calloc(1, opaque_size(n - n / 4));
            CHECK_NOT_NULL(q);
            CHECK_BYTES(q, n - n / 4, 0);
            unsigned char *r = calloc(opaque_size(n / 16), 16);
            CHECK_NOT_NULL(r);
            CHECK_BYTES(r, n, 0);
            free(p);
            free(q);
            free(r);
        }
    }
}

TEST(calloc_count_size_splits)
{
    static const size_t total[] = {24, 96, 4096, 65536, 1u << 20};
    for (size_t t = 0; t < sizeof total / sizeof total[0]; t++) {
        for (size_t elem = 1; elem <= total[t]; elem *= 2) {
            size_t count = total[t] / elem;
            unsigned char *dirty = malloc(opaque_size(total[t]));
            CHECK_NOT_NULL(dirty);
            memset(dirty, 0xFF, total[t]);
            free(dirty);
            unsigned char *p = calloc(opaque_size(count), opaque_size(elem));
            CHECK_NOT_NULL(p);
            CHECK_GE(malloc_usable_size(p), count * elem);
            CHECK_BYTES(p, count * elem, 0);
            free(p);
        }
    }
}

struct dirty_job {
    size_t n;
    int count;
    void **blocks;
};

static void *dirty_worker(void *arg)
{
    struct dirty_job *j = arg;
    for (int i = 0; i < j->count; i++) {
        j->blocks[i] = malloc(opaque_size(j->n));
        if (j->blocks[i] == NULL)
            return (void *)1;
        memset(j->blocks[i], 0xC3, malloc_usable_size(j->blocks[i]));
    }
    return NULL;
}

static void *free_worker(void *arg)
{
    struct dirty_job *j = arg;
    for (int i = 0; i < j->count; i++) {
        memset(j->blocks[i], 0x3C, j->n);
        free(j->blocks[i]);
    }
    return NULL;
}

TEST(calloc_zero_after_cross_thread_free)
{
    /* Blocks dirtied and freed by other threads, then calloc'd here. */
    static const size_t sizes[] = {16, 48, 256, 1000, 4096, 20000, 300000, 2u << 20};
    static void *blocks[256];
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct dirty_job j = {sizes[k], sizes[k] > 100000 ? 8 : 256, blocks};
        pthread_t t;
        void *ret = NULL;
        /* Allocated here, dirtied and freed there. */
        for (int i = 0; i < j.count; i++) {
            blocks[i] = malloc(opaque_size(j.n));
            CHECK_NOT_NULL(blocks[i]);
        }
        CHECK_EQ(pthread_create(&t, NULL, free_worker, &j), 0);
        CHECK_EQ(pthread_join(t, NULL), 0);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < j.count; i++) {
                unsigned char *p = calloc(1, opaque_size(j.n));
                CHECK_NOT_NULL(p);
                CHECK_BYTES(p, j.n, 0);
                blocks[i] = p;
            }
            for (int i = 0; i < j.count; i++)
                free(blocks[i]);
        }
        /* Allocated and dirtied there, freed here, calloc'd here. */
        CHECK_EQ(pthread_create(&t, NULL, dirty_worker, &j), 0);
        CHECK_EQ(pthread_join(t, &ret), 0);
        CHECK_NULL(ret);
        for (int i = 0; i < j.count; i++)
            free(blocks[i]);
        for (int i = 0; i < j.count; i++) {
            unsigned char *p = calloc(opaque_size(j.n), 1);
            CHECK_NOT_NULL(p);
            CHECK_BYTES(p, j.n, 0);
            blocks[i] = p;
        }
        for (int i = 0; i < j.count; i++)
            free(blocks[i]);
    }
}
