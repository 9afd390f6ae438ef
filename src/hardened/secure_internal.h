/* secure_internal — what the hardened build's files share among themselves
 * and nobody else needs (secure.h is the interface the hooks use).
 */
#ifndef TIDE_SECURE_INTERNAL_H
#define TIDE_SECURE_INTERNAL_H

#include <stddef.h>

#include "core/span.h"
#include "platform/os.h"
#include "secure.h"

#pragma GCC visibility push(hidden)

/* secure_init.c calls these once, from secure_init. */
void secure_fault_install(void); /* fault.c */
void secure_slab_fork_lock(void); /* secure_slab.c: its locks, for fork */
void secure_slab_fork_unlock(void);
void secure_large_fork_lock(void); /* secure_large.c */
void secure_large_fork_unlock(void);

/* shuffle.c: the per-thread generator (cheap, not strong). */
uint64_t secure_rand(void);
uint32_t secure_sample_phase(void); /* guarded.c: a slab's first fast-path countdown */

/* secure_decay.c: the policy for kept memory. */
uint64_t secure_kept_decay_ms(void);          /* how long memory may stay kept */
size_t secure_kept_cap_bytes(size_t own_max); /* a cache's bound */
void secure_kept_started(void);               /* a cache went from empty to not: wake the purger */
/* Give back what was kept at or before cutoff (ms); the oldest keep time
 * left, or UINT64_MAX when nothing is kept. */
uint64_t secure_slab_decay(uint64_t cutoff);  /* secure_slab.c */
uint64_t secure_large_decay(uint64_t cutoff); /* secure_large.c */
/* Was p a large block freed into a kept run (a second free of it)? With
 * its size (data bytes) in *bytes. */
bool secure_large_was_freed(const void *p, size_t *bytes);
/* For the fault handler (no lock): the kept run holding addr, or NULL. */
const span_t *secure_large_kept_at(const void *addr);

/* secure_large.c: the guard page of a large or huge block. */
void secure_large_guard(span_t *s, void *p);                  /* at malloc */
void secure_large_free(span_t *s, void *p, const char *call); /* after the checks */
/* Resize in place (or, huge, by mremap) to hold target bytes; NULL if the
 * block must move. */
void *secure_large_resize(span_t *s, void *p, size_t size, size_t target);

/* A slab's or a large run's guard: its last page. */
static inline char *secure_guard_page(const span_t *s)
{
    return s->start + ((s->npages - 1) << OS_PAGE_SHIFT);
}

/* Large and huge blocks: data pages, then the guard page (core/large.c adds
 * it to the request, mitigation_large_pad). */
static inline size_t secure_large_data_bytes(const span_t *s)
{
    return (s->npages - 1) << OS_PAGE_SHIFT;
}

/* Record p's requested size (a slab's state array, a large block's
 * sec_size) and fill the slack after it with the canary: a small block
 * when canary is set (sampled), a large one always (they are few). kept:
 * how many of the block's first bytes are the program's data (0 for a new
 * block; secure_canary_fill_upto). */
static inline void secure_record(span_t *s, void *p, size_t size, bool canary, size_t kept)
{
    if (s->kind == SPAN_SMALL) {
        uint16_t v = (uint16_t)(size + 1);
        if (canary) {
            v |= SECURE_STATE_CANARY;
            secure_canary_fill_upto(p, (char *)p + size, s->block_size - size, kept);
        }
        s->sec_state[secure_block_index(s, p)] = v;
    } else {
        s->sec_size = size;
        secure_canary_fill_upto(p, (char *)p + size, secure_large_data_bytes(s) - size, kept);
    }
}

/* p resized in place (or moved with headroom): its new requested size,
 * the canary sampled as it was at malloc; kept as for secure_record. */
static inline void secure_rerecord(span_t *s, void *p, size_t size, size_t kept)
{
    secure_record(s, p, size,
                  s->kind != SPAN_SMALL || secure_state_canary(s->sec_state[secure_block_index(s, p)]), kept);
}

#pragma GCC visibility pop

#endif
