#include "adam.h"

#include <math.h>
#include <stdlib.h>

int nst_adam_init(nst_adam *a, size_t n, double lr)
{
    *a = (nst_adam){.lr = lr, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .n = n};
    a->m = calloc(n ? n : 1, sizeof *a->m);
    a->v = calloc(n ? n : 1, sizeof *a->v);
    if (!a->m || !a->v) {
        nst_adam_free(a);
        return -1;
    }
    return 0;
}

/* m and v are the running means of g and g^2; dividing by 1 - beta^t removes
 * their bias towards the zero they start from. */
void nst_adam_step(nst_adam *a, const nst_kernels *k, float *x, const float *g)
{
    a->t++;
    /* 1 - beta is formed in double: 1.0f - 0.999f would be off by 1e-5. */
    const nst_adam_coeffs p = {
        .b1 = (float)a->beta1,
        .b2 = (float)a->beta2,
        .k1 = (float)(1.0 - a->beta1),
        .k2 = (float)(1.0 - a->beta2),
        .lr = a->lr,
        .c1 = 1.0 - pow(a->beta1, (double)a->t),
        .c2 = 1.0 - pow(a->beta2, (double)a->t),
        .eps = a->eps,
    };
    k->adam_update(&p, x, a->m, a->v, g, a->n);
}

void nst_adam_free(nst_adam *a)
{
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

void nst_adam_save(const nst_adam *a, nst_ckw *w)
{
    nst_ckw_u32(w, (uint32_t)a->t);
    nst_ckw_f32s(w, a->m, a->n);
    nst_ckw_f32s(w, a->v, a->n);
}

int nst_adam_load(nst_adam *a, nst_ckr *r)
{
    uint32_t t;
    if (nst_ckr_u32_in(r, 0, INT32_MAX, "Adam step count", &t) != 0 ||
        nst_ckr_f32s(r, a->m, a->n) != 0 || nst_ckr_f32s(r, a->v, a->n) != 0)
        return -1;
    a->t = (long)t;
    return 0;
}
