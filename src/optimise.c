#include "optimise.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "adam.h"
#include "error.h"
#include "interrupt.h"
#include "pixels.h"

/* f(x) -> loss, grad (grad NULL: the loss only), as an optimizer calls
 * it; the loss's parts are kept for the log. The one call site of
 * nst_objective_eval. */
typedef struct evaluation {
    nst_objective *obj;
    nst_losses l;
} evaluation;

static int evaluate(void *ctx, const float *x, double *loss, float *grad)
{
    evaluation *e = ctx;
    if (nst_objective_eval(e->obj, x, &e->l, grad) != 0)
        return -1;
    *loss = e->l.total;
    return 0;
}

/* An optimizer as the loop drives it: step evaluates f at the current x
 * (that is the iteration's log row) and then, unless it is the last
 * iteration, moves x. */
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

int nst_snapshot_path(const char *prefix, const char *ext, int iter,
                      char *buf, size_t size)
{
    if (snprintf(buf, size, "%s%04d%s", prefix, iter, ext) >= (int)size)
        return nst_fail("%s%04d%s: path too long", prefix, iter, ext);
    return 0;
}

/* Progress, log row and snapshot once x has had iteration it's evaluation
 * (and, unless last, its update). */
static int report(const nst_optimise_job *j, const evaluation *ev, int it,
                  const float *x)
{
    const double seconds = nst_progress_elapsed(j->progress);
    nst_progress_update(j->progress, it, &ev->l, seconds);
    if (j->log && nst_run_log_row(j->log, it, &ev->l, seconds) != 0)
        return -1;
    const int done = it + 1;
    if (j->save_every > 0 && done % j->save_every == 0 && done < j->iters) {
        char path[PATH_MAX];
        return nst_snapshot_path(j->snap_prefix, j->snap_ext, done, path,
                                 sizeof path) != 0
                   ? -1
                   : nst_pixels_save(path, x, j->w, j->h);
    }
    return 0;
}

int nst_optimise(const nst_optimise_job *j, float *x)
{
    evaluation ev = {.obj = j->obj};
    optimizer opt = {0};
    if (adam_start(j, &ev, &opt) != 0)
        return -1;
    int done = 0;
    for (int it = 0; it <= j->iters; it++) {
        const int last = it == j->iters;
        if (opt.step(opt.state, x, last) != 0 || report(j, &ev, it, x) != 0) {
            done = -1;
            break;
        }
        if (last)
            break;
        done = it + 1;
        if (nst_interrupt_requested())
            break;
    }
    opt.end(opt.state);
    return done;
}
