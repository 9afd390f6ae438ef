/* Free the old pointer after realloc moved the block. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(40));
    memset(p, 1, 40);
    char *q = opaque(realloc(p, 4000));
    if (q == p)
        return 0; /* did not move: nothing to misuse */
    free(opaque(p));
    free(q);
    return 0;
}
