/* The row kernels of 2x2 stride-2 average and max pooling and their
 * backward passes, in plain C, one window at a time; the loop around them
 * is pool_driver.c's. Every instruction set's leftover windows come here,
 * so all of them round alike. */
#include "../pool_driver.h"
#include "scalar.h"

static void avg_rows(const float *x0, const float *x1, int n, float *y)
{
    for (int j = 0; j < n; j++)
        y[j] = 0.25f * ((x0[2 * j] + x0[2 * j + 1]) +
                        (x1[2 * j] + x1[2 * j + 1]));
}

static void avg_backward_rows(const float *dy, int n, float *d0, float *d1)
{
    for (int j = 0; j < n; j++) {
        const float g = 0.25f * dy[j];
        d0[2 * j] = d0[2 * j + 1] = g;
        d1[2 * j] = d1[2 * j + 1] = g;
    }
}

/* Index (0..3, row-major in the window) of window j's maximum: x00, then
 * x01, x10, x11 each replacing the best so far only if strictly greater
 * (ties to the first; a NaN never replaces and is never replaced). */
static int max_index(const float *x0, const float *x1, int j)
{
    const float v[4] = {x0[2 * j], x0[2 * j + 1], x1[2 * j], x1[2 * j + 1]};
    int best = 0;
    for (int q = 1; q < 4; q++)
        if (v[q] > v[best])
            best = q;
    return best;
}

static void max_rows(const float *x0, const float *x1, int n, float *y)
{
    for (int j = 0; j < n; j++) {
        const int q = max_index(x0, x1, j);
        y[j] = (q < 2 ? x0 : x1)[2 * j + (q & 1)];
    }
}

/* dy goes to the window's maximum, zero to the other three. */
static void max_backward_rows(const float *x0, const float *x1,
                              const float *dy, int n, float *d0, float *d1)
{
    for (int j = 0; j < n; j++) {
        const int q = max_index(x0, x1, j);
        d0[2 * j] = d0[2 * j + 1] = d1[2 * j] = d1[2 * j + 1] = 0.0f;
        (q < 2 ? d0 : d1)[2 * j + (q & 1)] = dy[j];
    }
}

NST__POOL_KERNELS(scalar, 1)
