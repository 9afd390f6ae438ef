/* report — one-line messages to stderr, formatted on the stack.
 *
 * Invariant: one message is one write, so lines from several threads do not
 * interleave; nothing allocates, so a report works inside malloc and from
 * the hardened build's fault handler.
 */
#include "report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

/* One message, one write: lines from several threads do not interleave. */
static textbuf_t line_start(void)
{
    textbuf_t t = { .n = 0, .fd = 2 };
    tb_str(&t, "tidemalloc: ");
    return t;
}

static void line_end(textbuf_t *t)
{
    tb_put(t, "\n", 1);
    tb_flush(t);
}

void report_config_error(const char *source, const char *item, size_t len, const char *why)
{
    textbuf_t l = line_start();
    tb_str(&l, source);
    tb_str(&l, ": bad option '");
    tb_put(&l, item, len);
    tb_str(&l, "': ");
    tb_str(&l, why);
    tb_str(&l, "; using the default");
    line_end(&l);
}

void report_misuse(const char *call, const void *ptr, const char *why)
{
    report_heap_misuse(call, ptr, why, NULL, 0);
}

static void (*misuse_hook)(const void *p);

void report_on_misuse(void (*fn)(const void *p))
{
    __atomic_store_n(&misuse_hook, fn, __ATOMIC_RELEASE);
}

void report_heap_misuse(const char *call, const void *ptr, const char *kind, const char *detail,
                        size_t block_size)
{
    textbuf_t l = line_start();
    tb_str(&l, call);
    tb_str(&l, "(");
    tb_hex(&l, (uintptr_t)ptr);
    tb_str(&l, "): ");
    tb_str(&l, kind);
    if (detail) {
        tb_str(&l, ": ");
        tb_str(&l, detail);
    }
    if (block_size) {
        tb_str(&l, " [size class ");
        tb_u64(&l, block_size);
        tb_str(&l, "]");
    }
    line_end(&l);
    void (*fn)(const void *) = __atomic_load_n(&misuse_hook, __ATOMIC_ACQUIRE);
    if (fn)
        fn(ptr);
    abort();
}

void report_invariant_broken(const char *file, int line, const char *what)
{
    textbuf_t l = line_start();
    tb_str(&l, "invariant broken at ");
    tb_str(&l, file);
    tb_str(&l, ":");
    tb_u64(&l, (uint64_t)line);
    tb_str(&l, ": ");
    tb_str(&l, what);
    line_end(&l);
    abort();
}

void report_warning(const char *text)
{
    textbuf_t l = line_start();
    tb_str(&l, text);
    line_end(&l);
}
