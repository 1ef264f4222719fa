/* The L-BFGS optimiser in a box (src/lbfgs.c): its two-loop recursion
 * against a dense BFGS inverse-Hessian update, convergence to known minima
 * (a convex quadratic, with and without active bounds, and Rosenbrock's
 * function), a short run on the real style-transfer objective, and
 * independence of the thread count. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "error.h"
#include "image.h"
#include "lbfgs.h"
#include "objective.h"
#include "testutil.h"

/* Evaluations allowed to reach the known minima (measured: 17, 11, 53),
 * and the loss the real objective must fall to, as a fraction of its
 * start (measured: 0.15). */
#define BUDGET_QUADRATIC 25
#define BUDGET_QUADRATIC_BOX 20
#define BUDGET_ROSENBROCK 70
#define REAL_FACTOR 0.2

/* ---- two-loop recursion against the dense update ---- */

enum { DN = 12, DM = 5 };

/* H <- (I - rho s y') H (I - rho y s') + rho s s', rho = 1 / s'y: the BFGS
 * update of the inverse Hessian, as dense n x n matrices. */
static void dense_bfgs_update(double *h, const double *s, const double *y,
                              int n)
{
    double sy = 0;
    for (int i = 0; i < n; i++)
        sy += s[i] * y[i];
    const double rho = 1 / sy;
    double *v = malloc(sizeof(double) * n * n), *t = malloc(sizeof(double) * n * n);
    ck_assert(v && t);
    for (int i = 0; i < n; i++) /* V = I - rho y s' */
        for (int j = 0; j < n; j++)
            v[i * n + j] = (i == j) - rho * y[i] * s[j];
    for (int i = 0; i < n; i++) /* T = H V */
        for (int j = 0; j < n; j++) {
            double a = 0;
            for (int k = 0; k < n; k++)
                a += h[i * n + k] * v[k * n + j];
            t[i * n + j] = a;
        }
    for (int i = 0; i < n; i++) /* H = V' T + rho s s' */
        for (int j = 0; j < n; j++) {
            double a = rho * s[i] * s[j];
            for (int k = 0; k < n; k++)
                a += v[k * n + i] * t[k * n + j];
            h[i * n + j] = a;
        }
    free(v);
    free(t);
}

static int never_called(void *ctx, const float *x, double *loss, float *grad)
{
    (void)ctx, (void)x, (void)loss, (void)grad;
    return nst_fail("not to be called");
}

/* Seven pairs y = A s for a symmetric positive definite A, offered to a
 * history of five, so the ring has dropped the two oldest. Pair 4 has
 * s'y > 0 overall but s'y < 0 on the free variables of the masked case,
 * where the recursion must skip it. The dense reference applies BFGS
 * updates from H0 = (s'y / y'y) I of the newest pair used, with the fixed
 * variables' entries of s, y and g set to 0 (BFGS on the free subspace).
 * Both sides compute in double from the same float values; the dense
 * products' rounding is ~n u |H| |g| with u = 1.1e-16 and |H| ~ 1e2 here,
 * so 1e-10 relative has a wide margin and still fails on any wrong factor
 * or a pair used in the wrong order (changes of order 1). */
