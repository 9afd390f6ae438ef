/* Free a pointer into the middle of a small block. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(64));
    memset(p, 1, 64);
    free(opaque(p + 16));
    return 0;
}
