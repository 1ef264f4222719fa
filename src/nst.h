/* libnst: neural style transfer (Gatys et al.) on the CPU.
 *
 * A program includes <nst/nst.h> and links with `pkg-config --libs nst`.
 * Everything it needs is declared here:
 *
 *   nst_error err = {0};
 *   nst_model *m = nst_model_load("vgg16.npz", NULL, NULL, NST_POOL_AVG,
 *                                 NULL, &err);
 *   nst_options o;
 *   nst_options_default(&o);
 *   o.size = 256;
 *   nst_rgb8 content = {w, h, pixels}, style = {sw, sh, style_pixels};
 *   nst_request rq = {.content = &content, .styles = &style, .n_styles = 1};
 *   nst_rgb8 out;
 *   if (!m || nst_transfer_rgb8(m, &o, &rq, &out, &err) != NST_OK)
 *       fprintf(stderr, "%s\n", err.reason);
 *   ... use out.pixels ...
 *   nst_rgb8_free(&out);
 *   nst_model_free(m);
 *   nst_error_clear(&err);
 *
 * Failures: a function that fails returns NULL or a negative status and
 * puts a one-line reason, naming the input and the problem, whole however
 * long, into the nst_error the caller passed (which may be NULL). Nothing
 * is kept between calls: two threads never see each other's reasons.
 *
 * Threads: a model is only read by transfers, so any number of threads may
 * run transfers on one model at once. Each transfer uses o->threads
 * threads, or the calling thread's OpenMP thread count when it is 0.
 * Results do not depend on the thread count. */
#ifndef NST_NST_H
#define NST_NST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most styles of one run. */
enum { NST_MAX_STYLES = 8 };

typedef enum nst_optimizer {
    NST_OPTIMIZER_ADAM,  /* steps of lr pixel levels */
    NST_OPTIMIZER_LBFGS  /* L-BFGS in the pixel box */
} nst_optimizer;

/* Keeping the content's colours (--preserve-colors). */
typedef enum nst_colors {
    NST_COLORS_NONE,
    NST_COLORS_LUMINANCE, /* transfer on luminance, content's chroma kept */
    NST_COLORS_HISTOGRAM  /* each style recoloured to the content's colours */
} nst_colors;

/* The 2x2 pool between the network's blocks. */
typedef enum nst_pool { NST_POOL_AVG, NST_POOL_MAX } nst_pool;

/* One run, as the nst program's options describe it (see nst --help and
 * README.md for each setting's meaning and range). nst_transfer_rgb8 reads
 * the settings of the transfer itself and ignores the fields that name
 * files (content, style, styles, style_masks, data_dir, out, init_file,
 * log_path, checkpoint, resume), save_every and quiet: its pictures come
 * from the caller, it writes nothing and prints nothing. The network fields (weights, pool,
 * content_layers, style_layers) are the model's: nst_model_load takes them,
 * and nst_run loads its own model from them. */
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
    /* --sheet: content | style(s) | result side by side (batch: a row per
     * pair); NULL: none. --shard: batch pairs i with i mod n_shards = shard
     * only (n_shards 0: all). */
    const char *sheet;
    int shard, n_shards;
    /* --init noise: the start is (1 - ratio) content + ratio noise. */
    double init_noise_ratio;
    /* Single pair only: a checkpoint written to `checkpoint` (NULL: none)
     * every save_every iterations, on Ctrl-C and at each level's end;
     * `resume` (NULL: start afresh) continues the run a checkpoint holds,
     * in the level it is in. */
    const char *checkpoint, *resume;
    /* A loss or gradient that is not finite still fails the run, but the
     * last image whose loss was finite is written as the result. */
    int keep_last_good;
    /* --max-memory: the run's budget in MiB (0: nst_memory_default_mib()),
     * and --tile: tiles of at most this many pixels a side (0: the
     * whole image when it fits the budget, else the plan's tiles). */
    int max_memory, tile;
    /* Coarse-to-fine (scales.c): levels from start_size (0: one level)
     * up to size, start_iters iterations on the first, iters on each
     * other. */
    int start_size, start_iters;
    /* --threads: the OpenMP threads of this call's transfers (0: the
     * calling thread's count as it is); the calling thread's count is
     * given back when the call returns. Results do not depend on it. */
    int threads;
} nst_options;

/* The defaults documented in --help and README.md. */
void nst_options_default(nst_options *o);

/* "adam" or "lbfgs", as --optimizer takes it. */
const char *nst_optimizer_name(nst_optimizer opt);

/* Why a call failed: one line, naming the input and the problem, whole
 * (NULL: no failure). Start with nst_error err = {0}. Every call that takes
 * an nst_error first frees the reason it holds and sets NULL, then, if it
 * fails, gives it a new one (never NULL): after any call, err.reason says
 * why that call failed or is NULL. Free the last with nst_error_clear. */
typedef struct nst_error {
    char *reason;
} nst_error;

