/* The Gram matrix G = scale * F F^T (a SYRK) and its backward pass
 * dF += scale * D F (a GEMM), with NEON.
 *
 * Gram: each thread packs a slice of F's columns (the rows it reads, kc
 * columns, about 1 MiB) into panels of 4 rows, column-major inside a panel:
 * panel[k][r] = F[4p + r][k0 + k]. One layout serves both operands of the
 * 8 x 12 micro-kernel: two 4-float rows of the panels are 8 rows of F at one
 * k, whose lanes multiply (vfmaq_laneq_f32) three such vectors of 4 columns
 * of G. Only the column vectors that reach the upper triangle are computed;
 * the lower triangle is then mirrored from the upper one, so G is exactly
 * symmetric.
 *
 * Rounding: each element of G is a float FMA chain over at most KK = 256
 * columns, and those partial sums are added to G in column order, so the
 * error is about (KK + m/KK) ulps in the worst case instead of m. Threads
 * split the columns of G, never k, so G is byte-identical for any thread
 * count. */
#include <arm_neon.h>
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../gram_split.h"
#include "../scalar/scalar.h"
#include "../workspace.h"
#include "neon.h"

enum {
    MR = 8,                 /* rows of a G tile (two panels, by lane) */
    NR = 12,                /* columns of a G tile (three 4-float vectors) */
    PANEL = 4,              /* rows of F per packed panel */
    KK = 256,               /* columns of F per micro-kernel call */
    SLICE_FLOATS = 1 << 18, /* packed slice budget per thread: 1 MiB */
};

/* The packed slices of all threads, kept from call to call. */
static nst_workspace slices = NST_WORKSPACE_INIT;

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

/* One tile (rows i.., columns j..) over kn packed columns at offset kk of
 * the slice. Column vectors wholly below the diagonal or past c are
 * skipped; edge tiles go through a scratch tile. */
static void gram_tile(const float *pack, int kc, int kk, int kn, int c, int i,
                      int j, int first, float *g)
{
    const size_t ps = (size_t)kc * PANEL; /* floats per panel */
    const int q0 = i > j ? (i - j) / 4 : 0;          /* j + 4 q0 + 3 >= i */
    const int q1 = c - j < NR ? (c - j + 3) / 4 : 3; /* j + 4 q1 >= c */
    const int jv = j + 4 * q0;
    const float *a = pack + (size_t)(i / PANEL) * ps + (size_t)kk * PANEL;
    const float *b = pack + (size_t)(jv / PANEL) * ps + (size_t)kk * PANEL;
    if (i + MR <= c && j + NR <= c) {
        gram_8xn(a, b, ps, kn, g + (size_t)i * c + jv, (size_t)c, first,
                 q1 - q0);
        return;
    }
    float t[MR * NR];
    const int ni = c - i < MR ? c - i : MR;
    const int nj = c - jv < 4 * (q1 - q0) ? c - jv : 4 * (q1 - q0);
    if (!first)
        for (int r = 0; r < ni; r++)
            memcpy(t + r * NR, g + (size_t)(i + r) * c + jv, nj * sizeof *t);
    gram_8xn(a, b, ps, kn, t, NR, first, q1 - q0);
    for (int r = 0; r < ni; r++)
        memcpy(g + (size_t)(i + r) * c + jv, t + r * NR, nj * sizeof *t);
}

void nst_f32_gram__neon(const float *f, int c, int m, float scale, float *g)
{
    assert(f && g && c > 0 && m > 0);
    const int cp = (c + MR - 1) / MR * MR; /* rows packed, zeros past c */
    const int nb = (c + NR - 1) / NR;
    int kc = SLICE_FLOATS / cp / 4 * 4;
    if (kc < KK)
        kc = KK;
    int maxth = 1;
#ifdef _OPENMP
    maxth = omp_get_max_threads();
#endif
    /* Room for the widest slices this c takes, whatever m: the buffer then
     * stops growing after the first call per layer shape. */
    const size_t need = (size_t)maxth * cp * kc;
    if (kc > m)
        kc = m;
    /* Each thread packs the rows it reads into its own slice buffer, so the
     * threads never wait for one another inside the k loop. */
    float *packs = nst_workspace_acquire(&slices, need);
    if (!packs) { /* out of memory: the scalar kernel needs no buffer */
        nst_f32_gram__scalar(f, c, m, scale, g);
        return;
    }
    const size_t slice = (size_t)cp * kc;

#pragma omp parallel
    {
        int ith = 0, nth = 1;
#ifdef _OPENMP
        ith = omp_get_thread_num();
        nth = omp_get_num_threads();
#endif
        const int jb0 = nst__gram_split_start(c, nb, ith, nth, MR, NR),
                  jb1 = nst__gram_split_start(c, nb, ith + 1, nth, MR, NR);
        float *pack = packs + (size_t)ith * slice;
        /* Rows read: all of G's rows up to the last column of jb1 - 1,
         * rounded up to whole tiles (the rows past c are packed as zeros). */
        const int rows = jb1 * NR < c ? jb1 * NR : c;
        const int rows_packed = (rows + MR - 1) / MR * MR;
        for (size_t k0 = 0; jb0 < jb1 && k0 < (size_t)m; k0 += kc) {
            const int kn_slice =
                (size_t)m - k0 < (size_t)kc ? (int)((size_t)m - k0) : kc;
            for (int p = 0; p * PANEL < rows_packed; p++)
                pack_panel(f, c, (size_t)m, p * PANEL, k0, kn_slice,
                           pack + (size_t)p * kc * PANEL);
            for (int kk = 0; kk < kn_slice; kk += KK) {
                const int kn = kn_slice - kk < KK ? kn_slice - kk : KK;
                const int first = k0 == 0 && kk == 0;
                for (int jb = jb0; jb < jb1; jb++) {
                    const int tiles = nst__gram_tile_rows(c, jb, MR, NR);
                    for (int ib = 0; ib < tiles; ib++)
                        gram_tile(pack, kc, kk, kn, c, ib * MR, jb * NR,
                                  first, g);
                }
            }
        }

        /* Scale the upper triangle and mirror it, once all is summed. */
#pragma omp barrier
#pragma omp for schedule(static)
        for (int i = 0; i < c; i++)
            for (int j = i; j < c; j++) {
                const float v = scale * g[(size_t)i * c + j];
                g[(size_t)i * c + j] = v;
                g[(size_t)j * c + i] = v;
            }
    }
    nst_workspace_release(&slices);
}

