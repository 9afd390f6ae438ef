/* A block freed by one thread, then freed again by another. */
#include <pthread.h>
#include "misuse.h"
static void *second_free(void *p)
{
    free(p);
    return NULL;
}
int main(void)
{
    char *p = opaque(malloc(32));
    char *keep = opaque(malloc(32));
    free(p);
    pthread_t t;
    pthread_create(&t, NULL, second_free, p);
    pthread_join(t, NULL);
    free(keep);
    return 0;
}
