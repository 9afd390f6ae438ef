/* Out of address space for real: run under `ulimit -v` (tests/faults/
 * ulimit.sh), with LD_PRELOAD=libtidemalloc.so or on plain glibc.
 *
 * Two rounds.  Each round holds blocks of 40 MiB, then 5 MiB, 100 KiB,
 * 3000 B and 64 B until each size fails; every failure must be NULL with
 * errno ENOMEM.  While memory is exhausted: calloc, realloc (grow a held
 * block: NULL + ENOMEM leaves it intact), posix_memalign (ENOMEM, *out and
 * errno untouched), aligned_alloc, memalign, valloc, pvalloc and a new
 * thread's first malloc each fail the documented way or succeed with a
 * usable block.  Then every held block is verified (an id written at its
 * start and end) and freed.  The second round must get at least half as
 * many bytes as the first: the allocator serves normally again.
 *
 *   oom [--expect-tidemalloc]
 * Output is written with write(2) from stack buffers: stdio's buffer is
 * static, so printing needs no memory.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1)
        n = (int)sizeof buf - 1;
    if (write(1, buf, (size_t)n) < 0)
        _exit(3);
}

#define FAIL(...)                                                            \
    do {                                                                     \
        say("oom.c:%d: FAIL: ", __LINE__);                                   \
        say(__VA_ARGS__);                                                    \
        say("\n");                                                           \
        _exit(1);                                                            \
    } while (0)

struct hdr {
    struct hdr *next;
    size_t size;
    uint64_t id;
};

static int tidemalloc; /* --expect-tidemalloc: the allocator is tidemalloc */
static struct hdr *held;
static uint64_t next_id = 1;
static size_t held_bytes, held_count;

static uint64_t tag(uint64_t id)
{
    return id * 0x9e3779b97f4a7c15ULL ^ 0x5bd1e995;
}

static void hold(void *p, size_t size)
{
    struct hdr *h = p;
    h->next = held;
    h->size = size;
    h->id = next_id++;
    uint64_t t = tag(h->id);
    memcpy((char *)p + size - sizeof t, &t, sizeof t);
    /* Touch every page, so the memory is really there. */
    for (size_t off = 4096; off + sizeof t < size; off += 4096)
        ((volatile char *)p)[off] = (char)h->id;
    held = h;
    held_bytes += size;
    held_count++;
}

static void verify_and_free_all(void)
{
    while (held) {
        struct hdr *h = held;
        uint64_t t;
        memcpy(&t, (char *)h + h->size - sizeof t, sizeof t);
        if (t != tag(h->id))
            FAIL("block %p (%zu bytes, id %llu) lost its end tag", (void *)h, h->size,
                 (unsigned long long)h->id);
        if (malloc_usable_size(h) < h->size)
            FAIL("usable size of %p below %zu", (void *)h, h->size);
        held = h->next;
        free(h);
    }
    held_bytes = held_count = 0;
}

static void expect_enomem(const char *what, size_t size)
{
    if (errno != ENOMEM)
        FAIL("%s(%zu) returned NULL with errno %d (%s), expected ENOMEM", what, size, errno,
             strerror(errno));
}

static void check_block(void *p, size_t size, size_t align, const char *what)
{
    if ((uintptr_t)p % align)
        FAIL("%s: %p not aligned to %zu", what, p, align);
    if (malloc_usable_size(p) < size)
        FAIL("%s: usable size %zu < %zu", what, malloc_usable_size(p), size);
    memset(p, 0x77, size);
}

static void *thread_alloc(void *arg)
{
    (void)arg;
    errno = 0;
    void *p = malloc(1000);
    if (!p) {
        expect_enomem("malloc in a new thread", 1000);
        return (void *)1;
    }
    memset(p, 1, 1000);
    free(p);
    return NULL;
}

