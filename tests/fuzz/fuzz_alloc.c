/* Fuzz target: random sequences of every tide_* entry point, checked
 * against a shadow model.
 *
 * Built two ways (tests/CMakeLists.txt):
 *   - fuzz_alloc: clang -fsanitize=fuzzer,address,undefined, with the
 *     allocator's core sources compiled by clang into the same binary
 *     (libFuzzer's main);
 *   - fuzz_replay: any compiler, with replay.c's main, which runs every
 *     file of the seed corpus and a stream of generated inputs through the
 *     same LLVMFuzzerTestOneInput (the logic runs even without libFuzzer).
 *
 * An input is a byte string read front to back as operations.  The model
 * keeps NSLOTS slots, each empty or holding a live block with its requested
 * size, its alignment, how it was made (for free_aligned_sized) and an id.
 * Checked on every step:
 *   - every successful allocation: non-NULL, aligned to its required
 *     alignment (16, or the largest power of two <= size for smaller sizes;
 *     the requested alignment for aligned forms; a page for valloc/pvalloc),
 *     usable size >= requested (pvalloc: >= size rounded up to pages), no
 *     overlap with any other live block, calloc memory zero;
 *   - impossible sizes (beyond the address space, overflowing products,
 *     impossible alignments): NULL with errno ENOMEM (posix_memalign returns
 *     ENOMEM and leaves errno and *out alone), EINVAL for invalid alignments;
 *     a failed realloc leaves the block and its contents intact;
 *   - contents: each block is filled with a pattern derived from its id and
 *     verified before it is freed or reallocated and whenever an operation
 *     asks; realloc keeps the prefix (min of the sizes);
 *   - malloc_usable_size is stable and every usable byte can be written;
 *   - threads: a persistent helper thread frees, reallocates and allocates
 *     blocks on request (blocks cross in both directions), frees a batch
 *     while the main thread keeps allocating, and short-lived threads
 *     allocate blocks and exit, leaving them to the main thread.
 * Every input ends by freeing every live block (verified), so inputs do not
 * influence each other through the model.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tidemalloc.h"

#define NSLOTS 64
#define MAX_OPS 2048
#define PAGE 4096u
#define FILL_EDGE ((size_t)64 << 10) /* pattern covers head and tail of big blocks */

/* ---- failures ---------------------------------------------------------- */

__attribute__((noreturn, format(printf, 2, 3))) static void fuzz_fail(int line, const char *fmt, ...);

#include <stdarg.h>
static void fuzz_fail(int line, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "fuzz_alloc.c:%d: model violation: %s\n", line, buf);
    abort();
}
#define REQUIRE(cond, ...)                                                   \
    do {                                                                     \
        if (!(cond))                                                         \
            fuzz_fail(__LINE__, __VA_ARGS__);                                \
    } while (0)

/* ---- patterns ----------------------------------------------------------- */

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned char pat(uint64_t id, size_t i)
{
    return (unsigned char)(mix(id * 0x100000001b3ULL + (i >> 3)) >> ((i & 7) * 8));
}

/* The bytes of a block of n that carry its pattern: all of it up to
 * 2*FILL_EDGE, else the first and the last FILL_EDGE bytes. */
static void fill_range(unsigned char *p, size_t a, size_t b, uint64_t id)
{
    for (size_t i = a; i < b; i++)
        p[i] = pat(id, i);
}

static void fill(void *p, size_t n, uint64_t id)
{
    if (n <= 2 * FILL_EDGE) {
        fill_range(p, 0, n, id);
    } else {
        fill_range(p, 0, FILL_EDGE, id);
        fill_range(p, n - FILL_EDGE, n, id);
    }
}

/* Check the pattern of a block of n bytes over [0, limit). */
static void check_range(const unsigned char *p, size_t a, size_t b, uint64_t id, size_t n,
                        const char *what)
{
    for (size_t i = a; i < b; i++)
        REQUIRE(p[i] == pat(id, i), "%s: block %p (%zu bytes, id %llu): byte %zu is 0x%02x, expected 0x%02x",
                what, (const void *)p, n, (unsigned long long)id, i, p[i], pat(id, i));
}

static void check_pattern(const void *p, size_t n, size_t limit, uint64_t id, const char *what)
{
    if (limit > n)
        limit = n;
    if (n <= 2 * FILL_EDGE) {
        check_range(p, 0, limit, id, n, what);
    } else {
        check_range(p, 0, limit < FILL_EDGE ? limit : FILL_EDGE, id, n, what);
        if (limit > n - FILL_EDGE)
            check_range(p, n - FILL_EDGE, limit, id, n, what);
    }
}

