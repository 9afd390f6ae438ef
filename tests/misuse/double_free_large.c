/* Free a large (page-run) block twice. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(200000));
    memset(p, 1, 200000);
    free(p);
    free(opaque(p));
    return 0;
}
