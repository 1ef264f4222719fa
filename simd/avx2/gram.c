/* The Gram matrix G = scale * F F^T (a SYRK) and its backward pass
 * dF += scale * D F (a GEMM), with AVX2 and FMA.
 *
 * Gram: each thread packs a slice of F's columns (the rows it reads, kc
 * columns, about 1 MiB so it stays in L2) into panels of 8 rows,
 * column-major inside a panel: panel[k][r] = F[8p + r][k0 + k]. One layout
 * serves both operands of the 4 x 24 micro-kernel: a row of 8 floats is a
 * vector of 8 rows of F at one k (three of them give 24 columns of G), and
 * single floats of it are the broadcasts for the 4 rows of G. Only the
 * column vectors that reach the upper triangle are computed; the lower
 * triangle is then mirrored from the upper one, so G is exactly symmetric.
 *
 * Rounding: each element of G is a float FMA chain over at most KK = 256
 * columns, and those partial sums are added to G in column order. The error
 * is thus about (KK + m/KK) ulps in the worst case instead of m, and the
 * order of every operation is fixed: threads split the columns of G (each
 * thread owns whole columns of tiles), never k, so G is byte-identical for
 * any thread count. */
#include <assert.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../gram_split.h"
#include "../scalar/scalar.h"
#include "../workspace.h"
#include "avx2.h"

enum {
    MR = 4,                 /* rows of a G tile (broadcasts) */
    NR = 24,                /* columns of a G tile (three 8-float vectors) */
    PANEL = 8,              /* rows of F per packed panel */
    KK = 256,               /* columns of F per micro-kernel call */
    SLICE_FLOATS = 1 << 18, /* packed slice budget: 1 MiB */
};

/* The packed slices of all threads, kept from call to call. */
static nst_workspace slices = NST_WORKSPACE_INIT;

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

/* One tile (rows i.., columns j..) over kn packed columns at offset kk of
 * the slice. Column vectors wholly below the diagonal or past c are
 * skipped; edge tiles go through a scratch tile. */
static void gram_tile(const float *pack, int kc, int kk, int kn, int c, int i,
                      int j, int first, float *g)
{
    const size_t ps = (size_t)kc * PANEL; /* floats per panel */
    const int q0 = i > j ? (i - j) / 8 : 0;          /* j + 8 q0 + 7 >= i */
    const int q1 = c - j < NR ? (c - j + 7) / 8 : 3; /* j + 8 q1 >= c */
    const int jv = j + 8 * q0;
    const float *a = pack + (size_t)(i / PANEL) * ps + (size_t)kk * PANEL +
                     i % PANEL;
    const float *b = pack + (size_t)(jv / PANEL) * ps + (size_t)kk * PANEL;
    if (i + MR <= c && j + NR <= c) {
        gram_4xn(a, b, ps, kn, g + (size_t)i * c + jv, (size_t)c, first,
                 q1 - q0);
        return;
    }
    float t[MR * NR];
    const int ni = c - i < MR ? c - i : MR;
    const int nj = c - jv < 8 * (q1 - q0) ? c - jv : 8 * (q1 - q0);
    if (!first)
        for (int r = 0; r < ni; r++)
            memcpy(t + r * NR, g + (size_t)(i + r) * c + jv, nj * sizeof *t);
    gram_4xn(a, b, ps, kn, t, NR, first, q1 - q0);
    for (int r = 0; r < ni; r++)
        memcpy(g + (size_t)(i + r) * c + jv, t + r * NR, nj * sizeof *t);
}

