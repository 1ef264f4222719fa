/* The micro-kernels of the Gram matrix G = scale * F F^T (a SYRK) and its
 * backward pass dF += scale * D F (a GEMM), with NEON; the drivers around
 * them are in gram_driver.c.
 *
 * Gram: panels of 4 rows of F, column-major inside a panel. One layout
 * serves both operands of the 8 x 12 micro-kernel: two 4-float rows of the
 * panels are 8 rows of F at one k, whose lanes multiply (vfmaq_laneq_f32)
 * three such vectors of 4 columns of G. Only the column vectors that reach
 * the upper triangle are computed.
 *
 * Rounding: each element of G is a float FMA chain over at most KK = 256
 * columns, and those partial sums are added to G in column order, so the
 * error is about (KK + m/KK) ulps in the worst case instead of m. */
#include <arm_neon.h>

#include "../gram_driver.h"
#include "neon.h"

enum {
    MR = 8,    /* rows of a G tile (two panels, by lane) */
    NR = 12,   /* columns of a G tile (three 4-float vectors) */
    PANEL = 4, /* rows of F per packed panel */
    KK = 256,  /* columns of F per micro-kernel call */
};

/* Packs rows [r0, r0 + 4) of F, columns [k0, k0 + kc), into dst[k][4];
 * rows at or past c are zeros. 4 x 4 blocks are transposed in registers. */
static void pack_panel(const float *f, int c, size_t m, int r0, size_t k0,
                       int kc, float *dst)
{
    const float *row[PANEL];
    const int nvalid = c - r0 < PANEL ? c - r0 : PANEL;
    for (int r = 0; r < PANEL; r++)
        row[r] = f + (size_t)(r < nvalid ? r0 + r : r0) * m + k0;

    int k = 0;
    if (nvalid == PANEL) {
        for (; k + 4 <= kc; k += 4) {
            float32x4x4_t v;
            v.val[0] = vld1q_f32(row[0] + k);
            v.val[1] = vld1q_f32(row[1] + k);
            v.val[2] = vld1q_f32(row[2] + k);
            v.val[3] = vld1q_f32(row[3] + k);
            /* Storing interleaved transposes the 4 x 4 block. */
            vst4q_f32(dst + (size_t)k * PANEL, v);
        }
    }
    // leftovers (and panels with fewer than 4 rows)
    for (; k < kc; k++)
        for (int r = 0; r < PANEL; r++)
            dst[(size_t)k * PANEL + r] = r < nvalid ? row[r][k] : 0.0f;
}

/* t[r][4q ..] = sum over k < kn of a_r[k] b_q[k*4 ..] for the 8 rows of a
 * tile (a: panel at a, next panel at a + ps) and its nv column vectors
 * (b_q = b + q ps). t is overwritten when first, otherwise added to. nv is a
 * constant after inlining, so the unused accumulators vanish. */
static inline __attribute__((always_inline)) void
gram_8xv(const float *a, const float *b, size_t ps, int kn, float *t,
         size_t ldt, int first, const int nv)
{
    float32x4_t acc[MR][3];
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < 3; q++)
            acc[r][q] = vdupq_n_f32(0.0f);
    const float *a1 = a + ps;
    for (int k = 0; k < kn; k++) {
        const float32x4_t lo = vld1q_f32(a + k * PANEL);
        const float32x4_t hi = vld1q_f32(a1 + k * PANEL);
        for (int q = 0; q < nv; q++) {
            const float32x4_t v = vld1q_f32(b + q * ps + k * PANEL);
            acc[0][q] = vfmaq_laneq_f32(acc[0][q], v, lo, 0);
            acc[1][q] = vfmaq_laneq_f32(acc[1][q], v, lo, 1);
            acc[2][q] = vfmaq_laneq_f32(acc[2][q], v, lo, 2);
            acc[3][q] = vfmaq_laneq_f32(acc[3][q], v, lo, 3);
            acc[4][q] = vfmaq_laneq_f32(acc[4][q], v, hi, 0);
            acc[5][q] = vfmaq_laneq_f32(acc[5][q], v, hi, 1);
            acc[6][q] = vfmaq_laneq_f32(acc[6][q], v, hi, 2);
            acc[7][q] = vfmaq_laneq_f32(acc[7][q], v, hi, 3);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < nv; q++) {
            float *p = t + r * ldt + q * 4;
            vst1q_f32(p, first ? acc[r][q]
                               : vaddq_f32(vld1q_f32(p), acc[r][q]));
        }
}

