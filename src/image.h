/* Images in memory, and reading, resizing and writing them. */
#ifndef NST_IMAGE_H
#define NST_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* An RGB image, planar (channel-major): data[c*h*w + y*w + x] for c = R, G,
 * B, values in [0, 255] as float. */
typedef struct nst_image {
    int w, h;
    float *data;
} nst_image;

/* Largest accepted side of an input or output image, in pixels. */
#define NST_IMAGE_MAX_SIDE 16384

/* Loads a JPEG (baseline or progressive), PNG, BMP or TGA file, converted
 * to RGB. The file must be a regular file; its structure is checked
 * (image_check.h) before stb_image decodes it. -1 with a failure reason
 * naming the file (missing, not a regular file, unreadable, corrupt,
 * truncated, absurd size). nst_image_file_read then
 * nst_image_file_decode. */
int nst_image_load(const char *path, nst_image *img);

/* An image file read and its structure checked, not yet decoded: its size
 * is known before anything is spent on its pixels. */
typedef struct nst_image_file {
    unsigned char *bytes;
    size_t n;
    int w, h; /* as its header declares them */
} nst_image_file;

/* Reads path (a regular file) whole and checks its structure: f then
 * holds its bytes and size. -1 with a failure reason naming the file (f
 * then holds nothing). */
int nst_image_file_read(const char *path, nst_image_file *f);

/* Decodes f, read from path, to RGB and frees f's bytes (also on
 * failure). -1 with a failure reason naming path. */
int nst_image_file_decode(const char *path, nst_image_file *f,
                          nst_image *img);

void nst_image_file_free(nst_image_file *f);

/* The bytes of img's pixels. */
uint64_t nst_image_bytes(const nst_image *img);

/* img (allocated, w x h) = rgb, interleaved 8-bit RGB of the same size. */
void nst_image_from_rgb8(nst_image *img, const unsigned char *rgb);

/* img's values rounded to nearest and clamped to [0, 255] (NaN: 0), as
 * interleaved 8-bit RGB in a malloc'd array; NULL on out-of-memory. */
unsigned char *nst_image_to_rgb8(const nst_image *img);

/* Allocates an image of w x h (zeroed). -1 on out-of-memory. */
int nst_image_alloc(nst_image *img, int w, int h);

void nst_image_free(nst_image *img);

/* Resamples in to w x h with a Catmull-Rom filter, antialiased when
 * shrinking (src/resample.h). Works in 8-bit sRGB values like common image
 * libraries; the result is rounded to whole values in [0, 255]. */
int nst_image_resize(const nst_image *in, int w, int h, nst_image *out);

/* The size whose longer side is `longest`, aspect ratio kept (rounded, at
 * least 1 pixel). */
void nst_image_fit_size(int w, int h, int longest, int *fw, int *fh);

/* out = in resized so its longer side is `longest`; an image already that
 * size is copied untouched. */
int nst_image_fit(const nst_image *in, int longest, nst_image *out);

/* Writes img (values rounded and clamped to [0, 255]) as PNG or JPEG by
 * the extension of path (.png, .jpg, .jpeg; case-insensitive). Written to a
 * temporary file in the same directory and renamed over path, so a failure
 * leaves no partial file and an existing path untouched. -1 with a failure
 * reason naming the file. */
int nst_image_save(const char *path, const nst_image *img);

/* The JPEG quality nst_image_save uses. */
#define NST_IMAGE_JPEG_QUALITY 95

/* nst_image_save with the given JPEG quality (1 to 100; PNG is lossless
 * and ignores it). */
int nst_image_save_quality(const char *path, const nst_image *img,
                           int quality);

/* 1 if path's extension is one nst_image_save writes. */
int nst_image_save_supported(const char *path);

#endif
