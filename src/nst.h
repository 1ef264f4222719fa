/* One style transfer, start to finish, and the batch pipeline: images in,
 * optimisation loop, images, snapshots and loss log out. */
#ifndef NST_NST_H
#define NST_NST_H

#include <stddef.h>
#include <stdint.h>

#include "vgg.h"

typedef struct nst_options {
    /* Single pair: content, style, out (an image file). Batch: data_dir,
     * out (a folder that receives gen_0, gen_1, ...). */
    const char *content, *style, *data_dir, *out;
    const char *weights; /* an .npz file */
    int iters;
    double lr;
    double content_weight, style_weight, tv_weight;
    int size;           /* longest side of the content image */
    double style_scale; /* style's longest side = content's * this */
    int init_noise;     /* start from seeded noise, not the content */
    uint64_t seed;
    nst_pool pool;
    const char *content_layers, *style_layers; /* comma-separated names */
    int save_every; /* snapshot every K iterations; 0: none */
    const char *log_path; /* CSV of the losses; NULL: none */
    int quiet;
} nst_options;

/* Where the weights are: given (from --weights) if not NULL, else
 * $NST_WEIGHTS, else the first .npz in vgg/, else the first in
 * ../shared/vgg/ (folders relative to the current one). The path is given,
 * the environment's, or written to buf; NULL if none is found. */
const char *nst_find_weights(const char *given, char *buf, size_t size);

/* The defaults documented in --help and README.md. */
void nst_options_default(nst_options *o);

/* Runs what o asks for with the kernels k. 0, or -1 with a failure reason
 * (nothing partial is left behind). */
int nst_run(const nst_options *o, const nst_kernels *k);

#endif