START_TEST(two_loop_matches_dense_bfgs)
{
    tu_rng r = {7};
    double a[DN * DN], c[DN * DN];
    for (int i = 0; i < DN * DN; i++)
        c[i] = tu_uniform(&r, -1, 1);
    for (int i = 0; i < DN; i++) /* A = C C' / 4 + I / 2 */
        for (int j = 0; j < DN; j++) {
            double v = (i == j) * 0.5;
            for (int k = 0; k < DN; k++)
                v += c[i * DN + k] * c[j * DN + k] / 4;
            a[i * DN + j] = v;
        }
    enum { NPAIRS = 7, ODD = 4 };
    float s[NPAIRS][DN], y[NPAIRS][DN], g[DN];
    unsigned char mask[DN];
    for (int i = 0; i < DN; i++)
        mask[i] = i % 3 != 1;
    for (int p = 0; p < NPAIRS; p++) {
        tu_fill(&r, s[p], DN, -1, 1);
        for (int i = 0; i < DN; i++) {
            double v = 0;
            for (int k = 0; k < DN; k++)
                v += a[i * DN + k] * s[p][k];
            y[p][i] = (float)v;
            if (p == ODD)
                y[p][i] = mask[i] ? -s[p][i] : 20 * s[p][i];
        }
    }
    tu_fill(&r, g, DN, -1, 1);
    for (int masked = 0; masked < 2; masked++) {
        const nst_lbfgs_params prm = {DM, 1.0};
        nst_lbfgs *o = nst_lbfgs_create(DN, NULL, NULL, &prm, never_called, NULL);
        ck_assert_msg(o, "%s", nst_failure_reason());
        for (int p = 0; p < NPAIRS; p++)
            ck_assert_int_eq(nst__lbfgs_offer_pair(o, s[p], y[p]), 1);
        const double *hg = nst__lbfgs_apply_h(o, g, masked ? mask : NULL);
        /* The reference: the newest DM pairs, restricted, minus any with
         * s'y <= 0 on the free variables. */
        double sd[NPAIRS][DN], yd[NPAIRS][DN], gd[DN];
        int use[NPAIRS], newest = -1;
        for (int p = 0; p < NPAIRS; p++) {
            double sy = 0;
            for (int i = 0; i < DN; i++) {
                const int f = !masked || mask[i];
                sd[p][i] = f ? s[p][i] : 0;
                yd[p][i] = f ? y[p][i] : 0;
                sy += sd[p][i] * yd[p][i];
            }
            use[p] = p >= NPAIRS - DM && sy > 0;
            if (use[p])
                newest = p;
        }
        ck_assert_int_eq(use[ODD], !masked);
        double sy = 0, yy = 0;
        for (int i = 0; i < DN; i++) {
            gd[i] = !masked || mask[i] ? g[i] : 0;
            sy += sd[newest][i] * yd[newest][i];
            yy += yd[newest][i] * yd[newest][i];
        }
        double h[DN * DN] = {0};
        for (int i = 0; i < DN; i++)
            h[i * DN + i] = sy / yy;
        for (int p = 0; p < NPAIRS; p++)
            if (use[p])
                dense_bfgs_update(h, sd[p], yd[p], DN);
        double diff = 0, norm = 0;
        for (int i = 0; i < DN; i++) {
            double e = 0;
            for (int k = 0; k < DN; k++)
                e += h[i * DN + k] * gd[k];
            diff += (hg[i] - e) * (hg[i] - e);
            norm += e * e;
        }
        ck_assert_msg(sqrt(diff) <= 1e-10 * sqrt(norm),
                      "%s: H g off by %.3g relative",
                      masked ? "masked" : "all free", sqrt(diff / norm));
        nst_lbfgs_free(o);
    }
}
END_TEST

/* A pair with s'y <= 0 would make H indefinite: it is refused, and the
 * history (here empty) leaves H = I. */
START_TEST(negative_curvature_pair_refused)
{
    const float s[3] = {1, 2, 3}, y[3] = {-1, 0, 0}, g[3] = {4, 5, 6};
    const nst_lbfgs_params prm = {3, 1.0};
    nst_lbfgs *o = nst_lbfgs_create(3, NULL, NULL, &prm, never_called, NULL);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(nst__lbfgs_offer_pair(o, s, y), 0);
    const double *hg = nst__lbfgs_apply_h(o, g, NULL);
    for (int i = 0; i < 3; i++)
        ck_assert(hg[i] == g[i]);
    nst_lbfgs_free(o);
}
END_TEST

/* ---- convergence on known problems ---- */

/* f(x) = 1/2 x'Ax - b'x in double, its gradient Ax - b rounded to float;
 * counts calls and checks every point it is given lies in the box. */
typedef struct quadratic {
    int n;
    double *a, *b;
    const float *lo, *hi;
    long calls;
} quadratic;

static int quadratic_eval(void *ctx, const float *x, double *loss,
                          float *grad)
{
    quadratic *q = ctx;
    double f = 0;
    for (int i = 0; i < q->n; i++) {
        if (q->lo)
            ck_assert_msg(x[i] >= q->lo[i] && x[i] <= q->hi[i],
                          "x[%d] = %g outside [%g, %g]", i, x[i], q->lo[i],
                          q->hi[i]);
        double ax = 0;
        for (int j = 0; j < q->n; j++)
            ax += q->a[i * q->n + j] * x[j];
        f += 0.5 * x[i] * ax - q->b[i] * x[i];
        grad[i] = (float)(ax - q->b[i]);
    }
    *loss = f;
    q->calls++;
    return 0;
}

