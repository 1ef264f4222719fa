/* The float form of the Adam step the SIMD kernels use:
 * x -= (lr / c1) m / (sqrt(v) / sqrt(c2) + eps), with m and v updated by the
 * scalar kernel's float operations (separate multiply and add), so the
 * moments come out the same bits on every instruction set. */
#ifndef NST_ADAM_FLOAT_STEP_H
#define NST_ADAM_FLOAT_STEP_H

#include <math.h>

#include "simd.h"

typedef struct nst__adam_float {
    float lr1; /* lr / c1 */
    float rs2; /* 1 / sqrt(c2) */
    float eps;
} nst__adam_float;

static inline nst__adam_float nst__adam_float_form(const nst_adam_coeffs *p)
{
    return (nst__adam_float){(float)(p->lr / p->c1),
                             (float)(1.0 / sqrt(p->c2)), (float)p->eps};
}

/* One element, for the SIMD kernels' leftovers. */
static inline void nst__adam_float_one(const nst_adam_coeffs *p,
                                       nst__adam_float f, float *x, float *m,
                                       float *v, float g)
{
    *m = p->b1 * *m + p->k1 * g;
    *v = p->b2 * *v + p->k2 * g * g;
    *x -= f.lr1 * *m / (sqrtf(*v) * f.rs2 + f.eps);
}

#endif
