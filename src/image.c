#include "image.h"

#include "atomic_file.h"
#include "error.h"
#include "image_check.h"
#include "input_file.h"
#include "png_write.h"
#include "resample.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <stb_image.h>
#include <stb_image_write.h>

/* zlib's default: within a few per cent of level 9's size, several times
 * faster. */
#define PNG_LEVEL 6

static int valid_size(int w, int h)
{
    return w > 0 && h > 0 && w <= NST_IMAGE_MAX_SIDE && h <= NST_IMAGE_MAX_SIDE;
}

int nst_image_alloc(nst_image *img, int w, int h)
{
    img->w = img->h = 0;
    img->data = NULL;
    if (!valid_size(w, h))
        return nst_fail("image size %dx%d is out of range (1 to %d per side)",
                        w, h, NST_IMAGE_MAX_SIDE);
    img->data = calloc((size_t)3 * (size_t)w * (size_t)h, sizeof *img->data);
    if (!img->data)
        return nst_fail("out of memory for a %dx%d image", w, h);
    img->w = w;
    img->h = h;
    return 0;
}

void nst_image_free(nst_image *img)
{
    free(img->data);
    img->data = NULL;
    img->w = img->h = 0;
}

/* Interleaved 8-bit RGB (as stb uses) <-> planar float. */
void nst_image_from_rgb8(nst_image *img, const unsigned char *rgb)
{
    size_t n = (size_t)img->w * (size_t)img->h;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < n; i++)
            img->data[c * n + i] = rgb[3 * i + c];
}

unsigned char *nst_image_to_rgb8(const nst_image *img)
{
    size_t n = (size_t)img->w * (size_t)img->h;
    unsigned char *rgb = malloc(3 * n);
    if (!rgb)
        return NULL;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < n; i++) {
            float v = img->data[c * n + i];
            rgb[3 * i + c] = v >= 255.0f ? 255
                           : v > 0.0f    ? (unsigned char)(v + 0.5f)
                                         : 0;
        }
    return rgb;
}

/* The largest file read as an image: an uncompressed 32-bit BMP of the
 * largest accepted size, and its headers. */
#define MAX_FILE_BYTES \
    ((uint64_t)4 * NST_IMAGE_MAX_SIDE * NST_IMAGE_MAX_SIDE + (1u << 20))

int nst_image_file_read(const char *path, nst_image_file *f)
{
    *f = (nst_image_file){0};
    f->bytes = nst_input_read_all(path, MAX_FILE_BYTES, &f->n);
    if (!f->bytes)
        return -1;
    if (nst_image_check(path, f->bytes, f->n, &f->w, &f->h) != 0) {
        nst_image_file_free(f);
        return -1;
    }
    return 0;
}

void nst_image_file_free(nst_image_file *f)
{
    free(f->bytes);
    *f = (nst_image_file){0};
}

int nst_image_file_decode(const char *path, nst_image_file *f,
                          nst_image *img)
{
    int dw, dh, comp, rc = -1;
    img->w = img->h = 0;
    img->data = NULL;
    unsigned char *rgb =
        stbi_load_from_memory(f->bytes, (int)f->n, &dw, &dh, &comp, 3);
    if (!rgb) {
        nst_fail("%s: cannot decode: %s", path, stbi_failure_reason());
        goto out;
    }
    if (dw != f->w || dh != f->h) {
        nst_fail("%s: decoded as %dx%d, not the %dx%d of its header", path,
                 dw, dh, f->w, f->h);
        goto out;
    }
    if (nst_image_alloc(img, dw, dh) != 0) {
        nst_fail("%s: out of memory for %dx%d pixels", path, dw, dh);
        goto out;
    }
    nst_image_from_rgb8(img, rgb);
    rc = 0;
out:
    stbi_image_free(rgb);
    nst_image_file_free(f);
    return rc;
}

int nst_image_load(const char *path, nst_image *img)
{
    nst_image_file f;
    img->w = img->h = 0;
    img->data = NULL;
    if (nst_image_file_read(path, &f) != 0)
        return -1;
    return nst_image_file_decode(path, &f, img);
}

uint64_t nst_image_bytes(const nst_image *img)
{
    return (uint64_t)3 * (uint64_t)img->w * (uint64_t)img->h *
           sizeof *img->data;
}