/* A = C C' / n + I / 2 (eigenvalues from 0.5 to about 5), b uniform. */
static void quadratic_make(quadratic *q, int n, uint64_t seed)
{
    tu_rng r = {seed};
    *q = (quadratic){.n = n};
    q->a = malloc(sizeof(double) * n * n);
    q->b = malloc(sizeof(double) * n);
    double *c = malloc(sizeof(double) * n * n);
    ck_assert(q->a && q->b && c);
    for (int i = 0; i < n * n; i++)
        c[i] = tu_uniform(&r, -2, 2);
    for (int i = 0; i < n; i++) {
        q->b[i] = tu_uniform(&r, -3, 3);
        for (int j = 0; j < n; j++) {
            double v = (i == j) * 0.5;
            for (int k = 0; k < n; k++)
                v += c[i * n + k] * c[j * n + k] / n;
            q->a[i * n + j] = v;
        }
    }
    free(c);
}

/* The minimiser over the box by projected Gauss-Seidel in double (each
 * coordinate set to its exact minimiser given the others, then clipped;
 * it converges for positive definite A), until no coordinate moves. With
 * lo = -inf and hi = +inf this solves A x = b. */
static void quadratic_box_min(const quadratic *q, const double *lo,
                              const double *hi, double *x)
{
    const int n = q->n;
    for (int i = 0; i < n; i++)
        x[i] = 0;
    for (int sweep = 0; sweep < 100000; sweep++) {
        double change = 0;
        for (int i = 0; i < n; i++) {
            double r = q->b[i];
            for (int j = 0; j < n; j++)
                if (j != i)
                    r -= q->a[i * n + j] * x[j];
            const double v = fmin(fmax(r / q->a[i * n + i], lo[i]), hi[i]);
            change = fmax(change, fabs(v - x[i]));
            x[i] = v;
        }
        if (change <= 1e-15)
            return;
    }
    ck_abort_msg("the reference did not converge");
}

/* Runs up to max_evals evaluations from x; checks that the loss of the
 * accepted steps falls and returns the evaluations it took to come within
 * tol (max norm) of want, or -1. */
static long run_to(nst_lbfgs *o, float *x, int n, const double *want,
                   double tol, long max_evals)
{
    double last = INFINITY;
    for (long e = 0; e < max_evals; e++) {
        nst_lbfgs_report r;
        ck_assert_msg(nst_lbfgs_step(o, x, &r) == 0, "%s",
                      nst_failure_reason());
        if (r.accepted) {
            ck_assert_msg(r.loss < last || (e == 0),
                          "evaluation %ld: accepted loss %.17g after %.17g",
                          e, r.loss, last);
            last = r.loss;
        }
        double err = 0;
        for (int i = 0; i < n; i++)
            err = fmax(err, fabs(x[i] - want[i]));
        if (err <= tol)
            return e + 1;
        if (r.done)
            break;
    }
    return -1;
}

/* n = 30, eigenvalues from 0.5 to about 5, 5 pairs: the budgets above.
 * In the box case about two thirds of the bounds are active at the
 * minimum. Tolerance: 1e-4 of the
 * solution's scale, ~ cond(A) = 10 times float's resolution (6e-8)
 * times the scale, with margin; an optimiser that ignores the bounds, or
 * stops at a wrong point, misses by 0.1 or more. */
