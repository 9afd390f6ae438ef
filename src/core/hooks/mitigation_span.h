/* mitigation_span (default build) — what the hardened build adds to a span
 * descriptor and to a free block's link, empty here.
 *
 * span.h includes this through the include path the build selects:
 * src/core/hooks/ in the default build, src/hardened/hooks/ in the hardened
 * one (docs/ARCHITECTURE.md, "Hooks"). So the descriptor keeps its default
 * layout, and block links are plain loads and stores, without an #if in
 * span.h.
 */
#ifndef TIDE_MITIGATION_SPAN_H
#define TIDE_MITIGATION_SPAN_H

/* Fields on the descriptor line malloc and free touch, and elsewhere. */
#define SPAN_MITIGATION_HOT_FIELDS
#define SPAN_MITIGATION_FIELDS

static inline block_t *block_next(const block_t *b) { return b->next; }
static inline void block_set_next(block_t *b, block_t *next) { b->next = next; }
/* A link read by a thread that does not own the list (the statistics'
 * census), unchecked: the caller validates it before following it. */
static inline block_t *block_peek_next(const block_t *b) { return __atomic_load_n(&b->next, __ATOMIC_RELAXED); }

#endif
