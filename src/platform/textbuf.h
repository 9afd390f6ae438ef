/* textbuf — text built in a stack buffer and written to a file descriptor,
 * without allocating (messages and statistics must work inside malloc). */
#ifndef TIDE_TEXTBUF_H
#define TIDE_TEXTBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "os.h"

#pragma GCC visibility push(hidden)

/* Text goes to fd, or, where sink is set, to sink(sink_ctx, string) a
 * NUL-terminated piece at a time (jemalloc's malloc_stats_print callback). */
typedef struct textbuf {
    char buf[1024];
    size_t n;
    int fd;
    int failed;
    void (*sink)(void *ctx, const char *s);
    void *sink_ctx;
} textbuf_t;

#define TB_CAP (sizeof((textbuf_t *)0)->buf - 1) /* room for the sink's NUL */

static inline void tb_flush(textbuf_t *t)
{
    if (t->sink) {
        t->buf[t->n] = 0;
        if (t->n)
            t->sink(t->sink_ctx, t->buf);
    } else if (!t->failed && !os_write_all(t->fd, t->buf, t->n)) {
        t->failed = 1;
    }
    t->n = 0;
}

static inline void tb_put(textbuf_t *t, const char *s, size_t k)
{
    while (k > 0) {
        if (t->n == TB_CAP)
            tb_flush(t);
        size_t c = TB_CAP - t->n < k ? TB_CAP - t->n : k;
        memcpy(t->buf + t->n, s, c);
        t->n += c;
        s += c;
        k -= c;
    }
}

static inline void tb_str(textbuf_t *t, const char *s)
{
    tb_put(t, s, strlen(s));
}

/* v in decimal, right-aligned in width characters (0: no padding). */
static inline void tb_u64_pad(textbuf_t *t, uint64_t v, size_t width)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t k = sizeof tmp - i; k < width; k++)
        tb_put(t, " ", 1);
    tb_put(t, tmp + i, sizeof tmp - i);
}

static inline void tb_u64(textbuf_t *t, uint64_t v)
{
    tb_u64_pad(t, v, 0);
}

static inline void tb_hex(textbuf_t *t, uintptr_t v)
{
    char tmp[2 + 16];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    tmp[--i] = 'x';
    tmp[--i] = '0';
    tb_put(t, tmp + i, sizeof tmp - i);
}

#pragma GCC visibility pop

#endif
