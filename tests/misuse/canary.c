/* The hardened build's slack canary (src/secure.h): for every slack length,
 * the fill writes exactly the covered bytes (the first 32, or all of a
 * shorter slack) and nothing outside the slack, the check accepts an intact
 * canary and rejects a change to any covered byte. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "secure.h"

uint8_t secure_canary = 0xa5;
uint64_t secure_canary8 = 0xa5a5a5a5a5a5a5a5ull;
uintptr_t secure_list_key = 1;

int main(void)
{
    unsigned char buf[256];
    int failures = 0;
    for (size_t n = 0; n <= 100; n++) {
        size_t covered = n < SECURE_CANARY_SPAN ? n : SECURE_CANARY_SPAN;
        memset(buf, 0, sizeof buf);
        char *c = (char *)buf + 64;
        secure_canary_fill(c, n);
        for (size_t i = 0; i < sizeof buf; i++) {
            long at = (long)i - 64;
            int want = at >= 0 && (size_t)at < covered ? 0xa5 : 0;
            if (buf[i] != want) {
                printf("FAIL: slack %zu: byte %ld is %#x, want %#x\n", n, at, buf[i], want);
                failures++;
            }
        }
        if (!secure_canary_intact(c, n)) {
            printf("FAIL: slack %zu: intact canary rejected\n", n);
            failures++;
        }
        for (size_t i = 0; i < covered; i++) {
            c[i] = 0;
            if (secure_canary_intact(c, n)) {
                printf("FAIL: slack %zu: overwritten byte %zu not seen\n", n, i);
                failures++;
            }
            c[i] = (char)0xa5;
        }
    }
    printf("%d failed\n", failures);
    return failures != 0;
}