static void gram_8xn(const float *a, const float *b, size_t ps, int kn,
                     float *t, size_t ldt, int first, int nv)
{
    if (nv == 3)
        gram_8xv(a, b, ps, kn, t, ldt, first, 3);
    else if (nv == 2)
        gram_8xv(a, b, ps, kn, t, ldt, first, 2);
    else
        gram_8xv(a, b, ps, kn, t, ldt, first, 1);
}

int nst_f32_gram__neon(nst_kctx *ctx, const float *f, int c, int m,
                       float scale, float *g)
{
    static const nst__gram_ukernel uk = {
        .mr = MR, .nr = NR, .panel = PANEL, .vw = 4, .kk = KK,
        .pack = pack_panel, .kernel = gram_8xn};
    return nst__gram_run(ctx, &uk, f, c, m, scale, g);
}

/* Backward, dF += scale * D F: an 8 x 12 micro-kernel over 8 rows of D (A,
 * read in place) and 12-column panels of F (B). */
enum {
    BMR = 8,   /* rows of dF per tile (two vectors of D, by lane) */
    BNR = 12,  /* columns of dF per tile (three vectors) */
    BKC = 256, /* rows of F per packed block */
    BNC = 48,  /* columns of F per chunk */
};

/* t[r][0..12) += scale * sum over k < kn of a[k*lda + r] b[k*12 ..]. */
static void gemm_8x12(const float *a, size_t lda, const float *b, int kn,
                      float scale, float *t, size_t ldt)
{
    float32x4_t acc[BMR][3];
    for (int r = 0; r < BMR; r++)
        for (int q = 0; q < 3; q++)
            acc[r][q] = vdupq_n_f32(0.0f);
    for (int k = 0; k < kn; k++) {
        const float32x4_t lo = vld1q_f32(a + k * lda),
                          hi = vld1q_f32(a + k * lda + 4);
        for (int q = 0; q < 3; q++) {
            const float32x4_t v = vld1q_f32(b + k * BNR + q * 4);
            acc[0][q] = vfmaq_laneq_f32(acc[0][q], v, lo, 0);
            acc[1][q] = vfmaq_laneq_f32(acc[1][q], v, lo, 1);
            acc[2][q] = vfmaq_laneq_f32(acc[2][q], v, lo, 2);
            acc[3][q] = vfmaq_laneq_f32(acc[3][q], v, lo, 3);
            acc[4][q] = vfmaq_laneq_f32(acc[4][q], v, hi, 0);
            acc[5][q] = vfmaq_laneq_f32(acc[5][q], v, hi, 1);
            acc[6][q] = vfmaq_laneq_f32(acc[6][q], v, hi, 2);
            acc[7][q] = vfmaq_laneq_f32(acc[7][q], v, hi, 3);
        }
    }
    for (int r = 0; r < BMR; r++)
        for (int q = 0; q < 3; q++) {
            float *p = t + r * ldt + q * 4;
            vst1q_f32(p, vfmaq_n_f32(vld1q_f32(p), acc[r][q], scale));
        }
}

void nst_f32_gram_backward__neon(nst_kctx *ctx, const float *d,
                                 const float *f, int c, int m, float scale,
                                 float *df)
{
    static const nst__gemm_ukernel uk = {BMR, BNR, BKC, BNC, gemm_8x12};
    nst__gram_backward_run(ctx, &uk, d, f, c, m, scale, df);
}