START_TEST(quadratic_converges)
{
    enum { N = 30 };
    const long budget[2] = {BUDGET_QUADRATIC, BUDGET_QUADRATIC_BOX};
    for (int boxed = 0; boxed < 2; boxed++) {
        quadratic q;
        quadratic_make(&q, N, 11);
        double lod[N], hid[N], want[N];
        float lo[N], hi[N], x[N];
        for (int i = 0; i < N; i++) {
            lod[i] = boxed ? -0.5 - 0.02 * i : -INFINITY;
            hid[i] = boxed ? 0.3 + 0.01 * i : INFINITY;
            lo[i] = (float)lod[i];
            hi[i] = (float)hid[i];
            lod[i] = lo[i], hid[i] = hi[i];
            x[i] = 2.0f; /* outside the box: the start is projected */
        }
        quadratic_box_min(&q, lod, hid, want);
        int n_active = 0;
        double scale = 1;
        for (int i = 0; i < N; i++) {
            n_active += want[i] == lod[i] || want[i] == hid[i];
            scale = fmax(scale, fabs(want[i]));
        }
        if (boxed)
            ck_assert_msg(n_active >= N / 4, "only %d bounds active",
                          n_active);
        q.lo = boxed ? lo : NULL;
        q.hi = boxed ? hi : NULL;
        const nst_lbfgs_params prm = {5, 1.0};
        nst_lbfgs *o = nst_lbfgs_create(N, q.lo, q.hi, &prm, quadratic_eval, &q);
        ck_assert_ptr_nonnull(o);
        const long e = run_to(o, x, N, want, 1e-4 * scale, 1000);
        printf("quadratic%s: %ld evaluations (%d bounds active)\n",
               boxed ? " in a box" : "", e, n_active);
        ck_assert_msg(e > 0 && e <= budget[boxed],
                      "quadratic%s: %ld evaluations, budget %ld",
                      boxed ? " in a box" : "", e, budget[boxed]);
        ck_assert_int_eq(nst_lbfgs_evaluations(o), e);
        ck_assert_int_eq(q.calls, e);
        nst_lbfgs_free(o);
        free(q.a);
        free(q.b);
    }
}
END_TEST

/* Rosenbrock's function in n / 2 independent pairs,
 * sum 100 (x_{2i+1} - x_{2i}^2)^2 + (1 - x_{2i})^2, minimum 0 at (1, ..., 1). */
static int rosenbrock_eval(void *ctx, const float *x, double *loss,
                           float *grad)
{
    const int n = *(const int *)ctx;
    double f = 0;
    for (int i = 0; i < n; i += 2) {
        const double u = x[i], v = x[i + 1], t = v - u * u;
        f += 100 * t * t + (1 - u) * (1 - u);
        grad[i] = (float)(-400 * t * u - 2 * (1 - u));
        grad[i + 1] = (float)(200 * t);
    }
    *loss = f;
    return 0;
}

/* From the classic start (-1.2, 1) in every pair: the valley's curvature
 * ranges over 1:2500, so steepest descent would need thousands of steps;
 * L-BFGS needs the budget above, for n = 2 and the same for n = 10 (the
 * pairs are alike and independent). The tolerance 1e-4 is ~ sqrt(cond) times float's
 * resolution near 1, with margin. */
START_TEST(rosenbrock_converges)
{
    static const int sizes[2] = {2, 10};
    for (int t = 0; t < 2; t++) {
        int n = sizes[t];
        float x[10];
        double want[10];
        for (int i = 0; i < n; i++) {
            x[i] = i % 2 ? 1.0f : -1.2f;
            want[i] = 1;
        }
        const nst_lbfgs_params prm = {5, 0.1};
        nst_lbfgs *o = nst_lbfgs_create(n, NULL, NULL, &prm, rosenbrock_eval, &n);
        ck_assert_ptr_nonnull(o);
        const long e = run_to(o, x, n, want, 1e-4, 1000);
        printf("rosenbrock n = %d: %ld evaluations\n", n, e);
        ck_assert_msg(e > 0 && e <= BUDGET_ROSENBROCK,
                      "rosenbrock n = %d: %ld evaluations, budget %d", n, e,
                      BUDGET_ROSENBROCK);
        nst_lbfgs_free(o);
    }
}
END_TEST

/* ---- the real objective ---- */

typedef struct real_run {
    nst_vgg net;
    nst_objective *obj;
    int w, h;
    float *x, *lo, *hi;
} real_run;

static int real_eval(void *ctx, const float *x, double *loss, float *grad)
{
    real_run *rr = ctx;
    const size_t n = 3 * (size_t)rr->w * rr->h;
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(x[i] >= rr->lo[i] && x[i] <= rr->hi[i],
                      "pixel %zu = %g outside the box", i, x[i]);
    nst_losses l;
    nst_objective_eval(rr->obj, x, &l, grad);
    *loss = l.total;
    return 0;
}

/* Loads an image fitted to side pixels, mean subtracted. */
static float *load_image(const char *rel, int side, int *w, int *h)
{
    char buf[4096];
    const char *path = tu_shared(rel, buf, sizeof buf);
    ck_assert_ptr_nonnull(path);
    nst_image raw, img;
    ck_assert_msg(nst_image_load(path, &raw) == 0 &&
                      nst_image_fit(&raw, side, &img) == 0,
                  "%s", nst_failure_reason());
    nst_image_free(&raw);
    const size_t plane = (size_t)img.w * img.h;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
            img.data[c * plane + i] -= nst_vgg_mean[c];
    *w = img.w;
    *h = img.h;
    return img.data;
}

