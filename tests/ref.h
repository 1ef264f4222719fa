/* Naive double-precision references for the kernels of simd/simd.h,
 * written from the definitions with plain nested loops and nothing shared
 * with the kernels. Tests compare the float kernels against these.
 *
 * Conventions:
 * - Maps are channel-major (CHW) like the kernels; values are double in
 *   and out, so a whole network can be chained in double. Weights and
 *   biases stay float: they are the network's float32 parameters, taken
 *   exactly. ref_widen makes a double copy of float data.
 * - Functions write caller-allocated outputs and never allocate.
 * - Where a function has a `mag` argument (may be NULL), it receives, per
 *   output, the sum of the absolute values of every term summed into that
 *   output (products and bias). Rounding error of a float implementation
 *   is bounded in proportion to it, so tests scale tolerances by it. */
#ifndef NST_TESTS_REF_H
#define NST_TESTS_REF_H

#include <stddef.h>

/* out[i] = a[i] for i < n. */
void ref_widen(const float *a, size_t n, double *out);

/* y[o][r][j] = bias[o] + sum over i, ky, kx of
 *     weight[o][i][ky][kx] * x[i][r + ky - 1][j + kx - 1]
 * (x zero outside the image), then max(y, 0) if relu. x: cin x h x w;
 * weight: cout x cin x 3 x 3 (OIHW); y, mag: cout x h x w. */
void ref_conv3x3(const double *x, int cin, int h, int w, const float *weight,
                 const float *bias, int cout, int relu, double *y,
                 double *mag);

/* The gradient of the convolution's input given dy = dL/d(pre-activation):
 * dx[i][r][j] = sum over o, ky, kx of
 *     weight[o][i][ky][kx] * dy[o][r - ky + 1][j - kx + 1]
 * (dy zero outside the image). dy: cout x h x w; dx, mag: cin x h x w. */
void ref_conv3x3_backward_data(const double *dy, int cout, int h, int w,
                               const float *weight, int cin, double *dx,
                               double *mag);

/* dy[i] = y[i] > 0 ? dy[i] : 0, for the ReLU output y. */
void ref_relu_backward(const double *y, double *dy, size_t n);

/* g[i][j] = scale * sum_k f[i][k] f[j][k]. f: c x m; g, mag: c x c. */
void ref_gram(const double *f, int c, int m, double scale, double *g,
              double *mag);

/* df[i][k] += scale * sum_j d[i][j] f[j][k] (accumulates). d: c x c;
 * f, df: c x m. mag[i][k] gets |df[i][k]| as it was on entry plus
 * |scale| * sum_j |d[i][j] f[j][k]|. */
void ref_gram_backward(const double *d, const double *f, int c, int m,
                       double scale, double *df, double *mag);

/* 2x2 stride-2 pooling of x (c x h x w) into y (c x h/2 x w/2, floor). */
void ref_avgpool2x2(const double *x, int c, int h, int w, double *y);
void ref_maxpool2x2(const double *x, int c, int h, int w, double *y);

/* Offset in x (a map w wide) of the first maximum, in row-major order, of
 * the 2x2 window whose top-left element is at offset p. */
size_t ref_window_argmax(const double *x, size_t p, int w);

/* The backward passes: h and w are the input's, dy is c x h/2 x w/2, dx is
 * c x h x w (overwritten; rows and columns dropped by the floor get 0).
 * For max pooling, the gradient goes to the first maximum of each window in
 * row-major order. */
void ref_avgpool2x2_backward(const double *dy, int c, int h, int w,
                             double *dx);
void ref_maxpool2x2_backward(const double *x, const double *dy, int c, int h,
                             int w, double *dx);

/* One Adam step on n values, in place: m = b1 m + k1 g, v = b2 v + k2 g^2,
 * x -= lr (m / c1) / (sqrt(v / c2) + eps). */
void ref_adam_update(double b1, double b2, double k1, double k2, double lr,
                     double c1, double c2, double eps, double *x, double *m,
                     double *v, const double *g, size_t n);
#endif
