/* The objective's state, shared by the whole-image evaluation
 * (objective.c) and the tiled one (objective_tiled.c). */
#ifndef NST_OBJECTIVE_IMPL_H
#define NST_OBJECTIVE_IMPL_H

#include "objective.h"
#include "tiles.h"

/* One style with a non-zero blend weight: its Gram targets and, when it has
 * a mask, the mask at each style layer's size (with its square root and
 * sum). NULL where unused. Tiled: the masked Gram's running sum and the
 * gradient's scaled G - A per layer. */
typedef struct style_term {
    double weight; /* blend weight divided by the sum over the styles */
    float *gram_target[NST_VGG_MAX_LAYERS];
    float *mask[NST_VGG_MAX_LAYERS], *root[NST_VGG_MAX_LAYERS];
    double mask_sum[NST_VGG_MAX_LAYERS];
    double *gram_sum[NST_VGG_MAX_LAYERS];
    float *d[NST_VGG_MAX_LAYERS];
} style_term;

struct nst_objective {
    const nst_vgg *net;
    nst_kctx *ctx; /* this objective's kernel workspace and threads */
    int h, w;
    int n_layers; /* forward and backward run through layers 0 .. n_layers-1 */
    double alpha, beta, gamma;
    /* Per layer: its content weight, its style weight (the layer weights
     * divided by their sum) and the content image's features (NULL where
     * unused). */
    double content_w[NST_VGG_MAX_LAYERS];
    double style_w[NST_VGG_MAX_LAYERS];
    float *content_target[NST_VGG_MAX_LAYERS];
    style_term *styles;
    int n_styles;
    float *gram; /* c x c scratch for the widest style layer */
    float *fm;   /* c x m scratch for the largest masked style layer (tiled:
                    the largest window's map at any layer used) */
    nst_vgg_acts acts; /* the whole image, or (tiled) the largest window */

    /* Tiled evaluation (tile > 0) only. */
    int tile;
    nst_tiling tiling;          /* of the generated image */
    int pools[NST_VGG_MAX_LAYERS]; /* pools below each layer */
    float *win, *dwin;          /* 3 x a window's pixels, its gradient */
    double *gram_sum[NST_VGG_MAX_LAYERS]; /* unmasked Gram running sums */
    float *d[NST_VGG_MAX_LAYERS]; /* the unmasked styles' scaled G - A */
};

/* The tiled counterparts of the whole-image steps, for an objective with
 * tile > 0 whose layers are set: sizes the scratch and the window's
 * activations, then the targets. 0, or -1 with a failure reason. */
int nst__tiled_alloc(nst_objective *o, const nst_style_target *styles,
                     int n_styles);
int nst__tiled_gram_target(nst_objective *o, style_term *t,
                           const nst_style_target *s);
int nst__tiled_content_target(nst_objective *o, const float *content);
int nst__tiled_eval(nst_objective *o, const float *x, nst_losses *out,
                    float *grad);
void nst__tiled_free(nst_objective *o);

/* The bytes of the tiled buffers nst__tiled_alloc makes but the Gram sums
 * (the window's activations, pixels and layer scratch); sets o's tiling. */
size_t nst__tiled_bytes(nst_objective *o, const nst_style_target *styles,
                        int n_styles);

#endif