/* Catmull-Rom resampling (src/resample.c), then every value rounded to
 * the nearest whole level and clamped to [0, 255]: the cubic's negative
 * lobes overshoot sharp edges slightly, and a loaded image must stay a
 * valid 8-bit one. Edges are clamped, i.e. the border pixels are repeated
 * rather than mixed with black. The 8-bit values are filtered as stored,
 * without converting sRGB to linear light, as common image libraries do. */
int nst_image_resize(const nst_image *in, int w, int h, nst_image *out)
{
    if (!valid_size(in->w, in->h)) {
        out->w = out->h = 0;
        out->data = NULL;
        return nst_fail("cannot resize a %dx%d image", in->w, in->h);
    }
    if (nst_image_alloc(out, w, h) != 0)
        return -1;
    if (nst_resample(in->data, in->w, in->h, 3, out->data, w, h) != 0) {
        nst_image_free(out);
        return -1;
    }
    /* NaN fails v > 0 and becomes 0. */
    float *d = out->data;
    const size_t n = (size_t)3 * (size_t)w * (size_t)h;
    for (size_t i = 0; i < n; i++) {
        float v = d[i] > 0.0f ? d[i] : 0.0f;
        v = v < 255.0f ? v : 255.0f;
        d[i] = (float)(int)(v + 0.5f);
    }
    return 0;
}

void nst_image_fit_size(int w, int h, int longest, int *fw, int *fh)
{
    int64_t big = w > h ? w : h, small = w > h ? h : w;
    /* small * longest / big, rounded half up, at least 1 */
    int64_t s = big > 0 ? (2 * small * longest + big) / (2 * big) : 1;
    int scaled = s < 1 ? 1 : (int)s;
    *fw = w >= h ? longest : scaled;
    *fh = w >= h ? scaled : longest;
}

int nst_image_fit(const nst_image *in, int longest, nst_image *out)
{
    int w, h;
    nst_image_fit_size(in->w, in->h, longest, &w, &h);
    if (w != in->w || h != in->h)
        return nst_image_resize(in, w, h, out);
    if (nst_image_alloc(out, w, h) != 0)
        return -1;
    memcpy(out->data, in->data, (size_t)3 * (size_t)w * (size_t)h * sizeof *in->data);
    return 0;
}

enum format { FORMAT_NONE, FORMAT_PNG, FORMAT_JPEG };

static enum format format_of(const char *path)
{
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base ? base + 1 : path, '.');
    if (!dot)
        return FORMAT_NONE;
    if (strcasecmp(dot, ".png") == 0)
        return FORMAT_PNG;
    if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
        return FORMAT_JPEG;
    return FORMAT_NONE;
}

int nst_image_save_supported(const char *path)
{
    return format_of(path) != FORMAT_NONE;
}

static void write_to_file(void *ctx, void *data, int size)
{
    nst_atomic_write(ctx, data, (size_t)size);
}

static void png_to_file(void *ctx, const void *data, size_t n)
{
    nst_atomic_write(ctx, data, n);
}

int nst_image_save(const char *path, const nst_image *img)
{
    return nst_image_save_quality(path, img, NST_IMAGE_JPEG_QUALITY);
}

int nst_image_save_quality(const char *path, const nst_image *img,
                           int quality)
{
    enum format fmt = format_of(path);
    if (fmt == FORMAT_NONE)
        return nst_fail("%s: cannot write this format; use .png, .jpg or .jpeg",
                        path);
    if (!valid_size(img->w, img->h))
        return nst_fail("%s: cannot write a %dx%d image", path, img->w, img->h);

    unsigned char *rgb = nst_image_to_rgb8(img);
    if (!rgb)
        return nst_fail("%s: out of memory", path);
    nst_atomic_file a;
    int rc = nst_atomic_open(&a, path);
    if (rc == 0) {
        int ok = fmt == FORMAT_PNG
                     ? nst_png_write(png_to_file, &a, rgb, img->w, img->h,
                                     PNG_LEVEL) == 0
                     : stbi_write_jpg_to_func(write_to_file, &a, img->w,
                                              img->h, 3, rgb, quality);
        if (!ok && !a.err)
            a.err = ENOMEM;
        rc = nst_atomic_commit(&a);
    }
    free(rgb);
    return rc;
}