void nst_f32_gram__avx2(const float *f, int c, int m, float scale, float *g)
{
    assert(f && g && c > 0 && m > 0);
    const int cp = (c + PANEL - 1) / PANEL * PANEL; /* zeros past c */
    const int nb = (c + NR - 1) / NR;
    int kc = SLICE_FLOATS / cp / 8 * 8;
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
        /* Rows read: all of G's rows up to the last column of jb1 - 1. */
        const int rows = jb1 * NR < c ? jb1 * NR : c;
        for (size_t k0 = 0; jb0 < jb1 && k0 < (size_t)m; k0 += kc) {
            const int kn_slice =
                (size_t)m - k0 < (size_t)kc ? (int)((size_t)m - k0) : kc;
            for (int p = 0; p * PANEL < rows; p++)
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
 * a chunk's rows [k0, k0 + KC) are packed into 16-column panels (B, in L1
 * one panel at a time) and D's rows into 6-row panels (A), and a 6 x 16
 * micro-kernel sums D[i][k] F[k][n] over the KC rows in float before adding
 * scale times that sum to dF. The order of every sum is fixed by the
 * blocking alone. */
enum {
    BMR = 6,   /* rows of dF per tile (broadcasts of D) */
    BNR = 16,  /* columns of dF per tile (two vectors) */
    BKC = 256, /* rows of F per packed block */
    BNC = 64,  /* columns of F per chunk */
};

/* dst[q][k][16] = F[k0 + k][n0 + 16q ..], zeros past nn columns. */
static void pack_f_block(const float *f, size_t m, int k0, int kn, size_t n0,
                         int nn, float *dst)
{
    for (int q = 0; q * BNR < nn; q++) {
        float *d = dst + (size_t)q * kn * BNR;
        const int nq = nn - q * BNR < BNR ? nn - q * BNR : BNR;
        for (int k = 0; k < kn; k++) {
            const float *src = f + (size_t)(k0 + k) * m + n0 + q * BNR;
            if (nq == BNR) {
                _mm256_store_ps(d + k * BNR, _mm256_loadu_ps(src));
                _mm256_store_ps(d + k * BNR + 8, _mm256_loadu_ps(src + 8));
            } else {
                for (int n = 0; n < BNR; n++)
                    d[k * BNR + n] = n < nq ? src[n] : 0.0f;
            }
        }
    }
}

/* t[r][0..16) += scale * sum over k < kn of a[k*6 + r] b[k*16 ..]. */
static void gemm_6x16(const float *a, const float *b, int kn, float scale,
                      float *t, size_t ldt)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;
    __m256 c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m256 c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int k = 0; k < kn; k++) {
        const __m256 v0 = _mm256_load_ps(b), v1 = _mm256_load_ps(b + 8);
        __m256 s = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(s, v0, c00);
        c01 = _mm256_fmadd_ps(s, v1, c01);
        s = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(s, v0, c10);
        c11 = _mm256_fmadd_ps(s, v1, c11);
        s = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(s, v0, c20);
        c21 = _mm256_fmadd_ps(s, v1, c21);
        s = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(s, v0, c30);
        c31 = _mm256_fmadd_ps(s, v1, c31);
        s = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(s, v0, c40);
        c41 = _mm256_fmadd_ps(s, v1, c41);
        s = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(s, v0, c50);
        c51 = _mm256_fmadd_ps(s, v1, c51);
        a += BMR;
        b += BNR;
    }
    const __m256 vs = _mm256_set1_ps(scale);
    __m256 acc[BMR][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                          {c30, c31}, {c40, c41}, {c50, c51}};
    for (int r = 0; r < BMR; r++)
        for (int q = 0; q < 2; q++) {
            float *p = t + r * ldt + q * 8;
            _mm256_storeu_ps(p,
                             _mm256_fmadd_ps(vs, acc[r][q],
                                             _mm256_loadu_ps(p)));
        }
}

void nst_f32_gram_backward__avx2(const float *d, const float *f, int c, int m,
                                 float scale, float *df)
{
    assert(d && f && df && c > 0 && m > 0);
    const int nchunks = (m + BNC - 1) / BNC;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < nchunks; ch++) {
        _Alignas(32) float bp[BKC * BNC];
        _Alignas(32) float ap[BKC * BMR];
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
                        gemm_6x16(ap, b, kn, scale, out, (size_t)m);
                        continue;
                    }
                    float t[BMR * BNR] = {0};
                    for (int r = 0; r < ni; r++)
                        memcpy(t + r * BNR, out + (size_t)r * m,
                               nq * sizeof *t);
                    gemm_6x16(ap, b, kn, scale, t, BNR);
                    for (int r = 0; r < ni; r++)
                        memcpy(out + (size_t)r * m, t + r * BNR,
                               nq * sizeof *t);
                }
            }
        }
    }
}
