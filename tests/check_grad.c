/* Finite-difference checks of every analytic gradient: central differences
 * in double on the double reference (ref.c, ref_net.c) against the float
 * backward passes, piece by piece and for the whole objective through the
 * real VGG weights. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "error.h"
#include "loss.h"
#include "objective.h"
#include "ref.h"
#include "ref_net.h"
#include "testutil.h"
#include "vgg.h"

#define WEIGHTS "vgg/vgg19_conv1_1-conv3_4.npz"
#define U 0x1p-24 /* float32 unit roundoff */


/* A scalar function of n doubles, for central differences. */
typedef double (*scalar_fn)(const double *x, const void *ctx);

/* (f(x + h e_i) - f(x - h e_i)) / 2h; x is restored. */
static double central_diff(scalar_fn f, const void *ctx, double *x, size_t i,
                           double h)
{
    const double x0 = x[i];
    x[i] = x0 + h;
    const double up = f(x, ctx);
    x[i] = x0 - h;
    const double down = f(x, ctx);
    x[i] = x0;
    return (up - down) / (2 * h);
}

/* Every component of got (float analytic gradient) against the central
 * difference of f, within tol_abs + tol_rel |fd|. */
static void expect_gradient(const char *isa, const char *what, scalar_fn f,
                            const void *ctx, const float *x, size_t n,
                            double h, const float *got, double tol_rel,
                            double tol_abs)
{
    double *xd = tu_widened(x, n);
    for (size_t i = 0; i < n; i++) {
        const double fd = central_diff(f, ctx, xd, i, h);
        ck_assert_msg(fabs(got[i] - fd) <= tol_abs + tol_rel * fabs(fd),
                      "%s %s: d/dx[%zu]: expected %.12g got %.12g", isa, what,
                      i, fd, (double)got[i]);
    }
    free(xd);
}

/* L(x) = sum r * conv(x) (pre-activation): linear, so its gradient is the
 * backward-data convolution of r. */
typedef struct conv_ctx {
    const float *weight, *bias;
    const double *r;
    int cin, cout, h, w;
} conv_ctx;

static double conv_dot(const double *x, const void *p)
{
    const conv_ctx *c = p;
    const size_t n = (size_t)c->cout * c->h * c->w;
    double *y = tu_doubles(n), sum = 0;
    ref_conv3x3(x, c->cin, c->h, c->w, c->weight, c->bias, c->cout, 0, y,
                NULL);
    for (size_t i = 0; i < n; i++)
        sum += c->r[i] * y[i];
    free(y);
    return sum;
}

/* The float backward-data convolution rounds each of its 9 cout-term sums
 * within 9 cout u sum|w r| (ref.c's mag); the difference of a linear
 * function in double is exact to ~1e-15 of sum|r y|, far below. */
START_TEST(conv_backward_data)
{
    const nst_kernels *k = tu_isa_or_skip(_i);
    if (!k)
        return;
    const int cin = 5, cout = 7, h = 6, w = 5;
    const size_t nx = (size_t)cin * h * w, ny = (size_t)cout * h * w;
    tu_rng rng = {11};
    float *weight = tu_nan_floats((size_t)cout * cin * 9);
    float *bias = tu_nan_floats(cout), *x = tu_nan_floats(nx);
    float *r = tu_nan_floats(ny), *dx = tu_nan_floats(nx);
    tu_fill(&rng, weight, (size_t)cout * cin * 9, -1, 1);
    tu_fill(&rng, bias, cout, -1, 1);
    tu_fill(&rng, x, nx, -2, 2);
    tu_fill(&rng, r, ny, -1, 1);
    nst_conv conv = {cin, cout, weight, bias, NULL};
    ck_assert(k->conv_prepare(&conv) == 0);
    nst_kctx *kc = tu_kctx(k, 0);
    ck_assert_int_eq(k->conv3x3_backward_data(kc, &conv, r, h, w, dx), 0);
    nst_kctx_free(kc);
    k->conv_release(&conv);

    double *rd = tu_widened(r, ny), *mag = tu_doubles(nx), *unused = tu_doubles(nx);
    ref_conv3x3_backward_data(rd, cout, h, w, weight, cin, unused, mag);
    const conv_ctx ctx = {weight, bias, rd, cin, cout, h, w};
    double *xd = tu_widened(x, nx);
    for (size_t i = 0; i < nx; i++) {
        const double fd = central_diff(conv_dot, &ctx, xd, i, 1.0);
        ck_assert_msg(fabs(dx[i] - fd) <= 9.0 * cout * U * mag[i] + 1e-12,
                      "%s conv backward-data %dx%dx%d -> %d: dx[%zu]: "
                      "expected %.12g got %.12g",
                      k->name, cin, h, w, cout, i, fd, (double)dx[i]);
    }
    free(xd);
    free(rd);
    free(mag);
    free(unused);
    free(weight);
    free(bias);
    free(x);
    free(r);
    free(dx);
}
END_TEST

