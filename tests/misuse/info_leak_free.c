/* Read a freed block through the stale pointer: does the secret it held
 * survive the free? An allocator that clears freed memory (or makes it
 * inaccessible) prevents the leak. Exits MISUSE_PREVENTED when no byte of
 * the secret is left, 0 (the leak happened) otherwise. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(256));
    memcpy(p, MISUSE_SECRET, sizeof MISUSE_SECRET);
    memcpy(p + 128, MISUSE_SECRET, sizeof MISUSE_SECRET);
    free(p);
    return misuse_holds_secret(opaque(p), 256) ? 0 : MISUSE_PREVENTED;
}
