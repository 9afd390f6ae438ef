/* free keeps errno when what it does underneath fails: a munmap the kernel
 * refuses (forced with os_fail_release_after, as at vm.max_map_count) and
 * a madvise that fails (os_fail_purge_after), on the prefixed API. The
 * refused unmap is not lost: its bytes stay counted as mapped until a
 * later release retries it. */
#include "runner.h"
#include "check.h"
#include "platform/os.h"
#include "tidemalloc.h"

#include <errno.h>
#include <string.h>

#define SENTINEL 4242

TEST(free_of_a_huge_block_whose_munmap_fails_keeps_errno)
{
    void *p = tide_malloc(64u << 20);
    CHECK_NOT_NULL(p);
    memset(p, 3, 1u << 20);
    CHECK_EQ(os_pending_release_bytes(), 0);
    os_fail_release_after(1);
    errno = SENTINEL;
    tide_free(p);
    CHECK_EQ(errno, SENTINEL);
    CHECK_GE(os_pending_release_bytes(), 64u << 20);
    /* Counted as mapped (retained), not live, while the unmap waits. */
    tide_stats_t st;
    CHECK_EQ(tide_stats_get(&st), 0);
    CHECK_GE(st.mapped - st.active, 64u << 20);
    /* The next release succeeds and takes the waiting one with it. */
    void *q = tide_malloc(40u << 20);
    CHECK_NOT_NULL(q);
    errno = SENTINEL;
    tide_free(q);
    CHECK_EQ(errno, SENTINEL);
    CHECK_EQ(os_pending_release_bytes(), 0);
}

TEST(frees_whose_purges_fail_keep_errno)
{
    CHECK_EQ(tide_config_set("decay_ms", "0"), 0);
    for (unsigned k = 1; k <= 6; k++) {
        void *blocks[64];
        for (int i = 0; i < 64; i++) {
            blocks[i] = tide_malloc(20000 + (size_t)i * 4096);
            CHECK_NOT_NULL(blocks[i]);
            memset(blocks[i], 4, 4096);
        }
        os_fail_purge_after(k);
        for (int i = 0; i < 64; i++) {
            errno = SENTINEL;
            tide_free(blocks[i]);
            CHECK_EQ(errno, SENTINEL);
        }
        os_fail_purge_after(0);
    }
    CHECK_EQ(tide_config_set("decay_ms", "1000"), 0);
}