/* Backward: dF += scale * D F. Threads split F's columns into chunks of NC;
 * a chunk's rows [k0, k0 + KC) are packed into 12-column panels (B) and D's
 * rows into 8-row panels (A), and an 8 x 12 micro-kernel sums D[i][k] F[k][n]
 * over the KC rows in float before adding scale times that sum to dF. The
 * order of every sum is fixed by the blocking alone. */
enum {
    BMR = 8,   /* rows of dF per tile (two vectors of D, by lane) */
    BNR = 12,  /* columns of dF per tile (three vectors) */
    BKC = 256, /* rows of F per packed block */
    BNC = 48,  /* columns of F per chunk */
};

/* dst[q][k][12] = F[k0 + k][n0 + 12q ..], zeros past nn columns. */
static void pack_f_block(const float *f, size_t m, int k0, int kn, size_t n0,
                         int nn, float *dst)
{
    for (int q = 0; q * BNR < nn; q++) {
        float *d = dst + (size_t)q * kn * BNR;
        const int nq = nn - q * BNR < BNR ? nn - q * BNR : BNR;
        for (int k = 0; k < kn; k++) {
            const float *src = f + (size_t)(k0 + k) * m + n0 + q * BNR;
            if (nq == BNR) {
                vst1q_f32(d + k * BNR, vld1q_f32(src));
                vst1q_f32(d + k * BNR + 4, vld1q_f32(src + 4));
                vst1q_f32(d + k * BNR + 8, vld1q_f32(src + 8));
            } else {
                for (int n = 0; n < BNR; n++)
                    d[k * BNR + n] = n < nq ? src[n] : 0.0f;
            }
        }
    }
}

/* t[r][0..12) += scale * sum over k < kn of a[k*8 + r] b[k*12 ..]. */
static void gemm_8x12(const float *a, const float *b, int kn, float scale,
                      float *t, size_t ldt)
{
    float32x4_t acc[BMR][3];
    for (int r = 0; r < BMR; r++)
        for (int q = 0; q < 3; q++)
            acc[r][q] = vdupq_n_f32(0.0f);
    for (int k = 0; k < kn; k++) {
        const float32x4_t lo = vld1q_f32(a + k * BMR),
                          hi = vld1q_f32(a + k * BMR + 4);
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

void nst_f32_gram_backward__neon(const float *d, const float *f, int c, int m,
                                 float scale, float *df)
{
    assert(d && f && df && c > 0 && m > 0);
    const int nchunks = (m + BNC - 1) / BNC;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < nchunks; ch++) {
        float bp[BKC * BNC];
        float ap[BKC * BMR];
        const size_t n0 = (size_t)ch * BNC;
        const int nn = (size_t)m - n0 < BNC ? (int)((size_t)m - n0) : BNC;
        for (int k0 = 0; k0 < c; k0 += BKC) {
            const int kn = c - k0 < BKC ? c - k0 : BKC;
            pack_f_block(f, (size_t)m, k0, kn, n0, nn, bp);
            for (int i0 = 0; i0 < c; i0 += BMR) {
                const int ni = c - i0 < BMR ? c - i0 : BMR;
                for (int k = 0; k < kn; k++)
                    for (int r = 0; r < BMR; r++)
                        ap[k * BMR + r] =
                            r < ni ? d[(size_t)(i0 + r) * c + k0 + k] : 0.0f;
                for (int q = 0; q * BNR < nn; q++) {
                    const int nq = nn - q * BNR < BNR ? nn - q * BNR : BNR;
                    float *out = df + (size_t)i0 * m + n0 + q * BNR;
                    const float *b = bp + (size_t)q * kn * BNR;
                    if (ni == BMR && nq == BNR) {
                        gemm_8x12(ap, b, kn, scale, out, (size_t)m);
                        continue;
                    }
                    float t[BMR * BNR] = {0};
                    for (int r = 0; r < ni; r++)
                        memcpy(t + r * BNR, out + (size_t)r * m,
                               nq * sizeof *t);
                    gemm_8x12(ap, b, kn, scale, t, BNR);
                    for (int r = 0; r < ni; r++)
                        memcpy(out + (size_t)r * m, t + r * BNR,
                               nq * sizeof *t);
                }
            }
        }
    }
}
