/* Direct 3x3 convolution, stride 1, zero padding 1, in plain C.
 *
 * Both passes are sums of 9 * channels row axpys: for a tap (ky, kx), the
 * output row picks up weight * (input row shifted by kx - 1). Zero padding
 * only shortens the range of the axpy (a tap that falls outside the image
 * contributes nothing), so the inner loop has no branches and vectorises.
 * Each output element receives its terms in the same order (bias, then
 * channel by channel, taps in row-major order) whatever the thread count. */
#include <assert.h>
#include <stdlib.h>

#include "../kctx.h"
#include "scalar.h"

int nst_conv_prepare__scalar(nst_conv *c)
{
    assert(c && c->weight && c->bias && c->cin > 0 && c->cout > 0);
    c->packed = NULL; /* reads c->weight directly */
    return 0;
}

void nst_conv_release__scalar(nst_conv *c)
{
    free(c->packed);
    c->packed = NULL;
}

/* y[j] += a * x[j + shift] for j in [lo, hi). */
static inline void axpy_shifted(float *restrict y, const float *restrict x,
                                float a, int shift, int lo, int hi)
{
#pragma omp simd
    for (int j = lo; j < hi; j++)
        y[j] += a * x[j + shift];
}

/* Adds to row r of an output the 9 taps wk of one channel: tap (ky, kx)
 * reads plane[r + dir*(ky-1)][j + dir*(kx-1)], zero outside the image.
 * dir = +1 is the forward correlation, dir = -1 its transpose (the taps
 * mirrored). */
static void accumulate_row(float *restrict yrow, const float *restrict plane,
                           const float *restrict wk, int r, int h, int w,
                           int dir)
{
    for (int ky = 0; ky < 3; ky++) {
        const int sr = r + dir * (ky - 1);
        if (sr < 0 || sr >= h)
            continue;
        const float *srow = plane + (size_t)sr * w;
        for (int kx = 0; kx < 3; kx++) {
            const int shift = dir * (kx - 1);
            /* Keep j + shift inside [0, w). */
            const int lo = shift < 0 ? -shift : 0;
            const int hi = shift > 0 ? w - shift : w;
            axpy_shifted(yrow, srow, wk[ky * 3 + kx], shift, lo, hi);
        }
    }
}

int nst_f32_conv3x3_bias_relu__scalar(nst_kctx *ctx, const nst_conv *c,
                                      const float *x, int h, int w, float *y)
{
    assert(ctx && c && x && y && h > 0 && w > 0);
    const int cin = c->cin, cout = c->cout;
    const size_t hw = (size_t)h * w;

#pragma omp parallel for schedule(static) \
    num_threads(nst_kctx_threads(ctx))
    for (int o = 0; o < cout; o++) {
        const float *wo = c->weight + (size_t)o * cin * 9;
        for (int r = 0; r < h; r++) {
            float *yrow = y + o * hw + (size_t)r * w;
            for (int j = 0; j < w; j++)
                yrow[j] = c->bias[o];
            for (int i = 0; i < cin; i++)
                accumulate_row(yrow, x + i * hw, wo + (size_t)i * 9, r, h, w,
                               +1);
            for (int j = 0; j < w; j++)
                yrow[j] = yrow[j] > 0.0f ? yrow[j] : 0.0f;
        }
    }    return 0;
}

/* dx[i][r][j] = sum over o, ky, kx of W[o][i][ky][kx] dy[o][r-ky+1][j-kx+1]:
 * the same row sweep with the taps mirrored. */
int nst_f32_conv3x3_backward_data__scalar(nst_kctx *ctx, const nst_conv *c,
                                          const float *dy, int h, int w,
                                          float *dx)
{
    assert(ctx && c && dy && dx && h > 0 && w > 0);
    const int cin = c->cin, cout = c->cout;
    const size_t hw = (size_t)h * w;

#pragma omp parallel for schedule(static) \
    num_threads(nst_kctx_threads(ctx))
    for (int i = 0; i < cin; i++) {
        for (int r = 0; r < h; r++) {
            float *xrow = dx + i * hw + (size_t)r * w;
            for (int j = 0; j < w; j++)
                xrow[j] = 0.0f;
            for (int o = 0; o < cout; o++)
                accumulate_row(xrow, dy + o * hw,
                               c->weight + ((size_t)o * cin + i) * 9, r, h, w,
                               -1);
        }
    }
    return 0;
}
