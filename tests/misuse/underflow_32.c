/* Write the 32 bytes just before a 64-byte block, then free it. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(64));
    memset(p, 'x', 64);
    for (int i = 1; i <= 32; i++)
        ((volatile char *)opaque(p))[-i] = 'u';
    free(p);
    return 0;
}
