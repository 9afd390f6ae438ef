#include "report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "os.h"

typedef struct line {
    char buf[512];
    size_t n;
} line_t;

static void put(line_t *l, const char *s, size_t n)
{
    if (n > sizeof l->buf - 1 - l->n)
        n = sizeof l->buf - 1 - l->n;
    memcpy(l->buf + l->n, s, n);
    l->n += n;
}

static void puts_(line_t *l, const char *s) { put(l, s, strlen(s)); }

static void put_hex(line_t *l, uintptr_t v)
{
    char tmp[2 + 16];
    int i = (int)sizeof tmp;
    do {
        tmp[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    tmp[--i] = 'x';
    tmp[--i] = '0';
    put(l, tmp + i, sizeof tmp - (size_t)i);
}

static void flush(line_t *l)
{
    put(l, "\n", 1);
    os_write_stderr(l->buf, l->n);
}

void report_config_error(const char *source, const char *item, size_t len, const char *why)
{
    line_t l = { .n = 0 };
    puts_(&l, "tidemalloc: ");
    puts_(&l, source);
    puts_(&l, ": bad option '");
    put(&l, item, len);
    puts_(&l, "': ");
    puts_(&l, why);
    puts_(&l, "; using the default");
    flush(&l);
}

void report_misuse(const char *call, const void *ptr, const char *why)
{
    line_t l = { .n = 0 };
    puts_(&l, "tidemalloc: ");
    puts_(&l, call);
    puts_(&l, "(");
    put_hex(&l, (uintptr_t)ptr);
    puts_(&l, "): ");
    puts_(&l, why);
    flush(&l);
    abort();
}

void report_warning(const char *text)
{
    line_t l = { .n = 0 };
    puts_(&l, "tidemalloc: ");
    puts_(&l, text);
    flush(&l);
}