/* L(z) = sum r * relu(z) with every |z| >= 0.25 and steps of 1e-3: no
 * difference crosses the kink, so on each segment L is linear and the
 * difference exact; the float mask passes r through untouched. */
typedef struct dot_ctx {
    const double *r;
    int c, h, w;
    int max; /* the pools': max, else average */
} dot_ctx;

static double relu_dot(const double *z, const void *p)
{
    const dot_ctx *c = p;
    double sum = 0;
    for (int i = 0; i < c->c; i++)
        sum += c->r[i] * (z[i] > 0 ? z[i] : 0);
    return sum;
}

START_TEST(relu_backward)
{
    const nst_kernels *k = tu_isa_or_skip(_i);
    if (!k)
        return;
    enum { N = 37 };
    tu_rng rng = {12};
    float z[N], y[N], r[N], dy[N];
    for (int i = 0; i < N; i++) {
        const double mag = tu_uniform(&rng, 0.25, 1);
        z[i] = (float)(tu_next(&rng) & 1 ? mag : -mag);
        y[i] = z[i] > 0 ? z[i] : 0;
        r[i] = dy[i] = (float)tu_uniform(&rng, -1, 1);
    }
    k->relu_backward(y, dy, N);
    double *rd = tu_widened(r, N);
    const dot_ctx ctx = {rd, N, 1, 1, 0};
    expect_gradient(k->name, "relu", relu_dot, &ctx, z, N, 1e-3, dy, 1e-12,
                    1e-12);
    free(rd);
}
END_TEST

/* L(x) = sum r * pool(x) on 2 x 7 x 5 (odd sides: the last row and column
 * are dropped and must get 0). Average: linear, and the float gradient
 * r/4 is exact. Max: x holds distinct multiples of 0.1 in random order, so
 * every window's winner leads by >= 0.1 and steps of 1e-3 never change it:
 * L is linear on each difference. */
static double pool_dot(const double *x, const void *p)
{
    const dot_ctx *c = p;
    const size_t n = (size_t)c->c * (c->h / 2) * (c->w / 2);
    double *y = tu_doubles(n), sum = 0;
    if (c->max)
        ref_maxpool2x2(x, c->c, c->h, c->w, y);
    else
        ref_avgpool2x2(x, c->c, c->h, c->w, y);
    for (size_t i = 0; i < n; i++)
        sum += c->r[i] * y[i];
    free(y);
    return sum;
}

