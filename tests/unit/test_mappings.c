/* Bounded mappings: however blocks of every size come and go, the number
 * of memory mappings stays small (one per 64 MiB region, one per live huge
 * block), far below vm.max_map_count. */
#include "runner.h"
#include "check.h"
#include "tidemalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f);
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

TEST(mappings_stay_bounded_under_churn)
{
    enum { SLOTS = 4096 };
    static void *slot[SLOTS];
    int base = count_mappings();
    int peak = base;
    srand(3);
    for (int i = 0; i < 400000; i++) {
        int k = rand() % SLOTS;
        tide_free(slot[k]);
        int r = rand() % 1000;
        size_t size = r < 900 ? (size_t)(rand() % 2048)
                    : r < 995 ? (size_t)(rand() % (1 << 20))
                    : r < 999 ? (size_t)(rand() % (8 << 20))
                    : ((size_t)40 << 20) + (size_t)(rand() % 4096);
        slot[k] = tide_malloc(size);
        CHECK(slot[k] != NULL);
        if (size)
            ((char *)slot[k])[size - 1] = 1;
        if (i % 20000 == 0) {
            int now = count_mappings();
            if (now > peak)
                peak = now;
        }
    }
    int huge_live = 0;
    for (int k = 0; k < SLOTS; k++)
        huge_live += slot[k] && tide_malloc_usable_size(slot[k]) > ((size_t)32 << 20);
    tide_stats_t s;
    tide_stats_get(&s);
    CHECK_MSG(peak - base <= (int)s.regions + huge_live + 64, "%d mappings over the %d at start", peak - base, base);
    CHECK(s.metadata * 50 <= s.mapped); /* metadata within 2% of mapped */
    for (int k = 0; k < SLOTS; k++)
        tide_free(slot[k]);
}
