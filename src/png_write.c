#include "png_write.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { CHUNK_OUT = 1 << 16 }; /* IDAT chunks of at most this many bytes */

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A chunk: length, type, data, CRC-32 of type and data. */
static void put_chunk(nst_png_sink sink, void *ctx, const char type[4],
                      const unsigned char *data, uint32_t n)
{
    unsigned char head[8], crc[4];
    put_be32(head, n);
    memcpy(head + 4, type, 4);
    uLong c = crc32(0, (const Bytef *)type, 4);
    if (n)
        c = crc32(c, data, n);
    put_be32(crc, (uint32_t)c);
    sink(ctx, head, 8);
    if (n)
        sink(ctx, data, n);
    sink(ctx, crc, 4);
}

static unsigned char paeth(int a, int b, int c)
{
    const int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return (unsigned char)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

/* Row filtered with PNG filter type t (1 byte of type, then the bytes),
 * given the row above (zeros for the first). */
static void filter_row(int t, const unsigned char *row,
                       const unsigned char *up, size_t n, unsigned char *out)
{
    out[0] = (unsigned char)t;
    for (size_t i = 0; i < n; i++) {
        const int a = i >= 3 ? row[i - 3] : 0, b = up[i],
                  c = i >= 3 ? up[i - 3] : 0;
        const int pred = t == 0 ? 0 : t == 1 ? a : t == 2 ? b
                       : t == 3 ? (a + b) / 2 : paeth(a, b, c);
        out[1 + i] = (unsigned char)(row[i] - pred);
    }
}

/* The filter whose output has the least sum of bytes read as signed
 * values (PNG specification's suggested heuristic). */
static int best_filter(const unsigned char *row, const unsigned char *up,
                       size_t n, unsigned char *scratch)
{
    int best = 0;
    unsigned long best_cost = (unsigned long)-1;
    for (int t = 0; t < 5; t++) {
        filter_row(t, row, up, n, scratch);
        unsigned long cost = 0;
        for (size_t i = 1; i <= n; i++)
            cost += (unsigned long)abs((signed char)scratch[i]);
        if (cost < best_cost) {
            best_cost = cost;
            best = t;
        }
    }
    return best;
}

/* Deflates what strm holds, flushing full IDAT chunks (all of it at
 * Z_FINISH). */
static int drain(z_stream *strm, unsigned char *out, int flush,
                 nst_png_sink sink, void *ctx)
{
    int rc;
    do {
        rc = deflate(strm, flush);
        if (rc == Z_STREAM_ERROR)
            return -1;
        if (strm->avail_out == 0 || flush == Z_FINISH) {
            const uint32_t n = CHUNK_OUT - strm->avail_out;
            if (n)
                put_chunk(sink, ctx, "IDAT", out, n);
            strm->next_out = out;
            strm->avail_out = CHUNK_OUT;
        }
    } while (strm->avail_in > 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    return 0;
}

int nst_png_write(nst_png_sink sink, void *ctx, const unsigned char *rgb,
                  int w, int h, int level)
{
    const size_t n = (size_t)3 * w;
    unsigned char *zeros = calloc(n, 1), *line = malloc(n + 1),
                  *out = malloc(CHUNK_OUT);
    z_stream strm = {0};
    if (!zeros || !line || !out ||
        deflateInit(&strm, level) != Z_OK) {
        free(zeros);
        free(line);
        free(out);
        return -1;
    }
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G',
                                               '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13];
    put_be32(ihdr, (uint32_t)w);
    put_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;  /* bits per sample */
    ihdr[9] = 2;  /* RGB */
    ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filters, no
                                           interlace */
    sink(ctx, signature, 8);
    put_chunk(sink, ctx, "IHDR", ihdr, 13);
    strm.next_out = out;
    strm.avail_out = CHUNK_OUT;
    int rc = 0;
    for (int y = 0; y < h && rc == 0; y++) {
        const unsigned char *row = rgb + (size_t)y * n,
                            *up = y ? row - n : zeros;
        filter_row(best_filter(row, up, n, line), row, up, n, line);
        strm.next_in = line;
        strm.avail_in = (uInt)(n + 1);
        rc = drain(&strm, out, Z_NO_FLUSH, sink, ctx);
    }
    if (rc == 0)
        rc = drain(&strm, out, Z_FINISH, sink, ctx);
    if (rc == 0)
        put_chunk(sink, ctx, "IEND", NULL, 0);
    deflateEnd(&strm);
    free(zeros);
    free(line);
    free(out);
    return rc;
}