static void check_pool(int isa, int max)
{
    const nst_kernels *k = tu_isa_or_skip(isa);
    if (!k)
        return;
    enum { C = 2, H = 7, W = 5, NX = C * H * W, NY = C * (H / 2) * (W / 2) };
    tu_rng rng = {13};
    float x[NX], r[NY], *dx = tu_nan_floats(NX);
    for (int i = 0; i < NX; i++)
        x[i] = (float)(0.1 * i);
    for (int i = NX - 1; i > 0; i--) { /* Fisher-Yates */
        const int j = (int)(tu_next(&rng) % (uint64_t)(i + 1));
        const float t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
    tu_fill(&rng, r, NY, -1, 1);
    if (max)
        k->maxpool2x2_backward(x, r, C, H, W, dx);
    else
        k->avgpool2x2_backward(r, C, H, W, dx);
    double *rd = tu_widened(r, NY);
    const dot_ctx ctx = {rd, C, H, W, max};
    expect_gradient(k->name, max ? "maxpool" : "avgpool", pool_dot, &ctx, x,
                    NX, 1e-3, dx, 1e-9, 1e-12);
    free(rd);
    free(dx);
}

START_TEST(avgpool_backward)
{
    check_pool(_i, 0);
}
END_TEST

START_TEST(maxpool_backward)
{
    check_pool(_i, 1);
}
END_TEST

/* The losses' gradients are accumulated into g: it starts random and the
 * test compares g - g0 against scale * the difference. */
typedef struct loss_ctx {
    const double *p; /* content target, or the style target Gram */
    size_t n;
    int c, m, h, w;
    const double *mask; /* the masked style loss's */
} loss_ctx;

static double content_fn(const double *f, const void *p)
{
    const loss_ctx *c = p;
    return ref_content_loss(f, c->p, c->n);
}

static double tv_fn(const double *x, const void *p)
{
    const loss_ctx *c = p;
    return ref_tv_loss(x, 3, c->h, c->w);
}

/* g - g0, divided by scale. */
static float *added(const float *g, const float *g0, size_t n, double scale)
{
    float *d = tu_nan_floats(n);
    for (size_t i = 0; i < n; i++)
        d[i] = (float)(((double)g[i] - g0[i]) / scale);
    return d;
}

/* Content: quadratic, so central differences are exact up to rounding
 * (1e-16 L / h); the float gradient 2 scale (f - p) / n is the double value
 * rounded, and taking g - g0 back out of g0 ~ 1 costs u |g0| / scale. */
START_TEST(content_loss)
{
    enum { N = 50 };
    const double scale = 0.7;
    tu_rng rng = {14};
    float f[N], p[N], g0[N], g[N];
    tu_fill(&rng, f, N, -3, 3);
    tu_fill(&rng, p, N, -3, 3);
    tu_fill(&rng, g0, N, -1, 1);
    memcpy(g, g0, sizeof g);
    double *fd = tu_widened(f, N), *pd = tu_widened(p, N);
    const double want = ref_content_loss(fd, pd, N);
    ck_assert_double_eq_tol(nst_content_loss(f, p, N, scale, g), want,
                            1e-14 * want);
    ck_assert_double_eq_tol(nst_content_loss(f, p, N, scale, NULL), want,
                            1e-14 * want);
    float *d = added(g, g0, N, scale);
    const loss_ctx ctx = {pd, N, 0, 0, 0, 0, NULL};
    expect_gradient("-", "content loss", content_fn, &ctx, f, N, 1e-3, d,
                    1e-6, 4 * U / scale);
    free(d);
    free(fd);
    free(pd);
}
END_TEST

/* A content sum long enough to be taken in parallel (over fixed parts,
 * added in order): 1, 2 and 3 threads must give the same bytes, loss and
 * gradient, and the loss must match the double reference. Both sum n
 * non-negative terms in double (the reference in one run, worst case n u
 * = 1.1e-11 relative; nst over 64 parts, (n / 64 + 64) u), so 2e-11; a
 * lost or doubled part would be off by 1/64. */
START_TEST(content_loss_threads)
{
    enum { N = 100003, N_THREADS = 3 };
    tu_rng rng = {16};
    float *f = malloc(N * sizeof *f), *p = malloc(N * sizeof *p);
    float *g[N_THREADS];
    double loss[N_THREADS];
    ck_assert(f && p);
    tu_fill(&rng, f, N, -3, 3);
    tu_fill(&rng, p, N, -3, 3);
#ifdef _OPENMP
    const int saved = omp_get_max_threads();
#endif
    for (int t = 0; t < N_THREADS; t++) {
#ifdef _OPENMP
        omp_set_num_threads(t + 1);
#endif
        g[t] = calloc(N, sizeof *g[t]);
        ck_assert_ptr_nonnull(g[t]);
        loss[t] = nst_content_loss(f, p, N, 0.5, g[t]);
    }
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    double *fd = tu_widened(f, N), *pd = tu_widened(p, N);
    const double want = ref_content_loss(fd, pd, N);
    ck_assert_double_eq_tol(loss[0], want, 2e-11 * want);
    for (int t = 1; t < N_THREADS; t++) {
        ck_assert_msg(memcmp(&loss[0], &loss[t], sizeof loss[0]) == 0,
                      "content loss: 1 and %d threads differ: %.17g %.17g",
                      t + 1, loss[0], loss[t]);
        ck_assert_msg(memcmp(g[0], g[t], N * sizeof *g[0]) == 0,
                      "content gradient: 1 and %d threads differ", t + 1);
    }
    for (int t = 0; t < N_THREADS; t++)
        free(g[t]);
    free(fd), free(pd), free(f), free(p);
}
END_TEST

/* Style on F 6 x 11 (values in [0, 2), like ReLU outputs) with a target
 * Gram from another F. Ls is quartic in F: the central difference's
 * truncation h^2 |L'''| / 6 is ~1e-8 of the gradient at h = 1e-4. The
 * float path: G rounds within ~m u |F|^2, D = G - A within ~1e-6 of its
 * entries (O(1) here), and (4 scale / c^2 m) D F sums c terms; 1e-4 of
 * the largest gradient entry leaves a wide margin over that and is still
 * far below any error in the formula.
 *
 * Masked: a mask with exact 0s and 1s and fractions between, so
 * masked-out columns must get exactly nothing. The same arithmetic plus
 * F sqrt(m) and F m, one rounding of u |F| each: the same tolerances
 * hold. */
static double style_fn(const double *f, const void *p)
{
    const loss_ctx *c = p;
    return c->mask ? ref_masked_style_loss(f, c->c, c->m, c->mask, c->p)
                   : ref_style_loss(f, c->c, c->m, c->p);
}

static void check_style_loss(int isa, int masked)
{
    const nst_kernels *k = tu_isa_or_skip(isa);
    if (!k)
        return;
    enum { C = 6, M = 11, N = C * M };
    const double scale = 0.3;
    tu_rng rng = {masked ? 17 : 15};
    float f[N], f2[N], a[C * C], g0[N], g[N], mask[M], root[M];
    float *gram = tu_nan_floats(C * C), *fm = tu_nan_floats(N);
    tu_fill(&rng, f, N, 0, 2);
    tu_fill(&rng, f2, N, 0, 2);
    tu_fill(&rng, g0, N, -1, 1);
    tu_fill(&rng, mask, M, 0, 1);
    mask[0] = mask[5] = 0;
    mask[3] = mask[M - 1] = 1;
    double mask_sum = 0, maskd[M];
    for (int j = 0; j < M; j++) {
        root[j] = sqrtf(mask[j]);
        mask_sum += mask[j];
        maskd[j] = mask[j];
    }
    memcpy(g, g0, sizeof g);
    double *f2d = tu_widened(f2, N), ad[C * C];
    ref_gram(f2d, C, M, 1.0 / M, ad, NULL);
    for (int i = 0; i < C * C; i++)
        a[i] = (float)ad[i];
    ref_widen(a, C * C, ad);
    double *fd = tu_widened(f, N);
    const loss_ctx ctx = {ad, 0, C, M, 0, 0, masked ? maskd : NULL};
    const double want = style_fn(fd, &ctx);
    const char *what = masked ? "masked style loss" : "style loss";
    nst_kctx *kc = tu_kctx(k, 0);
    double got, again;
    for (int pass = 0; pass < 2; pass++) { /* with the gradient, without */
        float *gp = pass == 0 ? g : NULL;
        double *out = pass == 0 ? &got : &again;
        ck_assert_int_eq(masked ? nst_masked_style_loss(kc, f, C, M, mask,
                                                        root, mask_sum, a,
                                                        gram, fm, scale, gp,
                                                        out)
                                : nst_style_loss(kc, f, C, M, a, gram, scale,
                                                 gp, out),
                         0);
    }
    ck_assert_msg(fabs(got - want) <= 1e-4 * want,
                  "%s %s: expected %.12g got %.12g", k->name, what, want, got);
    ck_assert_double_eq(again, got);
    nst_kctx_free(kc);
    float *d = added(g, g0, N, scale);
    double gmax = 0;
    for (int i = 0; i < N; i++)
        gmax = fmax(gmax, fabs(d[i]));
    expect_gradient(k->name, what, style_fn, &ctx, f, N, 1e-4, d, 0,
                    1e-4 * gmax);
    for (int i = 0; masked && i < C; i++) /* masked out: nothing added */
        ck_assert(g[i * M] == g0[i * M] && g[i * M + 5] == g0[i * M + 5]);
    free(d);
    free(fd);
    free(f2d);
    free(gram);
    free(fm);
}

START_TEST(style_loss)
{
    check_style_loss(_i, 0);
}
END_TEST

START_TEST(masked_style_loss)
{
    check_style_loss(_i, 1);
}
END_TEST

/* TV on 3 x 5 x 4, borders and corners included: quadratic, so the
 * differences are exact up to rounding; as for content, g - g0 costs
 * u |g0| / scale. */
START_TEST(tv_loss)
{
    enum { H = 5, W = 4, N = 3 * H * W };
    const double scale = 2.5;
    tu_rng rng = {16};
    float x[N], g0[N], g[N];
    tu_fill(&rng, x, N, -100, 100);
    tu_fill(&rng, g0, N, -1, 1);
    memcpy(g, g0, sizeof g);
    double *xd = tu_widened(x, N);
    const double want = ref_tv_loss(xd, 3, H, W);
    ck_assert_double_eq_tol(nst_tv_loss(x, 3, H, W, scale, g), want,
                            1e-14 * want);
    ck_assert_double_eq_tol(nst_tv_loss(x, 3, H, W, scale, NULL), want,
                            1e-14 * want);
    float *d = added(g, g0, N, scale);
    const loss_ctx ctx = {NULL, 0, 0, 0, H, W, NULL};
    expect_gradient("-", "tv loss", tv_fn, &ctx, x, N, 1e-3, d, 1e-6,
                    4 * U / scale);
    free(d);
    free(xd);
    /* The scale by hand (docs/math.md): one pair, a step of 3 levels, over
     * 1 x 1 x 2 values is 10 * 3^2 / 2 = 45, exact in float and double; its
     * gradient 2 * 10 * (x - neighbour) / 2 = -30 and +30. */
    const float step[2] = {0, 3};
    float gs[2] = {0, 0};
    ck_assert_double_eq(nst_tv_loss(step, 1, 1, 2, 1, gs), 45);
    ck_assert_float_eq(gs[0], -30);
    ck_assert_float_eq(gs[1], 30);
}
END_TEST

/* The whole objective through the real weights. Layer weights all 0 mean
 * none given (NULL); n_styles styles with blend weights, masked[k] giving
 * style k the mask of style_mask(). */
typedef struct config {
    const char *name;
    int content[2], n_content, style[7], n_style;
    nst_pool pool;
    double content_w[2], style_w[7];
    int n_styles;
    double blend[2];
    int masked[2];
} config;

static const config configs[] = {
    {"default (content relu3_3, style relu1_1..relu3_3)", {6}, 1,
     {0, 1, 2, 3, 4, 5, 6}, 7, NST_POOL_AVG, {0}, {0}, 1, {1}, {0}},
    {"content relu2_2 + relu3_3", {3, 6}, 2, {0, 1, 2, 3, 4, 5, 6}, 7,
     NST_POOL_AVG, {0}, {0}, 1, {1}, {0}},
    {"content relu2_2, style relu1_1 + relu2_1, max pool", {3}, 1, {0, 2}, 2,
     NST_POOL_MAX, {0}, {0}, 1, {1}, {0}},
    {"layer weights: content relu1_2:0.5 + relu3_3:2, style relu1_1:0.2 + "
     "relu2_1:1 + relu3_1:3",
     {1, 6}, 2, {0, 2, 4}, 3, NST_POOL_AVG, {0.5, 2}, {0.2, 1, 3}, 1, {1},
     {0}},
    {"two styles blended 3:1, the second masked, max pool", {6}, 1,
     {0, 2, 4}, 3, NST_POOL_MAX, {0}, {0}, 2, {3, 1}, {0, 1}},
    {"two masked styles blended 1:2, layer weights", {3}, 1, {1, 3, 6}, 3,
     NST_POOL_AVG, {0}, {2, 0.5, 1}, 2, {1, 2}, {1, 1}},
};
enum { N_CONFIGS = sizeof configs / sizeof *configs };

static const char *const relu_names[] = {"relu1_1", "relu1_2", "relu2_1",
                                         "relu2_2", "relu3_1", "relu3_2",
                                         "relu3_3"};

/* The image 10 x 9 (odd width: both pools drop a column), the style images
 * 12 x 11 and 8 x 13; weights that give the three terms gradients of
 * similar size (GAMMA with TV's scale of 10: 0.25 on the plain mean). */
enum { H = 10, W = 9, SH = 12, SW = 11, SH2 = 8, SW2 = 13, NPIX = 3 * H * W };
#define ALPHA 1.0
#define BETA 2.5e-5
#define GAMMA 0.025

/* The central difference of the reference objective along v. The network
 * is smooth between x - hv and x + hv only if no pre-activation changes
 * sign and no max-pool window changes its winner there; h shrinks until
 * that holds. The truncation error h^2 |L'''| / 6 is then ~1e-8 relative
 * (h = 1e-2 against pixel values ~100), the rounding 1e-16 |L| / h less. */
static double fd_along(const ref_objective *o, const double *x,
                       const double *v)
{
    double *xp = tu_doubles(NPIX), *xm = tu_doubles(NPIX);
    for (double h = 1e-2; h > 1e-7; h /= 4) {
        for (int i = 0; i < NPIX; i++) {
            xp[i] = x[i] + h * v[i];
            xm[i] = x[i] - h * v[i];
        }
        nst_losses lp, lm;
        ref_acts ap, am;
        ref_objective_eval(o, xp, &lp, &ap);
        ref_objective_eval(o, xm, &lm, &am);
        const int same = ref_acts_same_branches(o->net, &ap, &am);
        ref_acts_free(&ap);
        ref_acts_free(&am);
        if (same) {
            free(xp);
            free(xm);
            return (lp.total - lm.total) / (2 * h);
        }
    }
    ck_abort_msg("no step keeps every ReLU and max-pool branch");
    return 0;
}

/* Mask k of a two-style config: a ramp across the columns for the first
 * style and its complement for the second, with exact 0s and 1s at the
 * sides and fractions between. */
static void style_mask(int k, float mask[H * W])
{
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++) {
            const double ramp = fmin(1, fmax(0, (j - 2 + 0.3 * i) / 4.0));
            mask[i * W + j] = (float)(k == 0 ? ramp : 1 - ramp);
        }
}

