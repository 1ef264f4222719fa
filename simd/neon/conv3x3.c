/* Direct 3x3 convolution, stride 1, zero padding 1, with NEON.
 *
 * A tile is 8 output channels x 8 consecutive pixels of one output row: 16
 * float32x4 accumulators. For each input channel and tap, two 4-pixel
 * vectors of the shifted input row are multiplied by the tap's 8 weights
 * (two vectors, one lane per output channel: vfmaq_laneq_f32). The weights
 * are packed once by conv_prepare as [channel block][input][tap][8], so the
 * inner loop reads them contiguously; output channels past the last block's
 * end are zero weights and are not stored.
 *
 * Interior tiles read the input in place; tiles touching the border (and
 * the last, partial tile of a row) first copy their 3 x 10 input window of
 * each channel into a small zero-padded buffer, so no big padded or im2col
 * copy of the input is made.
 *
 * The backward pass (data) is the same correlation with the channels
 * swapped and the taps mirrored: dx[i][r][j] = sum over o, a, b of
 * W[o][i][2-a][2-b] dy[o][r+a-1][j+b-1]. conv_prepare packs those weights
 * too. Each output's sum runs over channels then taps in a fixed order, and
 * threads split (channel block, row) pairs, so results do not depend on the
 * thread count. */
#include <arm_neon.h>
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../kctx.h"
#include "neon.h"

enum {
    OB = 8, /* output channels per tile */
    TW = 8, /* pixels per tile */
};

static size_t blocks(int n)
{
    return ((size_t)n + OB - 1) / OB;
}

/* dst[ob][i][t][o] = the weight from input i to output ob*8 + o at tap t,
 * zero past nout. weight is the layer's cout x cin x 3 x 3; transposed
 * packs the backward pass (inputs are the layer's outputs, taps mirrored). */
static void pack_weights(const float *weight, int cin, int nin, int nout,
                         int transposed, float *dst)
{
    for (size_t ob = 0; ob < blocks(nout); ob++)
        for (int i = 0; i < nin; i++)
            for (int t = 0; t < 9; t++)
                for (int o = 0; o < OB; o++) {
                    const int out = (int)ob * OB + o;
                    float v = 0.0f;
                    if (out < nout)
                        v = transposed
                                ? weight[((size_t)i * cin + out) * 9 + (8 - t)]
                                : weight[((size_t)out * cin + i) * 9 + t];
                    dst[((ob * nin + i) * 9 + t) * OB + o] = v;
                }
}

int nst_conv_prepare__neon(nst_conv *c)
{
    assert(c && c->weight && c->bias && c->cin > 0 && c->cout > 0);
    const size_t nf = blocks(c->cout) * OB * c->cin * 9,
                 nb = blocks(c->cin) * OB * c->cout * 9;
    float *p = malloc((nf + nb) * sizeof *p);
    if (!p)
        return -1;
    pack_weights(c->weight, c->cin, c->cin, c->cout, 0, p);
    pack_weights(c->weight, c->cin, c->cout, c->cin, 1, p + nf);
    c->packed = p;
    return 0;
}

void nst_conv_release__neon(nst_conv *c)
{
    free(c->packed);
    c->packed = NULL;
}

/* One tile: outputs ob*8.. of row r, pixels j0..j0+7, from nin input
 * planes x (h x w) and packed weights wb = [i][t][8] of this block. */
