/* 3x3 convolution by Winograd F(4x4, 3x3) (Lavin & Gray, 2015) on AVX2+FMA.
 *
 * Each 4x4 output tile comes from a 6x6 input tile d: Y = A^T [sum_c
 * (G g_c G^T) . (B^T d_c B)] A, with the interpolation points 0, +-1, +-2
 * and infinity. Per tile that is 36 independent sums over the input
 * channels, i.e. 36 matrix products U[xi] (cout x cin) * V[xi] (cin x
 * tiles), computed by a 6x16 register-blocked micro-kernel (6 output
 * channels x 16 tiles).
 *
 * The image is cut into blocks of tiles along one row of tiles, as many as
 * keep V within 5/8 of the L2 cache the kernel context reports (the rest
 * holds M and the weights being streamed). Each output is a sum over the
 * input channels only, so the block size never changes a result. Per block, a thread transforms all input channels into V
 * (in its own part of the context's workspace), then for each chunk of CB
 * output channels runs the 36 products into M and transforms M back into
 * the output. Threads share out whole blocks, so each output is computed
 * the same way whatever the thread count.
 *
 * The transforms work on 8 tiles at once, one tile per lane: four loads of
 * 8 consecutive pixels and an in-lane 4x4 transpose give one vector per
 * tile column ("phase"), with the lanes holding the tiles in the order
 * 0 2 4 6 1 3 5 7. The output transform applies the same transpose, which
 * is its own inverse, to get back 8 consecutive pixels per vector.
 *
 * The backward pass (transposed convolution) is the same computation with
 * the kernel rotated by 180 degrees and cin, cout swapped, so prepare makes
 * a second set of transformed weights.
 *
 * The workspace (V and M per thread) is the kernel context's scratch area:
 * the first call of a layer shape may grow it, later ones find it sized. */
#include "avx2.h"

#include <assert.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../kctx.h"
#include "gemm_6x16.h"

enum {
    MR = 6,          /* output channels per micro-tile */
    NR = 16,         /* tiles per micro-tile */
    XI = 36,         /* points of the 6x6 transformed tile */
    CB = 4 * MR,     /* output channels per chunk of M */
    NT_MAX = 64,     /* tiles per block, at most */
};

/* The packed form of one convolution: transformed weights for both
 * directions. */
typedef struct conv_packed {
    float *fwd; /* XI x ceil(cout/MR) panels x cin x MR */
    float *bwd; /* XI x ceil(cin/MR) panels x cout x MR */
} conv_packed;

static size_t round_up(size_t n, size_t m)
{
    return (n + m - 1) / m * m;
}

static float *alloc_floats(size_t n)
{
    return aligned_alloc(64, round_up(n * sizeof(float), 64));
}

/* U = G g G^T for one 3x3 kernel g, in double. */
static void transform_kernel(const double g[3][3], double u[6][6])
{
    static const double G[6][3] = {
        {1.0 / 4, 0, 0},
        {-1.0 / 6, -1.0 / 6, -1.0 / 6},
        {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6},
        {1.0 / 24, -1.0 / 12, 1.0 / 6},
        {0, 0, 1},
    };
    double t[6][3];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 3; j++)
            t[i][j] = G[i][0] * g[0][j] + G[i][1] * g[1][j] + G[i][2] * g[2][j];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++)
            u[i][j] = t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2];
}

/* Transformed weights for the map nin -> nout channels, as XI panels of
 * MR output channels (zero-padded). backward: the kernel of output o, input
 * i is weight[i][o] rotated by 180 degrees. */
