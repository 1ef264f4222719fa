/* The ISA-neutral Gram drivers; see gram_driver.h. */
#include "gram_driver.h"

#include <assert.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kctx.h"

/* Tile rows of G needed by column block jb: those that reach the upper
 * triangle, i < min(c, nr (jb + 1)). */
static int tile_rows(int c, int jb, int mr, int nr)
{
    const int end = (jb + 1) * nr < c ? (jb + 1) * nr : c;
    return (end + mr - 1) / mr;
}

/* The first column block of thread ith of nth (of nb blocks): the first
 * block whose preceding work reaches ith / nth of the triangle's tiles. */
static int split_start(int c, int nb, int ith, int nth, int mr, int nr)
{
    long total = 0;
    for (int jb = 0; jb < nb; jb++)
        total += tile_rows(c, jb, mr, nr);
    long before = 0;
    int jb = 0;
    while (jb < nb && before * nth < total * ith)
        before += tile_rows(c, jb++, mr, nr);
    return jb;
}

/* One tile (rows i.., columns j..) over kn packed columns at offset kk of
 * the slice. Column vectors wholly below the diagonal or past c are
 * skipped; edge tiles go through a scratch tile. */
static void gram_tile(const nst__gram_ukernel *uk, const float *pack, int kc,
                      int kk, int kn, int c, int i, int j, int first,
                      float *g)
{
    const int mr = uk->mr, nr = uk->nr, vw = uk->vw, panel = uk->panel;
    const size_t ps = (size_t)kc * panel; /* floats per panel */
    const int q0 = i > j ? (i - j) / vw : 0; /* j + vw q0 + vw - 1 >= i */
    const int q1 = c - j < nr ? (c - j + vw - 1) / vw : nr / vw;
    const int jv = j + vw * q0; /* and j + vw q1 >= c */
    const float *a = pack + (size_t)(i / panel) * ps + (size_t)kk * panel +
                     i % panel;
    const float *b = pack + (size_t)(jv / panel) * ps + (size_t)kk * panel;
    if (i + mr <= c && j + nr <= c) {
        uk->kernel(a, b, ps, kn, g + (size_t)i * c + jv, (size_t)c, first,
                   q1 - q0);
        return;
    }
    float t[NST__GRAM_MAX_TILE];
    const int ni = c - i < mr ? c - i : mr;
    const int nj = c - jv < vw * (q1 - q0) ? c - jv : vw * (q1 - q0);
    if (!first)
        for (int r = 0; r < ni; r++)
            memcpy(t + r * nr, g + (size_t)(i + r) * c + jv, nj * sizeof *t);
    uk->kernel(a, b, ps, kn, t, (size_t)nr, first, q1 - q0);
    for (int r = 0; r < ni; r++)
        memcpy(g + (size_t)(i + r) * c + jv, t + r * nr, nj * sizeof *t);
}

