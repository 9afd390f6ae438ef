/* Zero a whole 1 MiB block after freeing it. */
#include "misuse.h"
int main(void)
{
    size_t n = (size_t)1 << 20;
    char *p = opaque(malloc(n));
    memset(p, 'x', n);
    free(p);
    memset(opaque(p), 0, n);
    return 0;
}
