/* The ReLU backward pass with AVX2: the gradient is masked by y > 0, 8
 * floats at a time. */
#include <assert.h>
#include <immintrin.h>

#include "avx2.h"

void nst_f32_relu_backward__avx2(const float *y, float *dy, size_t n)
{
    assert(y && dy);
    const size_t n8 = n / 8 * 8;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n8; i += 8) {
        /* Ordered compare: -0, +0 and NaN all give a zero mask. */
        const __m256 pos = _mm256_cmp_ps(_mm256_loadu_ps(y + i),
                                         _mm256_setzero_ps(), _CMP_GT_OQ);
        _mm256_storeu_ps(dy + i, _mm256_and_ps(pos, _mm256_loadu_ps(dy + i)));
    }
    // leftovers
    for (size_t i = n8; i < n; i++)
        dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
