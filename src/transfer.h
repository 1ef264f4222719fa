/* The transfer core: one style transfer on pictures already in memory.
 * For each level of the coarse-to-fine schedule (scales.c) it sizes them
 * (the level's size, --style-scale), applies --preserve-colors, builds the
 * objective and runs the optimisation from the level below's result
 * resized up; it hands back the last level's result picture.
 * It reads and writes no image file: run.c (the nst program) and api.c (the
 * library) load and store pictures around it. */
#ifndef NST_TRANSFER_H
#define NST_TRANSFER_H

#include "image.h"
#include "network.h"
#include "nst.h"
#include "objective.h"
#include "progress.h"
#include "run_log.h"
#include "scales.h"

/* The pictures of one transfer, values in [0, 255], any size. Each has a
 * name for failure reasons: its path, or what the caller calls it. */
typedef struct nst_transfer_inputs {
    const nst_image *content;
    const char *content_name;
    int n_styles; /* 1 to NST_MAX_STYLES */
    const nst_image *style[NST_MAX_STYLES];
    const char *style_name[NST_MAX_STYLES];
    /* Style i's mask (NULL: the whole image), resized to the content's
     * size; its grey level / 255 weighs the style per pixel. */
    const nst_image *mask[NST_MAX_STYLES];
    const char *mask_name[NST_MAX_STYLES];
    /* The starting picture, resized to the content's size (NULL: the
     * content, or seeded noise with o->init_noise). */
    const nst_image *init;
} nst_transfer_inputs;

/* Called after each iteration of each level (0 .. the level's iterations,
 * losses of that evaluation, seconds since the optimisation started);
 * non-zero stops the run there, as SIGINT does. */
typedef int (*nst_transfer_fn)(void *ctx, int iter, const nst_losses *l,
                               double seconds);

/* What happens along the way. */
typedef struct nst_transfer_hooks {
    /* Terminal progress: started by nst_transfer with label and quiet;
     * the caller may call nst_progress_finish once the result is out. */
    nst_progress *progress;
    const char *label;
    int quiet;
    nst_run_log *log;        /* a row per iteration; NULL: none */
    /* --save-every snapshots, written as files named by
     * nst_transfer_snapshot_prefix from this stem */
    const char *snap_stem;
    const char *snap_ext;
    /* SIGINT, from the first level's optimisation to the run's end,
     * stops the run, the image so far kept */
    int sigint_stops;
    nst_transfer_fn on_iter; /* NULL: none */
    void *ctx;
} nst_transfer_hooks;

/* Style i's longest side: the content's (--size) times its --style-scale.
 * -1 with a failure reason naming `name` if it is out of range. */
int nst_transfer_style_side(const nst_options *o, int i, const char *name,
                            int *side);

/* The levels of the run o describes (scales.c). */
void nst_transfer_levels(const nst_options *o, nst_scales *sc);

/* The snapshot prefix of level (from 1) of levels: <stem>iter_ with one
 * level, else <stem>level<level>_iter_, in buf. -1 with a failure reason
 * if it does not fit. */
int nst_transfer_snapshot_prefix(const char *stem, int level, int levels,
                                 char *buf, size_t size);

/* 0 if img can go through net, else -1 with a failure reason naming it
 * ("NAME (ROLE): ..."). */
int nst_transfer_fits(const nst_network *net, const char *name,
                      const char *role, const nst_image *img);

/* Runs the transfer that o describes (its file names are not read) with
 * net. Each level sizes the pictures in `in` afresh, so they should be at
 * their original sizes when there are several levels. result receives the
 * picture (content's size after --size, values in [0, 255], not rounded).
 * Returns the number of updates made over all levels
 * (nst_scales_total_iters), or fewer when SIGINT or on_iter stopped the
 * run (result is then the image so far, at the size of the level it
 * stopped in); or -1 with a failure reason naming the input at fault
 * (result then empty); or, with o->keep_last_good, NST_OPTIMISE_LAST_GOOD
 * when a loss or gradient was not finite (the failure reason says which)
 * and result is the last image whose loss was finite. With --checkpoint
 * a checkpoint holds the level the run is in and the log rows of every
 * level so far; --resume goes on in the level its file is in, writing
 * those rows to the log first. */
int nst_transfer(const nst_network *net, const nst_options *o,
                 const nst_transfer_inputs *in, const nst_transfer_hooks *hooks,
                 nst_image *result);

#endif
