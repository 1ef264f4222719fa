#include "pixels.h"

#include <math.h>

#include "vgg.h"

int nst_pixels_load(const char *path, int longest, nst_image *img)
{
    nst_image raw;
    *img = (nst_image){0};
    if (nst_image_load(path, &raw) != 0)
        return -1;
    int rc = nst_image_fit(&raw, longest, img);
    nst_image_free(&raw);
    if (rc != 0)
        return -1;
    const size_t plane = (size_t)img->w * img->h;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
            img->data[c * plane + i] -= nst_vgg_mean[c];
    return 0;
}

int nst_pixels_save(const char *path, const float *x, int w, int h)
{
    nst_image img;
    if (nst_image_alloc(&img, w, h) != 0)
        return -1;
    const size_t plane = (size_t)w * h;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
            img.data[c * plane + i] = x[c * plane + i] + nst_vgg_mean[c];
    int rc = nst_image_save(path, &img);
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
void nst_pixels_noise(float *x, int w, int h, uint64_t seed)
{
    const size_t plane = (size_t)w * h;
    uint64_t s = seed;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) {
            uint64_t z = (s += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            x[c * plane + i] =
                255.0f * (float)(z >> 40) * 0x1p-24f - nst_vgg_mean[c];
        }
}
