/* gzip — stored deflate blocks, CRC-32, the gzip header and trailer. */
#include "gzip.h"
#include "platform/os.h"

#include <errno.h>
#include <string.h>

static void crc_table_fill(uint32_t t[256])
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
        t[i] = c;
    }
}

static uint32_t crc_update(const uint32_t t[256], uint32_t c, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        c = t[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c;
}

uint32_t gzip_crc32(uint32_t crc, const void *p, size_t n)
{
    uint32_t t[256];
    crc_table_fill(t);
    return ~crc_update(t, ~crc, p, n);
}

static void put_all(gzip_writer_t *g, const uint8_t *p, size_t n)
{
    if (!g->failed && !os_write_all(g->fd, p, n))
        g->failed = true;
}

static void put_le32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

/* Emit the buffered data as one stored block (possibly empty). Each stored
 * block starts byte-aligned: 3 header bits (BFINAL, BTYPE=00) padded to a
 * byte, then LEN and its one's complement NLEN, little-endian. */
static void flush_block(gzip_writer_t *g, bool final)
{
    uint16_t len = (uint16_t)g->n;
    uint8_t *h = g->block;
    h[0] = final ? 1 : 0;
    h[1] = (uint8_t)len;
    h[2] = (uint8_t)(len >> 8);
    h[3] = (uint8_t)~len;
    h[4] = (uint8_t)(~len >> 8);
    put_all(g, h, 5 + g->n);
    g->n = 0;
}

void gzip_begin(gzip_writer_t *g, int fd, uint8_t *buf)
{
    g->fd = fd;
    g->failed = false;
    g->crc = 0xffffffffu;
    g->isize = 0;
    g->block = buf;
    g->n = 0;
    crc_table_fill(g->crc_table);
    /* ID1 ID2, CM=8 (deflate), FLG=0, MTIME=0, XFL=0, OS=3 (Unix). */
    static const uint8_t header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
    put_all(g, header, sizeof header);
}

void gzip_write(gzip_writer_t *g, const void *p, size_t n)
{
    const uint8_t *s = p;
    g->crc = crc_update(g->crc_table, g->crc, s, n);
    g->isize += (uint32_t)n;
    while (n > 0) {
        if (g->n == GZIP_BLOCK_MAX)
            flush_block(g, false);
        size_t room = GZIP_BLOCK_MAX - g->n;
        size_t c = n < room ? n : room;
        memcpy(g->block + 5 + g->n, s, c);
        g->n += c;
        s += c;
        n -= c;
    }
}

bool gzip_end(gzip_writer_t *g)
{
    flush_block(g, true);
    uint8_t trailer[8];
    put_le32(trailer, ~g->crc);
    put_le32(trailer + 4, g->isize);
    put_all(g, trailer, sizeof trailer);
    return !g->failed;
}
