/* Free a block; while malloc hands its memory out again, write through the
 * stale pointer; then use and free the new blocks. */
#include "misuse.h"
static void *again(void)
{
    return malloc(48);
}
int main(void)
{
    return misuse_reuse_stale(again);
}
