/* secure — the hardened build (TIDE_SECURE=1, build/libtidemalloc-secure.so).
 *
 * Per block of a slab, the requested size is kept outside the slab
 * (span.sec_state: size + 1, 0 = free). That gives exact double-free
 * detection, the size for free_sized / sized delete checks, and the end of
 * the requested bytes: the slack after them is filled with a canary at
 * malloc and checked at free. Slabs and large blocks end in a guard page;
 * slots are carved in random order; free-list links are encoded
 * (secure_list.h). A sampled allocation goes to the guarded pool
 * (guarded.c). Every detection is one line through report_heap_misuse.
 */
#ifndef TIDE_SECURE_H
#define TIDE_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"

#pragma GCC visibility push(hidden)

/* secure.c */
void secure_init(void); /* key, canary, fault handler: idempotent */
bool secure_slab_init(span_t *s);
void secure_slab_fini(span_t *s);
void secure_carve(span_t *s, char *first, uint32_t n);
void secure_on_alloc(void *p, size_t size);
void secure_free(void *p, size_t size, size_t align, const char *call);
size_t secure_usable_size(const void *p, const char *call);
void *secure_realloc(void *p, size_t size);
extern uint8_t secure_canary;

/* The block index of p in slab s (p - start is below 2^32). */
static inline uint32_t secure_block_index(const span_t *s, const void *p)
{
    uint64_t off = (uint64_t)((const char *)p - s->start);
    return (uint32_t)(((unsigned __int128)off * s->div_magic) >> 64);
}

/* guarded.c: sampled allocations, each alone in a page against a guard page
 * and made inaccessible when freed (in the spirit of GWP-ASan). */
extern __thread int32_t secure_countdown;
void *guarded_maybe_alloc(size_t size, size_t align, bool zero);
bool guarded_owns(const void *p);
void guarded_free(void *p, size_t size, size_t align, const char *call);
size_t guarded_usable_size(const void *p, const char *call);
/* The SIGSEGV handler's view: a report for a fault at addr if the pool
 * explains it (returns only if it does not). */
void guarded_explain_fault(const void *addr);

#pragma GCC visibility pop

#endif
