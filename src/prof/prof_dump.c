/* prof_dump — when profiles are written, where, and in which formats; the
 * leak summary at exit. Dumps run in the thread that hit the trigger (or
 * the background thread for time triggers), holding no allocator lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <dlfcn.h>
#include <string.h>

#include "tidemalloc.h"

#include "config/config.h"
#include "platform/os.h"
#include "prof_internal.h"
#include "platform/report.h"
#include "platform/textbuf.h"

_Atomic bool prof_dump_pending;
static _Atomic uint64_t interval_bytes;  /* toward the next lg_prof_interval dump */
static _Atomic unsigned dump_seq;
static _Atomic bool dumping;             /* one dump at a time; others skip */
static double peak_live;                 /* under prof_lock */
static uint64_t next_time_dump;
static bool warned_open, warned_write;

void prof_count_bytes(uint64_t bytes)
{
    if (OPT(lg_prof_interval) < 0 || !OPT(prof))
        return;
    uint64_t every = (uint64_t)1 << OPT(lg_prof_interval);
    uint64_t before = atomic_fetch_add_explicit(&interval_bytes, bytes, memory_order_relaxed);
    if (before / every != (before + bytes) / every)
        atomic_store_explicit(&prof_dump_pending, true, memory_order_relaxed);
}

void prof_dump_pending_run(void)
{
    if (atomic_exchange_explicit(&prof_dump_pending, false, memory_order_relaxed))
        prof_dump_trigger(PROF_TRIGGER_BYTES);
}

bool prof_peak_check(double live)
{
    /* A new high-water mark, by at least 1/16 (and one sampling interval)
     * over the last one dumped: growth is reported without a dump for
     * every sample of a steady climb. */
    if (!OPT(prof_gdump) || !OPT(prof))
        return false;
    double step = peak_live / 16;
    if (step < (double)prof_sample_bytes())
        step = (double)prof_sample_bytes();
    if (live < peak_live + step)
        return false;
    peak_live = live;
    return true;
}

uint64_t prof_tick(uint64_t now)
{
    uint64_t every = OPT(prof_interval_ms);
    if (!every || !OPT(prof)) {
        next_time_dump = 0;
        return UINT64_MAX;
    }
    if (!next_time_dump)
        next_time_dump = now + every;
    if (now >= next_time_dump) {
        prof_dump_trigger(PROF_TRIGGER_TIME);
        next_time_dump = now + every;
    }
    return next_time_dump;
}

static const char *const trigger_names[] = {
    [PROF_TRIGGER_BYTES] = "bytes",
    [PROF_TRIGGER_TIME] = "time",
    [PROF_TRIGGER_PEAK] = "peak",
    [PROF_TRIGGER_EXIT] = "exit",
    [PROF_TRIGGER_MANUAL] = "manual",
};

/* <prefix>.<pid>.<seq>.<trigger>.heap, and the other formats beside it. */
static size_t dump_name(char *out, size_t cap, enum prof_trigger why, unsigned seq)
{
    textbuf_t t = { .fd = -1 };
    char prefix[sizeof options.prof_prefix];
    config_prefix(prefix, sizeof prefix);
    tb_str(&t, prefix);
    tb_str(&t, ".");
    tb_u64(&t, (uint64_t)os_getpid());
    tb_str(&t, ".");
    tb_u64(&t, seq);
    tb_str(&t, ".");
    tb_str(&t, trigger_names[why]);
    tb_str(&t, ".heap");
    if (t.n + 8 > cap)
        return 0;
    memcpy(out, t.buf, t.n);
    out[t.n] = 0;
    return t.n;
}

static void warn_once(bool *flag, const char *what, const char *path, int err)
{
    if (*flag)
        return;
    *flag = true;
    textbuf_t t = { .fd = 2 };
    tb_str(&t, "tidemalloc: prof: ");
    tb_str(&t, what);
    tb_str(&t, " '");
    tb_str(&t, path);
    tb_str(&t, "': ");
    tb_str(&t, strerrordesc_np(err) ? strerrordesc_np(err) : "unknown error");
    tb_str(&t, " (the program continues; further failures are not reported)\n");
    tb_flush(&t);
}

static bool write_one(const char *path, bool (*writer)(int))
{
    int fd = os_open_write(path);
    if (fd < 0) {
        warn_once(&warned_open, "cannot create profile", path, errno);
        return false;
    }
    bool ok = writer(fd);
    int err = errno;
    if (!os_close(fd) && ok) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        warn_once(&warned_write, "cannot write profile", path, err);
        os_unlink(path);
    }
    return ok;
}

static const struct {
    uint64_t bit;
    const char *suffix;
    bool (*write)(int fd);
} formats[] = {
    { PROF_FORMAT_HEAP_V2, "", prof_write_heap_v2 },
    { PROF_FORMAT_PPROF, ".pb.gz", prof_write_pprof },
    { PROF_FORMAT_FOLDED, ".folded", prof_write_folded },
};

