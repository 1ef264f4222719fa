#include "lbfgs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Sufficient decrease (Armijo) constant. */
#define C1 1e-4
/* A pair is kept when s'y > CURV * y'y (so H stays positive definite and
 * its scale s'y/y'y positive; the same test on the free variables decides
 * whether the two-loop recursion uses it). */
#define CURV 1e-10
/* A backtracking step is the quadratic model's minimiser, kept within
 * these fractions of the step that failed. */
#define SHRINK_MIN 0.1
#define SHRINK_MAX 0.5
/* After this many failed trials along one quasi-Newton direction the
 * history is dropped and the search restarts along the gradient. */
#define MAX_BACKTRACKS 10
/* Dot products: partial sums over chunks of this many elements, added in
 * chunk order, whatever the number of threads. */
#define CHUNK 1024

struct nst_lbfgs {
    size_t n, n_chunks;
    int m;       /* pairs kept at most */
    int n_pairs; /* pairs held: s[0] oldest .. s[n_pairs-1] newest */
    /* m + 1 slots: s[n_pairs] (y[n_pairs]) receives the next pair. */
    float *s[NST_LBFGS_MAX_HISTORY + 1], *y[NST_LBFGS_MAX_HISTORY + 1];
    double rho[NST_LBFGS_MAX_HISTORY], alpha[NST_LBFGS_MAX_HISTORY];
    nst_lbfgs_fn fn;
    void *ctx;
    double first_step;
    float *lo, *hi;
    double f;     /* loss at x */
    float *g;     /* gradient at x */
    float *xt;    /* trial point */
    float *gt;    /* its gradient */
    double *d;    /* the step is x - step * d, projected; d = H g on the
                     free variables, 0 on the fixed ones */
    unsigned char *free_; /* 1: variable free, 0: held at its bound */
    double *partial;      /* one partial sum per chunk */
    double step;          /* the trial's step along -d */
    double gdx;           /* g'(xt - x), the trial's first-order decrease */
    int steepest;         /* d is the scaled gradient, not from pairs */
    int backtracks;       /* failed trials along d */
    long evals;
    int done;
};

/* ---- reductions over fixed chunks ---- */

typedef double (*chunk_fn)(const nst_lbfgs *o, const void *a, const void *b,
                           size_t i0, size_t i1);

static double reduce(nst_lbfgs *o, chunk_fn fn, const void *a, const void *b)
{
    const long nc = (long)o->n_chunks;
#pragma omp parallel for schedule(static)
    for (long c = 0; c < nc; c++) {
        const size_t i0 = (size_t)c * CHUNK;
        const size_t i1 = i0 + CHUNK < o->n ? i0 + CHUNK : o->n;
        o->partial[c] = fn(o, a, b, i0, i1);
    }
    double sum = 0;
    for (long c = 0; c < nc; c++)
        sum += o->partial[c];
    return sum;
}

/* a'b over the free variables, both float. */
static double chunk_free_ff(const nst_lbfgs *o, const void *a, const void *b,
                            size_t i0, size_t i1)
{
    const float *x = a, *y = b;
    double s = 0;
    for (size_t i = i0; i < i1; i++)
        if (o->free_[i])
            s += (double)x[i] * y[i];
    return s;
}

/* a'b, a float and b double (b is 0 off the free variables). */
static double chunk_fd(const nst_lbfgs *o, const void *a, const void *b,
                       size_t i0, size_t i1)
{
    (void)o;
    const float *x = a;
    const double *y = b;
    double s = 0;
    for (size_t i = i0; i < i1; i++)
        s += x[i] * y[i];
    return s;
}

/* g'(xt - x): a is x; g and xt are the optimiser's. */
static double chunk_gdx(const nst_lbfgs *o, const void *a, const void *b,
                        size_t i0, size_t i1)
{
    (void)b;
    const float *x = a;
    double s = 0;
    for (size_t i = i0; i < i1; i++)
        s += (double)o->g[i] * ((double)o->xt[i] - x[i]);
    return s;
}

/* ---- the history ---- */

/* The pair in slot n_pairs joins the history if s'y > CURV y'y; the
 * oldest pair leaves when the history is full. */
static int commit_pair(nst_lbfgs *o)
{
    float *s = o->s[o->n_pairs], *y = o->y[o->n_pairs];
    memset(o->free_, 1, o->n);
    const double sy = reduce(o, chunk_free_ff, s, y);
    const double yy = reduce(o, chunk_free_ff, y, y);
    if (!(sy > CURV * yy))
        return 0;
    if (o->n_pairs < o->m) {
        o->n_pairs++;
        return 1;
    }
    float *s0 = o->s[0], *y0 = o->y[0];
    memmove(o->s, o->s + 1, (size_t)o->m * sizeof *o->s);
    memmove(o->y, o->y + 1, (size_t)o->m * sizeof *o->y);
    o->s[o->m] = s0;
    o->y[o->m] = y0;
    return 1;
}

