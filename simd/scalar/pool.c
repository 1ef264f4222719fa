/* 2x2 stride-2 average and max pooling and their backward passes, in plain
 * C. Output size is floor(h/2) x floor(w/2); an odd last row or column of
 * the input is dropped and gets zero gradient. */
#include <assert.h>

#include "../pool_window.h"
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
                yr[j] = nst__avg_window(x0, x1, j);
        }
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
            for (int j = 0; j < pw; j++)
                nst__avg_window_backward(dyr[j], d0, d1, j);
        }
        nst__pool_zero_dropped(plane, h, w);
    }
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
            for (int j = 0; j < pw; j++)
                yr[j] = nst__max_window(x0, x1, j);
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
            for (int j = 0; j < pw; j++)
                nst__max_window_backward(x0, x1, dyr[j], d0, d1, j);
        }
        nst__pool_zero_dropped(plane, h, w);
    }
}
