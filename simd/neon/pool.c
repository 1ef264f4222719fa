/* The row kernels of 2x2 stride-2 average and max pooling and their
 * backward passes with NEON; the loop around them, the leftovers and the
 * dropped odd row and column are pool_driver.c's.
 *
 * Four windows at a time: vld2q splits 8 floats of a row into the windows'
 * left (even) and right (odd) columns, vst2q interleaves them back. The
 * arithmetic is the scalar row kernels', operation for operation, so the
 * results are the same bits. */
#include <arm_neon.h>
#include <assert.h>

#include "../pool_driver.h"
#include "neon.h"

enum { VW = 4 }; /* windows per step */

static void avg_rows(const float *x0, const float *x1, int n, float *y)
{
    assert(n % VW == 0);
    for (int j = 0; j < n; j += VW) {
        const float32x4x2_t a = vld2q_f32(x0 + 2 * j);
        const float32x4x2_t b = vld2q_f32(x1 + 2 * j);
        const float32x4_t s = vaddq_f32(vaddq_f32(a.val[0], a.val[1]),
                                        vaddq_f32(b.val[0], b.val[1]));
        vst1q_f32(y + j, vmulq_n_f32(s, 0.25f));
    }
}

static void avg_backward_rows(const float *dy, int n, float *d0, float *d1)
{
    assert(n % VW == 0);
    for (int j = 0; j < n; j += VW) {
        const float32x4_t g = vmulq_n_f32(vld1q_f32(dy + j), 0.25f);
        const float32x4x2_t gg = {{g, g}};
        vst2q_f32(d0 + 2 * j, gg);
        vst2q_f32(d1 + 2 * j, gg);
    }
}

/* The scalar kernels' scan of a window: x00, then x01, x10, x11 each
 * replacing the best so far only if strictly greater (ties to the first;
 * a NaN never replaces and is never replaced; vmaxq would differ on -0
 * and NaN). gt[q] is that comparison for element q = 1, 2, 3. */
static inline float32x4_t window_max(float32x4x2_t top, float32x4x2_t bottom,
                                     uint32x4_t gt[4])
{
    const float32x4_t next[4] = {top.val[0], top.val[1], bottom.val[0],
                                 bottom.val[1]};
    float32x4_t best = next[0];
    for (int q = 1; q < 4; q++) {
        gt[q] = vcgtq_f32(next[q], best);
        best = vbslq_f32(gt[q], next[q], best);
    }
    return best;
}

static void max_rows(const float *x0, const float *x1, int n, float *y)
{
    assert(n % VW == 0);
    for (int j = 0; j < n; j += VW) {
        uint32x4_t gt[4];
        vst1q_f32(y + j, window_max(vld2q_f32(x0 + 2 * j),
                                    vld2q_f32(x1 + 2 * j), gt));
    }
}

/* g where mask is set, +0 elsewhere. */
static inline float32x4_t masked(uint32x4_t mask, uint32x4_t g)
{
    return vreinterpretq_f32_u32(vandq_u32(mask, g));
}

static void max_backward_rows(const float *x0, const float *x1,
                              const float *dy, int n, float *d0, float *d1)
{
    assert(n % VW == 0);
    for (int j = 0; j < n; j += VW) {
        uint32x4_t gt[4];
        window_max(vld2q_f32(x0 + 2 * j), vld2q_f32(x1 + 2 * j), gt);
        /* Element q wins if it replaced the best and no later one did. */
        const uint32x4_t g = vreinterpretq_u32_f32(vld1q_f32(dy + j));
        const uint32x4_t later = vorrq_u32(gt[2], gt[3]);
        const float32x4x2_t top = {{
            masked(vmvnq_u32(vorrq_u32(later, gt[1])), g),
            masked(vbicq_u32(gt[1], later), g),
        }};
        const float32x4x2_t bottom = {{
            masked(vbicq_u32(gt[2], gt[3]), g),
            masked(gt[3], g),
        }};
        vst2q_f32(d0 + 2 * j, top);
        vst2q_f32(d1 + 2 * j, bottom);
    }
}

NST__POOL_KERNELS(neon, VW)
