#include "pixels.h"

#include <math.h>
#include <string.h>

#include "memory_plan.h"
#include "vgg.h"

/* x += sign * the VGG mean, plane by plane. */
static void shift_by_mean(float *x, int w, int h, float sign)
{
    const size_t plane = (size_t)w * h;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
            x[c * plane + i] += sign * nst_vgg_mean[c];
}

int nst_pixels_load(const nst_options *o, const nst_vgg *net,
                    const char *path, int longest, uint64_t held,
                    nst_image *img)
{
    nst_image_file f;
    nst_image raw;
    *img = (nst_image){0};
    if (nst_image_file_read(path, &f) != 0)
        return -1;
    if (nst_memory_plan_decode(o, net, path, f.w, f.h, f.n, longest, held) !=
        0) {
        nst_image_file_free(&f);
        return -1;
    }
    if (nst_image_file_decode(path, &f, &raw) != 0)
        return -1;
    if (longest <= 0) {
        *img = raw;
        return 0;
    }
    const int rc = nst_image_fit(&raw, longest, img);
    nst_image_free(&raw);
    return rc;
}

void nst_pixels_free_styles(nst_pair_pixels *p)
{
    for (int i = 0; i < p->n_styles; i++)
        nst_image_free(&p->style[i]);
    p->n_styles = 0;
}

void nst_pixels_free_pair(nst_pair_pixels *p)
{
    nst_image_free(&p->content);
    nst_pixels_free_styles(p);
    nst_image_free(&p->chroma);
}

/* --preserve-colors on the pictures ([0, 255]). */
static int prepare_colors(nst_pair_pixels *p, nst_colors colors)
{
    nst_image *c = &p->content;
    if (colors == NST_COLORS_HISTOGRAM)
        for (int i = 0; i < p->n_styles; i++)
            nst_color_match_histogram(&p->style[i], c);
    if (colors != NST_COLORS_LUMINANCE)
        return 0;
    if (nst_image_alloc(&p->chroma, c->w, c->h) != 0)
        return -1;
    memcpy(p->chroma.data, c->data, (size_t)3 * c->w * c->h * sizeof *c->data);
    nst_color_to_luminance(c);
    for (int i = 0; i < p->n_styles; i++) {
        nst_color_to_luminance(&p->style[i]);
        nst_color_match_luminance(&p->style[i], c);
    }
    return 0;
}

int nst_pixels_prepare_pair(const nst_image *content, int content_side,
                            const nst_image *const *styles,
                            const int *style_sides, int n_styles,
                            nst_colors colors, nst_pair_pixels *p)
{
    *p = (nst_pair_pixels){0};
    int rc = nst_image_fit(content, content_side, &p->content);
    for (int i = 0; rc == 0 && i < n_styles; i++) {
        p->n_styles = i + 1;
        rc = nst_image_fit(styles[i], style_sides[i], &p->style[i]);
    }
    if (rc != 0 || prepare_colors(p, colors) != 0) {
        nst_pixels_free_pair(p);
        return -1;
    }
    shift_by_mean(p->content.data, p->content.w, p->content.h, -1);
    for (int i = 0; i < n_styles; i++)
        shift_by_mean(p->style[i].data, p->style[i].w, p->style[i].h, -1);
    return 0;
}

int nst_pixels_from_picture(const nst_image *picture, float *x, int w, int h)
{
    nst_image fitted = {0};
    if (picture->w != w || picture->h != h) {
        if (nst_image_resize(picture, w, h, &fitted) != 0)
            return -1;
        picture = &fitted;
    }
    memcpy(x, picture->data, (size_t)3 * w * h * sizeof *x);
    nst_image_free(&fitted);
    shift_by_mean(x, w, h, -1);
    return 0;
}

void nst_pixels_to_luminance(float *x, int w, int h)
{
    nst_image img = {.w = w, .h = h, .data = x};
    shift_by_mean(x, w, h, 1);
    nst_color_to_luminance(&img);
    shift_by_mean(x, w, h, -1);
}

int nst_pixels_to_picture(const nst_picture *pic, const float *x,
                          nst_image *img)
{
    if (nst_image_alloc(img, pic->w, pic->h) != 0)
        return -1;
    memcpy(img->data, x, (size_t)3 * pic->w * pic->h * sizeof *x);
    shift_by_mean(img->data, pic->w, pic->h, 1);
    if (pic->chroma)
        nst_color_join_chroma(img, pic->chroma);
    return 0;
}

int nst_pixels_save(const nst_picture *pic, const char *path, const float *x)
{
    nst_image img;
    if (nst_pixels_to_picture(pic, x, &img) != 0)
        return -1;
    int rc = nst_image_save_quality(path, &img, pic->quality);
    nst_image_free(&img);
    return rc;
}

void nst_pixels_clamp(float *x, int w, int h)
{
    const size_t plane = (size_t)w * h;
    for (int c = 0; c < 3; c++) {
        const float lo = -nst_vgg_mean[c], hi = 255.0f - nst_vgg_mean[c];
        for (size_t i = 0; i < plane; i++)
            x[c * plane + i] = fminf(fmaxf(x[c * plane + i], lo), hi);
    }
}

/* SplitMix64 steps through the seed; the top 24 bits give the value. */
void nst_pixels_noise(float *x, int w, int h, uint64_t seed, double ratio)
{
    const size_t plane = (size_t)w * h;
    uint64_t s = seed;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) {
            uint64_t z = (s += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            const double u = 255.0 * (double)(z >> 40) * 0x1p-24 -
                             nst_vgg_mean[c];
            x[c * plane + i] =
                (float)((1 - ratio) * x[c * plane + i] + ratio * u);
        }
}
