/* Free a block twice in a row: the slab's most recently freed block. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(32));
    memset(p, 1, 32);
    free(p);
    free(opaque(p));
    return 0;
}
