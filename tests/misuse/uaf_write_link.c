/* Overwrite the first word of a freed block (where free lists keep their
 * link), then keep allocating that size: an allocator that follows the
 * link hands out memory it does not own. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(64));
    free(p);
    memcpy(opaque(p), "AAAAAAAA", 8);
    for (int i = 0; i < 100000; i++) {
        char *q = opaque(malloc(64));
        memset(q, 0, 64);
    }
    return 0;
}