static void check_zero(const unsigned char *p, size_t n)
{
    size_t lim = n <= 2 * FILL_EDGE ? n : FILL_EDGE;
    for (size_t i = 0; i < lim; i++)
        REQUIRE(p[i] == 0, "calloc block %p (%zu bytes): byte %zu is 0x%02x", (const void *)p, n, i, p[i]);
    if (n > 2 * FILL_EDGE)
        for (size_t i = n - FILL_EDGE; i < n; i++)
            REQUIRE(p[i] == 0, "calloc block %p (%zu bytes): byte %zu is 0x%02x", (const void *)p, n, i, p[i]);
}

/* ---- the model ----------------------------------------------------------- */

/* H_PAGE: valloc and pvalloc, whose blocks free_sized does not take (its
 * size must be what malloc, calloc or realloc was asked for; pvalloc's is
 * rounded up to pages), so they are only ever freed plainly. */
enum how { H_PLAIN, H_ALIGNED, H_PAGE };

struct slot {
    unsigned char *p;
    size_t size;   /* requested */
    size_t align;  /* required alignment */
    enum how how;
    uint64_t id;
};

static struct slot slots[NSLOTS];
static uint64_t next_id = 1;
/* While the helper frees slots 0..31 the main thread leaves them alone. */
static int low_half_busy;

static size_t natural_align(size_t n)
{
    if (n >= 16)
        return 16;
    size_t a = 1;
    while (a * 2 <= n)
        a *= 2;
    return a;
}

static void check_new_block(const unsigned char *p, size_t size, size_t align, int self)
{
    REQUIRE(p != NULL, "allocation of %zu failed", size);
    REQUIRE((uintptr_t)p % align == 0, "block %p (%zu bytes) not aligned to %zu", (const void *)p,
            size, align);
    size_t usable = tide_malloc_usable_size(p);
    REQUIRE(usable >= size, "usable size %zu < requested %zu", usable, size);
    size_t len = size ? size : 1;
    for (int i = 0; i < NSLOTS; i++) {
        const struct slot *s = &slots[i];
        if (i == self || (low_half_busy && i < 32) || !s->p)
            continue;
        size_t slen = s->size ? s->size : 1;
        REQUIRE(p + len <= s->p || s->p + slen <= p,
                "new block %p+%zu overlaps live block %p+%zu (slot %d)", (const void *)p, len,
                (const void *)s->p, slen, i);
    }
}

static void install(int i, void *p, size_t size, size_t align, enum how how)
{
    struct slot *s = &slots[i];
    check_new_block(p, size, align, i);
    s->p = p;
    s->size = size;
    s->align = align;
    s->how = how;
    s->id = next_id++;
    fill(p, size, s->id);
}

static void verify_slot(const struct slot *s, const char *what)
{
    check_pattern(s->p, s->size, s->size, s->id, what);
    size_t usable = tide_malloc_usable_size(s->p);
    REQUIRE(usable >= s->size, "%s: usable size %zu < %zu", what, usable, s->size);
}

/* Free with one of the three release calls; the block must be verified. */
static void release_block(struct slot *s, unsigned variant)
{
    verify_slot(s, "before free");
    switch (s->how == H_PAGE ? 0 : variant % 3) {
    case 0:
        tide_free(s->p);
        break;
    case 1:
        tide_free_sized(s->p, s->size);
        break;
    default:
        if (s->how == H_ALIGNED)
            tide_free_aligned_sized(s->p, s->align, s->size);
        else
            tide_free_sized(s->p, s->size);
    }
    memset(s, 0, sizeof *s);
}

/* ---- input decoding ------------------------------------------------------ */

struct input {
    const uint8_t *d;
    size_t n, pos;
};

static unsigned get8(struct input *in)
{
    return in->pos < in->n ? in->d[in->pos++] : 0;
}
static unsigned get16(struct input *in)
{
    unsigned a = get8(in);
    return a | get8(in) << 8;
}
static uint32_t get32(struct input *in)
{
    uint32_t a = get16(in);
    return a | (uint32_t)get16(in) << 16;
}

#define HUGE_MIN ((size_t)32 << 20)
#define SC_LIMIT 20000u
static int huge_budget; /* huge (own mapping) requests left in this input */

