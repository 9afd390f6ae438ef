/* Free a pointer to the stack: foreign to the allocator. */
#include "misuse.h"
int main(void)
{
    char buf[256];
    memset(buf, 1, sizeof buf);
    free(opaque(buf + 64));
    misuse_sink = buf[0];
    return 0;
}