/* Calls made while memory is exhausted. */
static unsigned probe_exhausted(void)
{
    unsigned failed = 0;
    errno = 0;
    void *p = calloc(1, 10u << 20);
    if (p) {
        check_block(p, 10u << 20, 16, "calloc");
        free(p);
    } else {
        expect_enomem("calloc", 10u << 20);
        failed++;
    }
    /* realloc a held block to far more: failure leaves it intact. */
    if (held) {
        struct hdr *h = held;
        struct hdr *next = h->next;
        size_t size = h->size;
        uint64_t id = h->id;
        errno = 0;
        void *q = realloc(h, size + (256u << 20));
        if (q) {
            FAIL("realloc by 256 MiB succeeded under the limit (%p)", q);
        }
        expect_enomem("realloc", size + (256u << 20));
        if (h->id != id || h->next != next || h->size != size)
            FAIL("failed realloc damaged the block");
        failed++;
    }
    errno = 1234;
    void *out = &failed;
    int rc = posix_memalign(&out, 65536, 8u << 20);
    if (rc == 0) {
        check_block(out, 8u << 20, 65536, "posix_memalign");
        free(out);
    } else {
        if (rc != ENOMEM)
            FAIL("posix_memalign returned %d, expected ENOMEM", rc);
        if (out != (void *)&failed)
            FAIL("failed posix_memalign changed *out");
        /* ENOMEM in errno too, as glibc leaves it (programs check it). */
        if (errno != ENOMEM)
            FAIL("failed posix_memalign left errno at %d, not ENOMEM", errno);
        failed++;
    }
    struct {
        const char *name;
        int kind;
    } forms[] = { { "aligned_alloc", 0 }, { "memalign", 1 }, { "valloc", 2 }, { "pvalloc", 3 } };
    for (int i = 0; i < 4; i++) {
        size_t size = 6u << 20;
        errno = 0;
        void *b = forms[i].kind == 0 ? aligned_alloc(4096, size)
                : forms[i].kind == 1 ? memalign(4096, size)
                : forms[i].kind == 2 ? valloc(size)
                                     : pvalloc(size);
        if (b) {
            check_block(b, size, 4096, forms[i].name);
            free(b);
        } else {
            expect_enomem(forms[i].name, size);
            failed++;
        }
    }
    pthread_t t;
    void *res;
    if (pthread_create(&t, NULL, thread_alloc, NULL) == 0) {
        pthread_join(t, &res);
        failed += res != NULL;
    }
    return failed;
}

static size_t round_run(int round)
{
    static const size_t sizes[] = { 40u << 20, 5u << 20, 100000, 3000, 64 };
    size_t per_size[5];
    for (int k = 0; k < 5; k++) {
        size_t n = 0;
        for (;;) {
            errno = 0;
            void *p = malloc(sizes[k]);
            if (!p) {
                expect_enomem("malloc", sizes[k]);
                break;
            }
            hold(p, sizes[k]);
            n++;
            if (held_bytes > ((size_t)8 << 30))
                FAIL("8 GiB allocated under the address-space limit: is ulimit -v in force?");
        }
        per_size[k] = n;
    }
    unsigned failed = probe_exhausted();
    say("round %d: held %zu blocks, %zu MiB (40M x%zu, 5M x%zu, 100K x%zu, 3000 x%zu, 64 x%zu); "
        "%u of 8 calls while exhausted failed with ENOMEM\n",
        round, held_count, held_bytes >> 20, per_size[0], per_size[1], per_size[2], per_size[3],
        per_size[4], failed);
    if (per_size[4] == 0 && per_size[3] == 0)
        FAIL("no small block at all: the limit is too low for this test");
    size_t bytes = held_bytes;
    verify_and_free_all();
    return bytes;
}

int main(int argc, char **argv)
{
    static char outbuf[4096];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    if (argc > 1 && strcmp(argv[1], "--expect-tidemalloc") == 0) {
        tidemalloc = 1;
        if (!dlsym(RTLD_DEFAULT, "tide_stats_get"))
            FAIL("tidemalloc is not loaded (LD_PRELOAD?)");
        Dl_info info;
        if (!dladdr((void *)(uintptr_t)dlsym(RTLD_DEFAULT, "malloc"), &info) ||
            !strstr(info.dli_fname, "libtidemalloc"))
            FAIL("malloc does not resolve into libtidemalloc");
    }
    size_t first = round_run(1);
    size_t second = round_run(2);
    if (second < first / 2)
        FAIL("second round got %zu MiB, first %zu MiB: memory was not reusable", second >> 20,
             first >> 20);
    /* Normal service after all that. */
    void *p = malloc(1 << 20);
    if (!p)
        FAIL("malloc(1 MiB) after freeing everything failed");
    memset(p, 1, 1 << 20);
    free(p);
    say("oom: OK\n");
    return 0;
}