/* d = H g on the free variables, 0 on the others, by the two-loop
 * recursion on the free variables' parts of the pairs (docs/math.md).
 * Returns the number of pairs used. */
static int two_loop(nst_lbfgs *o, const float *g)
{
    const long n = (long)o->n;
    double *q = o->d;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        q[i] = o->free_[i] ? g[i] : 0.0;
    int used[NST_LBFGS_MAX_HISTORY], n_used = 0;
    double gamma = 0;
    for (int k = o->n_pairs - 1; k >= 0; k--) {
        const double sy = reduce(o, chunk_free_ff, o->s[k], o->y[k]);
        const double yy = reduce(o, chunk_free_ff, o->y[k], o->y[k]);
        if (!(sy > CURV * yy))
            continue;
        if (n_used == 0)
            gamma = sy / yy; /* H0 = (s'y / y'y) I from the newest pair */
        used[n_used++] = k;
        o->rho[k] = 1 / sy;
        const double a = o->rho[k] * reduce(o, chunk_fd, o->s[k], q);
        o->alpha[k] = a;
        const float *yk = o->y[k];
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++)
            if (o->free_[i])
                q[i] -= a * yk[i];
    }
    if (n_used == 0)
        return 0;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        q[i] *= gamma;
    for (int j = n_used - 1; j >= 0; j--) {
        const int k = used[j];
        const double b = o->rho[k] * reduce(o, chunk_fd, o->y[k], q);
        const double c = o->alpha[k] - b;
        const float *sk = o->s[k];
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++)
            if (o->free_[i])
                q[i] += c * sk[i];
    }
    return n_used;
}

/* ---- the line search ---- */

/* xt = P(x - step d); gdx = g'(xt - x). 0 if xt equals x in every float. */
static int make_trial(nst_lbfgs *o, const float *x)
{
    const long n = (long)o->n;
    const double step = o->step;
    int moved = 0;
#pragma omp parallel for schedule(static) reduction(| : moved)
    for (long i = 0; i < n; i++) {
        const double v = x[i] - step * o->d[i];
        const float t = (float)fmin(fmax(v, o->lo[i]), o->hi[i]);
        o->xt[i] = t;
        moved |= t != x[i];
    }
    o->gdx = reduce(o, chunk_gdx, x, NULL);
    return moved;
}

/* d = g scaled so that the largest change is first_step; the free set
 * must be marked. 0 if the projected gradient is 0. */
static int steepest_direction(nst_lbfgs *o)
{
    const long n = (long)o->n;
    float gmax = 0;
#pragma omp parallel for schedule(static) reduction(max : gmax)
    for (long i = 0; i < n; i++)
        if (o->free_[i])
            gmax = fmaxf(gmax, fabsf(o->g[i]));
    if (gmax == 0)
        return 0;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        o->d[i] = o->free_[i] ? (double)o->g[i] : 0.0;
    o->step = o->first_step / gmax;
    o->steepest = 1;
    return 1;
}

/* A variable is held at a bound when it sits there and the gradient
 * pushes it out of the box. */
static void mark_free(nst_lbfgs *o, const float *x)
{
    const long n = (long)o->n;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        o->free_[i] = !((x[i] <= o->lo[i] && o->g[i] > 0) ||
                        (x[i] >= o->hi[i] && o->g[i] < 0));
}

/* From the accepted x: the search direction and the first trial. Sets
 * done when no direction descends. */
static void plan(nst_lbfgs *o, const float *x)
{
    mark_free(o, x);
    o->backtracks = 0;
    o->steepest = 0;
    o->step = 1;
    if (two_loop(o, o->g) == 0 || !(reduce(o, chunk_fd, o->g, o->d) > 0)) {
        if (!steepest_direction(o)) {
            o->done = 1;
            return;
        }
    }
    /* The projection can cancel the decrease a quasi-Newton step promised;
     * the projected gradient step cannot (gdx < 0 unless xt = x). */
    if (make_trial(o, x) && o->gdx < 0)
        return;
    if (!o->steepest && steepest_direction(o) && make_trial(o, x) &&
        o->gdx < 0)
        return;
    o->done = 1;
}

/* The trial failed with loss ft: a shorter step, or the gradient with no
 * history when the direction is exhausted. */
