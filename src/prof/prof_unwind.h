/* prof_unwind — the call stack of the calling thread, from cached DWARF
 * call-frame rules (see prof_unwind.c). */
#ifndef TIDE_PROF_UNWIND_H
#define TIDE_PROF_UNWIND_H

#include <stdint.h>

#pragma GCC visibility push(hidden)

/* Up to max return addresses, innermost first, starting with the caller's
 * own return address. -1 if some frame's rule is beyond this unwinder: the
 * caller then uses backtrace(). */
int prof_unwind(uintptr_t *out, int max);

#pragma GCC visibility pop

#endif
