/* config — the options: defaults, TIDE_CONF (and a program's tide_conf
 * symbol) parsed once, and changes at run time through tide_config_set.
 *
 * Invariant: `options` changes only through config_publish, one field at a
 * time with atomic stores, so a reader (OPT) sees each field either before
 * or after a change, never torn; a bad option is reported, names itself and
 * why, and leaves the default in force.
 */
#define _GNU_SOURCE
#include "config.h"
#include "platform/lock.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/page_heap.h"
#include "platform/cgroup.h"
#include "platform/os.h"
#include "platform/report.h"
#include "platform/textbuf.h"

/* Defaults, and why, are in docs/CONFIG.md. */
options_t options = {
    .decay_ms = PAGE_HEAP_DECAY_MS_DEFAULT,
    .dirty_max = PAGE_HEAP_DIRTY_MAX_DEFAULT,
    .background_thread = true,
    .stats_interval_ms = 0,
    .stats_fd = 2,
    .stats_print = false,
    .stats_socket = false,
    .stats_socket_path = "",
    .stats_file = "",
    .verbose = false,
    .stats_sample = false,
    .prof = false,
    .lg_prof_sample = 19,
    .prof_prefix = "tide",
    .lg_prof_interval = -1,
    .prof_interval_ms = 0,
    .prof_gdump = false,
    .prof_final = true,
    .prof_format = PROF_FORMAT_HEAP_V2,
    .prof_leak = false,
    .leak_check = false,
    .limit_soft = LIMIT_AUTO,
    .limit_hard = 0,
    .cgroup_root = CGROUP_ROOT_DEFAULT,
    /* hardened build (libtidemalloc-secure.so) only */
    .secure_sample = 5000,
    .secure_slots = 64,
};

/* A program may define this to configure tidemalloc without the environment. */
extern const char *tide_conf __attribute__((weak));

enum opt_type { OPT_BOOL, OPT_MS, OPT_BYTES, OPT_FD, OPT_COUNT, OPT_LG, OPT_LG_OR_OFF, OPT_PATH, OPT_FORMAT, OPT_SOCKET, OPT_LIMIT };

typedef struct opt_desc {
    const char *name;
    enum opt_type type;
    size_t offset;
} opt_desc_t;

static const opt_desc_t opt_table[] = {
    { "decay_ms", OPT_MS, offsetof(options_t, decay_ms) },
    { "dirty_max", OPT_BYTES, offsetof(options_t, dirty_max) },
    { "background_thread", OPT_BOOL, offsetof(options_t, background_thread) },
    { "stats_interval_ms", OPT_MS, offsetof(options_t, stats_interval_ms) },
    { "stats_fd", OPT_FD, offsetof(options_t, stats_fd) },
    { "stats_print", OPT_BOOL, offsetof(options_t, stats_print) },
    { "stats_socket", OPT_SOCKET, offsetof(options_t, stats_socket) },
    { "stats_socket_path", OPT_PATH, offsetof(options_t, stats_socket_path) },
    { "stats_file", OPT_PATH, offsetof(options_t, stats_file) },
    { "verbose", OPT_BOOL, offsetof(options_t, verbose) },
    { "stats_sample", OPT_BOOL, offsetof(options_t, stats_sample) },
    { "prof", OPT_BOOL, offsetof(options_t, prof) },
    { "lg_prof_sample", OPT_LG, offsetof(options_t, lg_prof_sample) },
    { "prof_prefix", OPT_PATH, offsetof(options_t, prof_prefix) },
    { "lg_prof_interval", OPT_LG_OR_OFF, offsetof(options_t, lg_prof_interval) },
    { "prof_interval_ms", OPT_MS, offsetof(options_t, prof_interval_ms) },
    { "prof_gdump", OPT_BOOL, offsetof(options_t, prof_gdump) },
    { "prof_final", OPT_BOOL, offsetof(options_t, prof_final) },
    { "prof_format", OPT_FORMAT, offsetof(options_t, prof_format) },
    { "prof_leak", OPT_BOOL, offsetof(options_t, prof_leak) },
    { "leak_check", OPT_BOOL, offsetof(options_t, leak_check) },
    { "limit_soft", OPT_LIMIT, offsetof(options_t, limit_soft) },
    { "limit_hard", OPT_LIMIT, offsetof(options_t, limit_hard) },
    { "cgroup_root", OPT_PATH, offsetof(options_t, cgroup_root) },
    /* hardened build only; accepted (and ignored) by the default build */
    { "secure_sample", OPT_COUNT, offsetof(options_t, secure_sample) },
    { "secure_slots", OPT_COUNT, offsetof(options_t, secure_slots) },
};

