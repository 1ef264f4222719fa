/* The kernel table: every operation whose speed matters, one function
 * pointer each. The scalar reference fills every entry; an instruction set
 * (AVX2+FMA, NEON) has a constant table of its own kernels, naming the
 * scalar kernel for any it lacks. The table is chosen once at start-up
 * (see dispatch.c); the state a kernel keeps between calls lives in a
 * kernel context (kctx.h) that the caller owns.
 *
 * Conventions shared by every kernel:
 * - Activations are float32, channel-major (CHW): channel c of an h x w map
 *   starts at c*h*w; a layer's features F are a C x M matrix, M = h*w.
 * - Kernels parallelise with OpenMP over outputs (channels, rows, tiles),
 *   never over a reduction, so results do not depend on the thread count.
 * - "Overwrite" outputs must not be read before being written (tests fill
 *   them with NaN first); "accumulate" outputs are read and added to.
 * - The kernels that need room between calls or a thread count (the
 *   convolutions and the Gram kernels) take a kernel context (kctx.h): its
 *   scratch area is their workspace, grown when a call needs more and kept
 *   for the next, and their parallel regions run with its thread count.
 *   There is no global state: kernels on different contexts run side by
 *   side; one context serves one thread at a time. The elementwise kernels
 *   (ReLU mask, pools, Adam) need neither and run with the calling
 *   thread's OpenMP thread count.
 * - A kernel that can run out of memory (growing the workspace) returns 0,
 *   or -1 with nothing written; the caller says why. */
#ifndef NST_SIMD_H
#define NST_SIMD_H

#include <stddef.h>

typedef struct nst_kctx nst_kctx; /* see kctx.h */

/* A 3x3, stride 1, zero-padding 1 convolution with bias, prepared for one
 * instruction set. weight and bias belong to the caller (the network);
 * packed is the instruction set's own copy (e.g. panels or Winograd
 * transforms), made by conv_prepare and freed by conv_release. */
typedef struct nst_conv {
    int cin, cout;
    const float *weight; /* cout x cin x 3 x 3 (OIHW), cross-correlation */
    const float *bias;   /* cout */
    void *packed;        /* NULL until conv_prepare; owned by the table */
} nst_conv;

/* The constants of one Adam step t (see src/adam.c): the moment decays and
 * their complements, formed in double and held in float as the moments
 * are, and the step size, the bias corrections c1 = 1 - beta1^t and
 * c2 = 1 - beta2^t and eps in double. */
typedef struct nst_adam_coeffs {
    float b1, b2; /* beta1, beta2 */
    float k1, k2; /* 1 - beta1, 1 - beta2 */
    double lr, c1, c2, eps;
} nst_adam_coeffs;

typedef struct nst_kernels {
    const char *name; /* "scalar", "avx2", "neon" */

    /* Makes c->packed from c->weight (may leave it NULL). 0, or -1 on
     * out-of-memory. The packed weights are only read by the passes, so
     * contexts on several threads may share them. */
    int (*conv_prepare)(nst_conv *c);
    void (*conv_release)(nst_conv *c);

    /* y = relu(conv3x3(x) + bias). x: cin x h x w; y: cout x h x w
     * (overwrite). ctx is for this table. */
    int (*conv3x3_bias_relu)(nst_kctx *ctx, const nst_conv *c, const float *x,
                             int h, int w, float *y);

    /* dx = dL/dx given dy = dL/d(pre-activation), i.e. the transposed
     * convolution (weights flipped, cin and cout swapped). dy: cout x h x w;
     * dx: cin x h x w (overwrite). */
    int (*conv3x3_backward_data)(nst_kctx *ctx, const nst_conv *c,
                                 const float *dy, int h, int w, float *dx);

    /* g = scale * F F^T. f: c x m; g: c x c (overwrite, both triangles,
     * exactly symmetric). */
    int (*gram)(nst_kctx *ctx, const float *f, int c, int m, float scale,
                float *g);

    /* df += scale * D F with D c x c symmetric. f, df: c x m. Needs no
     * workspace, so it cannot fail. */
    void (*gram_backward)(nst_kctx *ctx, const float *d, const float *f, int c,
                          int m, float scale, float *df);

    /* dy[i] = y[i] > 0 ? dy[i] : 0, for the ReLU output y. */
    void (*relu_backward)(const float *y, float *dy, size_t n);

    /* 2x2 stride-2 pooling of x (c x h x w) into y (c x h/2 x w/2, floor;
     * overwrite). The backward passes take the input's h and w and write dx
     * (c x h x w, overwrite; rows/columns dropped by the floor get 0).
     * Max-pool ties go to the first element in row-major order. */
    void (*avgpool2x2)(const float *x, int c, int h, int w, float *y);
    void (*avgpool2x2_backward)(const float *dy, int c, int h, int w,
                                float *dx);
    void (*maxpool2x2)(const float *x, int c, int h, int w, float *y);
    void (*maxpool2x2_backward)(const float *x, const float *dy, int c, int h,
                                int w, float *dx);

    /* One Adam step on n values, in place: m = b1 m + k1 g and
     * v = b2 v + k2 g g in float, then x -= lr m_hat / (sqrt(v_hat) + eps)
     * with m_hat = m / c1, v_hat = v / c2. The scalar entry forms the step
     * in double; the SIMD ones form it in float as (lr / c1) m /
     * (sqrt(v) / sqrt(c2) + eps), within a few float ulps of the step.
     * m and v come out identical in every entry. */
    void (*adam_update)(const nst_adam_coeffs *p, float *x, float *m,
                        float *v, const float *g, size_t n);
} nst_kernels;

/* The scalar reference table; always present. */
extern const nst_kernels nst_kernels_scalar;

/* Each instruction set's table (defined only when the build includes that
 * instruction set): its own kernels, and the scalar ones where it has
 * none. Constant, so no thread ever waits for one to be built. */
extern const nst_kernels nst__kernels_avx2;
extern const nst_kernels nst__kernels_neon;

/* The table for an instruction set by name ("scalar", "avx2", "neon"), or
 * NULL if this build or this CPU cannot run it. */
const nst_kernels *nst_kernels_for(const char *isa);

/* The best table this CPU runs, or the one NST_ISA names. NULL if NST_ISA
 * names one that cannot run here (the caller says so). */
const nst_kernels *nst_kernels_best(void);

#endif
