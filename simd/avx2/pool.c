/* 2x2 stride-2 average and max pooling and their backward passes with AVX2.
 * Output size is floor(h/2) x floor(w/2); an odd last row or column of the
 * input is dropped and gets zero gradient.
 *
 * Eight windows at a time: 16 floats of a row, a = x[0..8) and
 * b = x[8..16), split into the windows' left and right columns by
 * shuffle_ps, which works inside 128-bit lanes and leaves the windows in
 * the order 0 1 4 5 | 2 3 6 7. Swapping the middle 64-bit quarters
 * (permute4x64 with SWAP_MID, its own inverse) maps between that order and
 * the natural one. The arithmetic is the scalar kernels', operation for
 * operation, so the results are the same bits. */
#include <assert.h>
#include <immintrin.h>

#include "../pool_window.h"
#include "avx2.h"

#define SWAP_MID 0xD8 /* 64-bit quarters 0 2 1 3 */

static inline __m256 swap_mid(__m256 v)
{
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(v), SWAP_MID));
}

/* The left (even) and right (odd) columns of the 8 windows at row + 2j. */
static inline void split(const float *row, __m256 *left, __m256 *right)
{
    const __m256 a = _mm256_loadu_ps(row), b = _mm256_loadu_ps(row + 8);
    *left = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    *right = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
}

/* The inverse of split: 16 floats at row + 2j. */
static inline void merge(float *row, __m256 left, __m256 right)
{
    _mm256_storeu_ps(row, _mm256_unpacklo_ps(left, right));
    _mm256_storeu_ps(row + 8, _mm256_unpackhi_ps(left, right));
}

void nst_f32_avgpool2x2__avx2(const float *x, int c, int h, int w, float *y)
{
    assert(x && y && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2, pw8 = pw / 8 * 8;
    const __m256 quarter = _mm256_set1_ps(0.25f);

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < ph; r++) {
            const float *x0 = x + ((size_t)ch * h + 2 * r) * w, *x1 = x0 + w;
            float *yr = y + ((size_t)ch * ph + r) * pw;
            int j = 0;
            for (; j < pw8; j += 8) {
                __m256 l0, r0, l1, r1;
                split(x0 + 2 * j, &l0, &r0);
                split(x1 + 2 * j, &l1, &r1);
                const __m256 s = _mm256_add_ps(_mm256_add_ps(l0, r0),
                                               _mm256_add_ps(l1, r1));
                _mm256_storeu_ps(yr + j, swap_mid(_mm256_mul_ps(quarter, s)));
            }
            // leftovers
            for (; j < pw; j++)
                yr[j] = nst__avg_window(x0, x1, j);
        }
}

void nst_f32_avgpool2x2_backward__avx2(const float *dy, int c, int h, int w,
                                       float *dx)
{
    assert(dy && dx && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2, pw8 = pw / 8 * 8;
    const __m256 quarter = _mm256_set1_ps(0.25f);

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        float *plane = dx + (size_t)ch * h * w;
        for (int r = 0; r < ph; r++) {
            const float *dyr = dy + ((size_t)ch * ph + r) * pw;
            float *d0 = plane + (size_t)2 * r * w, *d1 = d0 + w;
            int j = 0;
            for (; j < pw8; j += 8) {
                const __m256 g =
                    swap_mid(_mm256_mul_ps(quarter, _mm256_loadu_ps(dyr + j)));
                merge(d0 + 2 * j, g, g);
                merge(d1 + 2 * j, g, g);
            }
            // leftovers
            for (; j < pw; j++)
                nst__avg_window_backward(dyr[j], d0, d1, j);
        }
        nst__pool_zero_dropped(plane, h, w);
    }
}

/* The scalar kernels' scan of a window: x00, then x01, x10, x11 each
 * replacing the best so far only if strictly greater (ties to the first;
 * a NaN never replaces and is never replaced). gt[q] is that comparison
 * for element q = 1, 2, 3, as an all-ones mask. */
static inline __m256 window_max(__m256 x00, __m256 x01, __m256 x10,
                                __m256 x11, __m256 gt[4])
{
    __m256 best = x00;
    const __m256 next[4] = {x00, x01, x10, x11};
    for (int q = 1; q < 4; q++) {
        gt[q] = _mm256_cmp_ps(next[q], best, _CMP_GT_OQ);
        best = _mm256_blendv_ps(best, next[q], gt[q]);
    }
    return best;
}

void nst_f32_maxpool2x2__avx2(const float *x, int c, int h, int w, float *y)
{
    assert(x && y && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2, pw8 = pw / 8 * 8;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < ph; r++) {
            const float *x0 = x + ((size_t)ch * h + 2 * r) * w, *x1 = x0 + w;
            float *yr = y + ((size_t)ch * ph + r) * pw;
            int j = 0;
            for (; j < pw8; j += 8) {
                __m256 l0, r0, l1, r1, gt[4];
                split(x0 + 2 * j, &l0, &r0);
                split(x1 + 2 * j, &l1, &r1);
                _mm256_storeu_ps(yr + j,
                                 swap_mid(window_max(l0, r0, l1, r1, gt)));
            }
            // leftovers
            for (; j < pw; j++)
                yr[j] = nst__max_window(x0, x1, j);
        }
}

void nst_f32_maxpool2x2_backward__avx2(const float *x, const float *dy, int c,
                                       int h, int w, float *dx)
{
    assert(x && dy && dx && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2, pw8 = pw / 8 * 8;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        float *plane = dx + (size_t)ch * h * w;
        for (int r = 0; r < ph; r++) {
            const float *x0 = x + ((size_t)ch * h + 2 * r) * w, *x1 = x0 + w;
            const float *dyr = dy + ((size_t)ch * ph + r) * pw;
            float *d0 = plane + (size_t)2 * r * w, *d1 = d0 + w;
            int j = 0;
            for (; j < pw8; j += 8) {
                __m256 l0, r0, l1, r1, gt[4];
                split(x0 + 2 * j, &l0, &r0);
                split(x1 + 2 * j, &l1, &r1);
                window_max(l0, r0, l1, r1, gt);
                /* Element q wins if it replaced the best and no later one
                 * did. */
                const __m256 g = swap_mid(_mm256_loadu_ps(dyr + j));
                const __m256 g11 = _mm256_and_ps(gt[3], g);
                const __m256 later = _mm256_or_ps(gt[2], gt[3]);
                const __m256 g10 =
                    _mm256_andnot_ps(gt[3], _mm256_and_ps(gt[2], g));
                const __m256 g01 =
                    _mm256_andnot_ps(later, _mm256_and_ps(gt[1], g));
                const __m256 g00 =
                    _mm256_andnot_ps(_mm256_or_ps(later, gt[1]), g);
                merge(d0 + 2 * j, g00, g01);
                merge(d1 + 2 * j, g10, g11);
            }
            // leftovers
            for (; j < pw; j++)
                nst__max_window_backward(x0, x1, dyr[j], d0, d1, j);
        }
        nst__pool_zero_dropped(plane, h, w);
    }
}
