/* Free a block again after other blocks of its size were freed. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(32));
    char *q[8];
    for (int i = 0; i < 8; i++)
        q[i] = opaque(malloc(32));
    free(p);
    for (int i = 0; i < 8; i++)
        free(q[i]);
    free(opaque(p));
    return 0;
}
