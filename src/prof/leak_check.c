/* leak_check — TIDE_CONF=leak_check:true classifies every block still
 * allocated at exit, as a core-dump leak classifier would:
 *
 *   reached       a chain of pointers to block starts leads to it from a root
 *   maybe leaked  reachable from the roots, but only through some pointer
 *                 into the middle of a block
 *   leaked        not reachable at all ("indirectly" when other leaked
 *                 blocks point to it)
 *
 * Leak-check mode samples every allocation (so every block has its record
 * and stack). The scan is conservative: any aligned word whose value falls
 * in a block counts as a pointer. Roots are every writable private mapping
 * (the data and bss of each loaded object, other threads' stacks, the
 * program's own mmaps) and the live part of this thread's stack, with its
 * registers spilled onto it; the allocator's own memory is skipped.
 */
#define _GNU_SOURCE
#include <string.h>

#include "core/meta.h"
#include "platform/os.h"
#include "core/page_heap.h"
#include "core/pagemap.h"
#include "prof_internal.h"

enum { MARK_REACHED = 1, MARK_INTERIOR = 2, MARK_MAYBE = 4, MARK_INDIRECT = 8 };

typedef struct scan {
    prof_sample_t **blocks; /* sorted by address */
    size_t n;
    prof_sample_t **work;   /* blocks to scan */
    size_t nwork;
    uintptr_t skip_lo[4], skip_hi[4]; /* our scratch and tables */
    unsigned nskip;
} scan_t;

typedef bool (*less_fn)(const prof_sample_t *, const prof_sample_t *);

static void sift_down(prof_sample_t **a, size_t i, size_t n, less_fn less)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && less(a[c], a[c + 1]))
            c++;
        if (!less(a[i], a[c]))
            return;
        prof_sample_t *t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

/* Heapsort: no allocation, no recursion. */
static void sort_samples(prof_sample_t **a, size_t n, less_fn less)
{
    for (size_t k = n / 2; k-- > 0;)
        sift_down(a, k, n, less);
    for (size_t end = n; end-- > 1;) {
        prof_sample_t *t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end, less);
    }
}

static bool by_address(const prof_sample_t *x, const prof_sample_t *y) { return x->ptr < y->ptr; }
static bool by_stack(const prof_sample_t *x, const prof_sample_t *y) { return x->stack < y->stack; }

