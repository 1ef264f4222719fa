/* Differential testing of whole iterations. Over randomised configurations
 * (image sizes odd and even, both pools, random content and style layer
 * subsets, TV on and off, a few Adam steps) every kernel set the CPU runs
 * is compared with the scalar set and with the naive double reference
 * (ref_net.c) along the scalar set's trajectory: each step evaluates all of
 * them at the same image, so differences do not compound from step to
 * step.
 *
 * What must hold, per step:
 * - Bit identity where the kernels promise it (simd.h, architecture.md):
 *   the scalar table with a set's ReLU mask and pooling kernels swapped in
 *   gives the scalar set's losses and gradient to the bit, and the set's
 *   Adam update, from the same state and gradient, the same m and v.
 * - Losses within LOSS_TOL of the scalar set and of the reference.
 * - The gradient within GRAD_TOL of the scalar set's when both sets take
 *   the same branches: every ReLU the same side of 0 and every max-pool
 *   window the same winner. Max pooling and the ReLU are discontinuous in
 *   their gradient, so where two float computations of the forward pass
 *   round a near tie apart (the AVX2 Winograd convolution and the scalar
 *   direct one differ by ~1e-6 of the sum of |terms|), the gradient moves
 *   to another pixel; Adam's first steps, about lr * sign(g), then turn
 *   that into whole-lr pixel changes. So a step whose branches differ is
 *   tested instead by showing that every differing branch is a near tie in
 *   the reference: the two window elements (or the pre-activation and 0)
 *   within TIE_TOL of the sum of |terms| that made them.
 * - The image after the step within a few float ulps of the scalar step.
 *
 * NST_TEST_QUICK (set by CI for the sanitizer and emulated runs) runs a
 * subset. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adam.h"
#include "error.h"
#include "npz_writer.h"
#include "kctx.h"
#include "objective.h"
#include "ref.h"
#include "ref_net.h"
#include "testutil.h"

#define WEIGHTS "vgg/vgg19_conv1_1-conv3_4.npz"

enum { N_RELU = 7, N_NARROW = 4, N_WEIGHTS = 1 + N_NARROW };
static const char *const relu_names[N_RELU] = {
    "relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1", "relu3_2",
    "relu3_3"};

/* Tolerances.
 * FEATURE_TOL: the relative error allowed on each feature and Gram entry.
 * The sets' forward passes stay within 2e-5 of the sum of |terms| (the
 * Winograd worst case, check_forward); 1e-4 leaves room for the Gram's own
 * rounding. A loss L = mean (F - P)^2 whose F and P each move by up to
 * e (|F| + |P|) moves by at most mean(2 |F - P| e (|F| + |P|)) to first
 * order: loss_tolerances() forms that bound from the reference's features
 * (Gram matrices for the style terms, with G and A >= 0 as sums of
 * products of ReLU outputs), so that losses near their target, where
 * F - P cancels, get the room their rounding needs. Without the
 * reference, LOSS_TOL relative is used (the max-pool regression cases
 * start far from the style target, so there is no cancellation). TV reads
 * the same floats everywhere: only the order of double sums differs.
 * A missing layer or factor changes a loss by percents or more.
 * GRAD_TOL, relative 2-norm of the gradient difference when the branches
 * agree: the backward pass adds rounding of the forward's order (measured
 * 5e-6 at most); a missing term moves it by percents.
 * TIE_TOL: a differing branch must be a near tie in the reference, the gap
 * within 1e-4 of the sum of |terms| behind the two values: five times the
 * worst Winograd error seen (2e-5, check_forward); a pool kernel that
 * picked a wrong element would show gaps of the activations' own size. */
#define FEATURE_TOL 1e-4
#define LOSS_TOL 1e-4
#define GRAD_TOL 2e-4
#define TIE_TOL 1e-4

typedef struct dcase {
    int weights; /* 0: the real VGG weights; 1..N_NARROW: a narrow net */
    int h, w, sh, sw, steps;
    nst_pool pool;
    int content[N_RELU], n_content, style[N_RELU], n_style;
    double alpha, beta, gamma;
    int with_ref; /* the double reference at every step (slow for the
                     real net at large sizes) */
    uint64_t seed;
} dcase;

