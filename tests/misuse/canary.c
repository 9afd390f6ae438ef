/* The hardened build's slack canary (src/hardened/secure.h): for every requested
 * size in a block, the covered bytes are those from the requested end to the
 * next multiple of 8 (none without slack). secure_canary_fill_keep writes
 * exactly them; secure_canary_fill writes their aligned word and nothing
 * else (the bytes before the requested end in that word are not the
 * program's yet); the check accepts an intact canary, ignores the program's
 * bytes in the word and rejects a change to any covered byte. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hardened/secure.h"

uint8_t secure_canary = 0xa5;
uint64_t secure_canary8 = 0xa5a5a5a5a5a5a5a5ull;
uintptr_t secure_list_key = 1;

static _Alignas(16) unsigned char buf[256];

int main(void)
{
    int failures = 0;
    const size_t base = 64, block = 96; /* a 96-byte block at buf + 64 */
    for (size_t req = 0; req <= block; req++) {
        size_t slack = block - req;
        size_t lo = req, hi = slack ? (req | 7) + 1 : req; /* covered: [lo, hi) */
        char *c = (char *)buf + base + req;
        for (int keep = 0; keep <= 1; keep++) {
            memset(buf, 0x11, sizeof buf);
            if (keep)
                secure_canary_fill_keep(c, slack);
            else
                secure_canary_fill(c, slack);
            for (size_t i = 0; i < sizeof buf; i++) {
                long at = (long)i - (long)base;
                int covered = at >= (long)lo && at < (long)hi;
                int in_word = slack && at >= (long)(req & ~(size_t)7) && at < (long)lo;
                int want = covered ? 0xa5 : 0x11;
                if (buf[i] != want && !(in_word && !keep)) {
                    printf("FAIL: req %zu keep %d: byte %ld is %#x, want %#x\n", req, keep, at, buf[i], want);
                    failures++;
                }
            }
            if (!secure_canary_intact(c, slack)) {
                printf("FAIL: req %zu: intact canary rejected\n", req);
                failures++;
            }
            if (slack) {
                for (size_t i = req & ~(size_t)7; i < lo; i++) { /* the program's bytes */
                    buf[base + i] ^= 0xff;
                    if (!secure_canary_intact(c, slack)) {
                        printf("FAIL: req %zu: the program's byte %zu taken for the canary\n", req, i);
                        failures++;
                    }
                }
            }
            for (size_t i = lo; i < hi; i++) {
                buf[base + i] = 0;
                if (secure_canary_intact(c, slack)) {
                    printf("FAIL: req %zu: overwritten byte %zu not seen\n", req, i);
                    failures++;
                }
                buf[base + i] = 0xa5;
            }
        }
    }
    printf("%d failed\n", failures);
    return failures != 0;
}
