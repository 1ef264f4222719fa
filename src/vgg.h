/* The VGG network's convolution layers: loading frozen weights, the forward
 * pass to every layer's ReLU output, and the backward pass to the image.
 *
 * Layers are named conv<block>_<i>; a layer's ReLU output is also called
 * relu<block>_<i>. Blocks 1 and 2 have two convolutions; blocks 3 to 5 have
 * three (VGG16) or four (VGG19, recognised by a conv3_4 entry in the
 * file). A 2x2 stride-2 pool (average by default) sits between blocks. */
#ifndef NST_VGG_H
#define NST_VGG_H

#include "nst.h" /* nst_pool */
#include "simd.h"

#define NST_VGG_MAX_LAYERS 16

/* Most input or output channels a layer read from a file may have. VGG's
 * widest layers have 512; a file with more is refused before its weights
 * are read, since the activations grow with the channel count (a layer of
 * 1024 channels at 512x512 already holds 1 GiB). */
#define NST_VGG_MAX_CHANNELS 1024

/* Subtracted from RGB pixels in [0, 255] before the first layer. */
extern const float nst_vgg_mean[3];

typedef struct nst_vgg_layer {
    char name[16];   /* "conv3_3" */
    int pool_before; /* 1 if a 2x2 pool feeds this layer */
    float *weight;   /* cout x cin x 3 x 3 (OIHW), from the file's HWIO */
    float *bias;     /* cout */
    nst_conv conv;   /* cin, cout and the kernels' packed weights */
} nst_vgg_layer;

typedef struct nst_vgg {
    int n; /* layers held: conv1_1 up to the deepest one asked for */
    nst_vgg_layer layer[NST_VGG_MAX_LAYERS];
    nst_pool pool;
    const nst_kernels *k;
} nst_vgg;

/* Loads conv1_1 up to the deepest of names[] (each "reluB_I" or
 * "convB_I") from an npz in the vgg16_weights.npz key layout (convB_I_W in
 * HWIO, convB_I_b), reading only those entries. Shapes must chain: 3 input
 * channels first, each layer's cin equal to the previous cout, at most
 * NST_VGG_MAX_CHANNELS; they are checked from the entries' headers before
 * any data is read. Weights must be finite. -1 with a failure reason naming
 * the file and the entry. */
int nst_vgg_load(nst_vgg *net, const char *path, const char *const *names,
                 int n_names, nst_pool pool, const nst_kernels *k);

void nst_vgg_free(nst_vgg *net);

/* Index in net->layer of a layer name ("relu3_3" or "conv3_3"), or -1 with
 * a failure reason. */
int nst_vgg_find(const nst_vgg *net, const char *name);

/* Everything one image size needs, in one block of memory: each layer's
 * ReLU output, kept for the backward pass, followed by room that the
 * pooled maps and the gradients share (the two passes never overlap). */
typedef struct nst_vgg_acts {
    int in_h, in_w;
    int n; /* layers sized for: net->n at allocation */
    int h[NST_VGG_MAX_LAYERS], w[NST_VGG_MAX_LAYERS]; /* layer output size */
    float *f[NST_VGG_MAX_LAYERS]; /* ReLU output, cout x h x w */
    float *block;                 /* the one allocation f[] points into */
    size_t floats;                /* its size */
} nst_vgg_acts;

/* For an h x w input; -1 with a failure reason if the image is too small
 * for the pools or memory runs out. */
int nst_vgg_acts_alloc(const nst_vgg *net, int h, int w, nst_vgg_acts *a);

void nst_vgg_acts_free(nst_vgg_acts *a);

/* The bytes nst_vgg_acts_alloc allocates for an h x w input, or 0 if it
 * would fail (too small for the pools, or too large to address). */
size_t nst_vgg_acts_bytes(const nst_vgg *net, int h, int w);

/* Lays a (allocated for some size) out again for an h x w input within its
 * block, for the windows of a tiled pass. -1 with a failure reason if the
 * block is too small or the image too small for the pools (a unchanged). */
int nst_vgg_acts_fit(const nst_vgg *net, int h, int w, nst_vgg_acts *a);

/* Runs layers 0 .. n_layers-1 on x (3 x h x w, mean subtracted), filling
 * a->f[0 .. n_layers-1], with the kernel context ctx (for net->k; its
 * workspace and threads). The network is only read: contexts on several
 * threads may run the same net at once. 0, or -1 with a failure reason if
 * the workspace cannot grow. */
int nst_vgg_forward(const nst_vgg *net, nst_kctx *ctx, const float *x,
                    int n_layers, nst_vgg_acts *a);

/* Adds layer l's own loss terms to g = dL/dF_l (cout x h x w), while
 * a->f[l] still holds the forward pass's F_l. 0, or -1 with a failure
 * reason, which ends the backward pass. */
typedef int (*nst_vgg_terms_fn)(void *arg, int l, float *g);

/* The backward pass from layer n_layers-1 (n_layers >= 1) down to the
 * image, after nst_vgg_forward with the same n_layers. dL/dF starts at
 * zero at the top; at each layer add_terms adds that layer's terms, then
 * the step goes back through the ReLU, the convolution and the pool below.
 * Writes dL/dx to dx (3 x h x w, overwrite). The gradients reuse the
 * storage of the ReLU outputs as each one is done with, so a->f[] holds
 * nothing meaningful afterwards. 0, or -1 with a failure reason (from
 * add_terms, or the workspace). */
int nst_vgg_backward(const nst_vgg *net, nst_kctx *ctx, nst_vgg_acts *a,
                     int n_layers, nst_vgg_terms_fn add_terms, void *arg,
                     float *dx);

#endif