static int quick(void)
{
    const char *q = getenv("NST_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

static void describe(const dcase *c, char *buf, size_t size)
{
    int at = snprintf(buf, size, "%s net, %dx%d, style %dx%d, %s pool, "
                      "content {",
                      c->weights ? "narrow" : "VGG", c->h, c->w, c->sh, c->sw,
                      c->pool == NST_POOL_MAX ? "max" : "avg");
    for (int i = 0; i < c->n_content; i++)
        at += snprintf(buf + at, size - at, " %s", relu_names[c->content[i]]);
    at += snprintf(buf + at, size - at, " } style {");
    for (int i = 0; i < c->n_style; i++)
        at += snprintf(buf + at, size - at, " %s", relu_names[c->style[i]]);
    snprintf(buf + at, size - at, " } tv %g, %d steps, seed %llu", c->gamma,
             c->steps, (unsigned long long)c->seed);
}

/* A random subset of layers 0..depth-1 (each in with probability 1/2). */
static int random_layers(tu_rng *r, int depth, int *out)
{
    int n = 0;
    for (int l = 0; l < depth; l++)
        if (tu_next(r) & 1)
            out[n++] = l;
    return n;
}

/* Random cases: sides 16..SMALL_SIDE, the network cut anywhere, on a
 * narrow net, or on the real one every REAL_EVERY cases; every
 * LARGE_EVERY cases (narrow nets only, where the reference stays fast)
 * sides up to 150 instead. */
enum { N_RANDOM = 200, N_RANDOM_QUICK = 40, REAL_EVERY = 25,
       LARGE_EVERY = 10, SMALL_SIDE = 24, LARGE_SIDE = 150 };

static dcase random_case(uint64_t seed, int real)
{
    tu_rng r = {seed};
    const int large = seed % LARGE_EVERY == 0 && !real;
    const int side = large ? LARGE_SIDE : SMALL_SIDE;
    dcase c = {.seed = seed, .with_ref = 1};
    c.weights = real ? 0 : 1 + (int)(tu_next(&r) % N_NARROW);
    c.h = 16 + (int)(tu_next(&r) % (uint64_t)(side - 15));
    c.w = 16 + (int)(tu_next(&r) % (uint64_t)(side - 15));
    c.sh = 16 + (int)(tu_next(&r) % (uint64_t)(SMALL_SIDE - 15));
    c.sw = 16 + (int)(tu_next(&r) % (uint64_t)(SMALL_SIDE - 15));
    c.pool = tu_next(&r) & 1 ? NST_POOL_MAX : NST_POOL_AVG;
    const int depth = 1 + (int)(tu_next(&r) % N_RELU);
    c.n_content = random_layers(&r, depth, c.content);
    c.n_style = random_layers(&r, depth, c.style);
    if (c.n_content + c.n_style == 0)
        c.style[c.n_style++] = depth - 1;
    c.alpha = 1.0;
    c.beta = 1e-3 * tu_uniform(&r, 0.1, 10.0);
    c.gamma = tu_next(&r) & 1 ? 0.1 : 0.0;
    c.steps = 2 + (int)(tu_next(&r) % 2);
    return c;
}

/* The max-pool shapes where AVX2 and the scalar kernels were seen to part
 * after the first Adam step (default layers: content relu3_3, style
 * relu1_1..relu3_3): maps of 64+ pixels, some pooled side odd. One step:
 * the gradient that step takes is where the sets part. */
static const int regressions[][2] = {{64, 63}, {65, 64},  {66, 67},
                                     {96, 97}, {130, 98}, {131, 99},
                                     {150, 149}};
enum { N_REGRESSIONS = sizeof regressions / sizeof *regressions };

static dcase regression_case(int i)
{
    dcase c = {.weights = 0, .h = regressions[i][0], .w = regressions[i][1], .sh = 40,
               .sw = 37, .steps = 1, .pool = NST_POOL_MAX, .n_content = 1,
               .n_style = N_RELU, .alpha = 1.0, .beta = 1e-2, .gamma = 0.1,
               .seed = 7000 + (uint64_t)i};
    c.content[0] = N_RELU - 1;
    for (int l = 0; l < N_RELU; l++)
        c.style[l] = l;
    return c;
}

/* ---- the networks, loaded once per test ---- */

/* Most cases run narrow networks of the VGG layout (conv1_1 .. conv3_3)
 * with random weights and awkward channel counts, written as npz fixtures:
 * a few hundred cases then take seconds, and the kernels meet channel
 * counts below and between their register tiles. Inputs of +-130 and He
 * scaling (weights uniform with variance 2 / (9 cin)) keep activations
 * the size of the real network's. */
static const int narrow_channels[N_NARROW][3] = {
    {5, 7, 13}, {8, 16, 24}, {1, 3, 2}, {11, 17, 9}};

static void write_narrow(const char *path, const int ch[3], tu_rng *r)
{
    static const char *const layers[N_RELU] = {
        "conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2",
        "conv3_3"};
    char keys[2 * N_RELU][16];
    npzw_array a[2 * N_RELU];
    double *values[2 * N_RELU];
    int cin = 3;
    for (int l = 0; l < N_RELU; l++) {
        const int cout = ch[l < 2 ? 0 : l < 4 ? 1 : 2];
        const size_t nw = (size_t)9 * cin * cout;
        const double bound = sqrt(3.0 * 2.0 / (9.0 * cin));
        values[2 * l] = malloc(nw * sizeof(double));
        values[2 * l + 1] = malloc((size_t)cout * sizeof(double));
        ck_assert(values[2 * l] && values[2 * l + 1]);
        for (size_t i = 0; i < nw; i++)
            values[2 * l][i] = tu_uniform(r, -bound, bound);
        for (int o = 0; o < cout; o++)
            values[2 * l + 1][o] = tu_uniform(r, -1.0, 1.0);
        snprintf(keys[2 * l], sizeof keys[0], "%s_W", layers[l]);
        snprintf(keys[2 * l + 1], sizeof keys[0], "%s_b", layers[l]);
        a[2 * l] = (npzw_array){.name = keys[2 * l], .descr = "<f4",
                                .ndim = 4, .shape = {3, 3, cin, cout},
                                .values = values[2 * l]};
        a[2 * l + 1] = (npzw_array){.name = keys[2 * l + 1], .descr = "<f4",
                                    .ndim = 1, .shape = {cout},
                                    .values = values[2 * l + 1]};
        cin = cout;
    }
    const npzw_options opt = {0};
    ck_assert(npzw_write(path, a, 2 * N_RELU, &opt, NULL) == 0);
    for (int i = 0; i < 2 * N_RELU; i++)
        free(values[i]);
}

/* The kernel sets a case runs: the scalar one, the set under test, and the
 * set under test with the scalar ReLU mask and pools swapped in, which
 * promise the same bits. */
enum { SCALAR, SET, SET_SCALAR_POOLS, N_ROLES };

typedef struct nets {
    int have_real; /* the real weights were found */
    nst_kernels tables[N_ROLES];
    nst_vgg vgg[N_WEIGHTS][N_ROLES][2]; /* by weights, role, nst_pool */
    ref_net ref[N_WEIGHTS][2];
} nets;

static int roles(const nst_kernels *k)
{
    return k == &nst_kernels_scalar ? 1 : N_ROLES;
}

static void nets_load_one(nets *ns, int wi, const char *path,
                          const nst_kernels *k)
{
    for (int p = 0; p < 2; p++) {
        for (int r = 0; r < roles(k); r++)
            ck_assert_msg(nst_vgg_load(&ns->vgg[wi][r][p], path, relu_names,
                                       N_RELU, (nst_pool)p,
                                       &ns->tables[r]) == 0,
                          "%s", nst_failure_reason());
        ck_assert_msg(ref_net_load(&ns->ref[wi][p], path, N_RELU,
                                   p == NST_POOL_MAX) == 0,
                      "%s", nst_failure_reason());
    }
}

/* real: the real weights' path, or NULL to run the narrow nets only. */
static void nets_load(nets *ns, const char *real, const nst_kernels *k)
{
    ns->tables[SCALAR] = nst_kernels_scalar;
    ns->tables[SET] = *k;
    nst_kernels *h = &ns->tables[SET_SCALAR_POOLS];
    *h = *k;
    h->relu_backward = nst_kernels_scalar.relu_backward;
    h->avgpool2x2 = nst_kernels_scalar.avgpool2x2;
    h->avgpool2x2_backward = nst_kernels_scalar.avgpool2x2_backward;
    h->maxpool2x2 = nst_kernels_scalar.maxpool2x2;
    h->maxpool2x2_backward = nst_kernels_scalar.maxpool2x2_backward;
    ns->have_real = real != NULL;
    if (real)
        nets_load_one(ns, 0, real, k);
    char dir[4096], tag[64], path[4200];
    snprintf(tag, sizeof tag, "check_differential_%s", k->name);
    tu_tmpdir(tag, dir, sizeof dir);
    tu_rng r = {77};
    for (int i = 0; i < N_NARROW; i++) {
        snprintf(path, sizeof path, "%s/narrow%d.npz", dir, i);
        write_narrow(path, narrow_channels[i], &r);
        nets_load_one(ns, 1 + i, path, k);
    }
}

static void nets_free(nets *ns, const nst_kernels *k)
{
    for (int wi = ns->have_real ? 0 : 1; wi < N_WEIGHTS; wi++)
        for (int p = 0; p < 2; p++) {
            for (int r = 0; r < roles(k); r++)
                nst_vgg_free(&ns->vgg[wi][r][p]);
            ref_net_free(&ns->ref[wi][p]);
        }
}

/* ---- one kernel set on one case ---- */

typedef struct run {
    const nst_vgg *net;
    nst_objective *o;
    nst_kctx *ctx;     /* for its own forward pass */
    nst_vgg_acts acts; /* its own forward pass, for the branches */
} run;

static void run_open(run *ru, const nst_vgg *net, const dcase *c,
                     const float *content, const float *style)
{
    const nst_objective_spec spec = {c->content, c->n_content, c->style,
                                     c->n_style, c->alpha, c->beta, c->gamma,
                                     NULL, NULL};
    ru->net = net;
    ru->o = nst_objective_create(net, &spec, content, c->h, c->w, style,
                                 c->sh, c->sw);
    ck_assert_msg(ru->o, "%s", nst_failure_reason());
    ck_assert_msg(nst_vgg_acts_alloc(net, c->h, c->w, &ru->acts) == 0, "%s",
                  nst_failure_reason());
    ru->ctx = tu_kctx(net->k, 0);
}

static void run_close(run *ru)
{
    nst_objective_free(ru->o);
    nst_vgg_acts_free(&ru->acts);
    nst_kctx_free(ru->ctx);
}

/* ---- comparisons ---- */

/* Absolute tolerances on total, content, style and TV (see the header)
 * from the reference's features ra at the step's image. */
static void loss_tolerances(const ref_objective *ro, const ref_acts *ra,
                            double tol[4])
{
    const ref_net *net = ro->net;
    double content = 0, style = 0;
    for (int i = 0; i < ro->n_content; i++) {
        const int l = ro->content[i];
        const size_t n = (size_t)net->cout[l] * ra->h[l] * ra->w[l];
        const double *f = ra->f[l], *p = ro->content_target[i];
        double s = 0;
        for (size_t j = 0; j < n; j++)
            s += 2 * fabs(f[j] - p[j]) * (fabs(f[j]) + fabs(p[j]));
        content += s / n;
    }
    for (int i = 0; i < ro->n_style; i++) {
        const int l = ro->style[i], c = net->cout[l],
                  m = ra->h[l] * ra->w[l];
        double *g = malloc((size_t)c * c * sizeof *g);
        ck_assert_ptr_nonnull(g);
        ref_gram(ra->f[l], c, m, 1.0 / m, g, NULL);
        const double *a = ro->gram_target[0][i];
        double s = 0;
        for (size_t j = 0; j < (size_t)c * c; j++)
            s += 2 * fabs(g[j] - a[j]) * (g[j] + a[j]);
        style += s / ((double)c * c) / ro->n_style;
        free(g);
    }
    tol[1] = FEATURE_TOL * content;
    tol[2] = FEATURE_TOL * style;
    tol[3] = 0; /* see expect_losses */
    tol[0] = ro->alpha * tol[1] + ro->beta * tol[2];
}

/* got against want within k times tol (from loss_tolerances), or, when
 * tol is NULL, LOSS_TOL relative. */
static void expect_losses(const char *what, const char *desc, int step,
                          const nst_losses *got, const nst_losses *want,
                          const double *tol, double k)
{
    const double g[4] = {got->total, got->content, got->style, got->tv};
    const double e[4] = {want->total, want->content, want->style, want->tv};
    static const char *const names[4] = {"total", "content", "style", "tv"};
    double t[4];
    for (int i = 0; i < 4; i++)
        t[i] = tol ? k * tol[i] : LOSS_TOL * fabs(e[i]);
    /* TV: double sums of the same floats in another order. */
    t[3] = 1e-12 * fabs(e[3]);
    t[0] += 1e-12 * fabs(e[0]);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabs(g[i] - e[i]) <= t[i],
                      "%s, step %d: %s loss %.9g, want %.9g, tolerance %.3g "
                      "(%s)",
                      what, step, names[i], g[i], e[i], t[i], desc);
}

/* Index (0..3, row-major) of a window's first maximum, the kernels' rule. */
static int winner(const float *p, int w)
{
    const float v[4] = {p[0], p[1], p[w], p[w + 1]};
    int best = 0;
    for (int q = 1; q < 4; q++)
        if (v[q] > v[best])
            best = q;
    return best;
}

static size_t window_at(size_t p, int w, int q)
{
    return p + (size_t)(q >> 1) * w + (q & 1);
}

/* The number of branches where a and b (two kernel sets' forward passes)
 * differ. With the reference's activations ra, each differing one must be
 * a near tie there. */
static int differing_branches(const char *isa, const char *desc, int step,
                              const run *a, const run *b, const ref_acts *ra,
                              int n_layers)
{
    int n_diff = 0;
    for (int l = 0; l < n_layers; l++) {
        const int c = a->net->layer[l].conv.cout, h = a->acts.h[l],
                  w = a->acts.w[l];
        const float *fa = a->acts.f[l], *fb = b->acts.f[l];
        for (size_t i = 0; i < (size_t)c * h * w; i++) {
            if ((fa[i] > 0) == (fb[i] > 0))
                continue;
            n_diff++;
            ck_assert_msg(!ra || fabs(ra->z[l][i]) <= TIE_TOL * ra->mag[l][i],
                          "%s, step %d: %s[%zu] is %.9g for scalar, %.9g for "
                          "%s, but %.9g (sum |terms| %.9g) in the reference "
                          "(%s)",
                          isa, step, relu_names[l], i, (double)fa[i],
                          (double)fb[i], isa, ra ? ra->z[l][i] : 0.0,
                          ra ? ra->mag[l][i] : 0.0, desc);
        }
        if (a->net->pool != NST_POOL_MAX || l + 1 >= n_layers ||
            !a->net->layer[l + 1].pool_before)
            continue;
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i + 1 < h; i += 2)
                for (int j = 0; j + 1 < w; j += 2) {
                    const size_t p = ((size_t)ch * h + i) * w + j;
                    const int qa = winner(fa + p, w), qb = winner(fb + p, w);
                    if (qa == qb)
                        continue;
                    n_diff++;
                    if (!ra)
                        continue;
                    const size_t pa = window_at(p, w, qa),
                                 pb = window_at(p, w, qb);
                    const double gap = fabs(ra->f[l][pa] - ra->f[l][pb]);
                    ck_assert_msg(gap <= TIE_TOL * (ra->mag[l][pa] +
                                                    ra->mag[l][pb]),
                                  "%s, step %d: max pool after %s, channel "
                                  "%d, window (%d, %d): scalar picks %d, %s "
                                  "%d, %.9g apart in the reference (%s)",
                                  isa, step, relu_names[l], ch, i / 2, j / 2,
                                  qa, isa, qb, gap, desc);
                }
    }
    return n_diff;
}

