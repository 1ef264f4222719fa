/* The three loss terms and their gradients. Every sum is taken in double
 * and in a fixed order, so values do not depend on the thread count. When g
 * is not NULL, scale * dL/d(input) is added to g. */
#ifndef NST_LOSS_H
#define NST_LOSS_H

#include <stddef.h>

#include "../simd/simd.h"

/* L = mean((F - P)^2) over n entries; dL/dF = 2 (F - P) / n. */
double nst_content_loss(const float *f, const float *p, size_t n,
                        double scale, float *g);

/* G = F F^T / m for F c x m into gram (c x c), with the kernels of ctx. 0,
 * or -1 with a failure reason if their workspace cannot grow. */
int nst_gram(nst_kctx *ctx, const float *f, int c, int m, float *gram);

/* G = F F^T / m, and *loss = L = mean((G - A)^2) over the c*c entries, for
 * F c x m and the target Gram A. dL/dF = 4 (G - A) F / (c^2 m). gram is
 * c x c scratch (holds G on return when g is NULL). 0, or -1 with a
 * failure reason (as nst_gram). */
int nst_style_loss(nst_kctx *ctx, const float *f, int c, int m,
                   const float *a, float *gram, double scale, float *g,
                   double *loss);

/* The style loss over a region: G = F diag(mask) F^T / sum(mask) and
 * *loss = L = mean((G - A)^2) over the c*c entries, for F c x m, mask m
 * weights in [0, 1] with a positive sum and root[k] = sqrt(mask[k]).
 * dL/dF = 4 (G - A) F diag(mask) / (c^2 sum(mask)). gram is c x c scratch,
 * fm c x m scratch. 0, or -1 with a failure reason (as nst_gram). */
int nst_masked_style_loss(nst_kctx *ctx, const float *f, int c, int m,
                          const float *mask, const float *root,
                          double mask_sum, const float *a, float *gram,
                          float *fm, double scale, float *g, double *loss);

/* Total variation's scale: L_tv is this many times the mean over the
 * c h w values, so that --tv-weight's useful range is about 0.1 to 10
 * around a default of 1 (docs/math.md, "Total variation"). */
#define NST_TV_SCALE 10.0

/* Total variation of x (c x h x w): L = (NST_TV_SCALE/(c h w)) * sum over
 * pixels of (x[i+1][j] - x[i][j])^2 + (x[i][j+1] - x[i][j])^2, pairs
 * inside the image only. */
double nst_tv_loss(const float *x, int c, int h, int w, double scale,
                   float *g);

#endif