/* Sizes no allocator can serve on a 47-bit address space. */
static const size_t impossible[] = {
    SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4095, SIZE_MAX - 4096, SIZE_MAX - 65536,
    (size_t)PTRDIFF_MAX + 1, (size_t)PTRDIFF_MAX, (size_t)1 << 62, (size_t)1 << 56,
    (size_t)1 << 50,
};
#define N_IMPOSSIBLE (sizeof impossible / sizeof impossible[0])

/* A size, and whether it is impossible. */
static size_t get_size(struct input *in, int *bad)
{
    unsigned sel = get8(in);
    *bad = 0;
    if (sel < 150)
        return get16(in) % 1025;
    if (sel < 200)
        return 1025 + get16(in) % (SC_LIMIT - 1024);
    if (sel < 238)
        return get32(in) % ((size_t)3 << 20);
    if (sel < 246) {
        if (huge_budget <= 0)
            return get16(in);
        huge_budget--;
        return HUGE_MIN - 8192 + get32(in) % ((size_t)12 << 20);
    }
    *bad = 1;
    return impossible[get8(in) % N_IMPOSSIBLE];
}

/* ---- the helper thread ---------------------------------------------------- */

enum job_kind { J_NONE, J_FREE, J_REALLOC, J_MALLOC, J_BATCH_FREE, J_QUIT };

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    enum job_kind kind;
    int slot;
    size_t size;
    unsigned mask_lo; /* J_BATCH_FREE: which of slots 0..31 */
    int done;
    pthread_t thread;
    int started;
} helper = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, J_NONE, 0, 0, 0, 1, 0, 0 };

static void do_realloc(int i, size_t n, int bad);

static void helper_run_job(void)
{
    switch (helper.kind) {
    case J_FREE:
        release_block(&slots[helper.slot], (unsigned)helper.size);
        break;
    case J_REALLOC:
        do_realloc(helper.slot, helper.size, 0);
        break;
    case J_MALLOC:
        install(helper.slot, tide_malloc(helper.size), helper.size, natural_align(helper.size), H_PLAIN);
        break;
    case J_BATCH_FREE:
        for (int i = 0; i < 32; i++)
            if (helper.mask_lo >> i & 1)
                release_block(&slots[i], (unsigned)i);
        break;
    default:
        break;
    }
}

static void *helper_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&helper.lock);
    for (;;) {
        while (helper.done)
            pthread_cond_wait(&helper.cv, &helper.lock);
        if (helper.kind == J_QUIT)
            break;
        pthread_mutex_unlock(&helper.lock);
        helper_run_job();
        pthread_mutex_lock(&helper.lock);
        helper.done = 1;
        pthread_cond_broadcast(&helper.cv);
    }
    pthread_mutex_unlock(&helper.lock);
    return NULL;
}

static void helper_post(enum job_kind kind, int slot, size_t size, unsigned mask)
{
    if (!helper.started) {
        REQUIRE(pthread_create(&helper.thread, NULL, helper_main, NULL) == 0, "pthread_create");
        helper.started = 1;
    }
    pthread_mutex_lock(&helper.lock);
    helper.kind = kind;
    helper.slot = slot;
    helper.size = size;
    helper.mask_lo = mask;
    helper.done = 0;
    pthread_cond_broadcast(&helper.cv);
    pthread_mutex_unlock(&helper.lock);
}

static void helper_wait(void)
{
    pthread_mutex_lock(&helper.lock);
    while (!helper.done)
        pthread_cond_wait(&helper.cv, &helper.lock);
    pthread_mutex_unlock(&helper.lock);
}

/* A short-lived thread: allocates into slots [first, first+count), exits. */
struct spawn_arg {
    int first, count;
    size_t size;
};

static void *spawn_main(void *arg)
{
    struct spawn_arg *a = arg;
    for (int k = 0; k < a->count; k++) {
        size_t n = a->size + (size_t)k * 24;
        install(a->first + k, tide_malloc(n), n, natural_align(n), H_PLAIN);
    }
    return NULL;
}

/* ---- operations --------------------------------------------------------- */

static void expect_enomem_null(void *p, const char *call, size_t size)
{
    int e = errno;
    REQUIRE(p == NULL, "%s(%zu) succeeded (%p), expected NULL", call, size, p);
    REQUIRE(e == ENOMEM, "%s(%zu): errno %d, expected ENOMEM", call, size, e);
}

