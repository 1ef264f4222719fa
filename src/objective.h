/* The style-transfer objective L = a*Lc + b*Ls + g*Ltv as a function of the
 * generated image, with its analytic gradient. Holds the targets: the
 * content image's features at the content layers and each style image's
 * Gram matrices at the style layers, with each style's blend weight and
 * optional mask (docs/math.md, "Several styles, masks and layer
 * weights"). */
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
    /* Per-layer weights parallel to the lists, each >= 0; NULL: 1 each.
     * A content layer's term is multiplied by its weight; the style layers'
     * weights are divided by their sum (all 1: 1/n_style each). A layer may
     * appear once in each list. */
    const double *content_layer_weights, *style_layer_weights;
} nst_objective_spec;

/* One style: its image (3 x h x w, mean subtracted), its blend weight
 * (>= 0; the weights are divided by their sum, and a style whose weight is
 * 0 is left out) and its mask: NULL for the whole generated image, else
 * the content's size (h x w of the objective) with values in [0, 1]. */
typedef struct nst_style_target {
    const float *image;
    int h, w;
    double weight;
    const float *mask;
} nst_style_target;

typedef struct nst_objective nst_objective;

/* content: 3 x h x w, mean subtracted, and n_styles >= 1 styles. The
 * generated image has the content's size. The objective makes its own
 * kernel context for net->k, running with the calling thread's OpenMP
 * thread count (omp_get_max_threads()); net is only read, so objectives on
 * several threads may share it, each used by one thread at a time. NULL
 * with a failure reason. */
nst_objective *nst_objective_create_styles(const nst_vgg *net,
                                           const nst_objective_spec *spec,
                                           const float *content, int h, int w,
                                           const nst_style_target *styles,
                                           int n_styles);

/* As nst_objective_create_styles, evaluated in tiles of at most tile
 * pixels a side when tile > 0 (0: the whole image at once): the same
 * losses and gradient up to float rounding (docs/math.md, "Tiled
 * evaluation"), in memory that grows with the tile rather than the
 * image. */
nst_objective *nst_objective_create_tiled(const nst_vgg *net,
                                          const nst_objective_spec *spec,
                                          int tile, const float *content,
                                          int h, int w,
                                          const nst_style_target *styles,
                                          int n_styles);

/* The most memory nst_objective_create_tiled with these arguments holds at
 * once, in bytes (styles' images may be NULL: their sizes, weights and
 * masks' presence are read), but the kernels' workspace; SIZE_MAX if the
 * spec is refused. */
size_t nst_objective_bytes(const nst_vgg *net, const nst_objective_spec *spec,
                           int tile, int h, int w,
                           const nst_style_target *styles, int n_styles);

/* One style (3 x sh x sw, mean subtracted) over the whole image. */
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
