/* The Gram matrix G = scale * F F^T and its backward pass, in plain C.
 *
 * Both walk F in column chunks small enough for a tile of rows to stay in
 * L1, so each row chunk is read once per tile rather than once per row.
 *
 * Gram sums accumulate in double: a product of two floats is exact in
 * double, so the only rounding is in the sum (about 2^-53 per term), and
 * G does not drift with m even for the 512 x 512 images where m = 262144
 * and float sums of ReLU features (all >= 0) would lose ~m/8 ulps in the
 * worst case. It costs about twice a float sum, which is small next to the
 * convolutions (c^2 m / 2 products per Gram against 9 c^2 m per layer). */
#include <assert.h>

#include "../kctx.h"
#include "scalar.h"

enum {
    TILE = 8,     /* rows of G (or of dF) computed together */
    CHUNK = 256,  /* columns of F per pass: 2 tiles x 8 rows x 1 KiB */
};

/* acc[a][b] += sum over k in [k0, k1) of fi[a][k] fj[b][k], for rows
 * i0 <= i < i0 + ni, j0 <= j < j0 + nj; on the diagonal tile only j >= i. */
static void gram_tile_chunk(const float *f, size_t m, int i0, int ni, int j0,
                            int nj, size_t k0, size_t k1,
                            double acc[TILE][TILE])
{
    for (int a = 0; a < ni; a++) {
        const float *fi = f + (size_t)(i0 + a) * m;
        for (int b = 0; b < nj; b++) {
            if (j0 + b < i0 + a)
                continue;
            const float *fj = f + (size_t)(j0 + b) * m;
            double s = 0.0;
#pragma omp simd reduction(+ : s)
            for (size_t k = k0; k < k1; k++)
                s += (double)fi[k] * (double)fj[k];
            acc[a][b] += s;
        }
    }
}

int nst_f32_gram__scalar(nst_kctx *ctx, const float *f, int c, int m,
                         float scale, float *g)
{
    assert(ctx && f && g && c > 0 && m > 0);
    const int tiles = (c + TILE - 1) / TILE;

    /* Tile row t holds tiles - t tiles of the upper triangle; dynamic
     * scheduling evens out the uneven rows. Which thread computes a tile
     * does not change its value. */
#pragma omp parallel for schedule(dynamic, 1) \
    num_threads(nst_kctx_threads(ctx))
    for (int t = 0; t < tiles; t++) {
        const int i0 = t * TILE, ni = c - i0 < TILE ? c - i0 : TILE;
        for (int j0 = i0; j0 < c; j0 += TILE) {
            const int nj = c - j0 < TILE ? c - j0 : TILE;
            double acc[TILE][TILE] = {{0.0}};
            for (size_t k0 = 0; k0 < (size_t)m; k0 += CHUNK) {
                const size_t k1 =
                    (size_t)m - k0 < CHUNK ? (size_t)m : k0 + CHUNK;
                gram_tile_chunk(f, (size_t)m, i0, ni, j0, nj, k0, k1, acc);
            }
            for (int a = 0; a < ni; a++)
                for (int b = 0; b < nj; b++) {
                    const int i = i0 + a, j = j0 + b;
                    if (j < i)
                        continue;
                    const float v = (float)((double)scale * acc[a][b]);
                    g[(size_t)i * c + j] = v;
                    g[(size_t)j * c + i] = v;
                }
        }
    }
    return 0;
}

/* df[i] += scale * sum_j D[i][j] f[j], a tile of rows at a time, summed in
 * float over j (c terms of mixed sign) for a chunk of columns, then added
 * to df. Rows are independent, so threads split them. */
void nst_f32_gram_backward__scalar(nst_kctx *ctx, const float *d,
                                   const float *f, int c, int m, float scale,
                                   float *df)
{
    assert(ctx && d && f && df && c > 0 && m > 0);
    const int tiles = (c + TILE - 1) / TILE;

#pragma omp parallel for schedule(static) num_threads(nst_kctx_threads(ctx))
    for (int t = 0; t < tiles; t++) {
        const int i0 = t * TILE, ni = c - i0 < TILE ? c - i0 : TILE;
        float sum[TILE][CHUNK];
        for (size_t k0 = 0; k0 < (size_t)m; k0 += CHUNK) {
            const size_t n = (size_t)m - k0 < CHUNK ? (size_t)m - k0 : CHUNK;
            for (int a = 0; a < ni; a++)
                for (size_t k = 0; k < n; k++)
                    sum[a][k] = 0.0f;
            for (int j = 0; j < c; j++) {
                const float *fj = f + (size_t)j * m + k0;
                for (int a = 0; a < ni; a++) {
                    const float dij = d[(size_t)(i0 + a) * c + j];
                    float *s = sum[a];
#pragma omp simd
                    for (size_t k = 0; k < n; k++)
                        s[k] += dij * fj[k];
                }
            }
            for (int a = 0; a < ni; a++) {
                float *out = df + (size_t)(i0 + a) * m + k0;
                const float *s = sum[a];
#pragma omp simd
                for (size_t k = 0; k < n; k++)
                    out[k] += scale * s[k];
            }
        }
    }
}
