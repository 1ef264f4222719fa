#include "png_fixture.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

/* Appends a PNG chunk: length, type, data, CRC-32 of type and data. */
static void chunk(FILE *f, const char *type, const unsigned char *data,
                  uint32_t len)
{
    const unsigned char be[4] = {len >> 24, len >> 16, len >> 8, len};
    const uLong crc = crc32(crc32(0, (const Bytef *)type, 4), data, len);
    const unsigned char crc_be[4] = {crc >> 24, crc >> 16, crc >> 8, crc};
    ck_assert(fwrite(be, 1, 4, f) == 4 && fwrite(type, 1, 4, f) == 4 &&
              fwrite(data, 1, len, f) == len && fwrite(crc_be, 1, 4, f) == 4);
}

void tu_write_black_png(const char *path, int w, int h, int channels,
                        int depth)
{
    ck_assert((channels == 3 && depth == 8) || (channels == 4 && depth == 16));
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert(fwrite("\x89PNG\r\n\x1a\n", 1, 8, f) == 8);
    const unsigned char ihdr[13] = {w >> 24, w >> 16, w >> 8, w,
                                    h >> 24, h >> 16, h >> 8, h,
                                    depth, channels == 3 ? 2 : 6, 0, 0, 0};
    chunk(f, "IHDR", ihdr, 13);
    /* filter byte 0, then the pixels */
    const size_t row_bytes = 1 + (size_t)w * channels * depth / 8;
    unsigned char *row = calloc(row_bytes, 1), out[65536];
    ck_assert_ptr_nonnull(row);
    z_stream z = {0};
    ck_assert_int_eq(deflateInit(&z, 1), Z_OK);
    for (int y = 0; y <= h; y++) {
        const int flush = y == h ? Z_FINISH : Z_NO_FLUSH;
        z.next_in = row;
        z.avail_in = y == h ? 0 : (uInt)row_bytes;
        int rc;
        do {
            z.next_out = out;
            z.avail_out = sizeof out;
            rc = deflate(&z, flush);
            ck_assert(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
            if (z.avail_out < sizeof out)
                chunk(f, "IDAT", out, sizeof out - z.avail_out);
        } while (z.avail_in > 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    }
    deflateEnd(&z);
    free(row);
    chunk(f, "IEND", (const unsigned char *)"", 0);
    ck_assert_int_eq(fclose(f), 0);
}
