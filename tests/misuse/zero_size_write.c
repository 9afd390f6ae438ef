/* Write through the pointer malloc(0) returned. */
#include "misuse.h"
int main(void)
{
    char *p = opaque(malloc(0));
    if (p == NULL)
        return 0;
    ((volatile char *)p)[0] = 'z';
    free(p);
    return 0;
}
