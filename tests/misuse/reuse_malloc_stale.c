/* Free a block; while malloc hands its memory out again, write through the
 * stale pointer; then use and free the new blocks. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(48));
    memset(p, 'x', 48);
    free(p);
    char *q[64];
    for (int i = 0; i < 64; i++) {
        q[i] = opaque(malloc(48));
        memset(q[i], 'q', 48);
    }
    ((volatile char *)opaque(p))[8] = 's'; /* stale: may be one of q */
    for (int i = 0; i < 64; i++)
        free(q[i]);
    return 0;
}
