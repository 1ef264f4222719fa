/* The style-transfer objective L = a*Lc + b*Ls + g*Ltv as a function of the
 * generated image, with its analytic gradient. Holds the targets: the
 * content image's features at the content layers and the style image's Gram
 * matrices at the style layers. */
#ifndef NST_OBJECTIVE_H
#define NST_OBJECTIVE_H

#include "vgg.h"

typedef struct nst_losses {
    double total, content, style, tv; /* content, style, tv unweighted */
} nst_losses;

typedef struct nst_objective_spec {
    const int *content_layers; /* indices into net->layer */
    int n_content;
    const int *style_layers;
    int n_style;
    double content_weight, style_weight, tv_weight;
} nst_objective_spec;

typedef struct nst_objective nst_objective;

/* content: 3 x h x w and style: 3 x sh x sw, both mean subtracted. The
 * generated image has the content's size. The objective makes its own
 * kernel context for net->k, running with the calling thread's OpenMP
 * thread count (omp_get_max_threads()); net is only read, so objectives on
 * several threads may share it, each used by one thread at a time. NULL
 * with a failure reason. */
nst_objective *nst_objective_create(const nst_vgg *net,
                                    const nst_objective_spec *spec,
                                    const float *content, int h, int w,
                                    const float *style, int sh, int sw);

void nst_objective_free(nst_objective *o);

/* Evaluates the losses at x (3 x h x w, mean subtracted); if grad is not
 * NULL, writes dL/dx there (overwrite). 0, or -1 with a failure reason if
 * the kernels' workspace cannot grow (out and grad then hold nothing
 * meaningful). */
int nst_objective_eval(nst_objective *o, const float *x, nst_losses *out,
                       float *grad);

#endif
