#include "optimise.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "adam.h"
#include "error.h"
#include "finite.h"
#include "interrupt.h"
#include "lbfgs.h"
#include "pixels.h"

/* f(x) -> loss, grad (grad NULL: the loss only), as an optimizer calls
 * it; the loss's parts are kept for the log. The one call site of
 * nst_objective_eval. Evaluation k is iteration k's (one per iteration),
 * and fails if its loss or gradient is not finite: float overflow (huge
 * weights, say) would otherwise run on to a black image. */
typedef struct evaluation {
    nst_objective *obj;
    nst_losses l;
    int count; /* evaluations so far */
    size_t n;  /* values in x */
} evaluation;

static int evaluate(void *ctx, const float *x, double *loss, float *grad)
{
    evaluation *e = ctx;
    const int it = e->count++;
    if (nst_objective_eval(e->obj, x, &e->l, grad) != 0)
        return -1;
    if (!isfinite(e->l.total))
        return nst_fail("iteration %d: the loss is not finite (total %g: "
                        "content %g, style %g, tv %g); the weights or loss "
                        "weights are too large for float arithmetic",
                        it, e->l.total, e->l.content, e->l.style, e->l.tv);
    const size_t bad = grad ? nst_first_non_finite(grad, e->n) : e->n;
    if (bad < e->n)
        return nst_fail("iteration %d: the gradient is not finite (%g at "
                        "value %zu of %zu); the weights or loss weights are "
                        "too large for float arithmetic",
                        it, grad[bad], bad, e->n);
    *loss = e->l.total;
    return 0;
}

/* An optimizer as the loop drives it: step evaluates f once (that is the
 * iteration's log row) and moves x, except on the last iteration where
 * Adam does not; 0, 1 when no further step can improve x (the run is
 * complete), or -1 with a failure reason. */
typedef struct optimizer {
    int (*step)(void *state, float *x, int last);
    void (*end)(void *state);
    void *state;
} optimizer;

/* Adam (adam.c) on the image, clamped to the pixel range after each
 * update. */
typedef struct adam_state {
    nst_adam adam;
    float *grad;
    const nst_kernels *k;
    int w, h;
    evaluation *ev;
} adam_state;

static int adam_step(void *state, float *x, int last)
{
    adam_state *s = state;
    double loss;
    if (evaluate(s->ev, x, &loss, last ? NULL : s->grad) != 0)
        return -1;
    if (!last) {
        nst_adam_step(&s->adam, s->k, x, s->grad);
        nst_pixels_clamp(x, s->w, s->h);
    }
    return 0;
}

static void adam_end(void *state)
{
    adam_state *s = state;
    nst_adam_free(&s->adam);
    free(s->grad);
    free(s);
}

static int adam_start(const nst_optimise_job *j, evaluation *ev,
                      optimizer *opt)
{
    const size_t n = 3 * (size_t)j->w * j->h;
    adam_state *s = calloc(1, sizeof *s);
    float *grad = malloc(n * sizeof *grad);
    if (!s || !grad || nst_adam_init(&s->adam, n, j->lr) != 0) {
        free(s);
        free(grad);
        return nst_fail("out of memory for a %dx%d image", j->w, j->h);
    }
    s->grad = grad;
    s->k = j->k;
    s->w = j->w;
    s->h = j->h;
    s->ev = ev;
    *opt = (optimizer){.step = adam_step, .end = adam_end, .state = s};
    return 0;
}

/* L-BFGS (lbfgs.c) in the pixel box: each step is one evaluation of its
 * line search, and x stays the best accepted image. */
static int lbfgs_step(void *state, float *x, int last)
{
    (void)last; /* every L-BFGS evaluation needs its gradient */
    nst_lbfgs_report r;
    if (nst_lbfgs_step(state, x, &r) != 0)
        return -1;
    return r.done;
}

static void lbfgs_end(void *state)
{
    nst_lbfgs_free(state);
}

static int lbfgs_start(const nst_optimise_job *j, evaluation *ev,
                       optimizer *opt)
{
    const size_t n = 3 * (size_t)j->w * j->h;
    float *lo = malloc(n * sizeof *lo), *hi = malloc(n * sizeof *hi);
    nst_lbfgs *l = NULL;
    if (!lo || !hi)
        nst_fail("out of memory for a %dx%d image", j->w, j->h);
    else {
        /* The box's bounds: the pixel clamp of -inf and +inf. */
        for (size_t i = 0; i < n; i++) {
            lo[i] = -INFINITY;
            hi[i] = INFINITY;
        }
        nst_pixels_clamp(lo, j->w, j->h);
        nst_pixels_clamp(hi, j->w, j->h);
        const nst_lbfgs_params p = {j->lbfgs_history,
                                    NST_LBFGS_IMAGE_FIRST_STEP};
        l = nst_lbfgs_create(n, lo, hi, &p, evaluate, ev);
    }
    free(lo);
    free(hi);
    if (!l)
        return -1;
    *opt = (optimizer){.step = lbfgs_step, .end = lbfgs_end, .state = l};
    return 0;
}

int nst_snapshot_path(const char *prefix, const char *ext, int iter,
                      char *buf, size_t size)
{
    if (snprintf(buf, size, "%s%04d%s", prefix, iter, ext) >= (int)size)
        return nst_fail("%s%04d%s: path too long", prefix, iter, ext);
    return 0;
}

/* Progress, log row, snapshot and on_iter once x has had iteration it's
 * evaluation (and, unless last, its update). 1 if on_iter asks to stop. */
static int report(const nst_optimise_job *j, const evaluation *ev, int it,
                  const float *x)
{
    const double seconds = nst_progress_elapsed(j->progress);
    nst_progress_update(j->progress, it, &ev->l, seconds);
    if (j->log && nst_run_log_row(j->log, it, &ev->l, seconds,
                                  j->w > j->h ? j->w : j->h) != 0)
        return -1;
    const int done = it + 1;
    if (j->save_every > 0 && done % j->save_every == 0 && done < j->iters) {
        char path[PATH_MAX];
        if (nst_snapshot_path(j->snap_prefix, j->snap_ext, done, path,
                              sizeof path) != 0 ||
            nst_pixels_save(j->picture, path, x) != 0)
            return -1;
    }
    return j->on_iter && j->on_iter(j->on_iter_ctx, it, &ev->l, seconds);
}

int nst_optimise(const nst_optimise_job *j, float *x)
{
    evaluation ev = {.obj = j->obj, .n = 3 * (size_t)j->w * j->h};
    optimizer opt = {0};
    if ((j->optimizer == NST_OPTIMIZER_LBFGS ? lbfgs_start(j, &ev, &opt)
                                             : adam_start(j, &ev, &opt)) != 0)
        return -1;
    int done = 0;
    for (int it = 0; it <= j->iters; it++) {
        const int last = it == j->iters;
        const int rc = opt.step(opt.state, x, last);
        const int stop = rc < 0 ? -1 : report(j, &ev, it, x);
        if (stop < 0) {
            done = -1;
            break;
        }
        if (last || rc == 1) {
            done = j->iters;
            break;
        }
        done = it + 1;
        if (stop || nst_interrupt_requested())
            break;
    }
    opt.end(opt.state);
    return done;
}