/* Frees err's reason and sets it NULL (err NULL: nothing). */
void nst_error_clear(nst_error *err);

/* What a run returns. */
typedef enum nst_status {
    NST_OK = 0,
    NST_FAILED = -1,   /* the nst_error says why */
    NST_CANCELLED = -2 /* the progress callback asked to stop */
} nst_status;

/* A picture in memory: interleaved 8-bit RGB, rows top to bottom, no
 * padding (pixel (x, y) is pixels[3 * (y * width + x) + c], c = R, G,
 * B). */
typedef struct nst_rgb8 {
    int width, height;
    unsigned char *pixels;
} nst_rgb8;

/* Frees the pixels of a picture the library made and empties it. */
void nst_rgb8_free(nst_rgb8 *img);

/* The loaded VGG network: opaque, read-only once loaded. */
typedef struct nst_model nst_model;

/* Loads the network from weights (an .npz file) up to the deepest layer
 * content_layers and style_layers name ("name[:weight],..."; NULL: the
 * defaults), with the given pool and kernels ("scalar", "avx2", "neon";
 * NULL: nst_kernels_default()). NULL on failure, with err's previous
 * reason freed and replaced by this one's (nst_error). */
nst_model *nst_model_load(const char *weights, const char *content_layers,
                          const char *style_layers, nst_pool pool,
                          const char *kernels, nst_error *err);

void nst_model_free(nst_model *m);

/* The name of the kernels the model runs with. */
const char *nst_model_kernels(const nst_model *m);

/* One iteration's report. Iteration 0 is the starting image; iteration
 * total is the last. */
typedef struct nst_iteration {
    int iteration, total;
    double loss;               /* the objective: weighted sum of the next */
    double content, style, tv; /* the unweighted losses */
    double seconds;            /* since the optimisation started */
} nst_iteration;

/* Called after every iteration, in order, on the thread that runs the
 * transfer. Non-zero stops the run there: the transfer returns
 * NST_CANCELLED, the picture so far being the one after that iteration's
 * update (what a run of iteration + 1 iterations ends with). */
typedef int (*nst_progress_fn)(void *user, const nst_iteration *it);

/* The pictures of one transfer and how to follow it. */
typedef struct nst_request {
    const nst_rgb8 *content;
    const nst_rgb8 *styles; /* n_styles pictures (1 to NST_MAX_STYLES) */
    int n_styles;
    /* NULL, or n_styles masks of the content's size: style i is applied
     * where mask i is bright (grey level / 255, the mean of R, G, B). */
    const nst_rgb8 *masks;
    const nst_rgb8 *init; /* the starting picture (any size); NULL: the
                             content, or noise with o->init_noise */
    nst_progress_fn progress; /* NULL: none */
    void *user;               /* passed to progress */
    /* A cancelled run hands back the picture so far in result when this
     * is non-zero (result stays empty otherwise). */
    int keep_cancelled;
} nst_request;

/* Runs the transfer o describes with m's network on the request's
 * pictures. result receives the picture (the content's aspect ratio,
 * longest side o->size), to be freed with nst_rgb8_free; it is empty on
 * failure. NST_OK, NST_CANCELLED or NST_FAILED (err's previous reason
 * freed and, on NST_FAILED, replaced by this one's: nst_error). */
nst_status nst_transfer_rgb8(const nst_model *m, const nst_options *o,
                             const nst_request *rq, nst_rgb8 *result,
                             nst_error *err);

/* What the nst program runs: the files o names (one pair, or a batch
 * folder) to its outputs, loading the network o names, with kernels as
 * nst_model_load takes them. Progress on standard error unless o->quiet.
 * While it runs, SIGINT stops the optimisation and keeps the image so far
 * as the result; SIGINT at any other time and SIGTERM remove the
 * temporary files and exit 128 + the signal at once. Returns 0; -1 with a
 * reason (nothing partial is left behind; a batch whose pairs ran but some
 * failed also returns -1, each failure reported on standard error as it
 * happened); or 128 + SIGINT when SIGINT stopped an optimisation and the
 * image so far was saved as the result (said on standard error). err's
 * previous reason is freed and, on -1, replaced by this one's
 * (nst_error). */
int nst_run(const nst_options *o, const char *kernels, nst_error *err);

/* Where the weights are: given if not NULL, else $NST_WEIGHTS, else the
 * first .npz in vgg/, else the first in ../shared/vgg/ (folders relative
 * to the current one). The path is given, the environment's, or written to
 * buf; NULL if none is found. */
const char *nst_find_weights(const char *given, char *buf, size_t size);

/* The kernels a model gets without a choice: $NST_ISA if set, else the
 * fastest this CPU runs. NULL if NST_ISA names kernels this build or this
 * CPU cannot run. */
const char *nst_kernels_default(void);

/* 1 if this build and this CPU run the kernels named isa, else 0. */
int nst_kernels_available(const char *isa);

#ifdef __cplusplus
}
#endif

#endif
