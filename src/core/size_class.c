/* size classes — the class table and each class's slab size (the why of
 * both, and the 20% waste bound, is argued in size_class.h).
 *
 * Invariant: block sizes are multiples of 16 and strictly increasing, and
 * each slab size holds at least one block with no tail larger than a block.
 */
#include "size_class.h"

const uint32_t sc_block_size[SC_COUNT] = {
    16, 32, 48, 64, 80, 96, 112, 128,
    160, 192, 224, 256,
    320, 384, 448, 512,
    640, 768, 896, 1024,
    1280, 1536, 1792, 2048,
    2560, 3072, 3584, 4096,
    5120, 6144, 7168, 8192,
    10240, 12288, 14336,
};

/* Slab sizes: 64 KiB for classes up to 1 KiB, so a slab serves many blocks
 * between slow paths. Above that, slabs shrink to a few blocks: the fewest
 * pages that hold them with no tail, because a slab empties, and can go back
 * to the page heap, far more often when it holds few blocks and some of them
 * outlive their neighbours (with one block in ten surviving, a slab of 2
 * empties 81% of the time, a slab of 8 only 43%). Bytes above 1 KiB are most
 * of the bytes in small classes, so this is where pinning costs RSS. */
const uint8_t sc_slab_pages[SC_COUNT] = {
    16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16,
    16, 16, 16, 16,
    16, 16, 16, 16,
    5, 3, 7, 2,   /* 1280x16, 1536x8, 1792x16, 2048x4 */
    5, 3, 7, 4,   /* 2560x8, 3072x4, 3584x8, 4096x4 */
    5, 3, 7, 4,   /* 5120x4, 6144x2, 7168x4, 8192x2 */
    5, 6, 7,      /* 10240x2, 12288x2, 14336x2 */
};