/* nst's default objective on Tuebingen and The Starry Night at side
 * pixels, starting from the content; rr->x is the start. 0 (after a SKIP
 * line) without the shared data. */
static int real_setup(real_run *rr, int side)
{
    char buf[4096], image[4096];
    const char *weights =
        tu_shared("vgg/vgg19_conv1_1-conv3_4.npz", buf, sizeof buf);
    if (!weights ||
        !tu_shared("images/content_tubingen.jpg", image, sizeof image) ||
        !tu_shared("images/style_starry_night.jpg", image, sizeof image)) {
        printf("SKIP real objective: weights or images not found (set "
               "NST_SHARED)\n");
        return 0;
    }
    static const char *const names[] = {"relu1_1", "relu1_2", "relu2_1",
                                        "relu2_2", "relu3_1", "relu3_2",
                                        "relu3_3"};
    ck_assert_msg(nst_vgg_load(&rr->net, weights, names, 7, NST_POOL_AVG,
                               nst_kernels_best()) == 0,
                  "%s", nst_failure_reason());
    int sw, sh;
    rr->x = load_image("images/content_tubingen.jpg", side, &rr->w, &rr->h);
    float *style = load_image("images/style_starry_night.jpg", side, &sw, &sh);
    const int style_layers[7] = {0, 1, 2, 3, 4, 5, 6}, content[1] = {6};
    const nst_objective_spec spec = {content, 1, style_layers, 7,
                                     1.0,     1e-2, 1e-1, NULL, NULL};
    rr->obj = nst_objective_create(&rr->net, &spec, rr->x, rr->h, rr->w,
                                   style, sh, sw);
    ck_assert_msg(rr->obj, "%s", nst_failure_reason());
    free(style);
    const size_t plane = (size_t)rr->w * rr->h;
    rr->lo = malloc(3 * plane * sizeof(float));
    rr->hi = malloc(3 * plane * sizeof(float));
    ck_assert(rr->lo && rr->hi);
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) {
            rr->lo[c * plane + i] = -nst_vgg_mean[c];
            rr->hi[c * plane + i] = 255.0f - nst_vgg_mean[c];
        }
    return 1;
}

static void real_free(real_run *rr)
{
    nst_objective_free(rr->obj);
    nst_vgg_free(&rr->net);
    free(rr->x);
    free(rr->lo);
    free(rr->hi);
}

enum { REAL_SIDE = 24, REAL_EVALS = 10 };

/* REAL_EVALS evaluations from start, leaving the result in rr->x; each
 * row's loss in loss[] and whether it was accepted in accepted[]. */
static void real_optimise(real_run *rr, const float *start, double *loss,
                          int *accepted)
{
    const size_t n = 3 * (size_t)rr->w * rr->h;
    memcpy(rr->x, start, n * sizeof *start);
    const nst_lbfgs_params prm = {NST_LBFGS_DEFAULT_HISTORY,
                                 NST_LBFGS_IMAGE_FIRST_STEP};
    nst_lbfgs *o = nst_lbfgs_create(n, rr->lo, rr->hi, &prm, real_eval, rr);
    ck_assert_msg(o, "%s", nst_failure_reason());
    for (int e = 0; e < REAL_EVALS; e++) {
        nst_lbfgs_report r;
        ck_assert_msg(nst_lbfgs_step(o, rr->x, &r) == 0, "%s",
                      nst_failure_reason());
        ck_assert_msg(!r.done, "done after %d evaluations", e + 1);
        loss[e] = r.loss;
        accepted[e] = r.accepted;
    }
    nst_lbfgs_free(o);
}

/* The loss of accepted steps falls strictly (Armijo: f_new <= f + c1 g'dx
 * with g'dx < 0), and after REAL_EVALS evaluations it is below
 * REAL_FACTOR times the start, a drop no optimiser that
 * mishandles the scale, the box or the pairs achieves. The callback
 * checks that every evaluated image lies in the pixel box. Then the same
 * run with 2 threads instead of 1 gives the same bytes (the objective is
 * thread-count independent, and so are the optimiser's sums). */
