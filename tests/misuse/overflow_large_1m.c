/* Write one byte past the end of a 1 MiB block, then free it. */
#include "misuse.h"
int main(void)
{
    size_t n = (size_t)1 << 20;
    char *p = opaque(malloc(n));
    memset(p, 'x', n);
    ((volatile char *)opaque(p))[n] = 'o';
    free(p);
    return 0;
}
