/* Adam (Kingma & Ba), bias-corrected, on a flat float vector. */
#ifndef NST_ADAM_H
#define NST_ADAM_H

#include <stddef.h>

#include "../simd/simd.h"
#include "checkpoint.h"

typedef struct nst_adam {
    double lr, beta1, beta2, eps;
    long t;        /* steps taken */
    size_t n;
    float *m, *v;  /* first and second moment estimates */
} nst_adam;

/* lr with beta1 0.9, beta2 0.999, eps 1e-8. -1 on out-of-memory. */
int nst_adam_init(nst_adam *a, size_t n, double lr);

/* x -= lr * m_hat / (sqrt(v_hat) + eps) for the gradient g, with the
 * kernel table k's adam_update. */
void nst_adam_step(nst_adam *a, const nst_kernels *k, float *x,
                   const float *g);

void nst_adam_free(nst_adam *a);

/* The state a checkpoint keeps, t, m and v, written to w; read back from r
 * into an Adam made for the same n (-1 with a reason if r is short or t
 * out of range). */
void nst_adam_save(const nst_adam *a, nst_ckw *w);
int nst_adam_load(nst_adam *a, nst_ckr *r);

#endif