/* "heap_v2+pprof+folded": the formats each dump is written in. */
static bool parse_formats(const char *v, size_t vn, uint64_t *out)
{
    static const struct { const char *name; uint64_t bit; } names[] = {
        { "heap_v2", PROF_FORMAT_HEAP_V2 },
        { "pprof", PROF_FORMAT_PPROF },
        { "folded", PROF_FORMAT_FOLDED },
    };
    uint64_t bits = 0;
    size_t i = 0;
    while (i < vn) {
        size_t j = i;
        while (j < vn && v[j] != '+')
            j++;
        size_t k = 0;
        while (k < sizeof names / sizeof names[0] &&
               !(strlen(names[k].name) == j - i && memcmp(names[k].name, v + i, j - i) == 0))
            k++;
        if (k == sizeof names / sizeof names[0])
            return false;
        bits |= names[k].bit;
        i = j + 1;
    }
    if (!bits)
        return false;
    *out = bits;
    return true;
}

static bool parse_uint(const char *s, size_t n, uint64_t *out, bool allow_suffix)
{
    uint64_t v = 0;
    size_t i = 0;
    if (n == 0)
        return false;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (i == 0)
        return false;
    if (i < n) {
        if (!allow_suffix || i + 1 != n)
            return false;
        unsigned shift;
        switch (s[i]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: return false;
        }
        if (v > (UINT64_MAX >> shift))
            return false;
        v <<= shift;
    }
    *out = v;
    return true;
}

#define PATH_OPTION_MAX sizeof options.prof_prefix
_Static_assert(sizeof options.stats_socket_path == PATH_OPTION_MAX && sizeof options.stats_file == PATH_OPTION_MAX &&
                   sizeof options.cgroup_root == PATH_OPTION_MAX,
               "string options share one size");

static const char *apply(options_t *o, const opt_desc_t *d, const char *v, size_t vn)
{
    char *field = (char *)o + d->offset;
    uint64_t x;
    switch (d->type) {
    case OPT_SOCKET:
        /* true, false, or the path to serve on (which turns it on) */
        if (vn > 0 && v[0] == '/') {
            const opt_desc_t path = { "stats_socket_path", OPT_PATH, offsetof(options_t, stats_socket_path) };
            const char *why = apply(o, &path, v, vn);
            if (why)
                return why;
            o->stats_socket = true;
            return NULL;
        }
        /* fall through */
    case OPT_BOOL:
        if (vn == 4 && memcmp(v, "true", 4) == 0)
            *(bool *)field = true;
        else if (vn == 5 && memcmp(v, "false", 5) == 0)
            *(bool *)field = false;
        else
            return "expected true or false";
        return NULL;
    case OPT_MS:
        if (!parse_uint(v, vn, &x, false))
            return "expected a whole number of milliseconds";
        *(uint64_t *)field = x;
        return NULL;
    case OPT_FD:
        if (!parse_uint(v, vn, &x, false) || x > INT32_MAX)
            return "expected a file descriptor number";
        *(int64_t *)field = (int64_t)x;
        return NULL;
    case OPT_COUNT:
        if (!parse_uint(v, vn, &x, false) || x > UINT32_MAX)
            return "expected a whole number";
        *(uint64_t *)field = x;
        return NULL;
    case OPT_BYTES:
        if (!parse_uint(v, vn, &x, true))
            return "expected a byte count, optionally with K, M or G";
        *(size_t *)field = (size_t)x;
        return NULL;
    case OPT_LIMIT:
        if (vn == 4 && memcmp(v, "auto", 4) == 0) {
            *(uint64_t *)field = LIMIT_AUTO;
            return NULL;
        }
        if (!parse_uint(v, vn, &x, true) || x == LIMIT_AUTO)
            return "expected auto, 0 (no limit) or a byte count, optionally with K, M or G";
        if (x != 0 && x < ((uint64_t)1 << 20))
            return "a limit below 1M leaves no room for the allocator's own start";
        *(uint64_t *)field = x;
        return NULL;
    case OPT_LG:
        if (!parse_uint(v, vn, &x, false) || x > 40)
            return "expected a power of two exponent from 0 to 40";
        *(uint64_t *)field = x;
        return NULL;
    case OPT_LG_OR_OFF:
        if (vn == 2 && memcmp(v, "-1", 2) == 0) {
            *(int64_t *)field = -1;
            return NULL;
        }
        if (!parse_uint(v, vn, &x, false) || x > 62)
            return "expected -1 (off) or a power of two exponent from 0 to 62";
        *(int64_t *)field = (int64_t)x;
        return NULL;
    case OPT_PATH:
        if (vn == 0 || vn >= PATH_OPTION_MAX)
            return "expected a path of 1 to 255 characters";
        memcpy(field, v, vn);
        field[vn] = 0;
        return NULL;
    case OPT_FORMAT:
        if (!parse_formats(v, vn, &x))
            return "expected formats joined by '+': heap_v2, pprof, folded";
        *(uint64_t *)field = x;
        return NULL;
    }
    return "unknown type";
}

