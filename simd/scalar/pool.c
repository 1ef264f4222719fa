/* 2x2 stride-2 average and max pooling and their backward passes, in plain
 * C. Output size is floor(h/2) x floor(w/2); an odd last row or column of
 * the input is dropped and gets zero gradient. */
#include <assert.h>
#include <string.h>

#include "scalar.h"

void nst_f32_avgpool2x2__scalar(const float *x, int c, int h, int w, float *y)
{
    assert(x && y && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < ph; r++) {
            const float *x0 = x + ((size_t)ch * h + 2 * r) * w, *x1 = x0 + w;
            float *yr = y + ((size_t)ch * ph + r) * pw;
            for (int j = 0; j < pw; j++)
                yr[j] = 0.25f * ((x0[2 * j] + x0[2 * j + 1]) +
                                 (x1[2 * j] + x1[2 * j + 1]));
        }
}

/* Rows [r0, h) and columns [c0, w) of an h x w map are set to zero. */
static void zero_dropped(float *plane, int h, int w, int r0, int c0)
{
    for (int r = 0; r < r0; r++)
        for (int j = c0; j < w; j++)
            plane[(size_t)r * w + j] = 0.0f;
    if (r0 < h)
        memset(plane + (size_t)r0 * w, 0, sizeof *plane * (size_t)(h - r0) * w);
}

void nst_f32_avgpool2x2_backward__scalar(const float *dy, int c, int h, int w,
                                         float *dx)
{
    assert(dy && dx && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        float *plane = dx + (size_t)ch * h * w;
        for (int r = 0; r < ph; r++) {
            const float *dyr = dy + ((size_t)ch * ph + r) * pw;
            float *d0 = plane + (size_t)2 * r * w, *d1 = d0 + w;
            for (int j = 0; j < pw; j++) {
                const float g = 0.25f * dyr[j];
                d0[2 * j] = d0[2 * j + 1] = g;
                d1[2 * j] = d1[2 * j + 1] = g;
            }
        }
        zero_dropped(plane, h, w, 2 * ph, 2 * pw);
    }
}

/* Index (0..3, row-major in the window) of the maximum of a 2x2 window;
 * ties go to the first. */
static inline int argmax2x2(const float *x0, const float *x1, int j)
{
    const float v[4] = {x0[2 * j], x0[2 * j + 1], x1[2 * j], x1[2 * j + 1]};
    int best = 0;
    for (int q = 1; q < 4; q++)
        if (v[q] > v[best])
            best = q;
    return best;
}

void nst_f32_maxpool2x2__scalar(const float *x, int c, int h, int w, float *y)
{
    assert(x && y && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < ph; r++) {
            const float *x0 = x + ((size_t)ch * h + 2 * r) * w, *x1 = x0 + w;
            float *yr = y + ((size_t)ch * ph + r) * pw;
            for (int j = 0; j < pw; j++) {
                const int q = argmax2x2(x0, x1, j);
                yr[j] = (q < 2 ? x0 : x1)[2 * j + (q & 1)];
            }
        }
}

void nst_f32_maxpool2x2_backward__scalar(const float *x, const float *dy, int c,
                                         int h, int w, float *dx)
{
    assert(x && dy && dx && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        float *plane = dx + (size_t)ch * h * w;
        for (int r = 0; r < ph; r++) {
            const float *x0 = x + ((size_t)ch * h + 2 * r) * w, *x1 = x0 + w;
            const float *dyr = dy + ((size_t)ch * ph + r) * pw;
            float *d0 = plane + (size_t)2 * r * w, *d1 = d0 + w;
            for (int j = 0; j < pw; j++) {
                const int q = argmax2x2(x0, x1, j);
                d0[2 * j] = d0[2 * j + 1] = d1[2 * j] = d1[2 * j + 1] = 0.0f;
                (q < 2 ? d0 : d1)[2 * j + (q & 1)] = dyr[j];
            }
        }
        zero_dropped(plane, h, w, 2 * ph, 2 * pw);
    }
}
