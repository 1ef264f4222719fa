/* The row kernels of 2x2 stride-2 average and max pooling and their
 * backward passes with AVX2; the loop around them, the leftovers and the
 * dropped odd row and column are pool_driver.c's.
 *
 * Eight windows at a time: 16 floats of a row, a = x[0..8) and
 * b = x[8..16), split into the windows' left and right columns by
 * shuffle_ps, which works inside 128-bit lanes and leaves the windows in
 * the order 0 1 4 5 | 2 3 6 7. Swapping the middle 64-bit quarters
 * (permute4x64 with SWAP_MID, its own inverse) maps between that order and
 * the natural one. The arithmetic is the scalar row kernels', operation
 * for operation, so the results are the same bits. */
#include <assert.h>
#include <immintrin.h>

#include "../pool_driver.h"
#include "avx2.h"

enum { VW = 8 }; /* windows per step */

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

static void avg_rows(const float *x0, const float *x1, int n, float *y)
{
    assert(n % VW == 0);
    const __m256 quarter = _mm256_set1_ps(0.25f);
    for (int j = 0; j < n; j += VW) {
        __m256 l0, r0, l1, r1;
        split(x0 + 2 * j, &l0, &r0);
        split(x1 + 2 * j, &l1, &r1);
        const __m256 s =
            _mm256_add_ps(_mm256_add_ps(l0, r0), _mm256_add_ps(l1, r1));
        _mm256_storeu_ps(y + j, swap_mid(_mm256_mul_ps(quarter, s)));
    }
}

static void avg_backward_rows(const float *dy, int n, float *d0, float *d1)
{
    assert(n % VW == 0);
    const __m256 quarter = _mm256_set1_ps(0.25f);
    for (int j = 0; j < n; j += VW) {
        const __m256 g =
            swap_mid(_mm256_mul_ps(quarter, _mm256_loadu_ps(dy + j)));
        merge(d0 + 2 * j, g, g);
        merge(d1 + 2 * j, g, g);
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

static void max_rows(const float *x0, const float *x1, int n, float *y)
{
    assert(n % VW == 0);
    for (int j = 0; j < n; j += VW) {
        __m256 l0, r0, l1, r1, gt[4];
        split(x0 + 2 * j, &l0, &r0);
        split(x1 + 2 * j, &l1, &r1);
        _mm256_storeu_ps(y + j, swap_mid(window_max(l0, r0, l1, r1, gt)));
    }
}

static void max_backward_rows(const float *x0, const float *x1,
                              const float *dy, int n, float *d0, float *d1)
{
    assert(n % VW == 0);
    for (int j = 0; j < n; j += VW) {
        __m256 l0, r0, l1, r1, gt[4];
        split(x0 + 2 * j, &l0, &r0);
        split(x1 + 2 * j, &l1, &r1);
        window_max(l0, r0, l1, r1, gt);
        /* Element q wins if it replaced the best and no later one did. */
        const __m256 g = swap_mid(_mm256_loadu_ps(dy + j));
        const __m256 g11 = _mm256_and_ps(gt[3], g);
        const __m256 later = _mm256_or_ps(gt[2], gt[3]);
        const __m256 g10 = _mm256_andnot_ps(gt[3], _mm256_and_ps(gt[2], g));
        const __m256 g01 = _mm256_andnot_ps(later, _mm256_and_ps(gt[1], g));
        const __m256 g00 = _mm256_andnot_ps(_mm256_or_ps(later, gt[1]), g);
        merge(d0 + 2 * j, g00, g01);
        merge(d1 + 2 * j, g10, g11);
    }
}

NST__POOL_KERNELS(avx2, VW)
