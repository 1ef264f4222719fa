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
} nst_optimise_job;

/* Optimises x in place: iters + 1 evaluations, one log row each, row 0
 * at the starting image. With Adam, x is the image after the last update
 * (the last row's evaluation needs no gradient); with L-BFGS, each row is
 * a trial image of the line search and x the best accepted one, and the
 * run ends early, as complete, when no descent is left. Returns the number
 * of iterations done: iters, or fewer if SIGINT or on_iter asked to stop
 * (nst_interrupt_requested()), x then being the image after that many; or
 * -1 with a failure reason, also when a loss or gradient is not finite
 * (the iteration named). */
int nst_optimise(const nst_optimise_job *job, float *x);

/* The snapshot after update `iter`: <prefix><iter, %04d><ext>, in buf.
 * -1 with a failure reason if it does not fit. */
int nst_snapshot_path(const char *prefix, const char *ext, int iter,
                      char *buf, size_t size);

#endif
