/* free_sized with a size other than the one allocated. */
#include "misuse.h"
int main(void)
{
    free_sized_fn fs = find_free_sized();
    if (!fs)
        return MISUSE_UNSUPPORTED;
    char *p = opaque(malloc(100));
    memset(p, 1, 100);
    fs(p, 200);
    return 0;
}