enum { N_DIRS = 3, N_PIXELS = 8 };

/* Corners, border middles and the centre, in different channels. */
static const int pixels[N_PIXELS][3] = {
    {0, 0, 0},         {1, 0, W - 1},     {2, H - 1, 0},     {0, H - 1, W - 1},
    {1, 0, W / 2},     {2, H / 2, 0},     {0, H / 2, W - 1}, {1, H / 2, W / 2}};

/* Random directions with entries +-1 and the unit vectors at pixels[]. */
static void directions(double v[N_DIRS + N_PIXELS][NPIX])
{
    tu_rng rng = {21};
    memset(v, 0, sizeof(double) * (N_DIRS + N_PIXELS) * NPIX);
    for (int d = 0; d < N_DIRS; d++)
        for (int i = 0; i < NPIX; i++)
            v[d][i] = tu_next(&rng) & 1 ? 1.0 : -1.0;
    for (int p = 0; p < N_PIXELS; p++)
        v[N_DIRS + p][(pixels[p][0] * H + pixels[p][1]) * W + pixels[p][2]] =
            1.0;
}

/* Tolerances. Along a random direction the derivative sums NPIX gradient
 * entries, each carrying the float backward pass's rounding: seven layers
 * of 9 cin-term sums at ~sqrt(K) u each, and the style terms' G - A, which
 * loses a few digits to cancellation (G and A agree to ~1e-1..1e-3 of
 * their size), leaving ~1e-5 relative; DIR_TOL is ten times that. A single
 * pixel's gradient can be much smaller than the entries it is summed from,
 * so its error is measured against the gradient's RMS as well. */