/* The set with the scalar pools and ReLU mask (got, g) against the set
 * itself (want, gw). */
static void expect_same_bits(const char *isa, const char *desc, int step,
                             const nst_losses *got, const nst_losses *want,
                             const float *g, const float *gw, size_t n)
{
    ck_assert_msg(memcmp(got, want, sizeof *got) == 0,
                  "%s, step %d: losses %.17g with the scalar pools and ReLU "
                  "mask, %.17g with its own (%s)",
                  isa, step, got->total, want->total, desc);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(memcmp(&g[i], &gw[i], sizeof *g) == 0,
                      "%s, step %d: gradient[%zu] %.9g with the scalar pools "
                      "and ReLU mask, %.9g with its own (%s)",
                      isa, step, i, (double)g[i], (double)gw[i], desc);
}

static double relative_distance(const float *a, const float *b, size_t n)
{
    double d = 0, norm = 0;
    for (size_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        norm += (double)b[i] * b[i];
    }
    return norm > 0 ? sqrt(d / norm) : sqrt(d);
}

/* Counts over a test's cases, for its summary line. */
typedef struct tally {
    int cases, steps, steps_branching;
} tally;

/* One case for kernel set k: the scalar trajectory, and at each of its
 * images the comparisons of the file's header. */
static void check_case(const nst_kernels *k, const nets *ns, const dcase *c,
                       tally *t)
{
    const nst_kernels *s = &nst_kernels_scalar;
    const int other = k != s;
    const ref_net *rn = &ns->ref[c->weights][c->pool];
    char desc[256];
    describe(c, desc, sizeof desc);
    tu_rng r = {c->seed ^ 0x9e3779b97f4a7c15ULL};
    const size_t n = (size_t)3 * c->h * c->w;
    float *content = tu_random_image(&r, c->h, c->w);
    float *style = tu_random_image(&r, c->sh, c->sw);
    float *x = tu_nan_floats(n), *xk = tu_nan_floats(n);
    float *gs = tu_nan_floats(n), *gk = tu_nan_floats(n),
          *gh = tu_nan_floats(n);
    /* Start near the content image, so every term is non-zero. */
    for (size_t i = 0; i < n; i++)
        x[i] = content[i] + (float)tu_uniform(&r, -20, 20);

    run rs, rk, rh;
    const nst_vgg(*v)[2] = ns->vgg[c->weights];
    run_open(&rs, &v[SCALAR][c->pool], c, content, style);
    if (other) {
        run_open(&rk, &v[SET][c->pool], c, content, style);
        run_open(&rh, &v[SET_SCALAR_POOLS][c->pool], c, content, style);
    }
    ref_objective ro;
    const nst_objective_spec spec = {c->content, c->n_content, c->style,
                                     c->n_style, c->alpha, c->beta, c->gamma,
                                     NULL, NULL};
    if (c->with_ref)
        ck_assert(ref_objective_init(&ro, rn, &spec, content, c->h, c->w,
                                     style, c->sh, c->sw) == 0);
    nst_adam as, ak;
    ck_assert_int_eq(nst_adam_init(&as, n, 4.0), 0);
    ck_assert_int_eq(nst_adam_init(&ak, n, 4.0), 0);
    const int nl = tu_depth(c->content, c->n_content, c->style, c->n_style);
    double *xd = malloc(n * sizeof *xd);
    ck_assert_ptr_nonnull(xd);

    for (int step = 0; step < c->steps; step++) {
        nst_losses ls, lk, lh, lr;
        ck_assert_int_eq(nst_objective_eval(rs.o, x, &ls, gs), 0);
        ref_widen(x, n, xd);
        ref_acts ra = {0};
        double tol[4];
        if (c->with_ref) {
            ref_objective_eval(&ro, xd, &lr, &ra);
            loss_tolerances(&ro, &ra, tol);
            expect_losses(s->name, desc, step, &ls, &lr, tol, 1.0);
        }
        if (other) {
            ck_assert_int_eq(nst_objective_eval(rk.o, x, &lk, gk), 0);
            ck_assert_int_eq(nst_objective_eval(rh.o, x, &lh, gh), 0);
            if (c->with_ref)
                expect_losses(k->name, desc, step, &lk, &lr, tol, 1.0);
            /* Each within tol of the reference: within 2 tol of each
             * other. */
            expect_losses(k->name, desc, step, &lk, &ls,
                          c->with_ref ? tol : NULL, 2.0);
            expect_same_bits(k->name, desc, step, &lh, &lk, gh, gk, n);
            ck_assert_int_eq(nst_vgg_forward(rs.net, rs.ctx, x, nl, &rs.acts), 0);
            ck_assert_int_eq(nst_vgg_forward(rk.net, rk.ctx, x, nl, &rk.acts), 0);
            const int branching = differing_branches(k->name, desc, step, &rs,
                                                     &rk, NULL, nl);
            if (branching) {
                if (!c->with_ref) /* the reference only where needed */
                    ref_net_forward(rn, xd, c->h, c->w, nl, &ra);
                differing_branches(k->name, desc, step, &rs, &rk, &ra, nl);
                t->steps_branching++;
                printf("%s, step %d: %d branches differ from scalar's, each "
                       "a near tie (%s)\n",
                       k->name, step, branching, desc);
            } else {
                const double d = relative_distance(gk, gs, n);
                ck_assert_msg(d <= GRAD_TOL,
                              "%s, step %d: gradient off by %.3g relative "
                              "(%s)",
                              k->name, step, d, desc);
            }
        }
        ref_acts_free(&ra);

        /* k's Adam update from the scalar state and gradient. */
        memcpy(xk, x, n * sizeof *x);
        memcpy(ak.m, as.m, n * sizeof *as.m);
        memcpy(ak.v, as.v, n * sizeof *as.v);
        ak.t = as.t;
        nst_adam_step(&as, s, x, gs);
        if (other)
            nst_adam_step(&ak, k, xk, gs);
        for (size_t i = 0; other && i < n; i++) {
            ck_assert_msg(memcmp(&ak.m[i], &as.m[i], sizeof *ak.m) == 0 &&
                              memcmp(&ak.v[i], &as.v[i], sizeof *ak.v) == 0,
                          "%s, step %d: Adam moments at %zu differ from "
                          "scalar's (%s)",
                          k->name, step, i, desc);
            /* Both round x once (u |x|); k's float step is within 11 u of
             * the step S (check_kernels), so 2u|x| + 11u S, below
             * FLT_EPSILON (|x| + 8 S). */
            const double st = fabs((double)x[i] - xd[i]);
            ck_assert_msg(fabs((double)xk[i] - x[i]) <=
                              FLT_EPSILON * (fabs(x[i]) + 8 * st),
                          "%s, step %d: x[%zu] after Adam %.9g, scalar %.9g "
                          "(%s)",
                          k->name, step, i, (double)xk[i], (double)x[i],
                          desc);
        }
        t->steps++;
    }
    t->cases++;

    nst_adam_free(&as);
    nst_adam_free(&ak);
    if (c->with_ref)
        ref_objective_free(&ro);
    run_close(&rs);
    if (other) {
        run_close(&rk);
        run_close(&rh);
    }
    free(xd), free(content), free(style), free(x), free(xk), free(gs);
    free(gk), free(gh);
}

