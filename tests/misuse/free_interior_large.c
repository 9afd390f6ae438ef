/* Free a pointer into the middle of a large block. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(100000));
    memset(p, 1, 100000);
    free(opaque(p + 8192));
    return 0;
}