bool prof_dump_named(enum prof_trigger why, char *path_out, size_t path_cap)
{
    /* On request, a profile stopped with tide_prof_stop still has its
     * samples: write them. */
    if (!OPT(prof) && (why != PROF_TRIGGER_MANUAL || !__atomic_load_n(&prof_ever_flag, __ATOMIC_RELAXED)))
        return false;
    if (atomic_exchange_explicit(&dumping, true, memory_order_acquire))
        return false;
    char path[sizeof options.prof_prefix + 64];
    unsigned seq = atomic_fetch_add_explicit(&dump_seq, 1, memory_order_relaxed);
    size_t n = dump_name(path, sizeof path - 8, why, seq);
    bool ok = n > 0, first = true;
    for (size_t i = 0; ok && i < sizeof formats / sizeof formats[0]; i++) {
        if (!(OPT(prof_format) & formats[i].bit) || !formats[i].write)
            continue;
        strcpy(path + n, formats[i].suffix);
        ok = write_one(path, formats[i].write);
        if (ok && first && path_out && strlen(path) < path_cap)
            strcpy(path_out, path);
        first = false;
    }
    atomic_store_explicit(&dumping, false, memory_order_release);
    return ok;
}

bool prof_dump_trigger(enum prof_trigger why)
{
    return prof_dump_named(why, NULL, 0);
}

TIDE_EXPORT int tide_prof_dump(char *path_out, size_t path_cap)
{
    if (!OPT(prof) && !__atomic_load_n(&prof_ever_flag, __ATOMIC_RELAXED))
        return ENOENT;
    return prof_dump_named(PROF_TRIGGER_MANUAL, path_out, path_cap) ? 0 : EIO;
}

/* ---- leak summary ---- */

typedef struct leak_top {
    prof_row_t rows[16];
    uintptr_t pcs[16][PROF_DEPTH_MAX];
    unsigned n;
    uint64_t objs, bytes, stacks;
} leak_top_t;

static void keep_largest(const prof_row_t *r, void *ctx)
{
    leak_top_t *t = ctx;
    if (r->live_objs == 0)
        return;
    t->objs += r->est_live_objs;
    t->bytes += r->est_live_bytes;
    t->stacks++;
    enum { MAX = sizeof t->rows / sizeof t->rows[0] };
    if (t->n == MAX && t->rows[MAX - 1].est_live_bytes >= r->est_live_bytes)
        return;
    unsigned i = t->n < MAX ? t->n++ : MAX - 1;
    for (; i > 0 && t->rows[i - 1].est_live_bytes < r->est_live_bytes; i--) {
        t->rows[i] = t->rows[i - 1];
        memcpy(t->pcs[i], t->pcs[i - 1], sizeof t->pcs[i]);
    }
    t->rows[i] = *r;
    memcpy(t->pcs[i], r->pc, r->depth * sizeof(uintptr_t));
}

void prof_put_frame(textbuf_t *t, uintptr_t pc)
{
    Dl_info info;
    tb_hex(t, pc);
    if (dladdr((void *)(pc - 1), &info) && info.dli_fname) {
        tb_str(t, " ");
        if (info.dli_sname) {
            tb_str(t, info.dli_sname);
            tb_str(t, "+");
            tb_hex(t, pc - (uintptr_t)info.dli_saddr);
        } else {
            const char *base = strrchr(info.dli_fname, '/');
            tb_str(t, base ? base + 1 : info.dli_fname);
            tb_str(t, "+");
            tb_hex(t, pc - (uintptr_t)info.dli_fbase);
        }
    }
}

static void leak_summary(int fd)
{
    static leak_top_t top; /* at exit, one thread: no need for the stack */
    memset(&top, 0, sizeof top);
    prof_rows(keep_largest, &top);
    textbuf_t t = { .fd = fd };
    tb_str(&t, "tidemalloc: leak summary: ");
    tb_u64(&t, top.bytes);
    tb_str(&t, " bytes in ");
    tb_u64(&t, top.objs);
    tb_str(&t, " objects still allocated at exit (estimated from samples, 1 per ");
    tb_u64(&t, prof_sample_bytes());
    tb_str(&t, " bytes), from ");
    tb_u64(&t, top.stacks);
    tb_str(&t, " stacks\n");
    for (unsigned i = 0; i < top.n; i++) {
        const prof_row_t *r = &top.rows[i];
        const uintptr_t *pc = top.pcs[i]; /* rows[i].pc pointed at the table */
        tb_str(&t, "tidemalloc:   ");
        tb_u64(&t, r->est_live_bytes);
        tb_str(&t, " bytes in ");
        tb_u64(&t, r->est_live_objs);
        tb_str(&t, " objects (");
        tb_u64(&t, r->live_objs);
        tb_str(&t, " sampled) allocated at\n");
        for (unsigned d = 0; d < r->depth && d < 8; d++) {
            tb_str(&t, "tidemalloc:     ");
            prof_put_frame(&t, pc[d]);
            tb_str(&t, "\n");
        }
    }
    tb_flush(&t);
}

void prof_exit(void)
{
    if (OPT(prof) && OPT(prof_final))
        prof_dump_trigger(PROF_TRIGGER_EXIT);
    if (OPT(prof_leak) && prof_stacks())
        leak_summary(2);
    if (OPT(leak_check))
        leak_check_run(2);
}