START_TEST(real_objective_falls)
{
    real_run rr;
    if (!real_setup(&rr, REAL_SIDE))
        return;
    const size_t n = 3 * (size_t)rr.w * rr.h;
    float *start = malloc(n * sizeof *start), *first = malloc(n * sizeof *first);
    ck_assert(start && first);
    memcpy(start, rr.x, n * sizeof *start);
    double loss[2][REAL_EVALS];
    int accepted[2][REAL_EVALS], n_accepted = 0;
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    real_optimise(&rr, start, loss[0], accepted[0]);
    memcpy(first, rr.x, n * sizeof *first);
    double last = loss[0][0];
    ck_assert(accepted[0][0]);
    printf("evaluation 0: %.9g\n", last);
    for (int e = 1; e < REAL_EVALS; e++) {
        const double l = loss[0][e];
        printf("evaluation %d: %.9g%s\n", e, l,
               accepted[0][e] ? "" : " (rejected)");
        ck_assert_msg(isfinite(l), "evaluation %d: loss %g", e, l);
        if (accepted[0][e]) {
            ck_assert_msg(l < last, "evaluation %d: %.9g after %.9g", e, l,
                          last);
            last = l;
            n_accepted++;
        }
    }
    ck_assert_msg(last <= REAL_FACTOR * loss[0][0],
                  "loss %.6g after %d evaluations from %.6g", last,
                  REAL_EVALS, loss[0][0]);
    ck_assert_msg(n_accepted >= REAL_EVALS / 2, "only %d steps accepted",
                  n_accepted);
#ifdef _OPENMP
    if (omp_get_thread_limit() >= 2) {
        omp_set_num_threads(2);
        real_optimise(&rr, start, loss[1], accepted[1]);
        ck_assert_msg(memcmp(loss[0], loss[1], sizeof loss[0]) == 0 &&
                          memcmp(accepted[0], accepted[1],
                                 sizeof accepted[0]) == 0,
                      "the losses differ between 1 and 2 threads");
        ck_assert_msg(memcmp(first, rr.x, n * sizeof *first) == 0,
                      "the images differ between 1 and 2 threads");
    } else {
        printf("SKIP real objective with 2 threads: OMP_THREAD_LIMIT=1\n");
    }
#else
    printf("SKIP real objective with 2 threads: built without OpenMP\n");
#endif
    free(start);
    free(first);
    real_free(&rr);
}
END_TEST

/* ---- thread-count independence ---- */

/* sum (1 + i mod 5) (x_i - 2 sin i)^2 / 2: many values, some minima
 * outside the box of the test below. */
static int separable_eval(void *ctx, const float *x, double *loss,
                          float *grad)
{
    (void)ctx;
    double f = 0;
    for (int i = 0; i < 50000; i++) {
        const double w = 1 + i % 5, d = x[i] - 2 * sin(i);
        f += 0.5 * w * d * d;
        grad[i] = (float)(w * d);
    }
    *loss = f;
    return 0;
}

/* The same run with 1 and 2 threads gives the same bytes: the
 * optimiser's dot products are summed over fixed chunks in a fixed order.
 * A separable quadratic of 50000 values (49 chunks) in a box; the real
 * objective's run is checked the same way above. */
START_TEST(same_bytes_any_thread_count)
{
#ifdef _OPENMP
    if (omp_get_thread_limit() < 2) {
        printf("SKIP thread count independence: OMP_THREAD_LIMIT=1\n");
        return;
    }
    enum { N = 50000, EVALS = 30 };
    float *x[2], *lo = malloc(N * sizeof *lo), *hi = malloc(N * sizeof *hi);
    ck_assert(lo && hi);
    for (int i = 0; i < N; i++) {
        lo[i] = -1.0f;
        hi[i] = 1.0f + (i % 7) * 0.25f;
    }
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        x[t] = malloc(N * sizeof(float));
        ck_assert_ptr_nonnull(x[t]);
        tu_rng r = {3};
        tu_fill(&r, x[t], N, -2, 2);
        const nst_lbfgs_params prm = {5, 0.5};
        nst_lbfgs *o = nst_lbfgs_create(N, lo, hi, &prm, separable_eval, NULL);
        ck_assert_ptr_nonnull(o);
        for (int e = 0; e < EVALS; e++) {
            nst_lbfgs_report rep;
            ck_assert_int_eq(nst_lbfgs_step(o, x[t], &rep), 0);
        }
        nst_lbfgs_free(o);
    }
    ck_assert_msg(memcmp(x[0], x[1], N * sizeof(float)) == 0,
                  "separable quadratic: 1 and 2 threads differ");
    free(x[0]);
    free(x[1]);
    free(lo);
    free(hi);
