/* Write one byte past a block that uses all of its size class (no slack).
 * Hardened tide catches it when the block is sampled: the test runs with
 * TIDE_CONF=secure_sample:1. */
#include "misuse.h"
int main(void)
{
    size_t n = 32;
    char *p = opaque(malloc(n));
    memset(p, 'x', n);
    p[n] = 'y';
    free(p);
    return 0;
}
