/* bitmap — runs of bits in arrays of 64-bit words (the page heap's view of
 * which pages are free and which are dirty). */
#ifndef TIDE_BITMAP_H
#define TIDE_BITMAP_H

#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

static inline int bm_get(const uint64_t *w, size_t i)
{
    return (int)((w[i >> 6] >> (i & 63)) & 1);
}

/* First index >= from whose bit equals `want`, or n. */
static inline size_t bm_next(const uint64_t *w, size_t n, size_t from, int want)
{
    if (from >= n)
        return n;
    size_t wi = from >> 6;
    uint64_t x = want ? w[wi] : ~w[wi];
    x &= ~(uint64_t)0 << (from & 63);
    for (;;) {
        if (x) {
            size_t i = (wi << 6) + (size_t)__builtin_ctzll(x);
            return i < n ? i : n;
        }
        if (++wi >= (n + 63) >> 6)
            return n;
        x = want ? w[wi] : ~w[wi];
    }
}

/* One past the last index < from whose bit equals `want`, scanning down;
 * 0 if none. (So [result, from) holds no `want` bit.) */
static inline size_t bm_prev_end(const uint64_t *w, size_t from, int want)
{
    if (from == 0)
        return 0;
    size_t wi = (from - 1) >> 6;
    uint64_t x = want ? w[wi] : ~w[wi];
    unsigned top = (unsigned)((from - 1) & 63);
    if (top < 63)
        x &= ((uint64_t)1 << (top + 1)) - 1;
    for (;;) {
        if (x)
            return (wi << 6) + 64 - (size_t)__builtin_clzll(x);
        if (wi == 0)
            return 0;
        x = want ? w[--wi] : ~w[--wi];
    }
}

static inline void bm_assign(uint64_t *w, size_t a, size_t b, int value)
{
    while (a < b) {
        size_t wi = a >> 6;
        unsigned lo = (unsigned)(a & 63);
        size_t span = 64 - lo;
        if (span > b - a)
            span = b - a;
        uint64_t mask = (span == 64 ? ~(uint64_t)0 : (((uint64_t)1 << span) - 1)) << lo;
        if (value)
            w[wi] |= mask;
        else
            w[wi] &= ~mask;
        a += span;
    }
}

static inline size_t bm_count(const uint64_t *w, size_t a, size_t b)
{
    size_t c = 0;
    while (a < b) {
        size_t wi = a >> 6;
        unsigned lo = (unsigned)(a & 63);
        size_t span = 64 - lo;
        if (span > b - a)
            span = b - a;
        uint64_t mask = (span == 64 ? ~(uint64_t)0 : (((uint64_t)1 << span) - 1)) << lo;
        c += (size_t)__builtin_popcountll(w[wi] & mask);
        a += span;
    }
    return c;
}

#pragma GCC visibility pop

#endif