/* The block v points into, or NULL; *exact says whether at its start. */
static prof_sample_t *find(const scan_t *sc, uintptr_t v, bool *exact)
{
    size_t lo = 0, hi = sc->n;
    while (lo < hi) { /* last block starting at or below v */
        size_t mid = (lo + hi) / 2;
        if ((uintptr_t)sc->blocks[mid]->ptr <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    prof_sample_t *b = sc->blocks[lo - 1];
    uintptr_t start = (uintptr_t)b->ptr;
    *exact = v == start;
    return v == start || v < start + b->size ? b : NULL;
}

/* Scan [lo, hi) for pointers. Phase 1 (any == false) follows pointers to
 * block starts; interior pointers only flag their block. Phase 2 follows
 * every pointer. */
static void scan_range(scan_t *sc, uintptr_t lo, uintptr_t hi, bool any)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    for (uintptr_t a = lo; a + 8 <= hi; a += 8) {
        uintptr_t v = *(const uintptr_t *)a;
        bool exact;
        prof_sample_t *b = v >= 4096 ? find(sc, v, &exact) : NULL;
        if (!b)
            continue;
        if (!any && !exact) {
            b->mark |= MARK_INTERIOR;
            continue;
        }
        uint8_t want = any ? MARK_MAYBE : MARK_REACHED;
        if (b->mark & (MARK_REACHED | want))
            continue;
        b->mark |= want;
        sc->work[sc->nwork++] = b;
    }
}

static void drain(scan_t *sc, bool any)
{
    while (sc->nwork) {
        prof_sample_t *b = sc->work[--sc->nwork];
        scan_range(sc, (uintptr_t)b->ptr, (uintptr_t)b->ptr + b->size, any);
    }
}

static bool skipped(const scan_t *sc, uintptr_t page)
{
    for (unsigned i = 0; i < sc->nskip; i++)
        if (page >= sc->skip_lo[i] && page < sc->skip_hi[i])
            return true;
    if (pagemap_lookup((void *)page) != &span_none || page_heap_owns((void *)page) ||
        meta_owns((void *)page))
        return true;
    bool exact;
    return find(sc, page, &exact) != NULL; /* a huge block's own mapping */
}

typedef struct roots {
    scan_t *sc;
    uintptr_t sp;
} roots_t;

/* Every writable private mapping, page by page, minus the allocator's. */
static void scan_mapping(void *ctx, const os_mapping_t *m)
{
    roots_t *r = ctx;
    bool device = m->path_len >= 5 && memcmp(m->path, "/dev/", 5) == 0;
    if (!m->readable || !m->writable || !m->private_ || device)
        return;
    uintptr_t lo = m->start, hi = m->end;
    if (r->sp >= lo && r->sp < hi)
        lo = r->sp & ~(uintptr_t)7; /* below sp is dead stack */
    for (uintptr_t pg = lo; pg < hi;) {
        uintptr_t next = (pg & ~(OS_PAGE_SIZE - 1)) + OS_PAGE_SIZE;
        if (next > hi)
            next = hi;
        if (!skipped(r->sc, pg & ~(OS_PAGE_SIZE - 1)))
            scan_range(r->sc, pg, next, false);
        pg = next;
    }
}

static void put_bytes_blocks(textbuf_t *t, uint64_t bytes, uint64_t blocks)
{
    tb_u64(t, bytes);
    tb_str(t, " bytes in ");
    tb_u64(t, blocks);
    tb_str(t, blocks == 1 ? " block" : " blocks");
}

static void report_group(textbuf_t *t, const char *what, prof_sample_t **g, size_t k)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < k; i++)
        bytes += g[i]->size;
    tb_str(t, "tidemalloc: ");
    tb_str(t, what);
    tb_str(t, ": ");
    put_bytes_blocks(t, bytes, k);
    tb_str(t, ", allocated at\n");
    const prof_stack_t *st = g[0]->stack;
    for (uint32_t d = 0; d < st->depth && d < 12; d++) {
        tb_str(t, "tidemalloc:     ");
        prof_put_frame(t, st->pc[d]);
        tb_str(t, "\n");
    }
    if (st->depth == 0)
        tb_str(t, "tidemalloc:     (no stack)\n");
}

