/* jemalloc_flags — the `flags` argument of jemalloc's *allocx calls, as
 * jemalloc.h encodes it (these bit positions are its ABI):
 *   bits 0-5   lg of the alignment (MALLOCX_LG_ALIGN, MALLOCX_ALIGN), 0: none
 *   bit 6      MALLOCX_ZERO
 *   bits 8-19  thread cache: 0 the thread's own, 1 none (MALLOCX_TCACHE_NONE),
 *              n >= 2 the explicit cache n - 2 (MALLOCX_TCACHE)
 *   bits 20-31 arena: 0 automatic, n >= 1 arena n - 1 (MALLOCX_ARENA)
 *
 * What tidemalloc does with them (docs/COMPAT.md): alignment and zeroing
 * are honoured; "no thread cache" is accepted (the block comes from the
 * thread's heap as usual); explicit caches cannot exist (tcache.create is
 * ENOENT), so a request naming one fails; arena 0, the only one, is
 * accepted and any other fails.
 */
#ifndef TIDE_JEMALLOC_FLAGS_H
#define TIDE_JEMALLOC_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

#pragma GCC visibility push(hidden)

#define JE_FLAG_ZERO 0x40
#define JE_LG_ALIGN_MAX 40 /* beyond this no request can succeed */
/* MALLCTL_ARENAS_ALL: the arena index meaning "all of them". */
#define JE_ARENAS_ALL 4096u

typedef struct je_flags {
    size_t align; /* 0: the default alignment */
    bool zero;
    bool valid;   /* false: a cache or arena tidemalloc does not have */
} je_flags_t;

static inline je_flags_t je_flags_decode(int flags)
{
    unsigned f = (unsigned)flags, lg = f & 0x3f, tcache = (f >> 8) & 0xfff, arena = f >> 20;
    je_flags_t d = {
        .align = lg ? (size_t)1 << (lg > JE_LG_ALIGN_MAX ? 0 : lg) : 0,
        .zero = (f & JE_FLAG_ZERO) != 0,
        .valid = lg <= JE_LG_ALIGN_MAX && tcache <= 1 && arena <= 1,
    };
    return d;
}

#pragma GCC visibility pop

#endif
