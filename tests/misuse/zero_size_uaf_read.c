/* Read through a malloc(0) pointer after freeing it. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(0));
    if (p == NULL)
        return 0;
    free(p);
    misuse_sink = ((volatile char *)opaque(p))[0];
    return 0;
}
