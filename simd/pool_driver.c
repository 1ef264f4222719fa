/* The ISA-neutral pooling loop; see pool_driver.h.
 *
 * Threads share out (channel, window row) pairs, so small late layers with
 * few channels or rows still split evenly. Each pair writes only its own
 * output row (forward) or its own two input rows (backward), whatever the
 * thread count. */
#include "pool_driver.h"

#include <assert.h>
#include <string.h>

/* Windows of a row the instruction set's kernel takes; the scalar row
 * kernels do the remaining pw - simd_windows(). */
static int simd_windows(int vw, int pw)
{
    return pw / vw * vw;
}

typedef void row_kernel(const float *x0, const float *x1, int n, float *y);

/* A forward pass: kernel on the first nv windows of each row, the scalar
 * leftover on the rest. */
static void forward(row_kernel *kernel, row_kernel *leftover, int vw,
                    const float *x, int c, int h, int w, float *y)
{
    assert(x && y && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2, nv = simd_windows(vw, pw);
    const long pairs = (long)c * ph;

#pragma omp parallel for schedule(static)
    for (long i = 0; i < pairs; i++) {
        const float *x0 =
            x + (size_t)(i / ph) * h * w + (size_t)2 * (i % ph) * w;
        const float *x1 = x0 + w;
        float *yr = y + (size_t)i * pw;
        kernel(x0, x1, nv, yr);
        // leftovers
        leftover(x0 + 2 * nv, x1 + 2 * nv, pw - nv, yr + nv);
    }
}

void nst__avgpool2x2_run(const nst__pool_rows *rows, const float *x, int c,
                         int h, int w, float *y)
{
    forward(rows->avg, nst__pool_rows_scalar.avg, rows->vw, x, c, h, w, y);
}

void nst__maxpool2x2_run(const nst__pool_rows *rows, const float *x, int c,
                         int h, int w, float *y)
{
    forward(rows->max, nst__pool_rows_scalar.max, rows->vw, x, c, h, w, y);
}

/* Zero gradient for what window row r of an h x w plane drops: the last
 * column of its two rows (odd w) and, for the last window row, the last
 * row of the plane (odd h). */
static void zero_dropped(float *plane, int h, int w, int r)
{
    if (w & 1) {
        plane[(size_t)2 * r * w + w - 1] = 0.0f;
        plane[(size_t)(2 * r + 1) * w + w - 1] = 0.0f;
    }
    if ((h & 1) && r == h / 2 - 1)
        memset(plane + (size_t)(h - 1) * w, 0, sizeof *plane * (size_t)w);
}

/* The backward passes when h = 1: no window, every gradient is zero. */
static int all_dropped(int c, int h, int w, float *dx)
{
    if (h > 1)
        return 0;
    memset(dx, 0, sizeof *dx * (size_t)c * w);
    return 1;
}

/* A backward pass: of the max pool, or of the average pool when x is
 * NULL. */
static void backward(const nst__pool_rows *rows, const float *x,
                     const float *dy, int c, int h, int w, float *dx)
{
    assert(rows && dy && dx && c > 0 && h > 0 && w > 0);
    if (all_dropped(c, h, w, dx))
        return;
    const nst__pool_rows *left = &nst__pool_rows_scalar;
    const int ph = h / 2, pw = w / 2, nv = simd_windows(rows->vw, pw);
    const long pairs = (long)c * ph;

#pragma omp parallel for schedule(static)
    for (long i = 0; i < pairs; i++) {
        const size_t plane = (size_t)(i / ph) * h * w;
        const int r = (int)(i % ph);
        const float *dyr = dy + (size_t)i * pw;
        float *d0 = dx + plane + (size_t)2 * r * w, *d1 = d0 + w;
        if (x) {
            const float *x0 = x + plane + (size_t)2 * r * w, *x1 = x0 + w;
            rows->max_backward(x0, x1, dyr, nv, d0, d1);
            // leftovers
            left->max_backward(x0 + 2 * nv, x1 + 2 * nv, dyr + nv, pw - nv,
                               d0 + 2 * nv, d1 + 2 * nv);
        } else {
            rows->avg_backward(dyr, nv, d0, d1);
            // leftovers
            left->avg_backward(dyr + nv, pw - nv, d0 + 2 * nv, d1 + 2 * nv);
        }
        zero_dropped(dx + plane, h, w, r);
    }
}

void nst__avgpool2x2_backward_run(const nst__pool_rows *rows, const float *dy,
                                  int c, int h, int w, float *dx)
{
    backward(rows, NULL, dy, c, h, w, dx);
}

void nst__maxpool2x2_backward_run(const nst__pool_rows *rows, const float *x,
                                  const float *dy, int c, int h, int w,
                                  float *dx)
{
    assert(x);
    backward(rows, x, dy, c, h, w, dx);
}
