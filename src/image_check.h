/* Checks an image file's structure before any decoder sees it: the format
 * is one nst promises (JPEG, PNG, BMP, TGA), every length and table the
 * decoder will trust is consistent, the file holds the pixel data its
 * header claims, and the claimed size is plausible for the file's size. */
#ifndef NST_IMAGE_CHECK_H
#define NST_IMAGE_CHECK_H

#include <stddef.h>

/* A compressed image (JPEG, PNG, run-length TGA) may claim at most this
 * many pixels per byte of file. Deflate expands at most 1032-fold, so an
 * 8-bit RGB PNG stays below 344 pixels a byte; a baseline JPEG block
 * costs at least 2 bits, i.e. at most 256 pixels a byte. A handful of
 * bytes claiming a 16384x16384 image is refused instead of allocated. */
#define NST_IMAGE_MAX_PIXELS_PER_BYTE 1024

/* 0 and the declared width and height if data[0..n) is a well-formed
 * JPEG (baseline or progressive), PNG, BMP or TGA; -1 with a one-line
 * failure reason naming path. */
int nst_image_check(const char *path, const unsigned char *data, size_t n,
                    int *w, int *h);

#endif
