/* The scalar kernels, one file per operation; see ../simd.h for what each
 * computes. */
#ifndef NST_SCALAR_H
#define NST_SCALAR_H

#include "../simd.h"

int nst_conv_prepare__scalar(nst_conv *c);
void nst_conv_release__scalar(nst_conv *c);
int nst_f32_conv3x3_bias_relu__scalar(nst_kctx *ctx, const nst_conv *c,
                                      const float *x, int h, int w, float *y);
int nst_f32_conv3x3_backward_data__scalar(nst_kctx *ctx, const nst_conv *c,
                                          const float *dy, int h, int w,
                                          float *dx);
int nst_f32_gram__scalar(nst_kctx *ctx, const float *f, int c, int m,
                         float scale, float *g);
void nst_f32_gram_backward__scalar(nst_kctx *ctx, const float *d,
                                   const float *f, int c, int m, float scale,
                                   float *df);
void nst_f32_relu_backward__scalar(const float *y, float *dy, size_t n);
void nst_f32_avgpool2x2__scalar(const float *x, int c, int h, int w, float *y);
void nst_f32_avgpool2x2_backward__scalar(const float *dy, int c, int h, int w,
                                         float *dx);
void nst_f32_maxpool2x2__scalar(const float *x, int c, int h, int w, float *y);
void nst_f32_maxpool2x2_backward__scalar(const float *x, const float *dy, int c,
                                         int h, int w, float *dx);
void nst_f32_adam_update__scalar(const nst_adam_coeffs *p, float *x, float *m,
                                 float *v, const float *g, size_t n);

#endif
