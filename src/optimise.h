/* The optimisation loop: from a starting image x, one evaluation of the
 * objective per iteration, x kept in the pixel range, with progress, the
 * loss log and snapshots along the way, and a clean stop on SIGINT.
 *
 * The loop sees an optimizer only as "evaluate at x, then move x" (one
 * call per log row) and the objective only as f(x) -> loss, grad, the
 * callback shape of nst_lbfgs_fn. So another optimizer, or a coarse-to-
 * fine schedule calling nst_optimise once per scale, changes nothing for
 * the caller. */
#ifndef NST_OPTIMISE_H
#define NST_OPTIMISE_H

#include "objective.h"
#include "progress.h"
#include "run_log.h"

typedef struct nst_optimise_job {
    nst_objective *obj;
    const nst_kernels *k;
    int w, h;     /* x is 3 x h x w, mean subtracted */
    int iters;
    double lr;
    int save_every;          /* snapshot every K iterations; 0: none */
    const char *snap_prefix; /* snapshots: <prefix><iter, %04d><ext> */
    const char *snap_ext;
    nst_progress *progress;
    nst_run_log *log;        /* NULL: none */
} nst_optimise_job;

/* Optimises x in place. Returns the number of updates made: iters, or
 * fewer if SIGINT asked to stop (nst_interrupt_requested()), x then being
 * the image after that many; or -1 with a failure reason. */
int nst_optimise(const nst_optimise_job *job, float *x);

/* The snapshot after update `iter`: <prefix><iter, %04d><ext>, in buf.
 * -1 with a failure reason if it does not fit. */
int nst_snapshot_path(const char *prefix, const char *ext, int iter,
                      char *buf, size_t size);

#endif
