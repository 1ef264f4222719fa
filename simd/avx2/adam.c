/* One Adam step with AVX2, 8 values at a time, in the float form of
 * ../adam_float_step.h (the moments bit-identical to the scalar kernel's). */
#include <assert.h>
#include <immintrin.h>

#include "../adam_float_step.h"
#include "avx2.h"

void nst_f32_adam_update__avx2(const nst_adam_coeffs *p, float *x, float *m,
                               float *v, const float *g, size_t n)
{
    assert(p && x && m && v && g);
    const nst__adam_float f = nst__adam_float_form(p);
    const __m256 b1 = _mm256_set1_ps(p->b1), b2 = _mm256_set1_ps(p->b2);
    const __m256 k1 = _mm256_set1_ps(p->k1), k2 = _mm256_set1_ps(p->k2);
    const __m256 lr1v = _mm256_set1_ps(f.lr1), rs2v = _mm256_set1_ps(f.rs2);
    const __m256 epsv = _mm256_set1_ps(f.eps);
    const size_t n8 = n / 8 * 8;

#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n8; i += 8) {
        const __m256 gi = _mm256_loadu_ps(g + i);
        const __m256 mi = _mm256_add_ps(
            _mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(k1, gi));
        const __m256 vi = _mm256_add_ps(
            _mm256_mul_ps(b2, _mm256_loadu_ps(v + i)),
            _mm256_mul_ps(_mm256_mul_ps(k2, gi), gi));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        const __m256 den =
            _mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(vi), rs2v), epsv);
        const __m256 step = _mm256_div_ps(_mm256_mul_ps(lr1v, mi), den);
        _mm256_storeu_ps(x + i, _mm256_sub_ps(_mm256_loadu_ps(x + i), step));
    }
    // leftovers
    for (size_t i = n8; i < n; i++)
        nst__adam_float_one(p, f, x + i, m + i, v + i, g[i]);
}