static float *pack_weights(const float *weight, int cin, int cout,
                           int backward)
{
    const int nin = backward ? cout : cin, nout = backward ? cin : cout;
    const size_t panels = (size_t)(nout + MR - 1) / MR;
    const size_t n = XI * panels * (size_t)nin * MR;
    float *u = alloc_floats(n);
    if (!u)
        return NULL;
    memset(u, 0, n * sizeof *u);
    for (int o = 0; o < nout; o++)
        for (int i = 0; i < nin; i++) {
            const float *k = backward ? weight + ((size_t)i * cin + o) * 9
                                      : weight + ((size_t)o * cin + i) * 9;
            double g[3][3], t[6][6];
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                    g[ky][kx] = backward ? k[(2 - ky) * 3 + (2 - kx)]
                                         : k[ky * 3 + kx];
            transform_kernel(g, t);
            for (int xi = 0; xi < XI; xi++)
                u[((xi * panels + o / MR) * nin + i) * MR + o % MR] =
                    (float)t[xi / 6][xi % 6];
        }
    return u;
}

/* Tiles per block for nin input channels and an L2 cache of l2 bytes: as
 * many as keep V (XI x nin x tiles) within 5/8 of it, a multiple of NR. */
static int block_tiles(int nin, size_t l2)
{
    const size_t v_floats = l2 / 8 * 5 / sizeof(float);
    const size_t nt = v_floats / ((size_t)XI * nin) / NR * NR;
    return nt < NR ? NR : nt > NT_MAX ? NT_MAX : (int)nt;
}

/* Floats between consecutive xi in V (nin x nt) and in M (CB x nt). One
 * cache line more than the matrix, so that the 36 transform outputs of one
 * tile do not all fall into the same L1 set when the matrix size is a
 * multiple of 4 KiB. */
static size_t v_stride(int nin, int nt)
{
    return (size_t)nin * nt + 16;
}

static size_t m_stride(int nt)
{
    return (size_t)CB * nt + 16;
}

int nst_conv_prepare__avx2(nst_conv *c)
{
    assert(c && c->weight && c->cin > 0 && c->cout > 0);
    conv_packed *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    p->fwd = pack_weights(c->weight, c->cin, c->cout, 0);
    p->bwd = pack_weights(c->weight, c->cin, c->cout, 1);
    c->packed = p;
    if (!p->fwd || !p->bwd) {
        nst_conv_release__avx2(c);
        return -1;
    }
    return 0;
}

void nst_conv_release__avx2(nst_conv *c)
{
    conv_packed *p = c->packed;
    if (!p)
        return;
    free(p->fwd);
    free(p->bwd);
    free(p);
    c->packed = NULL;
}

/* C[6 x 16] = A[k x 6]^T B[k x 16]: A a panel of 6 output channels, B a
 * panel of 16 tiles, C rows ldc apart (overwrite). */
static void gemm_6x16(int k, const float *a, const float *b, float *c,
                      size_t ldc)
{
    _Static_assert(MR == 6 && NR == 16, "the register block is 6 x 16");
    __m256 acc[6][2];
    nst__gemm_6x16_avx2(k, a, MR, b, acc);
    for (int r = 0; r < 6; r++) {
        _mm256_store_ps(c + r * ldc, acc[r][0]);
        _mm256_store_ps(c + r * ldc + 8, acc[r][1]);
    }
}

/* The in-lane 4x4 transpose of (r0 r1 r2 r3) (see the top of the file). */
static inline void transpose4(__m256 r[4])
{
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]);
    const __m256 t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]);
    const __m256 t3 = _mm256_unpackhi_ps(r[2], r[3]);
    r[0] = _mm256_shuffle_ps(t0, t2, 0x44);
    r[1] = _mm256_shuffle_ps(t0, t2, 0xee);
    r[2] = _mm256_shuffle_ps(t1, t3, 0x44);
    r[3] = _mm256_shuffle_ps(t1, t3, 0xee);
}

/* The 6 columns of 8 consecutive 6-wide tiles (tile t at p[4t]). Columns
 * 4 and 5 are columns 0 and 1 of the next tile. */