static void do_realloc(int i, size_t n, int bad)
{
    struct slot *s = &slots[i];
    if (!s->p) {
        errno = 0;
        void *p = tide_realloc(NULL, n);
        if (bad) {
            expect_enomem_null(p, "realloc(NULL)", n);
            return;
        }
        install(i, p, n, natural_align(n), H_PLAIN);
        return;
    }
    verify_slot(s, "before realloc");
    errno = 0;
    if (bad) {
        void *p = tide_realloc(s->p, n);
        expect_enomem_null(p, "realloc", n);
        verify_slot(s, "after a failed realloc");
        return;
    }
    if (n == 0) {
        /* glibc semantics: frees the block, returns NULL. */
        void *p = tide_realloc(s->p, 0);
        REQUIRE(p == NULL, "realloc(p, 0) returned %p", p);
        memset(s, 0, sizeof *s);
        return;
    }
    unsigned char *p = tide_realloc(s->p, n);
    REQUIRE(p != NULL, "realloc %zu -> %zu failed", s->size, n);
    size_t keep = s->size < n ? s->size : n;
    /* The kept prefix still carries the old pattern, over the bytes the
     * pattern covered in the old block. */
    if (s->size <= 2 * FILL_EDGE) {
        check_range(p, 0, keep, s->id, s->size, "realloc prefix");
    } else {
        check_range(p, 0, keep < FILL_EDGE ? keep : FILL_EDGE, s->id, s->size, "realloc prefix");
        if (keep > s->size - FILL_EDGE)
            check_range(p, s->size - FILL_EDGE, keep, s->id, s->size, "realloc prefix");
    }
    s->p = NULL;
    install(i, p, n, natural_align(n), H_PLAIN);
}

static size_t get_align(struct input *in, int *valid)
{
    unsigned sel = get8(in);
    *valid = 1;
    if (sel < 200)
        return (size_t)1 << (sel % 23); /* 1 .. 4 MiB */
    if (sel < 230) {
        static const size_t odd[] = { 0, 3, 24, 48, 100, 4097, 12288, (size_t)3 << 20 };
        *valid = 0;
        return odd[sel % 8];
    }
    static const size_t big[] = { (size_t)1 << 41, (size_t)1 << 50, (size_t)1 << 62, (size_t)1 << 63 };
    *valid = 2; /* a power of two too large to serve */
    return big[sel % 4];
}

static void op_aligned(struct input *in, int i, unsigned which)
{
    struct slot *s = &slots[i];
    if (s->p)
        release_block(s, which);
    int valid, bad;
    size_t align = get_align(in, &valid);
    size_t n = get_size(in, &bad);
    void *p = NULL;
    switch (which % 3) {
    case 0: { /* posix_memalign */
        errno = 12345;
        void *out = (void *)&helper;
        int rc = tide_posix_memalign(&out, align, n);
        /* glibc: errno is ENOMEM after an ENOMEM failure, untouched otherwise. */
        REQUIRE(rc == ENOMEM ? errno == ENOMEM : errno == 12345, "posix_memalign returned %d with errno %d", rc,
                errno);
        if (valid != 1 || align < sizeof(void *)) {
            REQUIRE(rc == EINVAL || (valid == 2 && rc == ENOMEM),
                    "posix_memalign(%zu, %zu) returned %d", align, n, rc);
            if (valid == 2)
                REQUIRE(rc == ENOMEM, "posix_memalign(2^k huge, %zu) returned %d", n, rc);
            REQUIRE(out == (void *)&helper, "failed posix_memalign wrote *out");
            return;
        }
        if (bad) {
            REQUIRE(rc == ENOMEM, "posix_memalign(%zu, %zu) returned %d, expected ENOMEM", align, n, rc);
            REQUIRE(out == (void *)&helper, "failed posix_memalign wrote *out");
            return;
        }
        REQUIRE(rc == 0, "posix_memalign(%zu, %zu) returned %d", align, n, rc);
        p = out;
        break;
    }
    case 1: /* aligned_alloc */
        errno = 0;
        p = tide_aligned_alloc(align, n);
        if (valid == 0) {
            REQUIRE(p == NULL && errno == EINVAL, "aligned_alloc(%zu, %zu): %p errno %d", align, n, p, errno);
            return;
        }
        if (valid == 2 || bad) {
            expect_enomem_null(p, "aligned_alloc", n);
            return;
        }
        break;
    default: /* memalign: non powers of two are rounded up */
        errno = 0;
        p = tide_memalign(align, n);
        if (valid == 2 || bad) {
            expect_enomem_null(p, "memalign", n);
            return;
        }
        if (align & (align - 1))
            align = (size_t)1 << (64 - __builtin_clzl(align));
        if (align == 0)
            align = 1;
        break;
    }
    size_t need = align > natural_align(n) ? align : natural_align(n);
    install(i, p, n, need, H_ALIGNED);
    slots[i].align = align;
}

