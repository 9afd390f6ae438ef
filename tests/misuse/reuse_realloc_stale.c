/* Free a block; while realloc hands its memory out again (growing 8-byte
 * blocks to 48), write through the stale pointer; then free the blocks. */
#include "misuse.h"
static void *again(void)
{
    return realloc(malloc(8), 48);
}
int main(void)
{
    return misuse_reuse_stale(again);
}