static inline void load_phases(const float *p, __m256 d[6])
{
    __m256 r[4] = {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8),
                   _mm256_loadu_ps(p + 16), _mm256_loadu_ps(p + 24)};
    transpose4(r);
    d[0] = r[0], d[1] = r[1], d[2] = r[2], d[3] = r[3];
    const __m256 s0 = _mm256_unpacklo_ps(_mm256_loadu_ps(p + 4),
                                         _mm256_loadu_ps(p + 12));
    const __m256 s1 = _mm256_unpacklo_ps(_mm256_loadu_ps(p + 20),
                                         _mm256_loadu_ps(p + 28));
    d[4] = _mm256_shuffle_ps(s0, s1, 0x44);
    d[5] = _mm256_shuffle_ps(s0, s1, 0xee);
}

/* r = B^T d. */
static inline void input_1d(const __m256 d[6], __m256 r[6])
{
    const __m256 two = _mm256_set1_ps(2), four = _mm256_set1_ps(4),
                 five = _mm256_set1_ps(5);
    const __m256 t1 = _mm256_fnmadd_ps(four, d[2], d[4]); /* d4 - 4 d2 */
    const __m256 t2 = _mm256_fnmadd_ps(four, d[1], d[3]); /* d3 - 4 d1 */
    const __m256 t3 = _mm256_sub_ps(d[4], d[2]);
    const __m256 t4 = _mm256_mul_ps(two, _mm256_sub_ps(d[1], d[3]));
    r[0] = _mm256_fnmadd_ps(five, d[2], _mm256_fmadd_ps(four, d[0], d[4]));
    r[1] = _mm256_add_ps(t1, t2);
    r[2] = _mm256_sub_ps(t1, t2);
    r[3] = _mm256_sub_ps(t3, t4);
    r[4] = _mm256_add_ps(t3, t4);
    r[5] = _mm256_fnmadd_ps(five, d[3], _mm256_fmadd_ps(four, d[1], d[5]));
}

/* o = A^T m. */
static inline void output_1d(const __m256 m[6], __m256 o[4])
{
    const __m256 two = _mm256_set1_ps(2), four = _mm256_set1_ps(4),
                 eight = _mm256_set1_ps(8);
    const __m256 s12 = _mm256_add_ps(m[1], m[2]), d12 = _mm256_sub_ps(m[1], m[2]);
    const __m256 s34 = _mm256_add_ps(m[3], m[4]), d34 = _mm256_sub_ps(m[3], m[4]);
    o[0] = _mm256_add_ps(_mm256_add_ps(m[0], s12), s34);
    o[1] = _mm256_fmadd_ps(two, d34, d12);
    o[2] = _mm256_fmadd_ps(four, s34, s12);
    o[3] = _mm256_add_ps(_mm256_fmadd_ps(eight, d34, d12), m[5]);
}

/* row[start .. start + 7], with zeros outside [0, w); start >= -1. Masked
 * lanes are not read. */
static inline __m256 load_clipped(const float *row, int start, int w)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    if (start >= w)
        return _mm256_setzero_ps();
    if (start >= 0)
        return _mm256_maskload_ps(
            row + start,
            _mm256_cmpgt_epi32(_mm256_set1_epi32(w - start), iota));
    /* start == -1: lane j is row[j - 1]; load row[0 .. 6] and rotate up,
     * lane 7 (masked, zero) going to lane 0. */
    const __m256 v = _mm256_maskload_ps(
        row, _mm256_cmpgt_epi32(_mm256_set1_epi32(w < 7 ? w : 7), iota));
    return _mm256_permutevar8x32_ps(v,
                                    _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6));
}

/* The 36 input values x[iy][x0 .. x0 + 35] of one channel (x0 >= -1): in x
 * itself when they lie inside the image, else copied into buf with zeros
 * outside. */
static const float *input_span(const float *x, int h, int w, int iy, int x0,
                               float buf[36])
{
    static const float zeros[36];
    if (iy < 0 || iy >= h)
        return zeros;
    const float *row = x + (size_t)iy * w;
    if (x0 >= 0 && x0 + 36 <= w)
        return row + x0;
    static const int offsets[5] = {0, 8, 16, 24, 28};
    for (int k = 0; k < 5; k++)
        _mm256_storeu_ps(buf + offsets[k],
                         load_clipped(row, x0 + offsets[k], w));
    return buf;
}

