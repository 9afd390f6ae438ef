/* realloc-grow: buffers that grow by realloc, interleaved.
 *
 * Models string builders and vectors: a set of buffers grows side by side,
 * half of them by small appends (realloc to size + a few bytes, as a text
 * buffer does) and half by geometric growth (x1.5, as a vector does). The
 * buffers interleave, so an allocator can grow in place only if it leaves
 * room or has size classes with slack. A buffer that reaches its target size
 * is freed and starts again small, with a new target.
 */
#include "common.h"

typedef struct {
    char *p;
    size_t size, target;
    int geometric;
} buf_t;

static void restart(buf_t *b, rng_t *r, size_t max)
{
    b->size = (size_t)rng_range(r, 8, 64);
    b->target = rng_logsize(r, 1024, max);
    b->geometric = (int)rng_below(r, 2);
    b->p = xmalloc(b->size);
    memset(b->p, 'a', b->size);
}

int main(int argc, char **argv)
{
    uint64_t ops = 4000000, nbuf = 64, max = 1 << 20, append_max = 256, seed = 3;
    opt_t opts[] = {
        {"ops", OPT_U64, &ops, "realloc calls"},
        {"buffers", OPT_U64, &nbuf, "buffers growing side by side"},
        {"max", OPT_U64, &max, "largest target size"},
        {"append-max", OPT_U64, &append_max, "bytes per append, at most"},
        {"seed", OPT_U64, &seed, "random seed"},
        {NULL, 0, NULL, NULL},
    };
    bench_init();
    parse_opts(argc, argv, "Interleaved buffers growing by realloc.", opts);
    if (nbuf == 0 || max < 1024 || append_max == 0) {
        fprintf(stderr, "bad parameters\n");
        return 2;
    }
    buf_t *b = harness_alloc(nbuf * sizeof *b);
    bench_rebase();

    rng_t r;
    rng_seed(&r, seed);
    uint64_t live = 0, peak = 0, moved = 0, completed = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < nbuf; i++) {
        restart(&b[i], &r, max);
        live += b[i].size;
    }
    for (uint64_t i = 0; i < ops; i++) {
        buf_t *x = &b[rng_below(&r, nbuf)];
        size_t grow = x->geometric ? x->size / 2 + 1 : (size_t)rng_range(&r, 1, append_max);
        size_t ns = x->size + grow;
        char *np = xrealloc(x->p, ns);
        moved += (np != x->p);
        /* write the new tail: every byte for appends, every page otherwise */
        if (x->geometric)
            touch(np + x->size, grow, 'b');
        else
            memset(np + x->size, 'b', grow);
        live += grow;
        x->p = np;
        x->size = ns;
        if (live > peak)
            peak = live;
        if (ns >= x->target) {
            live -= x->size;
            free(x->p);
            completed++;
            restart(x, &r, max);
            live += x->size;
        }
    }
    for (uint64_t i = 0; i < nbuf; i++)
        free(b[i].p);
    double ms = (double)(now_ns() - t0) / 1e6;
    emit_result("workload=realloc-grow ops=%llu work_ms=%.1f peak_live=%llu moved=%llu "
           "completed=%llu mops_per_s=%.3f",
           (unsigned long long)ops, ms, (unsigned long long)peak,
           (unsigned long long)moved, (unsigned long long)completed, (double)ops / ms / 1e3);
    return 0;
}
