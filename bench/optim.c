/* Adam against L-BFGS on the real objective: nst's defaults when
 * docs/benchmarks.md's figures were taken (content relu3_3, style
 * relu1_1 .. relu3_3, weights 1, 0.01 and a TV weight of 0.01, which was
 * 0.1 before TV's scale of 10, average pooling, the content as the start) on Tuebingen and The Starry Night at
 * the given size. Runs Adam as the program does (learning rate 4, 300
 * steps, clamped to the pixel box), then L-BFGS in the box, and prints how
 * many evaluations L-BFGS needs to reach Adam-300's final loss.
 *
 * An evaluation is one forward and backward pass. Adam's 300 steps take
 * 300 of them, plus one for the final loss; L-BFGS's row k is its k-th
 * evaluation after the one of the start. Every row is printed, so the count
 * for any other target can be read off too.
 *
 * Usage: optim [size [evaluations [history [first_step [target]]]]]
 * (defaults 256, 150, NST_LBFGS_DEFAULT_HISTORY, NST_LBFGS_IMAGE_FIRST_STEP).
 * With a target loss, Adam is not run. The weights: $NST_WEIGHTS, else an
 * .npz in vgg/ or ../shared/vgg/;
 * the images: $NST_SHARED/images, else ../shared/images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "adam.h"
#include "error.h"
#include "image.h"
#include "lbfgs.h"
#include "nst.h"
#include "objective.h"
#include "progress.h"
#include "vgg.h"

enum { ADAM_STEPS = 300 };

typedef struct problem {
    nst_vgg net;
    nst_objective *obj;
    int w, h;
    size_t n;
    float *content; /* the start, mean subtracted */
    float *lo, *hi; /* the pixel box */
} problem;

static int eval(void *ctx, const float *x, double *loss, float *grad)
{
    const problem *p = ctx;
    nst_losses l;
    nst_objective_eval(p->obj, x, &l, grad);
    *loss = l.total;
    return 0;
}

static int load_image(const char *name, int size, nst_image *img)
{
    const char *root = getenv("NST_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/images/%s", root ? root : "../shared",
             name);
    nst_image raw;
    if (nst_image_load(path, &raw) != 0)
        return -1;
    const int rc = nst_image_fit(&raw, size, img);
    nst_image_free(&raw);
    if (rc != 0)
        return -1;
    const size_t plane = (size_t)img->w * img->h;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
            img->data[c * plane + i] -= nst_vgg_mean[c];
    return 0;
}

static int problem_load(problem *p, int size)
{
    static const char *const names[] = {"relu1_1", "relu1_2", "relu2_1",
                                        "relu2_2", "relu3_1", "relu3_2",
                                        "relu3_3"};
    static const int style[7] = {0, 1, 2, 3, 4, 5, 6}, content[1] = {6};
    const nst_objective_spec spec = {content, 1, style, 7, 1.0, 1e-2, 1e-2,
                                     NULL, NULL};
    char buf[4096];
    const char *weights = nst_find_weights(NULL, buf, sizeof buf);
    if (!weights)
        return nst_fail("no weights: set NST_WEIGHTS");
    nst_image c, s;
    if (nst_vgg_load(&p->net, weights, names, 7, NST_POOL_AVG,
                     nst_kernels_best()) != 0 ||
        load_image("content_tubingen.jpg", size, &c) != 0 ||
        load_image("style_starry_night.jpg", size, &s) != 0)
        return -1;
    p->w = c.w;
    p->h = c.h;
    p->n = 3 * (size_t)c.w * c.h;
    p->content = c.data;
    p->obj = nst_objective_create(&p->net, &spec, c.data, c.h, c.w, s.data,
                                  s.h, s.w);
    nst_image_free(&s);
    p->lo = malloc(p->n * sizeof *p->lo);
    p->hi = malloc(p->n * sizeof *p->hi);
    if (!p->obj || !p->lo || !p->hi)
        return -1;
    const size_t plane = (size_t)c.w * c.h;
    for (int ch = 0; ch < 3; ch++)
        for (size_t i = 0; i < plane; i++) {
            p->lo[ch * plane + i] = -nst_vgg_mean[ch];
            p->hi[ch * plane + i] = 255.0f - nst_vgg_mean[ch];
        }
    return 0;
}