static void op_page(struct input *in, int i, int pv)
{
    struct slot *s = &slots[i];
    if (s->p)
        release_block(s, 0);
    int bad;
    size_t n = get_size(in, &bad);
    errno = 0;
    void *p = pv ? tide_pvalloc(n) : tide_valloc(n);
    if (bad) {
        expect_enomem_null(p, pv ? "pvalloc" : "valloc", n);
        return;
    }
    install(i, p, n, PAGE, H_PAGE);
    if (pv) {
        size_t want = n ? (n + PAGE - 1) & ~(size_t)(PAGE - 1) : PAGE;
        size_t usable = tide_malloc_usable_size(p);
        REQUIRE(usable >= want, "pvalloc(%zu): usable %zu < %zu", n, usable, want);
    }
}

static void op_calloc(struct input *in, int i, int bad_product)
{
    struct slot *s = &slots[i];
    if (s->p)
        release_block(s, 1);
    int bad;
    size_t n = get_size(in, &bad), count, each;
    if (bad_product) {
        /* Products that overflow, some wrapping to small numbers. */
        static const size_t pairs[][2] = {
            { SIZE_MAX, 2 }, { (size_t)1 << 32, (size_t)1 << 32 }, { ((size_t)1 << 63) + 1, 2 },
            { 3, SIZE_MAX / 2 }, { (size_t)1 << 33, ((size_t)1 << 31) + 1 },
        };
        unsigned k = get8(in) % 5;
        errno = 0;
        void *p = get8(in) & 1 ? tide_calloc(pairs[k][0], pairs[k][1]) : tide_calloc(pairs[k][1], pairs[k][0]);
        expect_enomem_null(p, "calloc(overflowing product)", pairs[k][0]);
        return;
    }
    unsigned split = get8(in) % 4;
    static const size_t units[] = { 1, 2, 8, 24 };
    each = units[split];
    count = n / each;
    n = count * each;
    if (bad) {
        errno = 0;
        void *p = tide_calloc(1, impossible[get8(in) % N_IMPOSSIBLE]);
        expect_enomem_null(p, "calloc", 0);
        return;
    }
    unsigned char *p = tide_calloc(count, each);
    REQUIRE(p != NULL, "calloc(%zu, %zu) failed", count, each);
    check_zero(p, n);
    install(i, p, n, natural_align(n), H_PLAIN);
}

static void op_reallocarray(struct input *in, int i)
{
    struct slot *s = &slots[i];
    unsigned sel = get8(in);
    if (sel < 40) {
        errno = 0;
        void *p = tide_reallocarray(s->p, (size_t)1 << 33, ((size_t)1 << 31) + sel);
        expect_enomem_null(p, "reallocarray(overflow)", 0);
        if (s->p)
            verify_slot(s, "after a failed reallocarray");
        return;
    }
    size_t count = get8(in) + 1, each = get8(in) % 64 + 1;
    size_t n = count * each;
    if (!s->p) {
        void *p = tide_reallocarray(NULL, count, each);
        install(i, p, n, natural_align(n), H_PLAIN);
        return;
    }
    verify_slot(s, "before reallocarray");
    unsigned char *p = tide_reallocarray(s->p, count, each);
    REQUIRE(p != NULL, "reallocarray(%zu, %zu) failed", count, each);
    size_t keep = s->size < n ? s->size : n;
    check_pattern(p, s->size, keep, s->id, "reallocarray prefix");
    s->p = NULL;
    install(i, p, n, natural_align(n), H_PLAIN);
}

static void op_usable(int i)
{
    struct slot *s = &slots[i];
    if (!s->p) {
        REQUIRE(tide_malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) != 0");
        return;
    }
    size_t u = tide_malloc_usable_size(s->p);
    REQUIRE(u >= s->size, "usable %zu < size %zu", u, s->size);
    REQUIRE(tide_malloc_usable_size(s->p) == u, "usable size not stable");
    /* Every usable byte is ours: write the slack (bounded), then check the
     * pattern of the block and of every other live block's edges. */
    size_t slack_end = u - s->size > 65536 ? s->size + 65536 : u;
    memset(s->p + s->size, 0xa5, slack_end - s->size);
    verify_slot(s, "after writing the slack");
    for (int k = 0; k < NSLOTS; k++)
        if (slots[k].p && slots[k].size)
            check_pattern(slots[k].p, slots[k].size, slots[k].size < 64 ? slots[k].size : 64,
                          slots[k].id, "neighbour after a slack write");
}

