/* heap — one per thread: the current slab of each size class, slabs with
 * free blocks binned by fullness, and the list of slabs other threads freed
 * into. No locks and no atomics for a thread's own small blocks.
 *
 * A thread starts on `heap_empty`, whose every slot is span_none, so the
 * malloc fast path needs no "initialised?" test: the first allocation simply
 * misses and the slow path sets the thread up. When a thread exits its heap
 * is emptied as far as it can be and parked as an orphan; the next new thread
 * adopts it, slabs and all, so thread churn costs no new memory.
 */
#ifndef TIDE_HEAP_H
#define TIDE_HEAP_H

#include <stdatomic.h>
#include <stdbool.h>

#include "size_class.h"
#include "span.h"

#pragma GCC visibility push(hidden)

#define PARTIAL_BINS 4

/* Remote frees are batched on the freeing thread (src/core/slab.c, "remote
 * frees"): up to REMOTE_BATCH_MAX blocks of one slab are chained here and
 * handed to the slab with one CAS. The table is direct-mapped by slab, so a
 * thread pins at most REMOTE_SLOTS slabs of other threads, each with fewer
 * than REMOTE_BATCH_MAX blocks, between its flushes. */
#define REMOTE_SLOTS_LG 6
#define REMOTE_SLOTS (1 << REMOTE_SLOTS_LG)
#define REMOTE_BATCH_MAX 32

typedef struct remote_batch {
    span_t *span;           /* the slab the chain belongs to; NULL: empty */
    block_t *head, *tail;   /* freed blocks, most recent first */
    uint32_t n;
} remote_batch_t;

/* The classes above the direct table's reach (block sizes over
 * SC_DIRECT_MAX) are served from a few shared arenas, through a small cache
 * of blocks in each thread's heap (src/core/central.c explains why). */
#define SC_CENTRAL_FIRST 20u
#define SC_CENTRAL_COUNT (SC_COUNT - SC_CENTRAL_FIRST)
#define BLOCK_CACHE_SLOTS 16

typedef struct block_cache {
    uint32_t n;     /* blocks in slot[0..n), oldest first */
    uint32_t low;   /* the fewest held since the last trim */
    void *slot[BLOCK_CACHE_SLOTS];
} block_cache_t;

enum heap_state { HEAP_ACTIVE, HEAP_ORPHAN, HEAP_QUARANTINED, HEAP_STATIC };

typedef struct heap {
    span_t *direct[SC_DIRECT_COUNT]; /* current slab by (size + 15) / 16 */
    span_t *cur[SC_COUNT];           /* current slab by class */
    span_t *partial[SC_COUNT][PARTIAL_BINS]; /* bin 0 is the fullest; oldest first */
    span_t *partial_tail[SC_COUNT][PARTIAL_BINS]; /* the newest of each bin */
    span_t *spare[SC_COUNT];         /* one empty slab kept per class */
    _Atomic(span_t *) pending;       /* slabs with remote frees to collect */
    struct heap *next_all;
    struct heap *next_orphan;
    int state;                       /* written atomically: other threads' frees read it */
    uintptr_t key;                   /* thread_key() of its thread, or HEAP_KEY_UNOWNED */
    bool exit_hooked;                /* its thread's exit runs thread_exit_hook */
    int64_t prof_budget;             /* bytes to the next sample point */
    uint64_t prof_rng;
    uint64_t remote_used;            /* bit i: remote[i] holds a chain */
    remote_batch_t remote[REMOTE_SLOTS]; /* this thread's frees into other heaps' slabs */
    bool central;                    /* an arena's heap (central.c), run under its lock */
    uint32_t cache_ops;              /* central-class mallocs and frees since the last trim */
    uint16_t arena, arena_checks;    /* the arena refills come from, and refills until it is asked again */
    block_cache_t cache[SC_CENTRAL_COUNT]; /* blocks of the central classes, any arena's */
} heap_t;

extern __thread heap_t *tls_heap;

/* The calling thread's heap. On x86-64 this is the two-instruction
 * initial-exec load; gcc otherwise materialises the variable's address
 * first, one instruction more on every malloc and free. */
static inline heap_t *heap_get(void)
{
#if defined(__x86_64__) && defined(__PIC__)
    heap_t *h;
    __asm__("movq tls_heap@gottpoff(%%rip), %0\n\tmovq %%fs:(%0), %0" : "=r"(h));
    return h;
#else
    return tls_heap;
#endif
}
extern heap_t heap_empty;   /* a thread that has not allocated yet */

/* Who may free into a slab on the fast path: the thread pointer, which
 * x86-64 keeps at %fs:0, so the free fast path reads it in one instruction
 * (the heap pointer takes two: its TLS offset, then the value). Unique
 * among live threads; a new thread may reuse an exited one's, which is why
 * a heap's slabs are rekeyed when it is orphaned and when it is adopted. */
static inline uintptr_t thread_key(void)
{
#if defined(__x86_64__)
    uintptr_t k;
    __asm__("movq %%fs:0, %0" : "=r"(k));
    return k;
#else
    return (uintptr_t)__builtin_thread_pointer();
#endif
}
/* The key of a heap no thread runs (orphans, the shared heap of exited
 * threads): no thread pointer is 1, and 0 means "full". */
#define HEAP_KEY_UNOWNED ((uintptr_t)1)
extern heap_t heap_exited;  /* a thread whose heap has been handed back */

/* Give the calling thread a heap (adopting an orphan if there is one).
 * Returns heap_exited if the thread is past its exit hook. The process is
 * initialised (options read) before the first call: api/alloc.c does it. */
heap_t *heap_thread_init(void);
/* A heap made before the library constructor could create the exit key (a
 * thread started by an earlier constructor) gets its hook here, from the
 * allocation slow path, once the key exists. */
void heap_hook_exit_late(heap_t *h);
/* Serve one allocation for a thread past its exit hook, from a shared heap. */
void *heap_exited_alloc(size_t size, size_t align);
/* Collect remote frees for every orphaned heap (called by the background thread). */
void heap_collect_orphans(void);
/* Install the thread-exit hook (needs pthread keys: called from the
 * library constructor). */
void heap_setup_exit_hook(void);
size_t heap_count_active(void);
/* Call fn for every heap ever made (not the arenas'), under the heaps lock. */
void heap_walk(void (*fn)(heap_t *h, void *arg), void *arg);
size_t heap_count_orphans(void);

void heap_fork_prepare(void);
void heap_fork_parent(void);
void heap_fork_child(void);

#pragma GCC visibility pop

#endif
