/* span — a free that the fast path could not finish, sent on by what the
 * span is used for.
 *
 * Invariant: every pointer that reaches free_slow is either the start of a
 * block tidemalloc handed out and has not taken back, or it is reported
 * (interior, foreign, freed twice) and the program stops; nothing is ever
 * pushed onto a list unchecked. The span invariants are in span.h.
 */
#include "span.h"

#include "central.h"
#include "heap.h"
#include "isolated.h"
#include "large.h"
#include "platform/report.h"
#include "slab.h"

void free_slow(void *p, span_t *s, const char *call)
{
    if (__builtin_expect(isolated_mode, 0)) {
        isolated_free(p);
        return;
    }
    /* free never changes errno (POSIX.1-2024; glibc since 2.33): the
     * platform's calls leave it alone (platform/os.h), and nothing else on
     * these paths sets it. */
    switch (s->kind) {
    case SPAN_SMALL:
        if (sc_is_central(s->class_idx) && s->owner->central)
            central_free(heap_get(), s, p, call);
        else
            slab_free_slow(heap_get(), s, p, call);
        return;
    case SPAN_LARGE:
    case SPAN_HUGE:
        large_free(s, p, call);
        return;
    default:
        if (p != NULL)
            report_misuse(call, p, "pointer was not allocated by tidemalloc, or was already freed");
    }
}