/* ---- tests ---- */

/* Runs kernel set isa over the random cases (regressions = 0) or the
 * max-pool regression cases, which need the real weights. */
static void run_cases(int isa, int regressions)
{
    const nst_kernels *k = tu_isa_or_skip(isa);
    if (!k)
        return;
    if (regressions && k == &nst_kernels_scalar) {
        printf("SKIP scalar: the regression cases compare a set with the "
               "scalar one\n");
        return;
    }
    char buf[4096];
    const char *real = tu_shared(WEIGHTS, buf, sizeof buf);
    if (!real) {
        printf("SKIP %s: %s not found (set NST_SHARED)\n",
               regressions ? "the regression cases" : "the real-weight cases",
               WEIGHTS);
        if (regressions)
            return;
    }
    static nets ns;
    nets_load(&ns, real, k);
    tally t = {0};
    const int n = regressions ? (quick() ? 1 : N_REGRESSIONS)
                              : (quick() ? N_RANDOM_QUICK : N_RANDOM);
    for (int i = 0; i < n; i++) {
        const int on_real = real && i % REAL_EVERY == REAL_EVERY - 1;
        const dcase c = regressions
                            ? regression_case(i)
                            : random_case(1000 + (uint64_t)i, on_real);
        check_case(k, &ns, &c, &t);
    }
    printf("%s: %d %s cases, %d steps, %d with branches apart from "
           "scalar's\n",
           k->name, t.cases, regressions ? "max-pool regression" : "random",
           t.steps, t.steps_branching);
    nets_free(&ns, k);
}

START_TEST(random_iterations)
{
    run_cases(_i, 0);
}
END_TEST

START_TEST(max_pool_regressions)
{
    run_cases(_i, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("differential");
    const struct {
        const char *name;
        const TTest *test;
    } tcs[] = {{"random", random_iterations},
               {"max_pool_regressions", max_pool_regressions}};
    for (int i = 0; i < 2; i++) {
        TCase *tc = tcase_create(tcs[i].name);
        tcase_set_timeout(tc, 600);
        tcase_add_loop_test(tc, tcs[i].test, 0, TU_N_ISAS);
        suite_add_tcase(s, tc);
    }
    return tu_run_suite(s);
}
