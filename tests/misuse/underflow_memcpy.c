/* memcpy 16 bytes to 16 bytes before a 100-byte block, then free it. */
#include "misuse.h"
int main(void)
{
    static const char src[16] = "underflow-bytes";
    char *p = opaque(malloc(100));
    memset(p, 'x', 100);
    memcpy(opaque(p - 16), src, 16);
    free(p);
    return 0;
}
