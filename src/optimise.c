#include "optimise.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adam.h"
#include "checkpoint.h"
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
    int count;  /* evaluations so far */
    int finite; /* of which with a finite loss */
    size_t n;   /* values in x */
    float *last_good; /* NULL, or the last image whose loss was finite */
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
    e->finite++;
    if (e->last_good)
        memcpy(e->last_good, x, e->n * sizeof *x);
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
 * complete), or -1 with a failure reason. save and load are its state in
 * a checkpoint. */
typedef struct optimizer {
    int (*step)(void *state, float *x, int last);
    void (*save)(const void *state, nst_ckw *w);
    int (*load)(void *state, nst_ckr *r);
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

static void adam_save(const void *state, nst_ckw *w)
{
    nst_adam_save(&((const adam_state *)state)->adam, w);
}

static int adam_load(void *state, nst_ckr *r)
{
    return nst_adam_load(&((adam_state *)state)->adam, r);
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
    *opt = (optimizer){.step = adam_step, .save = adam_save,
                       .load = adam_load, .end = adam_end, .state = s};
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

static void lbfgs_save(const void *state, nst_ckw *w)
{
    nst_lbfgs_save(state, w);
}

static int lbfgs_load(void *state, nst_ckr *r)
{
    return nst_lbfgs_load(state, r);
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
    *opt = (optimizer){.step = lbfgs_step, .save = lbfgs_save,
                       .load = lbfgs_load, .end = lbfgs_end, .state = l};
    return 0;
}

int nst_snapshot_path(const char *prefix, const char *ext, int iter,
                      char *buf, size_t size)
{
    if (snprintf(buf, size, "%s%04d%s", prefix, iter, ext) >= (int)size)
        return nst_fail("%s%04d%s: path too long", prefix, iter, ext);
    return 0;
}

/* Where a run is: its optimizer and evaluations. */
typedef struct loop {
    const nst_optimise_job *j;
    optimizer opt;
    evaluation ev;
} loop;

/* The image's longest side, the log's size column. */
static int longest_side(const nst_optimise_job *j)
{
    return j->w > j->h ? j->w : j->h;
}

/* The snapshot of x after `done` iterations, if one is due then. */
static int snapshot(const nst_optimise_job *j, int done, const float *x)
{
    if (j->save_every > 0 && done % j->save_every == 0 && done < j->iters) {
        char path[PATH_MAX];
        if (nst_snapshot_path(j->snap_prefix, j->snap_ext, done, path,
                              sizeof path) != 0 ||
            nst_pixels_save(j->picture, path, x) != 0)
            return -1;
    }
    return 0;
}

/* Progress, log row, snapshot and on_iter once x has had iteration it's
 * evaluation (and, unless last, its update). 1 if on_iter asks to stop,
 * -1 on failure. */
static int report(loop *lp, int it, const float *x)
{
    const nst_optimise_job *j = lp->j;
    const double seconds = j->seconds0 + nst_progress_elapsed(j->progress);
    const nst_ckpt_row row = {(uint32_t)it, (uint32_t)longest_side(j),
                              lp->ev.l, seconds};
    nst_progress_update(j->progress, it, &lp->ev.l, seconds);
    if (j->log && nst_run_log_row(j->log, it, &lp->ev.l, seconds,
                                  longest_side(j)) != 0)
        return -1;
    if ((j->checkpoint && nst_ckpt_rows_add(j->rows, &row) != 0) ||
        snapshot(j, it + 1, x) != 0)
        return -1;
    return j->on_iter && j->on_iter(j->on_iter_ctx, it, &lp->ev.l, seconds);
}

/* The checkpoint of x and the optimizer's state, to be continued at
 * iteration next (the level's rows 0 .. next-1 kept). */
static int save_checkpoint(const loop *lp, int next, int finished,
                           const float *x)
{
    const nst_optimise_job *j = lp->j;
    nst_checkpoint c = *j->head;
    c.next = (uint32_t)next;
    c.finished = (uint32_t)finished;
    c.optimizer = j->optimizer;
    c.w = j->w;
    c.h = j->h;
    c.rows = *j->rows;
    nst_ckw w;
    if (nst_checkpoint_begin(&w, j->checkpoint, &c) != 0)
        return -1;
    nst_ckw_f32s(&w, x, lp->ev.n);
    lp->opt.save(lp->opt.state, &w);
    return nst_checkpoint_commit(&w);
}

/* Takes up the checkpoint job->resume: x and the optimizer's state. The
 * iteration to run next, or -1 with a reason naming the file. *finished:
 * the optimizer had no descent left. */
static int resume(loop *lp, float *x, int *finished)
{
    const nst_optimise_job *j = lp->j;
    const nst_checkpoint *c = j->resume;
    const char *path = c->state.path;
    if (c->optimizer != j->optimizer)
        return nst_fail("%s: the checkpoint is corrupt (its optimizer is "
                        "not its settings')",
                        path);
    if (c->w != j->w || c->h != j->h)
        return nst_fail("%s: the checkpoint is of a %dx%d image, this run's "
                        "is %dx%d",
                        path, c->w, c->h, j->w, j->h);
    if (nst_ckr_f32s(&j->resume->state, x, lp->ev.n) != 0 ||
        lp->opt.load(lp->opt.state, &j->resume->state) != 0 ||
        nst_checkpoint_end(c) != 0)
        return -1;
    /* A run that ended at the checkpoint did not write this snapshot. */
    if (snapshot(j, (int)c->next, x) != 0)
        return -1;
    lp->ev.count = (int)c->next;
    *finished = (int)c->finished;
    return (int)c->next;
}

/* The loop failed: NST_OPTIMISE_LAST_GOOD with that image in x if asked
 * for and there is one (L-BFGS's x is its best accepted image, whose loss
 * was finite once any was), else -1. */
static int failed(const loop *lp, float *x, int resumed)
{
    if (!lp->j->keep_last_good)
        return -1;
    if (lp->ev.last_good && lp->ev.finite > 0) {
        memcpy(x, lp->ev.last_good, lp->ev.n * sizeof *x);
        return NST_OPTIMISE_LAST_GOOD;
    }
    if (!lp->ev.last_good && (lp->ev.finite > 0 || resumed))
        return NST_OPTIMISE_LAST_GOOD;
    return -1;
}

int nst_optimise(const nst_optimise_job *j, float *x)
{
    loop lp = {.j = j, .ev = {.obj = j->obj, .n = 3 * (size_t)j->w * j->h}};
    if ((j->optimizer == NST_OPTIMIZER_LBFGS ? lbfgs_start(j, &lp.ev, &lp.opt)
                                             : adam_start(j, &lp.ev, &lp.opt)) != 0)
        return -1;
    int first = 0, finished = 0, done = -1;
    if (j->keep_last_good && j->optimizer == NST_OPTIMIZER_ADAM &&
        !(lp.ev.last_good = malloc(lp.ev.n * sizeof *x))) {
        nst_fail("out of memory for a %dx%d image", j->w, j->h);
        goto end;
    }
    if (j->resume && (first = resume(&lp, x, &finished)) < 0)
        goto end;
    done = finished ? j->iters : first;
    for (int it = first; !finished && it <= j->iters; it++) {
        const int last = it == j->iters;
        const int rc = lp.opt.step(lp.opt.state, x, last);
        const int asked = rc < 0 ? 0 : report(&lp, it, x);
        if (rc < 0 || asked < 0) {
            done = rc < 0 ? failed(&lp, x, first > 0) : -1;
            break;
        }
        if (last || rc == 1) {
            done = j->iters;
            /* L-BFGS found no descent left: a resumed run ends here too. */
            if (!last && j->checkpoint &&
                save_checkpoint(&lp, it + 1, 1, x) != 0)
                done = -1;
            break;
        }
        done = it + 1;
        /* The checkpoint at the end is taken before the last evaluation
         * (Adam's makes no update and no gradient): a run resumed with
         * more --iters evaluates it again, as one never stopped does. */
        const int stop = asked || nst_interrupt_requested() != 0;
        if (j->checkpoint &&
            (stop || done == j->iters ||
             (j->save_every > 0 && done % j->save_every == 0)) &&
            save_checkpoint(&lp, done, 0, x) != 0) {
            done = -1;
            break;
        }
        if (stop)
            break;
    }
end:
    lp.opt.end(lp.opt.state);
    free(lp.ev.last_good);
    return done;
}
