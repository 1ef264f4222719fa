/* One Adam step with NEON, 4 values at a time. The moments are updated
 * with the scalar kernel's float operations (separate multiply and add, no
 * fused multiply-add), so they come out the same bits; the step is formed
 * in float as (lr / c1) m / (sqrt(v) / sqrt(c2) + eps), about 4 roundings
 * instead of the scalar kernel's one. */
#include <arm_neon.h>
#include <assert.h>
#include <math.h>

#include "neon.h"

void nst_f32_adam_update__neon(const nst_adam_coeffs *p, float *x, float *m,
                               float *v, const float *g, size_t n)
{
    assert(p && x && m && v && g);
    const float lr1 = (float)(p->lr / p->c1);
    const float rs2 = (float)(1.0 / sqrt(p->c2)), eps = (float)p->eps;
    const float32x4_t b1 = vdupq_n_f32(p->b1), b2 = vdupq_n_f32(p->b2);
    const float32x4_t k1 = vdupq_n_f32(p->k1), k2 = vdupq_n_f32(p->k2);
    const float32x4_t lr1v = vdupq_n_f32(lr1), rs2v = vdupq_n_f32(rs2);
    const float32x4_t epsv = vdupq_n_f32(eps);
    const size_t n4 = n / 4 * 4;

#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n4; i += 4) {
        const float32x4_t gi = vld1q_f32(g + i);
        const float32x4_t mi =
            vaddq_f32(vmulq_f32(b1, vld1q_f32(m + i)), vmulq_f32(k1, gi));
        const float32x4_t vi = vaddq_f32(vmulq_f32(b2, vld1q_f32(v + i)),
                                         vmulq_f32(vmulq_f32(k2, gi), gi));
        vst1q_f32(m + i, mi);
        vst1q_f32(v + i, vi);
        const float32x4_t den =
            vaddq_f32(vmulq_f32(vsqrtq_f32(vi), rs2v), epsv);
        const float32x4_t step = vdivq_f32(vmulq_f32(lr1v, mi), den);
        vst1q_f32(x + i, vsubq_f32(vld1q_f32(x + i), step));
    }
    // leftovers
    for (size_t i = n4; i < n; i++) {
        m[i] = p->b1 * m[i] + p->k1 * g[i];
        v[i] = p->b2 * v[i] + p->k2 * g[i] * g[i];
        x[i] -= lr1 * m[i] / (sqrtf(v[i]) * rs2 + eps);
    }
}
