/* Write one byte just before a 1 MiB block, then free it. */
#include "misuse.h"
int main(void)
{
    size_t n = (size_t)1 << 20;
    char *p = opaque(malloc(n));
    memset(p, 'x', n);
    ((volatile char *)opaque(p))[-1] = 'u';
    free(p);
    return 0;
}
