/* The micro-kernels of the Gram matrix G = scale * F F^T (a SYRK) and its
 * backward pass dF += scale * D F (a GEMM), with AVX2 and FMA; the drivers
 * around them are in gram_driver.c.
 *
 * Gram: panels of 8 rows of F, column-major inside a panel. One layout
 * serves both operands of the 4 x 24 micro-kernel: a row of 8 floats is a
 * vector of 8 rows of F at one k (three of them give 24 columns of G), and
 * single floats of it are the broadcasts for the 4 rows of G. Only the
 * column vectors that reach the upper triangle are computed.
 *
 * Rounding: each element of G is a float FMA chain over at most KK = 256
 * columns, and those partial sums are added to G in column order, so the
 * error is about (KK + m/KK) ulps in the worst case instead of m. */
#include <immintrin.h>

#include "../gram_driver.h"
#include "avx2.h"
#include "gemm_6x16.h"

enum {
    MR = 4,    /* rows of a G tile (broadcasts) */
    NR = 24,   /* columns of a G tile (three 8-float vectors) */
    PANEL = 8, /* rows of F per packed panel */
    KK = 256,  /* columns of F per micro-kernel call */
};

/* Packs rows [r0, r0 + 8) of F, columns [k0, k0 + kc), into dst[k][8];
 * rows at or past c are zeros. 8 x 8 blocks are transposed in registers. */
static void pack_panel(const float *f, int c, size_t m, int r0, size_t k0,
                       int kc, float *dst)
{
    const float *row[PANEL];
    int nvalid = c - r0 < PANEL ? c - r0 : PANEL;
    for (int r = 0; r < PANEL; r++)
        row[r] = f + (size_t)(r < nvalid ? r0 + r : r0) * m + k0;

    int k = 0;
    if (nvalid == PANEL) {
        for (; k + 8 <= kc; k += 8) {
            __m256 v0 = _mm256_loadu_ps(row[0] + k);
            __m256 v1 = _mm256_loadu_ps(row[1] + k);
            __m256 v2 = _mm256_loadu_ps(row[2] + k);
            __m256 v3 = _mm256_loadu_ps(row[3] + k);
            __m256 v4 = _mm256_loadu_ps(row[4] + k);
            __m256 v5 = _mm256_loadu_ps(row[5] + k);
            __m256 v6 = _mm256_loadu_ps(row[6] + k);
            __m256 v7 = _mm256_loadu_ps(row[7] + k);
            /* Interleave pairs, then quads, then the 128-bit halves. */
            __m256 t0 = _mm256_unpacklo_ps(v0, v1);
            __m256 t1 = _mm256_unpackhi_ps(v0, v1);
            __m256 t2 = _mm256_unpacklo_ps(v2, v3);
            __m256 t3 = _mm256_unpackhi_ps(v2, v3);
            __m256 t4 = _mm256_unpacklo_ps(v4, v5);
            __m256 t5 = _mm256_unpackhi_ps(v4, v5);
            __m256 t6 = _mm256_unpacklo_ps(v6, v7);
            __m256 t7 = _mm256_unpackhi_ps(v6, v7);
            __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
            __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
            __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
            __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
            __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
            __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
            __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
            __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
            float *d = dst + (size_t)k * PANEL;
            _mm256_store_ps(d + 0, _mm256_permute2f128_ps(s0, s4, 0x20));
            _mm256_store_ps(d + 8, _mm256_permute2f128_ps(s1, s5, 0x20));
            _mm256_store_ps(d + 16, _mm256_permute2f128_ps(s2, s6, 0x20));
            _mm256_store_ps(d + 24, _mm256_permute2f128_ps(s3, s7, 0x20));
            _mm256_store_ps(d + 32, _mm256_permute2f128_ps(s0, s4, 0x31));
            _mm256_store_ps(d + 40, _mm256_permute2f128_ps(s1, s5, 0x31));
            _mm256_store_ps(d + 48, _mm256_permute2f128_ps(s2, s6, 0x31));
            _mm256_store_ps(d + 56, _mm256_permute2f128_ps(s3, s7, 0x31));
        }
    }
    // leftovers (and panels with fewer than 8 rows)
    for (; k < kc; k++)
        for (int r = 0; r < PANEL; r++)
            dst[(size_t)k * PANEL + r] = r < nvalid ? row[r][k] : 0.0f;
}

/* t[r][8q0 + 8q ..] = sum over k < kn of a[k*8 + r] b_q[k*8 ..] for the 4
 * rows of a tile and its nv column vectors q < nv, b_q = b + q bs. t is
 * overwritten when first, otherwise added to. nv is a constant after
 * inlining, so the unused accumulators vanish. */
