/* The optimisation loop: from a starting image x, one evaluation of the
 * objective per iteration, x kept in the pixel range, with progress, the
 * loss log and snapshots along the way, a clean stop on SIGINT, and a
 * failure on a loss or gradient that is not finite.
 *
 * The loop sees an optimizer only as "evaluate at x, then move x" (one
 * call per log row) and the objective only as f(x) -> loss, grad, the
 * callback shape of nst_lbfgs_fn. So another optimizer, or a coarse-to-
 * fine schedule calling nst_optimise once per scale, changes nothing for
 * the caller. */
#ifndef NST_OPTIMISE_H
#define NST_OPTIMISE_H

#include "checkpoint.h"
#include "nst.h"
#include "objective.h"
#include "pixels.h"
#include "progress.h"
#include "run_log.h"

typedef struct nst_optimise_job {
    nst_objective *obj;
    const nst_kernels *k;
    int w, h;     /* x is 3 x h x w, mean subtracted */
    int iters;    /* evaluations after the starting image's */
    nst_optimizer optimizer;
    double lr;          /* Adam */
    int lbfgs_history;  /* L-BFGS */
    int save_every;          /* snapshot every K iterations; 0: none */
    const char *snap_prefix; /* snapshots: <prefix><iter, %04d><ext> */
    const char *snap_ext;
    const nst_picture *picture; /* how snapshots are written */
    nst_progress *progress;
    nst_run_log *log;        /* NULL: none */
    /* Called after each iteration's report (NULL: none); non-zero stops
     * the run as SIGINT does. */
    int (*on_iter)(void *ctx, int iter, const nst_losses *l, double seconds);
    void *on_iter_ctx;
    /* Checkpoints (checkpoint.h): written to `checkpoint` (NULL: none)
     * after every save_every-th iteration, after the iteration SIGINT or
     * on_iter stopped and before the last evaluation, with the settings,
     * schedule and level of `head` and the log rows of `rows`: the run's
     * so far, every level's, to which each iteration's row is added.
     * `resume` (NULL: start afresh) is a checkpoint of this level, loaded
     * and matched to the run by the caller (nst_checkpoint_match,
     * nst_checkpoint_match_levels), its rows already logged: the loop
     * takes up its image and optimizer state, refusing another image size,
     * and goes on from its iteration. */
    const char *checkpoint;
    const nst_checkpoint *head;
    nst_ckpt_rows *rows;
    nst_checkpoint *resume;
    double seconds0; /* added to the log's seconds: a resumed run's past */
    /* On a loss or gradient that is not finite, leave the last image
     * whose loss was finite in x and return NST_OPTIMISE_LAST_GOOD. */
    int keep_last_good;
} nst_optimise_job;

/* nst_optimise failed, and x is the last image whose loss was finite. */
#define NST_OPTIMISE_LAST_GOOD (-2)

/* Optimises x in place: iters + 1 evaluations, one log row each, row 0
 * at the starting image. With Adam, x is the image after the last update
 * (the last row's evaluation needs no gradient); with L-BFGS, each row is
 * a trial image of the line search and x the best accepted one, and the
 * run ends early, as complete, when no descent is left. Returns the number
 * of iterations done: iters, or fewer if SIGINT or on_iter asked to stop
 * (nst_interrupt_requested()), x then being the image after that many; or
 * -1 with a failure reason, also when a loss or gradient is not finite
 * (the iteration named; with keep_last_good, NST_OPTIMISE_LAST_GOOD if
 * some image's loss was). A resumed run starts at the checkpoint's
 * iteration and ends exactly as the run that made the checkpoint would
 * have. */
int nst_optimise(const nst_optimise_job *job, float *x);

/* The snapshot after update `iter`: <prefix><iter, %04d><ext>, in buf.
 * -1 with a failure reason if it does not fit. */
int nst_snapshot_path(const char *prefix, const char *ext, int iter,
                      char *buf, size_t size);

#endif