static void conv_tile(const float *wb, int nin, const float *x, int h, int w,
                      int r, int j0, const float *bias, int relu, int nout,
                      int o0, float *y)
{
    const size_t hw = (size_t)h * w;
    const int interior = r >= 1 && r + 1 < h && j0 >= 1 && j0 + TW + 1 <= w;
    float32x4_t acc[OB][2];
    for (int o = 0; o < OB; o++)
        acc[o][0] = acc[o][1] = vdupq_n_f32(0.0f);
    float win[3][TW + 2]; /* zero-padded window of a border tile */

    for (int i = 0; i < nin; i++) {
        const float *plane = x + i * hw;
        const float *rows[3];
        if (interior) {
            for (int a = 0; a < 3; a++)
                rows[a] = plane + (size_t)(r - 1 + a) * w + (j0 - 1);
        } else {
            for (int a = 0; a < 3; a++) {
                const int sr = r - 1 + a;
                for (int k = 0; k < TW + 2; k++) {
                    const int sj = j0 - 1 + k;
                    win[a][k] = sr >= 0 && sr < h && sj >= 0 && sj < w
                                    ? plane[(size_t)sr * w + sj]
                                    : 0.0f;
                }
                rows[a] = win[a];
            }
        }
        const float *wi = wb + (size_t)i * 9 * OB;
        for (int a = 0; a < 3; a++) {
            const float *s = rows[a];
            const float32x4_t x00 = vld1q_f32(s), x01 = vld1q_f32(s + 1),
                              x02 = vld1q_f32(s + 2), x10 = vld1q_f32(s + 4),
                              x11 = vld1q_f32(s + 5), x12 = vld1q_f32(s + 6);
            const float32x4_t xs[3][2] = {{x00, x10}, {x01, x11}, {x02, x12}};
            for (int b = 0; b < 3; b++) {
                const float *wt = wi + (a * 3 + b) * OB;
                const float32x4_t lo = vld1q_f32(wt), hi = vld1q_f32(wt + 4);
                for (int v = 0; v < 2; v++) {
                    const float32x4_t xv = xs[b][v];
                    acc[0][v] = vfmaq_laneq_f32(acc[0][v], xv, lo, 0);
                    acc[1][v] = vfmaq_laneq_f32(acc[1][v], xv, lo, 1);
                    acc[2][v] = vfmaq_laneq_f32(acc[2][v], xv, lo, 2);
                    acc[3][v] = vfmaq_laneq_f32(acc[3][v], xv, lo, 3);
                    acc[4][v] = vfmaq_laneq_f32(acc[4][v], xv, hi, 0);
                    acc[5][v] = vfmaq_laneq_f32(acc[5][v], xv, hi, 1);
                    acc[6][v] = vfmaq_laneq_f32(acc[6][v], xv, hi, 2);
                    acc[7][v] = vfmaq_laneq_f32(acc[7][v], xv, hi, 3);
                }
            }
        }
    }

    const int no = nout - o0 < OB ? nout - o0 : OB;
    const int nj = w - j0 < TW ? w - j0 : TW;
    const float32x4_t zero = vdupq_n_f32(0.0f);
    for (int o = 0; o < no; o++) {
        float32x4_t v0 = acc[o][0], v1 = acc[o][1];
        if (bias) {
            v0 = vaddq_f32(v0, vdupq_n_f32(bias[o0 + o]));
            v1 = vaddq_f32(v1, vdupq_n_f32(bias[o0 + o]));
        }
        if (relu) {
            v0 = vmaxq_f32(v0, zero);
            v1 = vmaxq_f32(v1, zero);
        }
        float *out = y + (size_t)(o0 + o) * hw + (size_t)r * w + j0;
        if (nj == TW) {
            vst1q_f32(out, v0);
            vst1q_f32(out + 4, v1);
        } else {
            float t[TW];
            vst1q_f32(t, v0);
            vst1q_f32(t + 4, v1);
            memcpy(out, t, nj * sizeof *t);
        }
    }
}

/* y = act(correlate(x, packed weights) + bias) for nout planes of h x w
 * from nin planes; nthreads threads split (channel block, row) pairs. */
static void conv3x3(int nthreads, const float *packed, int nin, int nout,
                    const float *bias, int relu, const float *x, int h, int w,
                    float *y)
{
    const int tasks = (int)blocks(nout) * h;
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (int task = 0; task < tasks; task++) {
        const int ob = task / h, r = task % h;
        const float *wb = packed + (size_t)ob * nin * 9 * OB;
        for (int j0 = 0; j0 < w; j0 += TW)
            conv_tile(wb, nin, x, h, w, r, j0, bias, relu, nout, ob * OB, y);
    }
}

int nst_f32_conv3x3_bias_relu__neon(nst_kctx *ctx, const nst_conv *c,
                                    const float *x, int h, int w, float *y)
{
    assert(ctx && c && c->packed && x && y && h > 0 && w > 0);
    conv3x3(nst_kctx_threads(ctx), c->packed, c->cin, c->cout, c->bias, 1, x,
            h, w, y);
    return 0;
}

int nst_f32_conv3x3_backward_data__neon(nst_kctx *ctx, const nst_conv *c,
                                        const float *dy, int h, int w,
                                        float *dx)
{
    assert(ctx && c && c->packed && dy && dx && h > 0 && w > 0);
    const float *packed = c->packed;
    const size_t nf = blocks(c->cout) * OB * c->cin * 9;
    conv3x3(nst_kctx_threads(ctx), packed + nf, c->cout, c->cin, NULL, 0, dy,
            h, w, dx);
    return 0;
}
