/* Write one byte just before a 64-byte block, then free it. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(64));
    memset(p, 'x', 64);
    ((volatile char *)opaque(p))[-1] = 'u';
    free(p);
    return 0;
}