/* nst's loop: evaluate, step, clamp; the loss after ADAM_STEPS steps. */
static int run_adam(const problem *p, double *final)
{
    float *x = malloc(p->n * sizeof *x), *g = malloc(p->n * sizeof *g);
    nst_adam a;
    if (!x || !g || nst_adam_init(&a, p->n, 4.0) != 0)
        return nst_fail("out of memory");
    for (size_t i = 0; i < p->n; i++)
        x[i] = p->content[i];
    const double t0 = nst_now();
    for (int it = 0; it <= ADAM_STEPS; it++) {
        nst_losses l;
        nst_objective_eval(p->obj, x, &l, it < ADAM_STEPS ? g : NULL);
        printf("adam  %4d %.9g  (%.0f s)\n", it, l.total, nst_now() - t0);
        fflush(stdout);
        *final = l.total;
        if (it == ADAM_STEPS)
            break;
        nst_adam_step(&a, p->net.k, x, g);
        for (size_t i = 0; i < p->n; i++)
            x[i] = fminf(fmaxf(x[i], p->lo[i]), p->hi[i]);
    }
    nst_adam_free(&a);
    free(x);
    free(g);
    return 0;
}

/* L-BFGS for up to evals evaluations after the start; prints the row at
 * which the loss first reaches target. */
static int run_lbfgs(const problem *p, int evals, int history,
                     double first_step, double target)
{
    float *x = malloc(p->n * sizeof *x);
    if (!x)
        return nst_fail("out of memory");
    for (size_t i = 0; i < p->n; i++)
        x[i] = p->content[i];
    const nst_lbfgs_params prm = {history, first_step};
    nst_lbfgs *o = nst_lbfgs_create(p->n, p->lo, p->hi, &prm, eval, (void *)p);
    if (!o)
        return -1;
    int reached = -1, rejected = 0;
    double best = INFINITY;
    const double t0 = nst_now();
    for (int e = 0; e <= evals; e++) {
        nst_lbfgs_report r;
        if (nst_lbfgs_step(o, x, &r) != 0)
            return -1;
        rejected += !r.accepted;
        if (r.accepted)
            best = r.loss;
        if (reached < 0 && best <= target)
            reached = e;
        printf("lbfgs %4d %.9g  (best %.9g, %d rejected, %.0f s)\n", e,
                   r.loss, best, rejected, nst_now() - t0);
        fflush(stdout);
        if (r.done) {
            printf("lbfgs done at %d\n", e);
            break;
        }
    }
    printf("history %d, first step %g: ", history, first_step);
    if (reached >= 0)
        printf("Adam-300's loss %.9g reached at evaluation %d\n", target,
               reached);
    else
        printf("Adam-300's loss %.9g not reached in %d evaluations (best "
               "%.9g)\n",
               target, evals, best);
    nst_lbfgs_free(o);
    free(x);
    return 0;
}

int main(int argc, char **argv)
{
    const int size = argc > 1 ? atoi(argv[1]) : 256;
    const int evals = argc > 2 ? atoi(argv[2]) : 150;
    const int history = argc > 3 ? atoi(argv[3]) : NST_LBFGS_DEFAULT_HISTORY;
    const double first_step =
        argc > 4 ? atof(argv[4]) : NST_LBFGS_IMAGE_FIRST_STEP;
    double target = argc > 5 ? atof(argv[5]) : NAN;
    problem p = {0};
    if (size < 16 || evals < 1 || problem_load(&p, size) != 0 ||
        (isnan(target) && run_adam(&p, &target) != 0) ||
        run_lbfgs(&p, evals, history, first_step, target) != 0) {
        fprintf(stderr, "optim: %s\n",
                size < 16 || evals < 1 ? "usage: optim [size [evaluations "
                                         "[history [first_step [target]]]]]"
                                       : nst_failure_reason());
        return 1;
    }
    printf("size %dx%d\n", p.w, p.h);
    nst_objective_free(p.obj);
    nst_vgg_free(&p.net);
    free(p.content);
    free(p.lo);
    free(p.hi);
    return 0;
}
