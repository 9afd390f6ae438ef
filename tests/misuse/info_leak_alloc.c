/* Free a block holding a secret, then allocate blocks of its size: does any
 * new block show the secret? An allocator that clears memory on free or on
 * allocation prevents the leak. Exits MISUSE_PREVENTED when none does, 0
 * (the leak happened) otherwise. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(256));
    memcpy(p, MISUSE_SECRET, sizeof MISUSE_SECRET);
    memcpy(p + 128, MISUSE_SECRET, sizeof MISUSE_SECRET);
    free(p);
    int leaked = 0;
    char *q[256];
    for (int i = 0; i < 256; i++) {
        q[i] = opaque(malloc(256));
        leaked |= misuse_holds_secret(q[i], 256);
    }
    for (int i = 0; i < 256; i++)
        free(q[i]);
    return leaked ? 0 : MISUSE_PREVENTED;
}
