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
 * between slow paths; larger classes get the fewest pages that hold at least
 * eight blocks (four above 8 KiB) with no tail, because a slab with few
 * blocks empties, and goes back to the page heap, far more often when some
 * blocks outlive their neighbours. */
const uint8_t sc_slab_pages[SC_COUNT] = {
    16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16,
    16, 16, 16, 16,
    16, 16, 16, 16,
    5, 3, 7, 4,   /* 1280x16, 1536x8, 1792x16, 2048x8 */
    5, 6, 7, 8,   /* 2560x8, 3072x8, 3584x8, 4096x8 */
    10, 12, 14, 16, /* 5120x8, 6144x8, 7168x8, 8192x8 */
    10, 12, 14,     /* 10240x4, 12288x4, 14336x4 */
};
