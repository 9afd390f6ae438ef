/* tidemalloc tests — a tiny assertion helper.
 *
 * CHECK(expr) and friends print "file:line: CHECK failed: expr" (plus the
 * values involved, where the macro knows them) to stderr.  Inside a TEST()
 * run by the runner (tests/common/runner.c) on the runner's own thread, a
 * failure abandons the current test case and the runner goes on with the
 * next one; the binary exits nonzero at the end.  Anywhere else (other
 * threads, forked children, stand-alone programs) a failure exits the
 * process at once with status 1.
 *
 * Nothing here allocates memory: the helpers must work before main, inside
 * fork children and while the allocator under test is misbehaving.
 */
#ifndef TIDE_TEST_CHECK_H
#define TIDE_TEST_CHECK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Report a failure and leave (see above).  fmt may be NULL. */
__attribute__((noreturn, format(printf, 4, 5)))
void check_fail(const char *file, int line, const char *expr, const char *fmt, ...);

/* Count of CHECK failures seen by this process so far. */
extern volatile int check_failures;

#ifdef __cplusplus
}
#endif

#define CHECK(expr)                                                          \
    do {                                                                     \
        if (!(expr))                                                         \
            check_fail(__FILE__, __LINE__, #expr, NULL);                     \
    } while (0)

#define CHECK_MSG(expr, ...)                                                 \
    do {                                                                     \
        if (!(expr))                                                         \
            check_fail(__FILE__, __LINE__, #expr, __VA_ARGS__);              \
    } while (0)

/* Unsigned comparisons that print both sides (values up to 64 bits). */
#define CHECK_CMP_U(a, op, b)                                                \
    do {                                                                     \
        uintmax_t check_a_ = (uintmax_t)(a), check_b_ = (uintmax_t)(b);      \
        if (!(check_a_ op check_b_))                                         \
            check_fail(__FILE__, __LINE__, #a " " #op " " #b,                \
                       "%ju (0x%jx) vs %ju (0x%jx)", check_a_, check_a_,     \
                       check_b_, check_b_);                                  \
    } while (0)
#define CHECK_EQ(a, b) CHECK_CMP_U(a, ==, b)
#define CHECK_NE(a, b) CHECK_CMP_U(a, !=, b)
#define CHECK_GE(a, b) CHECK_CMP_U(a, >=, b)
#define CHECK_LE(a, b) CHECK_CMP_U(a, <=, b)
#define CHECK_GT(a, b) CHECK_CMP_U(a, >, b)
#define CHECK_LT(a, b) CHECK_CMP_U(a, <, b)

/* errno-style integers, printed with their names where known. */
#define CHECK_ERRNO(actual, expected)                                        \
    do {                                                                     \
        int check_e_ = (actual), check_x_ = (expected);                      \
        if (check_e_ != check_x_)                                            \
            check_fail(__FILE__, __LINE__, #actual " == " #expected,         \
                       "got %d (%s), expected %d (%s)", check_e_,            \
                       check_errno_name(check_e_), check_x_,                 \
                       check_errno_name(check_x_));                          \
    } while (0)

#define CHECK_NULL(p)                                                        \
    do {                                                                     \
        const void *check_p_ = (const void *)(p);                            \
        if (check_p_ != NULL)                                                \
            check_fail(__FILE__, __LINE__, #p " == NULL", "got %p",          \
                       check_p_);                                            \
    } while (0)
#define CHECK_NOT_NULL(p) CHECK((p) != NULL)

#define CHECK_ALIGNED(p, align)                                              \
    do {                                                                     \
        uintptr_t check_p_ = (uintptr_t)(p);                                 \
        uintmax_t check_al_ = (uintmax_t)(align);                            \
        if (check_p_ % check_al_ != 0)                                       \
            check_fail(__FILE__, __LINE__, #p " aligned to " #align,         \
                       "pointer 0x%" PRIxPTR " is not aligned to %ju",       \
                       check_p_, check_al_);                                 \
    } while (0)

#ifdef __cplusplus
extern "C" {
#endif
const char *check_errno_name(int e);
/* Read fd until end of file, an error or cap bytes (retrying EINTR);
 * returns how many bytes were read.  For a forked child's pipes. */
size_t read_until_eof(int fd, void *buf, size_t cap);
#ifdef __cplusplus
}
#endif

/* ---- small helpers shared by the tests ------------------------------- */

/* Hide a value from the optimizer, so that calls such as malloc(SIZE_MAX)
 * neither warn at compile time nor get folded away. */
static inline size_t opaque_size(size_t x)
{
    __asm__ volatile("" : "+r"(x));
    return x;
}
static inline void *opaque_ptr(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

/* Deterministic pseudo random numbers (splitmix64 step / xorshift). */
static inline uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
typedef struct { uint64_t s; } test_rng;
static inline uint64_t rng_next(test_rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return mix64(r->s);
}
static inline uint64_t rng_below(test_rng *r, uint64_t n)
{
    return n ? rng_next(r) % n : 0;
}

/* Fill / verify a block with bytes derived from (seed, offset).  verify
 * returns the offset of the first wrong byte, or SIZE_MAX when all match. */
static inline unsigned char pattern_byte(uint64_t seed, size_t i)
{
    return (unsigned char)(mix64(seed + (i >> 3)) >> ((i & 7) * 8));
}
static inline void pattern_fill(void *p, size_t n, uint64_t seed)
{
    unsigned char *b = (unsigned char *)p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = mix64(seed + (i >> 3));
        __builtin_memcpy(b + i, &w, 8);
    }
    for (; i < n; i++)
        b[i] = pattern_byte(seed, i);
}
static inline size_t pattern_check(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = mix64(seed + (i >> 3)), got;
        __builtin_memcpy(&got, b + i, 8);
        if (got != w) {
            for (size_t j = i; j < i + 8; j++)
                if (b[j] != pattern_byte(seed, j))
                    return j;
        }
    }
    for (; i < n; i++)
        if (b[i] != pattern_byte(seed, i))
            return i;
    return SIZE_MAX;
}

#define CHECK_PATTERN(p, n, seed)                                            \
    do {                                                                     \
        size_t check_off_ = pattern_check((p), (n), (seed));                 \
        if (check_off_ != SIZE_MAX)                                          \
            check_fail(__FILE__, __LINE__, "pattern_check(" #p ", " #n ")",  \
                       "block %p size %zu: byte at offset %zu is 0x%02x, "   \
                       "expected 0x%02x", (const void *)(p), (size_t)(n),    \
                       check_off_,                                           \
                       ((const unsigned char *)(p))[check_off_],             \
                       pattern_byte((seed), check_off_));                    \
    } while (0)

/* Every byte of [p, p+n) equals c (via volatile reads, so the compiler
 * cannot assume what calloc returned). */
static inline size_t bytes_check(const void *p, size_t n, unsigned char c)
{
    const volatile unsigned char *b = (const volatile unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != c)
            return i;
    return SIZE_MAX;
}
#define CHECK_BYTES(p, n, c)                                                 \
    do {                                                                     \
        size_t check_off_ = bytes_check((p), (n), (unsigned char)(c));       \
        if (check_off_ != SIZE_MAX)                                          \
            check_fail(__FILE__, __LINE__, "all bytes of " #p " == " #c,     \
                       "block %p size %zu: byte at offset %zu is 0x%02x",    \
                       (const void *)(p), (size_t)(n), check_off_,           \
                       ((const unsigned char *)(p))[check_off_]);            \
    } while (0)

#endif /* TIDE_TEST_CHECK_H */
