/* A naive double-precision model of the whole network and objective,
 * written from the definitions and sharing nothing with src/vgg.c,
 * src/loss.c or src/objective.c: weights are read from the npz and
 * rearranged here from HWIO, the layer chain is found from the file's keys,
 * convolutions and pools are those of ref.c, and every loss is a plain loop
 * in double. Tests compare the float pipeline against it and take finite
 * differences of it. */
#ifndef NST_TESTS_REF_NET_H
#define NST_TESTS_REF_NET_H

#include <stddef.h>

#include "objective.h"

typedef struct ref_net {
    int n, max_pool;
    int cin[NST_VGG_MAX_LAYERS], cout[NST_VGG_MAX_LAYERS];
    int pool_before[NST_VGG_MAX_LAYERS];
    float *weight[NST_VGG_MAX_LAYERS]; /* OIHW, as ref.c takes it */
    float *bias[NST_VGG_MAX_LAYERS];
} ref_net;

/* The first n_layers convolutions of path, in the file's order conv1_1,
 * conv1_2, conv2_1, ... (a pool before each block's first layer but the
 * first block's). -1 with the npz reader's failure reason. */
int ref_net_load(ref_net *r, const char *path, int n_layers, int max_pool);
void ref_net_free(ref_net *r);

/* Activations of layers 0 .. n-1: pre-activation z, ReLU output f and the
 * sum of the absolute values of the terms summed into each z (ref.c's
 * mag), cout x h x w each (malloc'd by ref_net_forward). */
typedef struct ref_acts {
    int n, in_h, in_w;
    int h[NST_VGG_MAX_LAYERS], w[NST_VGG_MAX_LAYERS];
    double *z[NST_VGG_MAX_LAYERS], *f[NST_VGG_MAX_LAYERS];
    double *mag[NST_VGG_MAX_LAYERS];
} ref_acts;

void ref_net_forward(const ref_net *r, const double *x, int h, int w,
                     int n_layers, ref_acts *a);
void ref_acts_free(ref_acts *a);

/* 1 if a and b (same net, same size) take the same branch everywhere: each
 * pre-activation has the same sign and each max-pool window the same
 * winner, so the network is one smooth function on the segment between
 * their inputs (needed for finite differences to be valid). */
int ref_acts_same_branches(const ref_net *r, const ref_acts *a,
                           const ref_acts *b);

/* mean((f - p)^2) over n entries. */
double ref_content_loss(const double *f, const double *p, size_t n);
/* mean((G - a)^2) over c*c entries, G = F F^T / m for F c x m. */
double ref_style_loss(const double *f, int c, int m, const double *a);
/* mean((G - a)^2) over c*c entries for the masked Gram
 * G = sum_k f_ik f_jk mask_k / sum_k mask_k. */
double ref_masked_style_loss(const double *f, int c, int m,
                             const double *mask, const double *a);
/* (10/(c h w)) * sum of squared differences of vertical and horizontal
 * neighbours inside x (c x h x w). */
double ref_tv_loss(const double *x, int c, int h, int w);

/* The objective of objective.h in double: targets and masks from the float
 * images, widened; L = alpha sum_i cw_i Lc_i + beta sum_k (b_k / sum b)
 * sum_i (sw_i / sum sw) Ls_ki + gamma Ltv, by position in the lists. */
enum { REF_MAX_STYLES = 4 };
typedef struct ref_objective {
    const ref_net *net;
    int h, w, n_layers;
    int content[NST_VGG_MAX_LAYERS], n_content;
    int style[NST_VGG_MAX_LAYERS], n_style;
    double content_w[NST_VGG_MAX_LAYERS], style_w[NST_VGG_MAX_LAYERS];
    double alpha, beta, gamma;
    int n_styles;
    double blend[REF_MAX_STYLES];
    double *content_target[NST_VGG_MAX_LAYERS]; /* by position in content */
    /* By style, then position in style; mask NULL for the whole image. */
    double *gram_target[REF_MAX_STYLES][NST_VGG_MAX_LAYERS];
    double *mask[REF_MAX_STYLES][NST_VGG_MAX_LAYERS];
} ref_objective;

/* -1 if a list is longer than NST_VGG_MAX_LAYERS or names a layer the net
 * lacks, or there are more than REF_MAX_STYLES styles. */
int ref_objective_init_styles(ref_objective *o, const ref_net *net,
                              const nst_objective_spec *spec,
                              const float *content, int h, int w,
                              const nst_style_target *styles, int n_styles);
/* One style over the whole image. */
int ref_objective_init(ref_objective *o, const ref_net *net,
                       const nst_objective_spec *spec, const float *content,
                       int h, int w, const float *style, int sh, int sw);
void ref_objective_free(ref_objective *o);

/* The losses at x (3 x h x w). If acts is not NULL it receives the
 * activations (free with ref_acts_free). */
void ref_objective_eval(const ref_objective *o, const double *x,
                        nst_losses *out, ref_acts *acts);

#endif