#define DIR_TOL 1e-4
#define PIX_TOL 1e-4

START_TEST(whole_objective)
{
    const config *cf = &configs[_i];
    char buf[4096];
    const char *path = tu_shared(WEIGHTS, buf, sizeof buf);
    if (!path) {
        printf("SKIP: %s not found (set NST_SHARED)\n", WEIGHTS);
        return;
    }
    int depth = 0;
    for (int i = 0; i < cf->n_content; i++)
        depth = cf->content[i] + 1 > depth ? cf->content[i] + 1 : depth;
    for (int i = 0; i < cf->n_style; i++)
        depth = cf->style[i] + 1 > depth ? cf->style[i] + 1 : depth;
    const nst_objective_spec spec = {
        cf->content, cf->n_content, cf->style, cf->n_style, ALPHA, BETA, GAMMA,
        cf->content_w[0] != 0 ? cf->content_w : NULL,
        cf->style_w[0] != 0 ? cf->style_w : NULL};
    tu_rng rng = {22};
    float *x = tu_random_image(&rng, H, W);
    float *content = tu_random_image(&rng, H, W);
    float *style = tu_random_image(&rng, SH, SW);
    float *style2 = tu_random_image(&rng, SH2, SW2);
    static float masks[2][H * W];
    nst_style_target styles[2] = {{style, SH, SW, cf->blend[0], NULL},
                                  {style2, SH2, SW2, cf->blend[1], NULL}};
    for (int k = 0; k < cf->n_styles; k++)
        if (cf->masked[k]) {
            style_mask(k, masks[k]);
            styles[k].mask = masks[k];
        }

    ref_net r;
    ck_assert_msg(ref_net_load(&r, path, depth, cf->pool == NST_POOL_MAX) == 0,
                  "%s", nst_failure_reason());
    ref_objective ro;
    ck_assert(ref_objective_init_styles(&ro, &r, &spec, content, H, W, styles,
                                        cf->n_styles) == 0);
    double *xd = tu_widened(x, NPIX);
    static double v[N_DIRS + N_PIXELS][NPIX];
    double fd[N_DIRS + N_PIXELS];
    directions(v);
    for (int d = 0; d < N_DIRS + N_PIXELS; d++)
        fd[d] = fd_along(&ro, xd, v[d]);

    /* Whole, and in tiles of 4 pixels (3 x 3 tiles, objective_tiled.c). */
    for (int run = 0; run < 2 * TU_N_ISAS; run++) {
        const nst_kernels *k = tu_isa_or_skip(run / 2);
        if (!k)
            continue;
        nst_vgg net;
        const char *names[] = {relu_names[depth - 1]};
        ck_assert_msg(nst_vgg_load(&net, path, names, 1, cf->pool, k) == 0,
                      "%s", nst_failure_reason());
        const int tile = run % 2 ? 4 : 0;
        nst_objective *o = nst_objective_create_tiled(
            &net, &spec, tile, content, H, W, styles, cf->n_styles);
        ck_assert_msg(o, "%s", nst_failure_reason());
        float *g = tu_nan_floats(NPIX);
        nst_losses with, without;
        ck_assert_int_eq(nst_objective_eval(o, x, &with, g), 0);
        ck_assert_int_eq(nst_objective_eval(o, x, &without, NULL), 0);
        /* The same sums in the same order: equal to the last bit. */
        ck_assert(with.total == without.total &&
                  with.content == without.content &&
                  with.style == without.style && with.tv == without.tv);

        double rms = 0;
        for (int i = 0; i < NPIX; i++)
            rms += (double)g[i] * g[i];
        rms = sqrt(rms / NPIX);
        for (int d = 0; d < N_DIRS + N_PIXELS; d++) {
            double got = 0;
            for (int i = 0; i < NPIX; i++)
                got += g[i] * v[d][i];
            const int pixel = d >= N_DIRS;
            const double tol = pixel ? PIX_TOL * fmax(fabs(fd[d]), rms)
                                     : DIR_TOL * fabs(fd[d]);
            if (pixel) {
                const int *p = pixels[d - N_DIRS];
                ck_assert_msg(fabs(got - fd[d]) <= tol,
                              "%s %s, tile %d: dL/dx at (c %d, y %d, x %d) "
                              "of %dx%d: expected %.9g got %.9g (gradient "
                              "RMS %.3g)",
                              k->name, cf->name, tile, p[0], p[1], p[2], W, H,
                              fd[d], got, rms);
            } else {
                ck_assert_msg(fabs(got - fd[d]) <= tol,
                              "%s %s, tile %d: derivative along random "
                              "direction %d of %dx%d: expected %.9g got %.9g",
                              k->name, cf->name, tile, d, W, H, fd[d], got);
            }
        }
        free(g);
        nst_objective_free(o);
        nst_vgg_free(&net);
    }
    free(xd);
    free(x);
    free(content);
    free(style);
    free(style2);
    ref_objective_free(&ro);
    ref_net_free(&r);
}
END_TEST