static inline __attribute__((always_inline)) void
gram_4xv(const float *a, const float *b, size_t bs, int kn, float *t,
         size_t ldt, int first, const int nv)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00;
    __m256 c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00;
    __m256 c30 = c00, c31 = c00, c32 = c00;
    const float *b0 = b, *b1 = b + bs, *b2 = b + 2 * bs;
    for (int k = 0; k < kn; k++) {
        const __m256 v0 = _mm256_load_ps(b0 + k * PANEL);
        const __m256 v1 = nv > 1 ? _mm256_load_ps(b1 + k * PANEL) : v0;
        const __m256 v2 = nv > 2 ? _mm256_load_ps(b2 + k * PANEL) : v0;
        const float *ak = a + k * PANEL;
        __m256 s = _mm256_broadcast_ss(ak + 0);
        c00 = _mm256_fmadd_ps(s, v0, c00);
        if (nv > 1)
            c01 = _mm256_fmadd_ps(s, v1, c01);
        if (nv > 2)
            c02 = _mm256_fmadd_ps(s, v2, c02);
        s = _mm256_broadcast_ss(ak + 1);
        c10 = _mm256_fmadd_ps(s, v0, c10);
        if (nv > 1)
            c11 = _mm256_fmadd_ps(s, v1, c11);
        if (nv > 2)
            c12 = _mm256_fmadd_ps(s, v2, c12);
        s = _mm256_broadcast_ss(ak + 2);
        c20 = _mm256_fmadd_ps(s, v0, c20);
        if (nv > 1)
            c21 = _mm256_fmadd_ps(s, v1, c21);
        if (nv > 2)
            c22 = _mm256_fmadd_ps(s, v2, c22);
        s = _mm256_broadcast_ss(ak + 3);
        c30 = _mm256_fmadd_ps(s, v0, c30);
        if (nv > 1)
            c31 = _mm256_fmadd_ps(s, v1, c31);
        if (nv > 2)
            c32 = _mm256_fmadd_ps(s, v2, c32);
    }
    __m256 acc[MR][3] = {{c00, c01, c02},
                         {c10, c11, c12},
                         {c20, c21, c22},
                         {c30, c31, c32}};
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < nv; q++) {
            float *p = t + r * ldt + q * 8;
            _mm256_storeu_ps(p, first ? acc[r][q]
                                      : _mm256_add_ps(_mm256_loadu_ps(p),
                                                      acc[r][q]));
        }
}

static void gram_4xn(const float *a, const float *b, size_t bs, int kn,
                     float *t, size_t ldt, int first, int nv)
{
    if (nv == 3)
        gram_4xv(a, b, bs, kn, t, ldt, first, 3);
    else if (nv == 2)
        gram_4xv(a, b, bs, kn, t, ldt, first, 2);
    else
        gram_4xv(a, b, bs, kn, t, ldt, first, 1);
}

int nst_f32_gram__avx2(nst_kctx *ctx, const float *f, int c, int m,
                       float scale, float *g)
{
    static const nst__gram_ukernel uk = {
        .mr = MR, .nr = NR, .panel = PANEL, .vw = 8, .kk = KK,
        .pack = pack_panel, .kernel = gram_4xn};
    return nst__gram_run(ctx, &uk, f, c, m, scale, g);
}

/* Backward, dF += scale * D F: a 6 x 16 micro-kernel over 6 rows of D (A,
 * read in place) and 16-column panels of F (B, in L1 one panel at a
 * time). */
enum {
    BMR = 6,   /* rows of dF per tile (broadcasts of D) */
    BNR = 16,  /* columns of dF per tile (two vectors) */
    BKC = 256, /* rows of F per packed block */
    BNC = 64,  /* columns of F per chunk */
};

/* t[r][0..16) += scale * sum over k < kn of a[k*lda + r] b[k*16 ..]. */
static void gemm_6x16(const float *a, size_t lda, const float *b, int kn,
                      float scale, float *t, size_t ldt)
{
    _Static_assert(BMR == 6 && BNR == 16, "the register block is 6 x 16");
    __m256 acc[6][2];
    nst__gemm_6x16_avx2(kn, a, lda, b, acc);
    const __m256 vs = _mm256_set1_ps(scale);
    for (int r = 0; r < BMR; r++)
        for (int q = 0; q < 2; q++) {
            float *p = t + r * ldt + q * 8;
            _mm256_storeu_ps(p,
                             _mm256_fmadd_ps(vs, acc[r][q],
                                             _mm256_loadu_ps(p)));
        }
}

void nst_f32_gram_backward__avx2(nst_kctx *ctx, const float *d,
                                 const float *f, int c, int m, float scale,
                                 float *df)
{
    static const nst__gemm_ukernel uk = {BMR, BNR, BKC, BNC, gemm_6x16};
    nst__gram_backward_run(ctx, &uk, d, f, c, m, scale, df);
}
