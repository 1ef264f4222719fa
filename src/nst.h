/* The program's entry points: its options, and one style transfer or a
 * batch of them, start to finish (run.c), with SIGINT and SIGTERM handled
 * (interrupt.c). */
#ifndef NST_NST_H
#define NST_NST_H

#include <stddef.h>
#include <stdint.h>

#include "color.h"
#include "vgg.h"
#include "weights_path.h"

/* Most --style images of one run. */
enum { NST_MAX_STYLES = 8 };

typedef enum nst_optimizer {
    NST_OPTIMIZER_ADAM,  /* adam.c, steps of --lr pixel levels */
    NST_OPTIMIZER_LBFGS  /* lbfgs.c, in the pixel box */
} nst_optimizer;

typedef struct nst_options {
    /* Single pair: content, style, out (an image file). Batch: data_dir,
     * out (a folder that receives gen_0, gen_1, ...; NULL: data_dir
     * itself). */
    const char *content, *style, *data_dir, *out;
    const char *weights; /* an .npz file */
    int iters;  /* objective evaluations after the starting image's */
    nst_optimizer optimizer;
    int lbfgs_history; /* L-BFGS pairs kept */
    double lr;         /* Adam only */
    double content_weight, style_weight, tv_weight;
    int size;           /* longest side of the content image */
    double style_scale; /* style's longest side = content's * this */
    int init_noise;     /* start from seeded noise, not the content */
    const char *init_file; /* start from this image, resized to the
                              content's size; NULL: content or noise */
    nst_colors colors;     /* --preserve-colors */
    int quality;           /* JPEG quality of the images written */
    uint64_t seed;
    nst_pool pool;
    const char *content_layers, *style_layers; /* "name[:weight],..." */
    /* Single pair: every --style in order (style is styles[0]; a caller
     * may set style alone for one style), their
     * blend weights (n_blend 0: equal), longest-side scales (n_scales 1:
     * style_scale for all) and masks (n_masks 0: none). */
    const char *styles[NST_MAX_STYLES];
    int n_styles;
    double style_blend[NST_MAX_STYLES];
    int n_blend;
    double style_scales[NST_MAX_STYLES];
    int n_scales;
    const char *style_masks[NST_MAX_STYLES];
    int n_masks;
    int save_every; /* snapshot every K iterations; 0: none */
    const char *log_path; /* CSV of the losses; NULL: none */
    int quiet;
    /* Coarse-to-fine (scales.c): levels from start_size (0: one level)
     * up to size, start_iters iterations on the first, iters on each
     * other. */
    int start_size, start_iters;
} nst_options;

/* "adam" or "lbfgs", as --optimizer takes it. */
const char *nst_optimizer_name(nst_optimizer opt);

/* The defaults documented in --help and README.md. */
void nst_options_default(nst_options *o);

/* Runs what o asks for with the kernels k. 0; -1 with a failure reason
 * (nothing partial is left behind; a batch whose pairs ran but some failed
 * also returns -1, each failure reported on stderr as it happened); or
 * 128 + SIGINT when Ctrl-C stopped the optimisation and the image so far
 * was saved as the result (said on stderr). SIGINT at any other time and
 * SIGTERM remove the temporary files and exit 128 + the signal at once. */
int nst_run(const nst_options *o, const nst_kernels *k);

#endif