/* The objective with real weights for the spec tests: content relu2_2,
 * style relu1_1 + relu2_1 on 10 x 9 images. */
static int spec_net(nst_vgg *net, const nst_kernels *k)
{
    char buf[4096];
    const char *path = tu_shared(WEIGHTS, buf, sizeof buf);
    if (!path) {
        printf("SKIP: %s not found (set NST_SHARED)\n", WEIGHTS);
        return -1;
    }
    const char *names[] = {"relu2_2"};
    ck_assert_msg(nst_vgg_load(net, path, names, 1, NST_POOL_AVG, k) == 0,
                  "%s", nst_failure_reason());
    return 0;
}

static const int spec_content[] = {3}, spec_style[] = {0, 2};

/* Losses and gradient of o at x; 1 if they equal want's to the bit. */
static int same_eval(nst_objective *o, const float *x, const nst_losses *want,
                     const float *want_g)
{
    nst_losses l;
    float *g = tu_nan_floats(NPIX);
    ck_assert_int_eq(nst_objective_eval(o, x, &l, g), 0);
    const int same = l.total == want->total && l.content == want->content &&
                     l.style == want->style && l.tv == want->tv &&
                     memcmp(g, want_g, NPIX * sizeof *g) == 0;
    free(g);
    return same;
}

