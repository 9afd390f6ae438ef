/* prof_math — the two transcendental functions the sampler needs, without
 * libm (the library links libc alone). Accurate to ~1e-12 relative, far
 * beyond what a sampling estimate can tell apart. */
#ifndef TIDE_PROF_MATH_H
#define TIDE_PROF_MATH_H

#include <stdint.h>
#include <string.h>

#pragma GCC visibility push(hidden)

/* ln(x) for x > 0: x = m * 2^e with m in [1, 2), ln m = 2 atanh((m-1)/(m+1)),
 * and |z| <= 1/3 makes the odd series converge fast. */
static inline double prof_ln(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1023;
    bits = (bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1023) << 52);
    double m;
    memcpy(&m, &bits, sizeof m);
    double z = (m - 1) / (m + 1), z2 = z * z, term = z, sum = 0;
    for (int k = 1; k < 40; k += 2) {
        sum += term / k;
        term *= z2;
    }
    return 2 * sum + e * 0.69314718055994530942;
}

/* 1 - exp(-x) for x >= 0: the chance that a Poisson process with one point
 * per `mean` bytes puts a point into x*mean bytes. */
static inline double prof_one_minus_exp_neg(double x)
{
    if (x < 1e-3) /* series: no cancellation for the small blocks */
        return x * (1 - x / 2 * (1 - x / 3 * (1 - x / 4)));
    if (x > 40)
        return 1;
    /* exp(-x) = 2^-k exp(-r), r in [0, ln 2) */
    int k = (int)(x / 0.69314718055994530942);
    double r = x - k * 0.69314718055994530942, term = 1, e = 1;
    for (int i = 1; i < 20; i++) {
        term *= -r / i;
        e += term;
    }
    while (k-- > 0)
        e *= 0.5;
    return 1 - e;
}

#pragma GCC visibility pop

#endif
