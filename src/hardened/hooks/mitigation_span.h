/* mitigation_span (hardened build) — the descriptor fields and the encoded,
 * checked free-list links of the hardened build; the empty defaults are in
 * src/core/hooks/mitigation_span.h.
 */
#ifndef TIDE_MITIGATION_SPAN_H
#define TIDE_MITIGATION_SPAN_H

/* On the line malloc and free touch anyway: a slab's per-block state,
 * requested size + 1 (0 = free); and the fast path's sampling countdown
 * (secure_fast.h). */
#define SPAN_MITIGATION_HOT_FIELDS \
    uint16_t *sec_state;           \
    uint32_t sec_countdown; /* the fast path's allocations to the next sampled one */
/* sec_size: a large or huge block's requested size (a slab: its guard is
 * in place); sec_guarded: a large run's guard page is protected;
 * sec_kept_ms: when a kept slab or run was kept (secure_decay.c);
 * sec_head: the full level's guard page before a large block is in place
 * (start and npages then leave it out: secure_large.c). */
#define SPAN_MITIGATION_FIELDS \
    size_t sec_size;           \
    uint64_t sec_kept_ms;      \
    uint8_t sec_guarded;       \
    uint8_t sec_head;

#include "hardened/secure_list.h"

#endif
