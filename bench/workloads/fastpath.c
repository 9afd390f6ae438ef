/* fastpath: the steady-state cost of one free + malloc pair, for callgrind.
 *
 * Keeps --live blocks of one small --size live and, --iters times, frees the
 * oldest and allocates its replacement. Pages neither fill nor empty, so
 * after warm-up every pair takes the allocator's fast paths. The runner
 * counts instructions in run_pairs() with callgrind for N and 2N iterations
 * and subtracts, which removes start-up and warm-up; --mode=empty runs the
 * same loop without malloc/free to measure the loop itself. --mode=batch
 * frees --batch blocks and then allocates as many (see run_batch).
 *
 * Also prints which shared object malloc and free resolved to, so the runner
 * can check that the preloaded allocator (not valgrind's or glibc's) ran.
 */
#define _GNU_SOURCE
#include "common.h"

#include <dlfcn.h>

static void **g_a;

__attribute__((noinline)) void run_pairs(uint64_t iters, uint64_t live, size_t size)
{
    uint64_t j = 0;
    for (uint64_t i = 0; i < iters; i++) {
        free(g_a[j]);
        g_a[j] = malloc(size);
        if (++j == live)
            j = 0;
    }
}

__attribute__((noinline)) void run_empty(uint64_t iters, uint64_t live, size_t size)
{
    uint64_t j = 0;
    for (uint64_t i = 0; i < iters; i++) {
        void *p = g_a[j];
        __asm__ volatile("" : "+r"(p) : "r"(size) : "memory"); /* stands for free + malloc */
        g_a[j] = p;
        if (++j == live)
            j = 0;
    }
}

/* Frees `batch` blocks, then allocates `batch` replacements. Allocators
 * that move frees to a separate list and collect it on a slow path (as
 * mimalloc does) take that path once per batch here instead of once per
 * pair. */
__attribute__((noinline)) void run_batch(uint64_t iters, uint64_t live, size_t size, uint64_t batch)
{
    uint64_t j = 0;
    for (uint64_t i = 0; i < iters; i += batch) {
        for (uint64_t k = 0, x = j; k < batch; k++) {
            free(g_a[x]);
            if (++x == live)
                x = 0;
        }
        for (uint64_t k = 0; k < batch; k++) {
            g_a[j] = malloc(size);
            if (++j == live)
                j = 0;
        }
    }
}

__attribute__((noinline)) void run_batch_empty(uint64_t iters, uint64_t live, size_t size, uint64_t batch)
{
    uint64_t j = 0;
    for (uint64_t i = 0; i < iters; i += batch) {
        for (uint64_t k = 0, x = j; k < batch; k++) {
            void *p = g_a[x];
            __asm__ volatile("" : "+r"(p) : "r"(size) : "memory");
            if (++x == live)
                x = 0;
        }
        for (uint64_t k = 0; k < batch; k++) {
            void *p = g_a[j];
            __asm__ volatile("" : "+r"(p) : "r"(size) : "memory");
            g_a[j] = p;
            if (++j == live)
                j = 0;
        }
    }
}

static const char *object_of(void *fn)
{
    Dl_info info;
    if (dladdr(fn, &info) && info.dli_fname)
        return info.dli_fname;
    return "unknown";
}

int main(int argc, char **argv)
{
    uint64_t iters = 1000000, live = 256, size = 32, batch = 64;
    const char *mode = "pairs";
    opt_t opts[] = {
        {"iters", OPT_U64, &iters, "free+malloc pairs"},
        {"live", OPT_U64, &live, "blocks kept live"},
        {"size", OPT_U64, &size, "block size"},
        {"mode", OPT_STR, &mode, "pairs, batch, or empty / batch-empty (the loops alone)"},
        {"batch", OPT_U64, &batch, "blocks freed, then allocated, per step in batch mode"},
        {NULL, 0, NULL, NULL},
    };
    bench_init();
    parse_opts(argc, argv, "Steady-state free+malloc pair, for instruction counting.", opts);
    int m = !strcmp(mode, "pairs") ? 0 : !strcmp(mode, "empty") ? 1 : !strcmp(mode, "batch") ? 2
          : !strcmp(mode, "batch-empty") ? 3 : -1;
    if (m < 0 || !live || !size || !batch || batch > live || iters % batch) {
        fprintf(stderr, "bad parameters\n");
        return 2;
    }
    g_a = harness_alloc(live * sizeof(void *));
    /* warm-up: fill, then cycle once so every structure is initialised */
    for (uint64_t i = 0; i < live; i++)
        g_a[i] = xmalloc(size);
    run_pairs(live * 4, live, size);
    uint64_t t0 = now_ns();
    switch (m) {
    case 0: run_pairs(iters, live, size); break;
    case 1: run_empty(iters, live, size); break;
    case 2: run_batch(iters, live, size, batch); break;
    default: run_batch_empty(iters, live, size, batch); break;
    }
    double ms = (double)(now_ns() - t0) / 1e6;
    for (uint64_t i = 0; i < live; i++)
        if (!g_a[i]) {
            fprintf(stderr, "malloc returned NULL\n");
            return 4;
        }
    void *(*mf)(size_t) = malloc;
    void (*f)(void *) = free;
    emit_result("workload=fastpath mode=%s iters=%llu size=%llu work_ms=%.3f ns_per_pair=%.2f malloc_from=%s "
           "free_from=%s",
           mode, (unsigned long long)iters, (unsigned long long)size, ms, ms * 1e6 / (double)(iters ? iters : 1),
           object_of((void *)mf), object_of((void *)f));
    return 0;
}
