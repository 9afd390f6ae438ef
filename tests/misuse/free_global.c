/* Free a pointer into a global array: foreign to the allocator. */
#include "misuse.h"
static char global_buf[4096];
int main(void)
{
    free(opaque(global_buf + 1024));
    return 0;
}
