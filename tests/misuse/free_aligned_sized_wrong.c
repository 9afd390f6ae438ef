/* free_aligned_sized with an alignment the block does not have. */
#include "misuse.h"
int main(void)
{
    free_aligned_sized_fn fas = find_free_aligned_sized();
    if (!fas)
        return MISUSE_UNSUPPORTED;
    /* A 64-aligned block that is not 4096-aligned. */
    char *p;
    do
        p = opaque(aligned_alloc(64, 64));
    while (((uintptr_t)p & 4095) == 0);
    memset(p, 1, 64);
    fas(p, 4096, 64);
    return 0;
}
