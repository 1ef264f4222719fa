/* Limited-memory BFGS inside a box: minimises f(x) over lo <= x <= hi
 * (elementwise) for a float vector x, with the projected L-BFGS method of
 * docs/math.md (free-variable two-loop recursion, Armijo backtracking
 * along the projection arc).
 *
 * Every call of nst_lbfgs_step evaluates f (forward and backward) exactly
 * once, so a caller's loop counts evaluations the way Adam's loop counts
 * steps, one log row per call:
 *
 *     // lo, hi: the pixel box, -mean_c and 255 - mean_c for each value
 *     // of channel c; eval: nst_objective_eval, its total as the loss
 *     const nst_lbfgs_params params = {history, NST_LBFGS_IMAGE_FIRST_STEP};
 *     nst_lbfgs *opt = nst_lbfgs_create(n, lo, hi, &params, eval, ctx);
 *     for (int it = 0; it <= evals; it++) {       // row 0: the start
 *         nst_lbfgs_report r;
 *         if (nst_lbfgs_step(opt, x, &r) != 0)    // eval's failure, passed up
 *             break;
 *         log row it: r.loss (and whatever eval kept in ctx);
 *         snapshots and the result: x, the best image so far
 *         if (r.done) break;                      // no descent left
 *     }
 *     nst_lbfgs_free(opt);
 *
 * The first call projects x into the box and evaluates it (r.accepted is
 * 1). Later calls evaluate a trial image of the line search; r.loss is its
 * loss, and r.accepted says whether it passed the sufficient-decrease test
 * and became the new x. So x always holds the best image found so far, its
 * loss falls from accepted row to accepted row, and a rejected row's loss
 * fell too little or rose (usually the latter). The trial and its gradient live in
 * the optimiser's own buffers; eval may keep its own details of the last
 * evaluation (e.g. the content, style and tv parts) in ctx.
 *
 * The optimiser allocates everything in nst_lbfgs_create: (2 M + 7) n
 * floats, n doubles and n bytes. Dot products are summed in double over
 * fixed chunks in a fixed order, so the iterates do not depend on the
 * thread count (when f's own results do not). */
#ifndef NST_LBFGS_H
#define NST_LBFGS_H

#include <stddef.h>

#include "checkpoint.h"

/* Writes f(x) to *loss and df/dx to grad (n floats, overwrite); non-zero
 * on failure (with a failure reason set), which nst_lbfgs_step returns. */
typedef int (*nst_lbfgs_fn)(void *ctx, const float *x, double *loss,
                            float *grad);

/* History size M when the caller has no reason to choose: from the
 * measurements in docs/benchmarks.md. */
#define NST_LBFGS_DEFAULT_HISTORY 10
#define NST_LBFGS_MAX_HISTORY 100
/* first_step for a style-transfer image, in pixel levels (measured too). */
#define NST_LBFGS_IMAGE_FIRST_STEP 16.0

typedef struct nst_lbfgs_params {
    int history;       /* pairs (s, y) kept: 1 .. NST_LBFGS_MAX_HISTORY */
    double first_step; /* > 0: the largest change of any element in a
                          steepest-descent step (the first one, and after
                          the history is dropped), in x's units */
} nst_lbfgs_params;

typedef struct nst_lbfgs_report {
    double loss;  /* f at the image this call evaluated (inside the box) */
    int accepted; /* 1 if that image is now x */
    int done;     /* no descent is left from x (its projected gradient is
                     0, or no step changes a float); later calls evaluate
                     nothing */
} nst_lbfgs_report;

typedef struct nst_lbfgs nst_lbfgs;

/* For n values with bounds lo[i] <= hi[i] (copied; either may be NULL for
 * unbounded, and entries may be infinite). NULL with a failure reason on
 * bad parameters or out-of-memory. */
nst_lbfgs *nst_lbfgs_create(size_t n, const float *lo, const float *hi,
                            const nst_lbfgs_params *p, nst_lbfgs_fn f,
                            void *ctx);

void nst_lbfgs_free(nst_lbfgs *o);

/* One evaluation of f, as described above. x (n floats) is the starting
 * point on the first call and is then the optimiser's: the same buffer,
 * untouched by the caller, on every call. -1 if f failed (x is then the
 * best image so far) or if f is not finite at the starting point. */
int nst_lbfgs_step(nst_lbfgs *o, float *x, nst_lbfgs_report *r);

/* Evaluations of f so far. */
long nst_lbfgs_evaluations(const nst_lbfgs *o);

/* Everything o keeps between calls, for a checkpoint: the history, the
 * loss and gradient at x, the line search's trial, direction and step,
 * the free set and the counters (x itself is the caller's). Loading into
 * an o made for the same n and history continues the run bit for bit; -1
 * with a reason if r is short or does not fit o. */
void nst_lbfgs_save(const nst_lbfgs *o, nst_ckw *w);
int nst_lbfgs_load(nst_lbfgs *o, nst_ckr *r);

/* For tests. Sets the free variables (free_mask[i] != 0; NULL: all) and
 * returns H g from the two-loop recursion over the pairs held, 0 at fixed
 * variables (n doubles, valid until the next call into o). */
const double *nst__lbfgs_apply_h(nst_lbfgs *o, const float *g,
                                 const unsigned char *free_mask);
/* Offers the pair (s, y) to the history, as an accepted step does; 1 if
 * it is kept (it meets the curvature condition). */
int nst__lbfgs_offer_pair(nst_lbfgs *o, const float *s, const float *y);

#endif