static void backtrack(nst_lbfgs *o, const float *x, double ft)
{
    double next = SHRINK_MIN * o->step;
    if (isfinite(ft)) {
        /* Minimiser of the quadratic through f(x), slope gdx/step at 0 and
         * ft at step. ft > f + C1 gdx > f + gdx, so the curvature is > 0. */
        const double q = -o->gdx * o->step / (2 * (ft - o->f - o->gdx));
        next = fmin(fmax(q, SHRINK_MIN * o->step), SHRINK_MAX * o->step);
    }
    o->step = next;
    o->backtracks++;
    /* The gradient direction shrinks until the step no longer moves a
     * float; a quasi-Newton one is given MAX_BACKTRACKS trials. */
    if ((o->steepest || o->backtracks <= MAX_BACKTRACKS) &&
        make_trial(o, x) && o->gdx < 0)
        return;
    if (o->steepest && o->n_pairs == 0) {
        o->done = 1; /* even the gradient step is too small for a float */
        return;
    }
    o->n_pairs = 0;
    plan(o, x);
}

/* ---- the public interface ---- */

nst_lbfgs *nst_lbfgs_create(size_t n, const float *lo, const float *hi,
                            const nst_lbfgs_params *p, nst_lbfgs_fn f,
                            void *ctx)
{
    if (n == 0 || !f)
        return nst_fail("L-BFGS: no variables or no objective"), NULL;
    if (p->history < 1 || p->history > NST_LBFGS_MAX_HISTORY)
        return nst_fail("L-BFGS: history %d outside 1..%d", p->history,
                        NST_LBFGS_MAX_HISTORY),
               NULL;
    if (!(p->first_step > 0) || !isfinite(p->first_step))
        return nst_fail("L-BFGS: first step %g is not positive",
                        p->first_step),
               NULL;
    for (size_t i = 0; lo && hi && i < n; i++)
        if (!(lo[i] <= hi[i]))
            return nst_fail("L-BFGS: bounds cross at element %zu "
                            "(lo %g, hi %g)",
                            i, lo[i], hi[i]),
                   NULL;
    nst_lbfgs *o = calloc(1, sizeof *o);
    if (!o)
        return nst_fail("L-BFGS: out of memory"), NULL;
    o->n = n;
    o->n_chunks = (n + CHUNK - 1) / CHUNK;
    o->m = p->history;
    o->fn = f;
    o->ctx = ctx;
    o->first_step = p->first_step;
    int ok = (o->lo = malloc(n * sizeof *o->lo)) &&
             (o->hi = malloc(n * sizeof *o->hi)) &&
             (o->g = malloc(n * sizeof *o->g)) &&
             (o->xt = malloc(n * sizeof *o->xt)) &&
             (o->gt = malloc(n * sizeof *o->gt)) &&
             (o->d = malloc(n * sizeof *o->d)) &&
             (o->free_ = malloc(n)) &&
             (o->partial = malloc(o->n_chunks * sizeof *o->partial));
    for (int k = 0; ok && k <= o->m; k++)
        ok = (o->s[k] = malloc(n * sizeof(float))) &&
             (o->y[k] = malloc(n * sizeof(float)));
    if (!ok) {
        nst_lbfgs_free(o);
        return nst_fail("L-BFGS: out of memory for %zu values and %d pairs",
                        n, p->history),
               NULL;
    }
    for (size_t i = 0; i < n; i++) {
        o->lo[i] = lo ? lo[i] : -INFINITY;
        o->hi[i] = hi ? hi[i] : INFINITY;
    }
    return o;
}

void nst_lbfgs_free(nst_lbfgs *o)
{
    if (!o)
        return;
    for (int k = 0; k <= NST_LBFGS_MAX_HISTORY; k++) {
        free(o->s[k]);
        free(o->y[k]);
    }
    free(o->lo);
    free(o->hi);
    free(o->g);
    free(o->xt);
    free(o->gt);
    free(o->d);
    free(o->free_);
    free(o->partial);
    free(o);
}

/* The starting point: projected into the box and evaluated. */
static int start(nst_lbfgs *o, float *x, nst_lbfgs_report *r)
{
    const long n = (long)o->n;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        x[i] = fminf(fmaxf(x[i], o->lo[i]), o->hi[i]);
    if (o->fn(o->ctx, x, &o->f, o->g) != 0)
        return -1;
    o->evals = 1;
    if (!isfinite(o->f))
        return nst_fail("L-BFGS: the objective is %g at the starting point",
                        o->f);
    *r = (nst_lbfgs_report){.loss = o->f, .accepted = 1};
    plan(o, x);
    r->done = o->done;
    return 0;
}