#else
    printf("SKIP thread count independence: built without OpenMP\n");
#endif
}
END_TEST

/* ---- bad input ---- */

START_TEST(bad_parameters_rejected)
{
    const float lo[2] = {0, 1}, hi[2] = {1, 0.5f};
    const nst_lbfgs_params ok = {5, 1.0}, no_history = {0, 1.0},
                           long_history = {NST_LBFGS_MAX_HISTORY + 1, 1.0},
                           no_step = {5, 0.0};
    int n = 2;
    ck_assert_ptr_null(nst_lbfgs_create(2, NULL, NULL, &no_history,
                                        rosenbrock_eval, &n));
    ck_assert_ptr_nonnull(strstr(nst_failure_reason(), "history 0"));
    ck_assert_ptr_null(nst_lbfgs_create(2, NULL, NULL, &long_history,
                                        rosenbrock_eval, &n));
    ck_assert_ptr_nonnull(strstr(nst_failure_reason(), "history"));
    ck_assert_ptr_null(
        nst_lbfgs_create(2, NULL, NULL, &no_step, rosenbrock_eval, &n));
    ck_assert_ptr_nonnull(strstr(nst_failure_reason(), "first step"));
    ck_assert_ptr_null(nst_lbfgs_create(2, lo, hi, &ok, rosenbrock_eval, &n));
    ck_assert_ptr_nonnull(strstr(nst_failure_reason(), "element 1"));
    ck_assert_ptr_null(nst_lbfgs_create(0, NULL, NULL, &ok, rosenbrock_eval, &n));
}
END_TEST

/* Fails on call fail_at (counting from 1) of a Rosenbrock pair; gives NaN
 * when nan is set. */
typedef struct failing {
    int calls, fail_at, nan;
} failing;

static int failing_eval(void *ctx, const float *x, double *loss, float *grad)
{
    failing *f = ctx;
    if (++f->calls == f->fail_at)
        return nst_fail("objective broke on call %d", f->calls);
    static const int two = 2;
    rosenbrock_eval((void *)&two, x, loss, grad);
    if (f->nan)
        *loss = NAN;
    return 0;
}

/* The objective's failure comes back from the step that called it, and x
 * is still the last accepted point. A start where f is not finite is an
 * error. */
START_TEST(objective_failure_passed_up)
{
    const nst_lbfgs_params prm = {5, 0.1};
    failing f = {.fail_at = 6};
    nst_lbfgs *o = nst_lbfgs_create(2, NULL, NULL, &prm, failing_eval, &f);
    ck_assert_ptr_nonnull(o);
    float x[2] = {-1.2f, 1.0f}, best[2];
    nst_lbfgs_report r;
    for (int e = 0; e < 5; e++) {
        ck_assert_int_eq(nst_lbfgs_step(o, x, &r), 0);
        if (r.accepted)
            memcpy(best, x, sizeof x);
    }
    ck_assert_int_eq(nst_lbfgs_step(o, x, &r), -1);
    ck_assert_str_eq(nst_failure_reason(), "objective broke on call 6");
    ck_assert(memcmp(best, x, sizeof x) == 0);
    nst_lbfgs_free(o);

    failing g = {.nan = 1};
    o = nst_lbfgs_create(2, NULL, NULL, &prm, failing_eval, &g);
    ck_assert_int_eq(nst_lbfgs_step(o, x, &r), -1);
    ck_assert_ptr_nonnull(strstr(nst_failure_reason(), "starting point"));
    nst_lbfgs_free(o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lbfgs");
    TCase *tc = tcase_create("two_loop");
    tcase_add_test(tc, two_loop_matches_dense_bfgs);
    tcase_add_test(tc, negative_curvature_pair_refused);
    suite_add_tcase(s, tc);
    tc = tcase_create("convergence");
    tcase_add_test(tc, quadratic_converges);
    tcase_add_test(tc, rosenbrock_converges);
    suite_add_tcase(s, tc);
    tc = tcase_create("real_objective");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, real_objective_falls);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_add_test(tc, same_bytes_any_thread_count);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, bad_parameters_rejected);
    tcase_add_test(tc, objective_failure_passed_up);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
