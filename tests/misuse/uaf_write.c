/* Write a block after freeing it (sampled: TIDE_CONF=secure_sample:1). */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(48));
    memset(p, 'x', 48);
    free(p);
    ((volatile char *)opaque(p))[40] = 'y';
    return 0;
}
