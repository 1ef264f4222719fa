/* One 2x2 pooling window in plain C, shared by every instruction set's
 * pooling kernels (the whole scalar kernel, the SIMD kernels' leftovers),
 * so that all of them round alike. Window j covers columns 2j, 2j+1 of the
 * row pair x0, x1 (d0, d1 for gradients). Output is floor(h/2) x
 * floor(w/2); an odd last row or column is dropped and gets zero
 * gradient. */
#ifndef NST_POOL_WINDOW_H
#define NST_POOL_WINDOW_H

#include <string.h>

static inline float nst__avg_window(const float *x0, const float *x1, int j)
{
    return 0.25f * ((x0[2 * j] + x0[2 * j + 1]) + (x1[2 * j] + x1[2 * j + 1]));
}

static inline void nst__avg_window_backward(float dy, float *d0, float *d1,
                                            int j)
{
    const float g = 0.25f * dy;
    d0[2 * j] = d0[2 * j + 1] = g;
    d1[2 * j] = d1[2 * j + 1] = g;
}

/* Index (0..3, row-major in the window) of the window's maximum; ties go to
 * the first. */
static inline int nst__max_window_index(const float *x0, const float *x1,
                                        int j)
{
    const float v[4] = {x0[2 * j], x0[2 * j + 1], x1[2 * j], x1[2 * j + 1]};
    int best = 0;
    for (int q = 1; q < 4; q++)
        if (v[q] > v[best])
            best = q;
    return best;
}

static inline float nst__max_window(const float *x0, const float *x1, int j)
{
    const int q = nst__max_window_index(x0, x1, j);
    return (q < 2 ? x0 : x1)[2 * j + (q & 1)];
}

/* dy goes to the window's maximum, zero to the other three. */
static inline void nst__max_window_backward(const float *x0, const float *x1,
                                            float dy, float *d0, float *d1,
                                            int j)
{
    const int q = nst__max_window_index(x0, x1, j);
    d0[2 * j] = d0[2 * j + 1] = d1[2 * j] = d1[2 * j + 1] = 0.0f;
    (q < 2 ? d0 : d1)[2 * j + (q & 1)] = dy;
}

/* Zero gradient for the dropped last column (odd w) and last row (odd h)
 * of an h x w plane. */
static inline void nst__pool_zero_dropped(float *plane, int h, int w)
{
    if (w & 1)
        for (int r = 0; r < h - (h & 1); r++)
            plane[(size_t)r * w + w - 1] = 0.0f;
    if (h & 1)
        memset(plane + (size_t)(h - 1) * w, 0, sizeof *plane * (size_t)w);
}

#endif
