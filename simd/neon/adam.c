/* One Adam step with NEON, 4 values at a time, in the float form of
 * ../adam_float_step.h (the moments bit-identical to the scalar kernel's). */
#include <arm_neon.h>
#include <assert.h>

#include "../adam_float_step.h"
#include "neon.h"

void nst_f32_adam_update__neon(const nst_adam_coeffs *p, float *x, float *m,
                               float *v, const float *g, size_t n)
{
    assert(p && x && m && v && g);
    const nst__adam_float f = nst__adam_float_form(p);
    const float32x4_t b1 = vdupq_n_f32(p->b1), b2 = vdupq_n_f32(p->b2);
    const float32x4_t k1 = vdupq_n_f32(p->k1), k2 = vdupq_n_f32(p->k2);
    const float32x4_t lr1v = vdupq_n_f32(f.lr1), rs2v = vdupq_n_f32(f.rs2);
    const float32x4_t epsv = vdupq_n_f32(f.eps);
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
    for (size_t i = n4; i < n; i++)
        nst__adam_float_one(p, f, x + i, m + i, v + i, g[i]);
}