static const opt_desc_t *find_option(const char *key, size_t n)
{
    for (size_t i = 0; i < sizeof opt_table / sizeof opt_table[0]; i++)
        if (strlen(opt_table[i].name) == n && memcmp(opt_table[i].name, key, n) == 0)
            return &opt_table[i];
    return NULL;
}

const char *config_set_one(options_t *o, const char *key, const char *value)
{
    const opt_desc_t *d = find_option(key, strlen(key));
    return d ? apply(o, d, value, strlen(value)) : "unknown option";
}

int config_parse(options_t *o, const char *text, const char *source)
{
    int bad = 0;
    const char *p = text;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (len == 0) {
            /* tolerate empty items such as a trailing comma */
        } else if (!colon) {
            report_config_error(source, p, len, "expected key:value");
            bad++;
        } else {
            size_t kn = (size_t)(colon - p);
            const opt_desc_t *d = find_option(p, kn);
            const char *why = d ? apply(o, d, colon + 1, len - kn - 1) : "unknown option";
            if (why) {
                report_config_error(source, p, len, why);
                bad++;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return bad;
}

void config_init(void)
{
    /* Once: later changes come from tide_config_set. Racing threads parse
     * the same text into the same values. */
    static bool parsed;
    if (__atomic_load_n(&parsed, __ATOMIC_ACQUIRE))
        return;
    if (&tide_conf != NULL && tide_conf != NULL)
        config_parse(&options, tide_conf, "tide_conf");
    const char *env = os_getenv("TIDE_CONF");
    if (env)
        config_parse(&options, env, "TIDE_CONF");
    __atomic_store_n(&parsed, true, __ATOMIC_RELEASE);
}

static pthread_mutex_t string_lock = PTHREAD_MUTEX_INITIALIZER;

void config_publish(const options_t *next)
{
    for (size_t i = 0; i < sizeof opt_table / sizeof opt_table[0]; i++) {
        const opt_desc_t *d = &opt_table[i];
        char *to = (char *)&options + d->offset;
        const char *from = (const char *)next + d->offset;
        switch (d->type) {
        case OPT_BOOL:
        case OPT_SOCKET:
            __atomic_store_n((bool *)to, *(const bool *)from, __ATOMIC_RELAXED);
            break;
        case OPT_PATH:
            lock_acquire(&string_lock);
            memcpy(to, from, PATH_OPTION_MAX);
            lock_release(&string_lock);
            break;
        default: /* every other type is a 64-bit field */
            __atomic_store_n((uint64_t *)to, *(const uint64_t *)from, __ATOMIC_RELAXED);
            break;
        }
    }
}

void config_string(const char *field, char *out, size_t cap)
{
    lock_acquire(&string_lock);
    size_t n = strnlen(field, PATH_OPTION_MAX);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, field, n);
    out[n] = 0;
    lock_release(&string_lock);
}

static void describe_one(textbuf_t *t, const opt_desc_t *d)
{
    const char *field = (const char *)&options + d->offset;
    switch (d->type) {
    case OPT_BOOL:
    case OPT_SOCKET:
        tb_str(t, __atomic_load_n((const bool *)field, __ATOMIC_RELAXED) ? "true" : "false");
        return;
    case OPT_PATH: {
        char s[PATH_OPTION_MAX];
        config_string(field, s, sizeof s);
        tb_str(t, s);
        return;
    }
    case OPT_FORMAT: {
        uint64_t bits = __atomic_load_n((const uint64_t *)field, __ATOMIC_RELAXED);
        const char *sep = "";
        static const char *const names[] = { "heap_v2", "pprof", "folded" };
        for (unsigned k = 0; k < 3; k++)
            if (bits & (1u << k)) {
                tb_str(t, sep);
                tb_str(t, names[k]);
                sep = "+";
            }
        return;
    }
    case OPT_LIMIT:
        if (__atomic_load_n((const uint64_t *)field, __ATOMIC_RELAXED) == LIMIT_AUTO) {
            tb_str(t, "auto");
            return;
        }
        break;
    case OPT_LG_OR_OFF:
    case OPT_FD: {
        int64_t v = __atomic_load_n((const int64_t *)field, __ATOMIC_RELAXED);
        if (v < 0) {
            tb_str(t, "-");
            v = -v;
        }
        tb_u64(t, (uint64_t)v);
        return;
    }
    default:
        break;
    }
    tb_u64(t, __atomic_load_n((const uint64_t *)field, __ATOMIC_RELAXED));
}

void config_describe(textbuf_t *t)
{
    for (size_t i = 0; i < sizeof opt_table / sizeof opt_table[0]; i++) {
        if (i)
            tb_str(t, ",");
        tb_str(t, opt_table[i].name);
        tb_str(t, ":");
        describe_one(t, &opt_table[i]);
    }
}
