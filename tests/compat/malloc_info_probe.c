/* Writes malloc_info's XML (after a churn that leaves free blocks), then,
 * when tidemalloc serves it, tidemalloc's own figures as "tide KEY VALUE"
 * lines, for malloc_info_schema.py to compare. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidemalloc.h"

int main(void)
{
    enum { N = 20000 };
    static void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = malloc(16 + (size_t)(i % 64) * 24);
    for (int i = 0; i < N; i += 3)
        free(p[i]);
    void *big = malloc(40 << 20);
    memset(big, 1, 40 << 20);
    struct mallinfo2 m = mallinfo2();
    if (malloc_info(0, stdout) != 0)
        return 1;
    int (*get)(tide_stats_t *) = (int (*)(tide_stats_t *))dlsym(RTLD_DEFAULT, "tide_stats_get");
    if (get) {
        tide_stats_t s;
        get(&s);
        printf("tide live_usable %llu\ntide huge_live %llu\n", (unsigned long long)s.live_usable,
               (unsigned long long)s.huge_live);
        printf("mallinfo2 arena %zu\nmallinfo2 fordblks %zu\nmallinfo2 hblkhd %zu\n", m.arena, m.fordblks,
               m.hblkhd);
    }
    free(big);
    return 0;
}
