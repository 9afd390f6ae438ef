/* Write 16 bytes past the end of a 24-byte block: through its slack into
 * the next block, then free. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(24));
    char *others[16];
    for (int i = 0; i < 16; i++)
        others[i] = opaque(malloc(24));
    memset(p, 'x', 24 + 16);
    free(p);
    for (int i = 0; i < 16; i++)
        free(others[i]);
    return 0;
}
