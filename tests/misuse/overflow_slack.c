/* Write one byte past the requested size (the classic off-by-one NUL),
 * inside the block's slack, then free. */
#include "misuse.h"
int main(void)
{
    size_t n = 20;
    char *p = opaque(malloc(n));
    memset(p, 'x', n);
    p[n] = '\0';
    free(p);
    return 0;
}
