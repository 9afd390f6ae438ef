/* Write one byte past the end of a 64 KiB block (a whole number of pages). */
#include "misuse.h"
int main(void)
{
    size_t n = 65536;
    char *p = opaque(malloc(n));
    memset(p, 'x', n);
    p[n] = 'y';
    free(p);
    return 0;
}
