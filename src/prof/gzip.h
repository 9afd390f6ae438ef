/* gzip — a gzip stream written to a file descriptor without compression
 * and without allocating: the deflate data is a series of stored blocks,
 * which every gzip reader accepts (RFC 1951 section 3.2.4, RFC 1952).
 * The library depends on libc only, so there is no zlib here. */
#ifndef TIDE_GZIP_H
#define TIDE_GZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* The largest stored block deflate allows. */
#define GZIP_BLOCK_MAX 65535u

typedef struct gzip_writer {
    int fd;
    bool failed;
    uint32_t crc;   /* CRC-32 of the uncompressed bytes so far (pre-inverted) */
    uint32_t isize; /* their count, modulo 2^32 */
    uint32_t crc_table[256];
    /* One stored block: 5 header bytes, then up to GZIP_BLOCK_MAX bytes. */
    uint8_t *block; /* caller's buffer of GZIP_BUF_SIZE bytes */
    size_t n;       /* data bytes in block, after the header */
} gzip_writer_t;

#define GZIP_BUF_SIZE (5 + GZIP_BLOCK_MAX)

/* CRC-32 (the gzip/zip polynomial, reflected) of n bytes, continuing crc
 * (start with 0). Self-contained: builds its small table on the stack. */
uint32_t gzip_crc32(uint32_t crc, const void *p, size_t n);

/* Start a stream on fd; buf must hold GZIP_BUF_SIZE bytes and outlive it. */
void gzip_begin(gzip_writer_t *g, int fd, uint8_t *buf);
void gzip_write(gzip_writer_t *g, const void *p, size_t n);
/* Write the final block and the trailer; false if any write failed. */
bool gzip_end(gzip_writer_t *g);

#pragma GCC visibility pop

#endif
