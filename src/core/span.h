/* span — a run of pages handed out by the page heap, and what it is used for.
 *
 * A span is a slab (blocks of one size class), a large block (one page run),
 * or a huge block (its own mapping). Its descriptor lives outside the pages,
 * so every page of a slab can be handed back to the OS.
 *
 * Invariants of a slab:
 *  - `used` counts blocks handed out by malloc and not yet back on `free` or
 *    `local_free`; blocks freed by other threads still count until the owner
 *    collects them from `thread_free`, and so do blocks another thread has
 *    freed but still holds in its batch for the slab (heap_t.remote). So
 *    used == 0 means every block is home.
 *  - Only the owning thread touches free, local_free, used and the lists.
 *  - Other threads only push onto `thread_free`: one CAS per chain of
 *    blocks (a batch of up to REMOTE_BATCH_MAX, or a single block). Bit 0 of
 *    thread_free says the slab is queued (or about to be) on its owner's
 *    pending list; only the owner, taking it off that list, clears the bit,
 *    and a slab with the bit set is never released.
 *  - owner_fast is the owner heap's key (heap.key: the thread pointer of the
 *    thread running it) while that thread may free into the slab on the
 *    fast path; 0 when the slab is full (so the first free into a full slab
 *    takes the slow path and puts the slab back in a partial bin) and for
 *    large and huge spans; HEAP_KEY_UNOWNED while no thread runs the heap.
 */
#ifndef TIDE_SPAN_H
#define TIDE_SPAN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

struct heap;
struct region;

typedef struct block {
    struct block *next;
} block_t;

/* The hardened build's descriptor fields and links; empty by default. */
#include <mitigation_span.h>

enum span_kind {
    SPAN_NONE = 0, /* the sentinel: "not ours" */
    SPAN_SMALL,
    SPAN_LARGE,
    SPAN_HUGE,
};

typedef struct span {
    /* Read by every free, written only when the slab fills, empties or
     * changes hands: other threads' frees share this line without making
     * it bounce. */
    uintptr_t owner_fast; /* read by every thread's free: span_owner_fast() */
    uint64_t div_magic;   /* off % block_size == 0  <=>  off * div_magic < div_magic */
    uint64_t start_magic; /* start * div_magic: p * M - start_magic == (p - start) * M */
    /* div_magic again: the free path compares with this copy, so the
     * compiler multiplies by div_magic straight from memory (one
     * instruction less than keeping it in a register for both). */
    uint64_t div_limit;
    char *start;
    struct heap *owner;
    size_t npages;        /* pages of the run (huge: of the mapping) */
    uint32_t block_size;
    uint8_t kind;
    uint8_t class_idx;
    uint8_t bin;          /* partial bin, or SPAN_NO_BIN */
    uint8_t clean;        /* every page came zeroed from the OS */

    /* Written by the owner on every malloc and local free. */
    block_t *free __attribute__((aligned(64)));
    block_t *local_free;
    uint32_t used;
    uint32_t capacity;    /* blocks carved out of the slab so far */
    uint32_t reserved;    /* blocks the slab can hold */
    uint32_t prof_rest_n;
    SPAN_MITIGATION_HOT_FIELDS /* hardened build only: <mitigation_span.h> */
    struct span *next, *prev; /* partial-bin list; descriptor free list */
    /* heap profiling: a slab's free list cut at the next sample point
     * (slab_charge), and a sampled block's record (large and huge spans) */
    block_t *prof_rest;
    struct prof_sample *prof;
    SPAN_MITIGATION_FIELDS

    /* Written by other threads' frees (one CAS each). */
    _Atomic uintptr_t thread_free __attribute__((aligned(64)));
    struct span *pending_next;
    /* Read-mostly, but only by the page heap: kept off the first line. */
    struct region *region; /* NULL for huge spans */
} span_t;

#define SPAN_NO_BIN 0xff

/* owner_fast is read by any thread's free while the owner may rewrite it.
 * Another thread reads either value and, never being the owner, compares
 * unequal either way; the owner reads its own writes. The writes are
 * relaxed atomics. The read is too under ThreadSanitizer, so that it checks
 * this protocol; elsewhere it stays a plain load, because gcc folds that
 * into the compare and not an atomic load (one instruction on every free;
 * both are the same single move on x86-64). */
static inline uintptr_t span_owner_fast(const span_t *s)
{
#if defined(__SANITIZE_THREAD__)
    return __atomic_load_n(&s->owner_fast, __ATOMIC_RELAXED);
#else
    return s->owner_fast;
#endif
}

static inline void span_set_owner_fast(span_t *s, uintptr_t key)
{
    __atomic_store_n(&s->owner_fast, key, __ATOMIC_RELAXED);
}

/* A free block's link is block_next / block_set_next, from
 * <mitigation_span.h> (included above): plain by default; the hardened
 * build stores it encoded with a per-process key and checks every read. */

/* p is the start of one of slab s's blocks: p - start divisible by the
 * block size, tested as the free fast path does (a multiplication). */
static inline int span_is_block_start(const span_t *s, const void *p)
{
    return (uint64_t)(uintptr_t)p * s->div_magic - s->start_magic < s->div_magic;
}

/* free_fast_sized's size when the caller gives none (only an alignment). */
#define FREE_NO_SIZE ((size_t)-1)

/* A free the fast path could not finish (another thread's slab, a full
 * slab, a large or huge block, a pointer that is not ours), sorted out by
 * what the span is used for; misuse is reported. core/span.c. */
void free_slow(void *p, span_t *s, const char *call);

/* The sentinel span: every unmapped page maps to it, and every empty heap's
 * size-class slot points at it, so fast paths need no NULL checks. */
#define span_none (pagemap.none)

#pragma GCC visibility pop

#endif