/* A second style weighted 0 and layer weights of 1 spelled out change
 * nothing, to the last bit: the objective leaves the style out and 1/n is
 * what uniform layer weights divide to. */
START_TEST(neutral_weights_are_exact)
{
    nst_vgg net;
    if (spec_net(&net, tu_isa_or_skip(0)) != 0)
        return;
    tu_rng rng = {23};
    float *x = tu_random_image(&rng, H, W);
    float *content = tu_random_image(&rng, H, W);
    float *style = tu_random_image(&rng, SH, SW);
    float *style2 = tu_random_image(&rng, SH2, SW2);
    const nst_objective_spec plain = {spec_content, 1, spec_style, 2,
                                      ALPHA, BETA, GAMMA, NULL, NULL};
    nst_objective *o = nst_objective_create(&net, &plain, content, H, W,
                                            style, SH, SW);
    ck_assert_msg(o, "%s", nst_failure_reason());
    nst_losses want;
    float *want_g = tu_nan_floats(NPIX);
    ck_assert_int_eq(nst_objective_eval(o, x, &want, want_g), 0);
    nst_objective_free(o);

    const nst_style_target blend[2] = {{style, SH, SW, 1, NULL},
                                       {style2, SH2, SW2, 0, NULL}};
    o = nst_objective_create_styles(&net, &plain, content, H, W, blend, 2);
    ck_assert_msg(o, "%s", nst_failure_reason());
    ck_assert_msg(same_eval(o, x, &want, want_g), "blend 1,0 differs");
    nst_objective_free(o);

    const double ones[] = {1, 1};
    const nst_objective_spec spelled = {spec_content, 1, spec_style, 2,
                                        ALPHA, BETA, GAMMA, ones, ones};
    o = nst_objective_create(&net, &spelled, content, H, W, style, SH, SW);
    ck_assert_msg(o, "%s", nst_failure_reason());
    ck_assert_msg(same_eval(o, x, &want, want_g), "layer weights 1 differ");
    nst_objective_free(o);

    /* ...and a blend of 2:1 does change it. */
    const nst_style_target mixed[2] = {{style, SH, SW, 2, NULL},
                                       {style2, SH2, SW2, 1, NULL}};
    o = nst_objective_create_styles(&net, &plain, content, H, W, mixed, 2);
    ck_assert_msg(o, "%s", nst_failure_reason());
    ck_assert(!same_eval(o, x, &want, want_g));
    nst_objective_free(o);
    free(want_g);
    free(x);
    free(content);
    free(style);
    free(style2);
    nst_vgg_free(&net);
}
END_TEST