static void cleanup(void)
{
    for (int i = 0; i < NSLOTS; i++)
        if (slots[i].p)
            release_block(&slots[i], (unsigned)i);
    memset(slots, 0, sizeof slots);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size, 0 };
    huge_budget = 2;
    int spawns = 4;
    for (int ops = 0; ops < MAX_OPS && in.pos < in.n; ops++) {
        unsigned op = get8(&in) % 20;
        int i = (int)(get8(&in) % NSLOTS);
        struct slot *s = &slots[i];
        int bad;
        switch (op) {
        case 0:
        case 1: { /* malloc */
            if (s->p)
                release_block(s, op);
            size_t n = get_size(&in, &bad);
            errno = 0;
            void *p = tide_malloc(n);
            if (bad)
                expect_enomem_null(p, "malloc", n);
            else
                install(i, p, n, natural_align(n), H_PLAIN);
            break;
        }
        case 2:
            op_calloc(&in, i, 0);
            break;
        case 3:
            op_calloc(&in, i, get8(&in) < 64);
            break;
        case 4:
        case 5: { /* realloc */
            size_t n = get_size(&in, &bad);
            do_realloc(i, n, bad);
            break;
        }
        case 6:
            op_reallocarray(&in, i);
            break;
        case 7:
        case 8:
        case 9:
            op_aligned(&in, i, op - 7);
            break;
        case 10:
        case 11:
            op_page(&in, i, op == 11);
            break;
        case 12:
        case 13: /* free, free_sized, free_aligned_sized */
            if (s->p)
                release_block(s, get8(&in));
            else
                tide_free(NULL);
            break;
        case 14:
            op_usable(i);
            break;
        case 15: /* the helper thread frees or reallocates our block */
            if (s->p) {
                unsigned v = get8(&in);
                size_t n = get_size(&in, &bad);
                if (bad || (v & 1))
                    helper_post(J_FREE, i, v, 0);
                else
                    helper_post(J_REALLOC, i, n, 0);
                helper_wait();
                break;
            }
            __attribute__((fallthrough)); /* an empty slot: */
        case 16: /* the helper allocates a block that we free later */
            if (s->p)
                release_block(s, 0);
            {
                size_t n = get_size(&in, &bad);
                if (bad || n >= HUGE_MIN - 8192)
                    n = 64;
                helper_post(J_MALLOC, i, n, 0);
                helper_wait();
            }
            break;
        case 17: { /* the helper frees a batch of slots 0..31 while we
                    * keep allocating in slots 32..63 */
            unsigned mask = get32(&in);
            for (int k = 0; k < 32; k++)
                if (!slots[k].p)
                    mask &= ~(1u << k);
            low_half_busy = 1;
            helper_post(J_BATCH_FREE, 0, 0, mask);
            unsigned m = get8(&in) % 16;
            for (unsigned k = 0; k < m; k++) {
                int j = 32 + (int)(get8(&in) % 32);
                if (slots[j].p)
                    release_block(&slots[j], k);
                size_t n = get16(&in) % 4096;
                install(j, tide_malloc(n), n, natural_align(n), H_PLAIN);
            }
            helper_wait();
            low_half_busy = 0;
            break;
        }
        case 18: { /* a thread allocates a few blocks and exits */
            if (spawns-- <= 0)
                break;
            int count = 1 + (int)(get8(&in) % 8);
            if (i + count > NSLOTS)
                i = NSLOTS - count;
            for (int k = i; k < i + count; k++)
                if (slots[k].p)
                    release_block(&slots[k], k);
            struct spawn_arg a = { i, count, get16(&in) % 20000 };
            pthread_t t;
            REQUIRE(pthread_create(&t, NULL, spawn_main, &a) == 0, "pthread_create");
            REQUIRE(pthread_join(t, NULL) == 0, "pthread_join");
            break;
        }
        default: /* verify every live block */
            for (int k = 0; k < NSLOTS; k++)
                if (slots[k].p)
                    verify_slot(&slots[k], "full check");
            break;
        }
    }
    cleanup();
    return 0;
}
