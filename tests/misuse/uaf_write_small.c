/* Write the middle of a 64-byte block after freeing it (not its first word),
 * unsampled; then keep allocating its size. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(64));
    memset(p, 'x', 64);
    free(p);
    ((volatile char *)opaque(p))[32] = 'y';
    for (int i = 0; i < 64; i++)
        free(opaque(malloc(64)));
    return 0;
}
