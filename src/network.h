/* The VGG network a run uses: loaded up to the deepest layer that
 * --content-layers and --style-layers name, with those layers as indices
 * and their weights (1 where the option gives none). */
#ifndef NST_NETWORK_H
#define NST_NETWORK_H

#include "vgg.h"

typedef struct nst_network {
    nst_vgg vgg;
    int content[NST_VGG_MAX_LAYERS], n_content;
    int style[NST_VGG_MAX_LAYERS], n_style;
    double content_w[NST_VGG_MAX_LAYERS], style_w[NST_VGG_MAX_LAYERS];
} nst_network;

/* content_layers, style_layers: "name[:weight],..." (layer_list.h). -1
 * with a failure
 * reason naming the option, the layer or the weights file. */
int nst_network_load(nst_network *net, const char *weights,
                     const char *content_layers, const char *style_layers,
                     nst_pool pool, const nst_kernels *k);

void nst_network_free(nst_network *net);

/* 0 if a w x h image can go through the network (every pool has at least
 * 2 x 2 pixels to work on), else -1 with a failure reason. */
int nst_network_fits(const nst_network *net, int w, int h);

#endif