void leak_check_run(int fd)
{
    textbuf_t t = { .fd = fd };
    prof_lock_samples();
    size_t n = 0;
    for (prof_sample_t *r = prof_live_samples; r; r = r->next)
        n++;
    size_t maps_cap = (size_t)64 << 10; /* a line buffer for the maps reader */
    size_t arrays = ((2 * n * sizeof(void *)) + OS_PAGE_SIZE) & ~(OS_PAGE_SIZE - 1);
    char *scratch = os_reserve(arrays + maps_cap, OS_PAGE_SIZE);
    if (!scratch) {
        prof_unlock_samples();
        tb_str(&t, "tidemalloc: leak check: out of memory for the scan\n");
        tb_flush(&t);
        return;
    }
    scan_t sc = { .blocks = (prof_sample_t **)scratch, .n = n };
    sc.work = sc.blocks + n;
    size_t i = 0;
    for (prof_sample_t *r = prof_live_samples; r; r = r->next) {
        r->mark = 0;
        sc.blocks[i++] = r;
    }
    sort_samples(sc.blocks, n, by_address);
    sc.skip_lo[0] = (uintptr_t)scratch;
    sc.skip_hi[0] = (uintptr_t)scratch + arrays + maps_cap;
    sc.skip_lo[1] = (uintptr_t)&pagemap;
    sc.skip_hi[1] = (uintptr_t)(&pagemap + 1);
    sc.nskip = 2;

    char *maps = scratch + arrays;

    /* Registers onto the stack, then everything from here up is live. */
    __builtin_unwind_init();
    uintptr_t sp;
#if defined(__x86_64__)
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
#elif defined(__aarch64__)
    __asm__ volatile("mov %0, sp" : "=r"(sp));
#else
    sp = (uintptr_t)__builtin_frame_address(0) - 4096;
#endif
    roots_t roots = { .sc = &sc, .sp = sp };
    os_maps_foreach(maps, maps_cap, scan_mapping, &roots);
    drain(&sc, false);
    /* Phase 2: through interior pointers, from everything reachable. */
    for (i = 0; i < n; i++) {
        prof_sample_t *b = sc.blocks[i];
        if ((b->mark & MARK_INTERIOR) && !(b->mark & (MARK_REACHED | MARK_MAYBE))) {
            b->mark |= MARK_MAYBE;
            sc.work[sc.nwork++] = b;
        }
    }
    drain(&sc, true);
    /* Leaked blocks that other leaked blocks point to. */
    for (i = 0; i < n; i++) {
        prof_sample_t *b = sc.blocks[i];
        if (b->mark & (MARK_REACHED | MARK_MAYBE))
            continue;
        for (uintptr_t a = ((uintptr_t)b->ptr + 7) & ~(uintptr_t)7; a + 8 <= (uintptr_t)b->ptr + b->size; a += 8) {
            bool exact;
            prof_sample_t *c = find(&sc, *(const uintptr_t *)a, &exact);
            if (c && c != b && !(c->mark & (MARK_REACHED | MARK_MAYBE)))
                c->mark |= MARK_INDIRECT;
        }
    }

    uint64_t cnt[3] = { 0 }, bytes[3] = { 0 }, indirect = 0;
    size_t nl = 0, nm = 0;
    for (i = 0; i < n; i++) {
        prof_sample_t *b = sc.blocks[i];
        int k = b->mark & MARK_REACHED ? 2 : b->mark & MARK_MAYBE ? 1 : 0;
        cnt[k]++;
        bytes[k] += b->size;
        indirect += k == 0 && (b->mark & MARK_INDIRECT);
    }
    /* Group the leaked, then the maybe leaked, by stack. */
    prof_sample_t **leaked = sc.work, **maybe = sc.work + cnt[0];
    for (i = 0; i < n; i++) {
        prof_sample_t *b = sc.blocks[i];
        if (!(b->mark & (MARK_REACHED | MARK_MAYBE)))
            leaked[nl++] = b;
        else if (!(b->mark & MARK_REACHED))
            maybe[nm++] = b;
    }
    sort_samples(leaked, nl, by_stack);
    sort_samples(maybe, nm, by_stack);

    tb_str(&t, "tidemalloc: leak check at exit: leaked ");
    put_bytes_blocks(&t, bytes[0], cnt[0]);
    tb_str(&t, " (");
    tb_u64(&t, indirect);
    tb_str(&t, " only pointed to by leaked blocks); maybe leaked ");
    put_bytes_blocks(&t, bytes[1], cnt[1]);
    tb_str(&t, "; reached ");
    put_bytes_blocks(&t, bytes[2], cnt[2]);
    tb_str(&t, "\n");
    for (int pass = 0; pass < 2; pass++) {
        prof_sample_t **g = pass ? maybe : leaked;
        size_t total = pass ? nm : nl;
        for (size_t a = 0; a < total;) {
            size_t b = a;
            while (b < total && g[b]->stack == g[a]->stack)
                b++;
            report_group(&t, pass ? "maybe leaked" : "leaked", g + a, b - a);
            a = b;
        }
    }
    prof_unlock_samples();
    tb_flush(&t);
    os_release(scratch, arrays + maps_cap);
}
