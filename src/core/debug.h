/* debug — invariant validators, on in the TIDE_DEBUG build only.
 *
 * `cmake -DTIDE_DEBUG=ON` (make test's build-debug/) compiles the allocator
 * with TIDE_DEBUG=1; the stress and fuzz tests run there. Elsewhere
 * TIDE_DEBUG is 0 and every `if (TIDE_DEBUG)` call site is dead code the
 * compiler drops, so the validators are always compiled (and kept honest by
 * the type checker) but cost nothing. A broken invariant prints one line
 * naming the file, line and invariant, and aborts.
 */
#ifndef TIDE_DEBUG_H
#define TIDE_DEBUG_H

#include <stdbool.h>

#ifndef TIDE_DEBUG
#define TIDE_DEBUG 0
#endif

#include "platform/report.h"

#define DEBUG_REQUIRE(cond, what)                                 \
    do {                                                          \
        if (__builtin_expect(!(cond), 0))                         \
            report_invariant_broken(__FILE__, __LINE__, (what));  \
    } while (0)

#endif
