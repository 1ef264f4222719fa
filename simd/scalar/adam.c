/* One Adam step in plain C: the moments in float, the bias-corrected step
 * in double. */
#include <assert.h>
#include <math.h>

#include "scalar.h"

void nst_f32_adam_update__scalar(const nst_adam_coeffs *p, float *x, float *m,
                                 float *v, const float *g, size_t n)
{
    assert(p && x && m && v && g);
    const float b1 = p->b1, b2 = p->b2, k1 = p->k1, k2 = p->k2;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + k1 * g[i];
        v[i] = b2 * v[i] + k2 * g[i] * g[i];
        const double m_hat = m[i] / p->c1, v_hat = v[i] / p->c2;
        x[i] -= (float)(p->lr * m_hat / (sqrt(v_hat) + p->eps));
    }
}
