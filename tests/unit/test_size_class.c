/* Size classes: every request up to the largest size class gets a block at
 * least as large, from the smallest class that fits, wasting at most 20% of
 * the block for requests of 64 bytes or more; page-run sizes above the
 * classes keep the same bound. */
#include "runner.h"
#include "check.h"
#include "core/size_class.h"
#include "platform/os.h"

TEST(every_small_size_fits_its_class_with_bounded_waste)
{
    for (size_t size = 0; size <= SC_SMALL_MAX; size++) {
        unsigned c = sc_of_size(size);
        CHECK(c < SC_COUNT);
        size_t block = sc_block_size[c];
        CHECK_MSG(block >= size, "size %zu -> class %u (%zu)", size, c, block);
        if (c > 0)
            CHECK_MSG(sc_block_size[c - 1] < size, "size %zu not in smallest class %u", size, c);
        if (size >= 64)
            CHECK_MSG((block - size) * 5 <= block, "size %zu wastes %zu of %zu", size, block - size, block);
        CHECK_MSG(block % 16 == 0, "class %u is not 16-byte aligned", c);
    }
}

TEST(classes_are_increasing_and_four_per_doubling)
{
    for (unsigned c = 1; c < SC_COUNT; c++)
        CHECK(sc_block_size[c] > sc_block_size[c - 1]);
    CHECK_EQ(sc_block_size[SC_COUNT - 1], SC_SMALL_MAX);
    /* From 128 B up each power of two splits into four classes. */
    for (unsigned c = 7; c + 4 < SC_COUNT; c += 4)
        CHECK_EQ(sc_block_size[c + 4], 2 * sc_block_size[c]);
}

TEST(page_runs_above_the_classes_keep_the_bound)
{
    for (size_t size = SC_SMALL_MAX + 1; size <= ((size_t)4 << 20); size += 13) {
        size_t run = (size + OS_PAGE_SIZE - 1) & ~(OS_PAGE_SIZE - 1);
        CHECK_MSG((run - size) * 5 <= run, "size %zu wastes %zu of %zu", size, run - size, run);
    }
}

/* In the arenas, blocks of two or three whole pages get a slab each, so a
 * freed one is free pages at once; every other class (the one-page class
 * too: its span would cost 4.7%) has the thread heaps' slabs. */
TEST(arena_slabs_give_multi_page_blocks_a_slab_each)
{
    for (unsigned c = 0; c < SC_COUNT; c++) {
        size_t blocks = (size_t)sc_arena_slab_pages(c) * OS_PAGE_SIZE / sc_block_size[c];
        if (sc_block_size[c] > OS_PAGE_SIZE && sc_block_size[c] % OS_PAGE_SIZE == 0)
            CHECK_MSG(blocks == 1, "class %u (whole pages): %zu blocks per arena slab", c, blocks);
        else
            CHECK_MSG(sc_arena_slab_pages(c) == sc_slab_pages[c], "class %u: arena slab differs", c);
    }
}

TEST(slabs_hold_whole_blocks)
{
    for (unsigned c = 0; c < SC_COUNT; c++) {
        size_t bytes = (size_t)sc_slab_pages[c] * OS_PAGE_SIZE;
        size_t blocks = bytes / sc_block_size[c];
        CHECK_MSG(blocks >= 2 || sc_block_size[c] > 8192, "class %u: %zu blocks", c, blocks);
        /* The tail past the last block is under one block and under 1/8. */
        size_t tail = bytes - blocks * sc_block_size[c];
        CHECK_MSG(tail * 8 <= bytes, "class %u: tail %zu of %zu", c, tail, bytes);
    }
}

