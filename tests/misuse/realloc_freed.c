/* realloc a pointer that was already freed. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(40));
    memset(p, 1, 40);
    free(p);
    char *q = realloc(opaque(p), 4000);
    misuse_sink = q ? 1 : 0;
    return 0;
}
