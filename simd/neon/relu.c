/* The ReLU backward pass with NEON: the gradient is masked by y > 0, 4
 * floats at a time. */
#include <arm_neon.h>
#include <assert.h>

#include "neon.h"

void nst_f32_relu_backward__neon(const float *y, float *dy, size_t n)
{
    assert(y && dy);
    const size_t n4 = n / 4 * 4;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n4; i += 4) {
        /* -0, +0 and NaN all give a zero mask. */
        const uint32x4_t pos = vcgtq_f32(vld1q_f32(y + i), vdupq_n_f32(0.0f));
        const uint32x4_t d = vreinterpretq_u32_f32(vld1q_f32(dy + i));
        vst1q_f32(dy + i, vreinterpretq_f32_u32(vandq_u32(pos, d)));
    }
    // leftovers
    for (size_t i = n4; i < n; i++)
        dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