/* Specs the objective refuses, each with a reason naming the problem. */
START_TEST(bad_specs)
{
    nst_vgg net;
    if (spec_net(&net, tu_isa_or_skip(0)) != 0)
        return;
    tu_rng rng = {24};
    float *content = tu_random_image(&rng, H, W);
    float *style = tu_random_image(&rng, SH, SW);
    static float mask[H * W]; /* zero: covers nothing */
    const int twice[] = {2, 0, 2};
    const double negative[] = {1, -1}, zeros[] = {0, 0};
    const struct {
        nst_objective_spec spec;
        double blend;
        const float *mask;
        const char *reason;
    } cases[] = {
        {{spec_content, 1, twice, 3, 1, 1, 1, NULL, NULL}, 1, NULL,
         "style layer conv2_1 is listed twice"},
        {{twice, 3, spec_style, 2, 1, 1, 1, NULL, NULL}, 1, NULL,
         "content layer conv2_1 is listed twice"},
        {{spec_content, 1, spec_style, 2, 1, 1, 1, NULL, negative}, 1, NULL,
         "style layer conv2_1 has weight -1"},
        {{spec_content, 1, spec_style, 2, 1, 1, 1, NULL, zeros}, 1, NULL,
         "style layer weights sum to 0"},
        {{spec_content, 1, spec_style, 2, 1, 1, 1, NULL, NULL}, 0, NULL,
         "style blend weights sum to 0"},
        {{spec_content, 1, spec_style, 2, 1, 1, 1, NULL, NULL}, 1, mask,
         "style 1's mask covers nothing at conv1_1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const nst_style_target s = {style, SH, SW, cases[i].blend,
                                    cases[i].mask};
        nst_objective *o = nst_objective_create_styles(
            &net, &cases[i].spec, content, H, W, &s, 1);
        ck_assert_msg(!o, "case %zu accepted", i);
        ck_assert_msg(strstr(nst_failure_reason(), cases[i].reason),
                      "case %zu: expected '%s' in '%s'", i, cases[i].reason,
                      nst_failure_reason());
    }
    free(content);
    free(style);
    nst_vgg_free(&net);
}
END_TEST

static Suite *grad_suite(void)
{
    Suite *s = suite_create("grad");
    TCase *tc = tcase_create("pieces");
    tcase_add_loop_test(tc, conv_backward_data, 0, TU_N_ISAS);
    tcase_add_loop_test(tc, relu_backward, 0, TU_N_ISAS);
    tcase_add_loop_test(tc, avgpool_backward, 0, TU_N_ISAS);
    tcase_add_loop_test(tc, maxpool_backward, 0, TU_N_ISAS);
    tcase_add_test(tc, content_loss);
    tcase_add_test(tc, content_loss_threads);
    tcase_add_loop_test(tc, style_loss, 0, TU_N_ISAS);
    tcase_add_loop_test(tc, masked_style_loss, 0, TU_N_ISAS);
    tcase_add_test(tc, tv_loss);
    suite_add_tcase(s, tc);
    tc = tcase_create("objective");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, whole_objective, 0, N_CONFIGS);
    tcase_add_test(tc, neutral_weights_are_exact);
    tcase_add_test(tc, bad_specs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(grad_suite());
}
