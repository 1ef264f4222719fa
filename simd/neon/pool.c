/* 2x2 stride-2 average and max pooling and their backward passes with NEON.
 * Output size is floor(h/2) x floor(w/2); an odd last row or column of the
 * input is dropped and gets zero gradient.
 *
 * Four windows at a time: vld2q splits 8 floats of a row into the windows'
 * left (even) and right (odd) columns, vst2q interleaves them back. The
 * arithmetic is the scalar kernels', operation for operation, so the
 * results are the same bits. */
#include <arm_neon.h>
#include <assert.h>

#include "../pool_window.h"
#include "neon.h"

void nst_f32_avgpool2x2__neon(const float *x, int c, int h, int w, float *y)
{
    assert(x && y && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2, pw4 = pw / 4 * 4;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < ph; r++) {
            const float *x0 = x + ((size_t)ch * h + 2 * r) * w, *x1 = x0 + w;
            float *yr = y + ((size_t)ch * ph + r) * pw;
            int j = 0;
            for (; j < pw4; j += 4) {
                const float32x4x2_t a = vld2q_f32(x0 + 2 * j);
                const float32x4x2_t b = vld2q_f32(x1 + 2 * j);
                const float32x4_t s = vaddq_f32(vaddq_f32(a.val[0], a.val[1]),
                                                vaddq_f32(b.val[0], b.val[1]));
                vst1q_f32(yr + j, vmulq_n_f32(s, 0.25f));
            }
            // leftovers
            for (; j < pw; j++)
                yr[j] = nst__avg_window(x0, x1, j);
        }
}

void nst_f32_avgpool2x2_backward__neon(const float *dy, int c, int h, int w,
                                       float *dx)
{
    assert(dy && dx && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2, pw4 = pw / 4 * 4;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        float *plane = dx + (size_t)ch * h * w;
        for (int r = 0; r < ph; r++) {
            const float *dyr = dy + ((size_t)ch * ph + r) * pw;
            float *d0 = plane + (size_t)2 * r * w, *d1 = d0 + w;
            int j = 0;
            for (; j < pw4; j += 4) {
                const float32x4_t g = vmulq_n_f32(vld1q_f32(dyr + j), 0.25f);
                const float32x4x2_t gg = {{g, g}};
                vst2q_f32(d0 + 2 * j, gg);
                vst2q_f32(d1 + 2 * j, gg);
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

void nst_f32_maxpool2x2__neon(const float *x, int c, int h, int w, float *y)
{
    assert(x && y && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2, pw4 = pw / 4 * 4;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < ph; r++) {
            const float *x0 = x + ((size_t)ch * h + 2 * r) * w, *x1 = x0 + w;
            float *yr = y + ((size_t)ch * ph + r) * pw;
            int j = 0;
            for (; j < pw4; j += 4) {
                uint32x4_t gt[4];
                vst1q_f32(yr + j, window_max(vld2q_f32(x0 + 2 * j),
                                             vld2q_f32(x1 + 2 * j), gt));
            }
            // leftovers
            for (; j < pw; j++)
                yr[j] = nst__max_window(x0, x1, j);
        }
}

/* g where mask is set, +0 elsewhere. */
static inline float32x4_t masked(uint32x4_t mask, uint32x4_t g)
{
    return vreinterpretq_f32_u32(vandq_u32(mask, g));
}

void nst_f32_maxpool2x2_backward__neon(const float *x, const float *dy, int c,
                                       int h, int w, float *dx)
{
    assert(x && dy && dx && c > 0 && h > 0 && w > 0);
    const int ph = h / 2, pw = w / 2, pw4 = pw / 4 * 4;

#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        float *plane = dx + (size_t)ch * h * w;
        for (int r = 0; r < ph; r++) {
            const float *x0 = x + ((size_t)ch * h + 2 * r) * w, *x1 = x0 + w;
            const float *dyr = dy + ((size_t)ch * ph + r) * pw;
            float *d0 = plane + (size_t)2 * r * w, *d1 = d0 + w;
            int j = 0;
            for (; j < pw4; j += 4) {
                uint32x4_t gt[4];
                window_max(vld2q_f32(x0 + 2 * j), vld2q_f32(x1 + 2 * j), gt);
                /* Element q wins if it replaced the best and no later one
                 * did. */
                const uint32x4_t g = vreinterpretq_u32_f32(vld1q_f32(dyr + j));
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
            // leftovers
            for (; j < pw; j++)
                nst__max_window_backward(x0, x1, dyr[j], d0, d1, j);
        }
        nst__pool_zero_dropped(plane, h, w);
    }
}