/* V[xi] (nin x nt, panels of NR tiles) = B^T d B for the nt tiles of the
 * block. */
static void input_transform(const float *x, int nin, int h, int w, int ty,
                            int tx0, int nt, float *v)
{
    const size_t hw = (size_t)h * w, vstride = v_stride(nin, nt);
    for (int c = 0; c < nin; c++) {
        for (int g = 0; g < nt / 8; g++) {
            __m256 rows[6][6], d[6], col[6], r[6];
            for (int i = 0; i < 6; i++) {
                const int iy = 4 * ty - 1 + i, ix = 4 * (tx0 + 8 * g) - 1;
                float buf[36];
                /* The next channel's span: the rows of one block are too
                 * short for the hardware prefetcher. */
                if (c + 1 < nin && iy >= 0 && iy < h && ix >= 0 &&
                    ix + 36 <= w) {
                    const float *q = x + (c + 1) * hw + (size_t)iy * w + ix;
                    _mm_prefetch((const char *)q, _MM_HINT_T0);
                    _mm_prefetch((const char *)(q + 16), _MM_HINT_T0);
                    _mm_prefetch((const char *)(q + 32), _MM_HINT_T0);
                }
                load_phases(input_span(x + c * hw, h, w, iy, ix, buf), d);
                input_1d(d, rows[i]);
            }
            float *vg = v + (size_t)(g / 2) * nin * NR + (size_t)c * NR +
                        (g % 2) * 8;
            for (int l = 0; l < 6; l++) {
                for (int i = 0; i < 6; i++)
                    col[i] = rows[i][l];
                input_1d(col, r);
                for (int k = 0; k < 6; k++)
                    _mm256_store_ps(vg + (k * 6 + l) * vstride, r[k]);
            }
        }
    }
}

/* Stores 8 consecutive outputs starting at column x0 of a row of width w,
 * as many as fit. */
static inline void store_row(float *row, int x0, int w, __m256 v)
{
    if (x0 + 8 <= w) {
        _mm256_storeu_ps(row + x0, v);
    } else if (x0 < w) {
        float t[8];
        _mm256_storeu_ps(t, v);
        memcpy(row + x0, t, (w - x0) * sizeof *t);
    }
}

/* y (channels o0 .. o0 + no - 1) = A^T M A (+ bias, ReLU) for the tiles of
 * the block. m: XI x CB x nt. */
static void output_transform(const float *m, int nt, int o0, int no,
                             const float *bias, int relu, int h, int w, int ty,
                             int tx0, float *y)
{
    const size_t hw = (size_t)h * w, mstride = m_stride(nt);
    const __m256 zero = _mm256_setzero_ps();
    for (int o = 0; o < no; o++) {
        const __m256 b = _mm256_set1_ps(bias ? bias[o0 + o] : 0.0f);
        float *yo = y + (o0 + o) * hw;
        for (int g = 0; g < nt / 8 && 4 * (tx0 + 8 * g) < w; g++) {
            const float *mg = m + (size_t)o * nt + 8 * g;
            __m256 cols[4][6], col[6], r[4];
            for (int l = 0; l < 6; l++) {
                for (int k = 0; k < 6; k++)
                    col[k] = _mm256_load_ps(mg + (k * 6 + l) * mstride);
                output_1d(col, r);
                for (int i = 0; i < 4; i++)
                    cols[i][l] = r[i];
            }
            for (int i = 0; i < 4 && 4 * ty + i < h; i++) {
                output_1d(cols[i], r);
                transpose4(r);
                float *row = yo + (size_t)(4 * ty + i) * w;
                /* The same span of the next channel, to be written soon. */
                if (o + 1 < no && 4 * (tx0 + 8 * g) + 32 <= w) {
                    const float *q = row + hw + 4 * (tx0 + 8 * g);
                    _mm_prefetch((const char *)q, _MM_HINT_T0);
                    _mm_prefetch((const char *)(q + 16), _MM_HINT_T0);
                }
                for (int k = 0; k < 4; k++) {
                    __m256 v = _mm256_add_ps(r[k], b);
                    if (relu)
                        v = _mm256_max_ps(v, zero);
                    store_row(row, 4 * (tx0 + 8 * g + 2 * k), w, v);
                }
            }
        }
    }
}