int nst__gram_run(nst_kctx *ctx, const nst__gram_ukernel *uk, const float *f,
                  int c, int m, float scale, float *g)
{
    assert(ctx && uk && f && g && c > 0 && m > 0);
    assert(uk->mr * uk->nr <= NST__GRAM_MAX_TILE);
    const int mr = uk->mr, nr = uk->nr, panel = uk->panel;
    /* Rows are packed in whole tiles and whole panels, zeros past c. */
    const int unit = mr > panel ? mr : panel;
    const int cp = (c + unit - 1) / unit * unit;
    const int nb = (c + nr - 1) / nr;
    /* A thread's packed slice takes half the L2 cache, in whole
     * micro-kernel calls of kk columns: the partial sums then start at the
     * same columns whatever the slice width, so G is the same bytes for
     * any cache size. */
    const size_t slice_floats = nst_kctx_l2_bytes(ctx) / 2 / sizeof(float);
    const size_t calls = slice_floats / (size_t)cp / (size_t)uk->kk;
    int kc = (calls > 1 ? (int)calls : 1) * uk->kk;
    const int nthreads = nst_kctx_threads(ctx);
    /* Room for the widest slices this c takes, whatever m: the workspace
     * then stops growing after the first call per layer shape. */
    const size_t need = (size_t)nthreads * cp * kc;
    if (kc > m)
        kc = m;
    /* Each thread packs the rows it reads into its own slice, so the
     * threads never wait for one another inside the k loop. */
    float *packs = nst_kctx_scratch(ctx, need);
    if (!packs)
        return -1;
    const size_t slice = (size_t)cp * kc;

#pragma omp parallel num_threads(nthreads)
    {
        int ith = 0, nth = 1;
#ifdef _OPENMP
        ith = omp_get_thread_num();
        nth = omp_get_num_threads();
#endif
        const int jb0 = split_start(c, nb, ith, nth, mr, nr),
                  jb1 = split_start(c, nb, ith + 1, nth, mr, nr);
        float *pack = packs + (size_t)ith * slice;
        /* Rows read: all of G's rows up to the last column of jb1 - 1,
         * rounded up to whole tiles and panels. */
        const int rows = jb1 * nr < c ? jb1 * nr : c;
        const int rows_packed = (rows + unit - 1) / unit * unit;
        for (size_t k0 = 0; jb0 < jb1 && k0 < (size_t)m; k0 += kc) {
            const int kn_slice =
                (size_t)m - k0 < (size_t)kc ? (int)((size_t)m - k0) : kc;
            for (int p = 0; p * panel < rows_packed; p++)
                uk->pack(f, c, (size_t)m, p * panel, k0, kn_slice,
                         pack + (size_t)p * kc * panel);
            for (int kk = 0; kk < kn_slice; kk += uk->kk) {
                const int kn =
                    kn_slice - kk < uk->kk ? kn_slice - kk : uk->kk;
                const int first = k0 == 0 && kk == 0;
                for (int jb = jb0; jb < jb1; jb++) {
                    const int tiles = tile_rows(c, jb, mr, nr);
                    for (int ib = 0; ib < tiles; ib++)
                        gram_tile(uk, pack, kc, kk, kn, c, ib * mr,
                                  jb * nr, first, g);
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
    return 0;
}

/* dst[q][k][nr] = F[k0 + k][n0 + nr q ..], zeros past nn columns. */
static void pack_f_block(const float *f, size_t m, int k0, int kn, size_t n0,
                         int nn, int nr, float *dst)
{
    for (int q = 0; q * nr < nn; q++) {
        float *d = dst + (size_t)q * kn * nr;
        const int nq = nn - q * nr < nr ? nn - q * nr : nr;
        for (int k = 0; k < kn; k++) {
            const float *src = f + (size_t)(k0 + k) * m + n0 + (size_t)q * nr;
            memcpy(d + (size_t)k * nr, src, nq * sizeof *d);
            memset(d + (size_t)k * nr + nq, 0, (nr - nq) * sizeof *d);
        }
    }
}

void nst__gram_backward_run(nst_kctx *ctx, const nst__gemm_ukernel *uk,
                            const float *d, const float *f, int c, int m,
                            float scale, float *df)
{
    assert(ctx && uk && d && f && df && c > 0 && m > 0);
    assert(uk->mr <= NST__GEMM_MAX_MR && uk->nr <= NST__GEMM_MAX_NR &&
           uk->kc <= NST__GEMM_MAX_KC && uk->nc <= NST__GEMM_MAX_NC);
    const int mr = uk->mr, nr = uk->nr, kc = uk->kc, nc = uk->nc;
    const int nchunks = (m + nc - 1) / nc;
    const int full = c / mr * mr; /* rows of dF in whole tiles */

#pragma omp parallel for schedule(static) \
    num_threads(nst_kctx_threads(ctx))
    for (int ch = 0; ch < nchunks; ch++) {
        _Alignas(64) float bp[NST__GEMM_MAX_KC * NST__GEMM_MAX_NC];
        _Alignas(64) float ap[NST__GEMM_MAX_KC * NST__GEMM_MAX_MR];
        const size_t n0 = (size_t)ch * nc;
        const int nn = (size_t)m - n0 < (size_t)nc ? (int)((size_t)m - n0)
                                                   : nc;
        for (int k0 = 0; k0 < c; k0 += kc) {
            const int kn = c - k0 < kc ? c - k0 : kc;
            pack_f_block(f, (size_t)m, k0, kn, n0, nn, nr, bp);
            /* The A panel of rows [i0, i0 + mr) is D[i0 + r][k0 + k], which
             * D's symmetry makes D[k0 + k][i0 + r]: for whole tiles, D
             * itself with rows c apart. Only the last rows, fewer than mr,
             * are copied, zeros past c. */
            for (int k = 0; full < c && k < kn; k++)
                for (int r = 0; r < mr; r++)
                    ap[k * mr + r] =
                        full + r < c ? d[(size_t)(k0 + k) * c + full + r]
                                     : 0.0f;
            /* One B panel stays in L1 while every row panel runs over it. */
            for (int q = 0; q * nr < nn; q++) {
                const int nq = nn - q * nr < nr ? nn - q * nr : nr;
                const float *b = bp + (size_t)q * kn * nr;
                for (int i0 = 0; i0 < c; i0 += mr) {
                    float *out = df + (size_t)i0 * m + n0 + (size_t)q * nr;
                    if (i0 < full && nq == nr) {
                        uk->gemm(d + (size_t)k0 * c + i0, (size_t)c, b, kn,
                                 scale, out, (size_t)m);
                        continue;
                    }
                    const float *a = i0 < full ? d + (size_t)k0 * c + i0 : ap;
                    const size_t lda = i0 < full ? (size_t)c : (size_t)mr;
                    const int ni = c - i0 < mr ? c - i0 : mr;
                    float t[NST__GEMM_MAX_MR * NST__GEMM_MAX_NR] = {0};
                    for (int r = 0; r < ni; r++)
                        memcpy(t + r * nr, out + (size_t)r * m,
                               nq * sizeof *t);
                    uk->gemm(a, lda, b, kn, scale, t, (size_t)nr);
                    for (int r = 0; r < ni; r++)
                        memcpy(out + (size_t)r * m, t + r * nr,
                               nq * sizeof *t);
                }
            }
        }
    }
}
