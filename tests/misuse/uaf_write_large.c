/* Write into a 1 MiB block after freeing it. */
#include "misuse.h"
int main(void)
{
    size_t n = (size_t)1 << 20;
    char *p = opaque(malloc(n));
    memset(p, 'x', n);
    free(p);
    ((volatile char *)opaque(p))[n / 2] = 'y';
    return 0;
}