/* y = conv(x) with transformed weights u (nin -> nout), then + bias and
 * ReLU when asked. 0, or -1 (y untouched) if the workspace cannot grow. */
static int winograd(nst_kctx *ctx, const float *u, int nin, int nout,
                    const float *bias, int relu, const float *x, int h, int w,
                    float *y)
{
    const int th = (h + 3) / 4, tw = (w + 3) / 4;
    const int nt0 = block_tiles(nin, nst_kctx_l2_bytes(ctx)), nt1 = (int)round_up(tw, NR);
    const int nt = nt1 < nt0 ? nt1 : nt0;
    const int nbx = (tw + nt - 1) / nt, nblocks = th * nbx;
    const int panels = (nout + MR - 1) / MR;
    int nthreads = nst_kctx_threads(ctx);
    if (nthreads > nblocks)
        nthreads = nblocks;
    /* Per thread: V (XI x vstride) and M (XI x mstride), both strides
     * multiples of 16 floats, so every part stays 64-byte aligned. */
    const size_t vstride = v_stride(nin, nt), mstride = m_stride(nt);
    const size_t part = XI * (vstride + mstride);
    float *work = nst_kctx_scratch(ctx, (size_t)nthreads * part);
    if (!work)
        return -1;
#pragma omp parallel num_threads(nthreads)
    {
#ifdef _OPENMP
        float *v = work + part * omp_get_thread_num();
#else
        float *v = work;
#endif
        float *m = v + XI * vstride;
#pragma omp for schedule(dynamic)
        for (int blk = 0; blk < nblocks; blk++) {
            const int ty = blk / nbx, tx0 = blk % nbx * nt;
            input_transform(x, nin, h, w, ty, tx0, nt, v);
            for (int o0 = 0; o0 < nout; o0 += CB) {
                const int p0 = o0 / MR;
                const int np = panels - p0 < CB / MR ? panels - p0 : CB / MR;
                for (int xi = 0; xi < XI; xi++)
                    for (int i = 0; i < np; i++)
                        for (int j = 0; j < nt / NR; j++)
                            gemm_6x16(nin,
                                      u + ((size_t)xi * panels + p0 + i) *
                                              nin * MR,
                                      v + xi * vstride + (size_t)j * nin * NR,
                                      m + xi * mstride + (size_t)i * MR * nt +
                                          j * NR,
                                      nt);
                const int no = nout - o0 < CB ? nout - o0 : CB;
                output_transform(m, nt, o0, no, bias, relu, h, w, ty, tx0, y);
            }
        }
    }
    return 0;
}

int nst_f32_conv3x3_bias_relu__avx2(nst_kctx *ctx, const nst_conv *c,
                                    const float *x, int h, int w, float *y)
{
    assert(ctx && c && c->packed && x && y && h > 0 && w > 0);
    const conv_packed *p = c->packed;
    return winograd(ctx, p->fwd, c->cin, c->cout, c->bias, 1, x, h, w, y);
}

int nst_f32_conv3x3_backward_data__avx2(nst_kctx *ctx, const nst_conv *c,
                                        const float *dy, int h, int w,
                                        float *dx)
{
    assert(ctx && c && c->packed && dy && dx && h > 0 && w > 0);
    const conv_packed *p = c->packed;
    return winograd(ctx, p->bwd, c->cout, c->cin, NULL, 0, dy, h, w, dx);
}