int nst_lbfgs_step(nst_lbfgs *o, float *x, nst_lbfgs_report *r)
{
    if (o->done) {
        *r = (nst_lbfgs_report){.loss = o->f, .done = 1};
        return 0;
    }
    if (o->evals == 0)
        return start(o, x, r);
    double ft;
    if (o->fn(o->ctx, o->xt, &ft, o->gt) != 0)
        return -1;
    o->evals++;
    *r = (nst_lbfgs_report){.loss = ft};
    if (isfinite(ft) && ft <= o->f + C1 * o->gdx) {
        const long n = (long)o->n;
        float *s = o->s[o->n_pairs], *y = o->y[o->n_pairs];
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) {
            s[i] = o->xt[i] - x[i];
            y[i] = o->gt[i] - o->g[i];
        }
        commit_pair(o);
        memcpy(x, o->xt, o->n * sizeof *x);
        float *g = o->g;
        o->g = o->gt;
        o->gt = g;
        o->f = ft;
        r->accepted = 1;
        plan(o, x);
    } else {
        backtrack(o, x, ft);
    }
    r->done = o->done;
    return 0;
}

long nst_lbfgs_evaluations(const nst_lbfgs *o)
{
    return o->evals;
}

void nst_lbfgs_save(const nst_lbfgs *o, nst_ckw *w)
{
    const uint32_t counts[] = {(uint32_t)o->m,        (uint32_t)o->n_pairs,
                               (uint32_t)o->evals,    (uint32_t)o->done,
                               (uint32_t)o->steepest, (uint32_t)o->backtracks};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
        nst_ckw_u32(w, counts[i]);
    const double v[] = {o->f, o->step, o->gdx};
    nst_ckw_f64s(w, v, 3);
    nst_ckw_f32s(w, o->g, o->n);
    nst_ckw_f32s(w, o->xt, o->n);
    nst_ckw_f64s(w, o->d, o->n);
    nst_ckw_bytes(w, o->free_, o->n);
    for (int k = 0; k < o->n_pairs; k++) {
        nst_ckw_f32s(w, o->s[k], o->n);
        nst_ckw_f32s(w, o->y[k], o->n);
    }
}

int nst_lbfgs_load(nst_lbfgs *o, nst_ckr *r)
{
    uint32_t m, pairs, evals, done, steepest, backtracks;
    double v[3];
    if (nst_ckr_u32_in(r, (uint32_t)o->m, (uint32_t)o->m, "L-BFGS history",
                       &m) != 0 ||
        nst_ckr_u32_in(r, 0, (uint32_t)o->m, "L-BFGS pairs", &pairs) != 0 ||
        nst_ckr_u32_in(r, 0, INT32_MAX, "L-BFGS evaluations", &evals) != 0 ||
        nst_ckr_u32_in(r, 0, 1, "L-BFGS done flag", &done) != 0 ||
        nst_ckr_u32_in(r, 0, 1, "L-BFGS direction", &steepest) != 0 ||
        nst_ckr_u32_in(r, 0, INT32_MAX, "L-BFGS backtracks", &backtracks) !=
            0 ||
        nst_ckr_f64s(r, v, 3) != 0 || nst_ckr_f32s(r, o->g, o->n) != 0 ||
        nst_ckr_f32s(r, o->xt, o->n) != 0 ||
        nst_ckr_f64s(r, o->d, o->n) != 0 ||
        nst_ckr_bytes(r, o->free_, o->n) != 0)
        return -1;
    for (uint32_t k = 0; k < pairs; k++)
        if (nst_ckr_f32s(r, o->s[k], o->n) != 0 ||
            nst_ckr_f32s(r, o->y[k], o->n) != 0)
            return -1;
    o->n_pairs = (int)pairs;
    o->evals = (long)evals;
    o->done = (int)done;
    o->steepest = (int)steepest;
    o->backtracks = (int)backtracks;
    o->f = v[0];
    o->step = v[1];
    o->gdx = v[2];
    return 0;
}

const double *nst__lbfgs_apply_h(nst_lbfgs *o, const float *g,
                                 const unsigned char *free_mask)
{
    for (size_t i = 0; i < o->n; i++)
        o->free_[i] = free_mask ? free_mask[i] != 0 : 1;
    if (two_loop(o, g) == 0)
        for (size_t i = 0; i < o->n; i++)
            o->d[i] = o->free_[i] ? g[i] : 0.0; /* H0 = I */
    return o->d;
}

int nst__lbfgs_offer_pair(nst_lbfgs *o, const float *s, const float *y)
{
    memcpy(o->s[o->n_pairs], s, o->n * sizeof *s);
    memcpy(o->y[o->n_pairs], y, o->n * sizeof *y);
    return commit_pair(o);
}
