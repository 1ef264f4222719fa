/* The float network and losses against the double reference (ref_net.c) on
 * the real VGG weights, and the loader's checks and errors on small
 * fixtures. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "npz_writer.h"
#include "objective.h"
#include "ref.h"
#include "ref_net.h"
#include "testutil.h"
#include "vgg.h"

#define WEIGHTS "vgg/vgg19_conv1_1-conv3_4.npz"
#define U 0x1p-24 /* float32 unit roundoff */


/* The real weights' path in buf, or NULL after saying loudly why not. */
static const char *weights_or_skip(char *buf, size_t size)
{
    const char *path = tu_shared(WEIGHTS, buf, size);
    if (!path)
        printf("SKIP: %s not found (set NST_SHARED)\n", WEIGHTS);
    return path;
}

/* The real weights up to the deepest of names with pool and the kernels
 * k, their path in buf; 0 after saying loudly why not. */
static int load_real(nst_vgg *net, const char *const *names, int n,
                     nst_pool pool, const nst_kernels *k, char *buf,
                     size_t size)
{
    const char *path = weights_or_skip(buf, size);
    if (!path)
        return 0;
    ck_assert_msg(nst_vgg_load(net, path, names, n, pool, k) == 0, "%s",
                  nst_failure_reason());
    return 1;
}

/* The float forward pass's error, modelled the way probabilistic rounding
 * analysis does (Higham & Mary, 2019): rounding errors act as independent
 * zero-mean terms, so a sum of K terms is off by about sqrt(K) u sum|terms|
 * rather than the worst case K u sum|terms| (which, carried through eight
 * layers of sum|w| ~ 10 gains, allows more error than the activations'
 * size and so would test nothing), and variances propagate through a
 * convolution as sum w^2 var. Per layer the standard deviation is
 *     sd_l^2 = conv(W_l^2, pool(sd_{l-1}^2)) + (9 cin + 1) u^2 mag_l^2,
 * mag_l being ref.c's sum of |terms| per output (bias included), sd = 0 at
 * the image (both sides read the same floats). A pool passes on the mean
 * (avg) or largest (max) input variance, the mean being no smaller than the
 * variance of an average of correlated errors; an average adds its own
 * rounding, 2 u times the mean |input|. ReLU is 1-Lipschitz. Tests allow
 * SIGMAS standard deviations per element. sd[l] is cout x h x w.
 *
 * A Winograd convolution (the AVX2 kernels' F(4x4,3x3)) rounds in its input
 * and output transforms too, and its error follows the whole 6x6 tile, not
 * the 3x3 window: measured over random data it reaches 2e-5 (~340 u) of
 * sum|terms| at worst, a few u typically. WINOGRAD_SD u mag per output is
 * added for every kernel set, so that 8 of them cover the worst seen. */
#define SIGMAS 8
#define WINOGRAD_SD 64

static void forward_sd(const ref_net *r, const ref_acts *a, double **sd)
{
    for (int l = 0; l < a->n; l++) {
        const int cin = r->cin[l], cout = r->cout[l], h = a->h[l], w = a->w[l];
        const size_t n_in = (size_t)cin * h * w, n = (size_t)cout * h * w;
        double *var = tu_doubles(n_in);
        if (l > 0) {
            const int ph = a->h[l - 1], pw = a->w[l - 1];
            const size_t n_prev = (size_t)cin * ph * pw;
            double *prev = tu_doubles(n_prev);
            for (size_t i = 0; i < n_prev; i++)
                prev[i] = sd[l - 1][i] * sd[l - 1][i];
            if (!r->pool_before[l]) {
                memcpy(var, prev, n_in * sizeof *var);
            } else if (r->max_pool) {
                ref_maxpool2x2(prev, cin, ph, pw, var);
            } else {
                double *mean_abs = tu_doubles(n_in);
                ref_avgpool2x2(prev, cin, ph, pw, var);
                for (size_t i = 0; i < n_prev; i++)
                    prev[i] = fabs(a->f[l - 1][i]);
                ref_avgpool2x2(prev, cin, ph, pw, mean_abs);
                for (size_t i = 0; i < n_in; i++)
                    var[i] += (2 * U * mean_abs[i]) * (2 * U * mean_abs[i]);
                free(mean_abs);
            }
            free(prev);
        }
        const size_t nw = (size_t)cout * cin * 9;
        float *w2 = malloc(nw * sizeof *w2);
        float *zero = calloc((size_t)cout, sizeof *zero);
        ck_assert(w2 && zero);
        for (size_t i = 0; i < nw; i++)
            w2[i] = r->weight[l][i] * r->weight[l][i];
        sd[l] = tu_doubles(n);
        ref_conv3x3(var, cin, h, w, w2, zero, cout, 0, sd[l], NULL);
        for (size_t i = 0; i < n; i++)
            sd[l][i] = sqrt(sd[l][i] +
                            ((9.0 * cin + 1) + WINOGRAD_SD * WINOGRAD_SD) *
                                U * U * a->mag[l][i] * a->mag[l][i]);
        free(w2);
        free(zero);
        free(var);
    }
}

static void free_bounds(double **b, int n)
{
    for (int l = 0; l < n; l++)
        free(b[l]);
}

/* Every layer's ReLU output at 13 x 11 (odd sides, so both pools floor)
 * against the reference, within forward_bounds. */
static void check_forward_pass(int isa, nst_pool pool)
{
    const nst_kernels *k = tu_isa_or_skip(isa);
    char path[4096];
    const char *names[] = {"relu3_4"};
    nst_vgg net;
    if (!k || !load_real(&net, names, 1, pool, k, path, sizeof path))
        return;
    ref_net r;
    ck_assert_msg(ref_net_load(&r, path, net.n, pool == NST_POOL_MAX) == 0,
                  "%s", nst_failure_reason());
    const int h = 13, w = 11;
    tu_rng rng = {1};
    float *x = tu_random_image(&rng, h, w);
    nst_vgg_acts a;
    ck_assert(nst_vgg_acts_alloc(&net, h, w, &a) == 0);
    for (int l = 0; l < net.n; l++)
        for (size_t i = 0; i < (size_t)net.layer[l].conv.cout * a.h[l] * a.w[l];
             i++)
            a.f[l][i] = NAN;
    nst_kctx *ctx = tu_kctx(k, 0);
    ck_assert_msg(nst_vgg_forward(&net, ctx, x, net.n, &a) == 0, "%s",
                  nst_failure_reason());
    nst_kctx_free(ctx);

    double *xd = tu_widened(x, (size_t)3 * h * w), *b[NST_VGG_MAX_LAYERS];
    ref_acts ra;
    ref_net_forward(&r, xd, h, w, net.n, &ra);
    forward_sd(&r, &ra, b);
    for (int l = 0; l < net.n; l++) {
        ck_assert_int_eq(a.h[l], ra.h[l]);
        ck_assert_int_eq(a.w[l], ra.w[l]);
        const int lh = a.h[l], lw = a.w[l];
        double bmax = 0, fmaxv = 0;
        for (size_t i = 0; i < (size_t)r.cout[l] * lh * lw; i++) {
            const double err = fabs(a.f[l][i] - ra.f[l][i]);
            ck_assert_msg(err <= SIGMAS * b[l][i],
                          "%s %s pool %s: %dx%d at (c %zu, y %zu, x %zu): "
                          "expected %.9g got %.9g (bound %.3g)",
                          k->name, net.layer[l].name,
                          pool == NST_POOL_MAX ? "max" : "avg", lh, lw,
                          i / ((size_t)lh * lw), i / lw % lh, i % lw,
                          ra.f[l][i], (double)a.f[l][i], SIGMAS * b[l][i]);
            bmax = fmax(bmax, SIGMAS * b[l][i]);
            fmaxv = fmax(fmaxv, ra.f[l][i]);
        }
        /* The tolerance stays a small fraction of the activations, so a
         * wrong weight, bias or pool could not pass. */
        ck_assert_msg(bmax < 1e-3 * fmaxv, "%s: tolerance %g vs largest "
                      "activation %g", net.layer[l].name, bmax, fmaxv);
    }
    free_bounds(b, net.n);
    ref_acts_free(&ra);
    free(xd);
    free(x);
    nst_vgg_acts_free(&a);
    nst_vgg_free(&net);
    ref_net_free(&r);
}

START_TEST(forward_avg_pool)
{
    check_forward_pass(_i, NST_POOL_AVG);
}
END_TEST

START_TEST(forward_max_pool)
{
    check_forward_pass(_i, NST_POOL_MAX);
}
END_TEST

/* The standard deviation of each entry of the float Gram G = F F^T / m
 * under the model of forward_sd: the features' errors move the products by
 * F_i e_j + F_j e_i (variances add), and the float sum of m products and
 * the scaling round within sqrt(m + 1) u sum|F_i F_j| / m. */
static void gram_sd(const double *f, const double *sd, int c, int m,
                    double *out)
{
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            double v = 0, p = 0;
            for (int q = 0; q < m; q++) {
                const double fi = f[(size_t)i * m + q], fj = f[(size_t)j * m + q],
                             si = sd[(size_t)i * m + q], sj = sd[(size_t)j * m + q];
                v += fi * fi * sj * sj + fj * fj * si * si;
                p += fabs(fi * fj);
            }
            out[(size_t)i * c + j] = (sqrt(v) + sqrt(m + 1.0) * U * p) / m;
        }
}

/* The losses at 13 x 11 with a 9 x 14 style image against the reference.
 * With e the features' error bounds, |d(mean (F - P)^2)| <= mean(2 |F - P|
 * (e_F + e_P) + (e_F + e_P)^2); the same with Gram bounds for the style
 * terms (e = SIGMAS standard deviations of forward_sd and gram_sd); TV
 * sees the same floats on both sides and differs by the order of double
 * sums only. */
START_TEST(losses_match_reference)
{
    const nst_kernels *k = tu_isa_or_skip(_i);
    char path[4096];
    const char *names[] = {"relu3_3"};
    nst_vgg net;
    if (!k || !load_real(&net, names, 1, NST_POOL_AVG, k, path, sizeof path))
        return;
    ref_net r;
    ck_assert(ref_net_load(&r, path, net.n, 0) == 0);
    const int h = 13, w = 11, sh = 9, sw = 14;
    tu_rng rng = {2};
    float *x = tu_random_image(&rng, h, w);
    float *content = tu_random_image(&rng, h, w);
    float *style = tu_random_image(&rng, sh, sw);
    const int cl[] = {6}, sl[] = {0, 1, 2, 3, 4, 5, 6};
    const nst_objective_spec spec = {cl, 1, sl, 7, 1.0, 1e-6, 10.0,
                                     NULL, NULL};
    nst_objective *o =
        nst_objective_create(&net, &spec, content, h, w, style, sh, sw);
    ck_assert_msg(o, "%s", nst_failure_reason());
    nst_losses got, want;
    ck_assert_msg(nst_objective_eval(o, x, &got, NULL) == 0, "%s",
                  nst_failure_reason());

    ref_objective ro;
    ck_assert(ref_objective_init(&ro, &r, &spec, content, h, w, style, sh,
                                 sw) == 0);
    double *xd = tu_widened(x, (size_t)3 * h * w);
    ref_acts ax, ac, as;
    ref_objective_eval(&ro, xd, &want, &ax);
    double *cd = tu_widened(content, (size_t)3 * h * w);
    double *sd = tu_widened(style, (size_t)3 * sh * sw);
    ref_net_forward(&r, cd, h, w, net.n, &ac);
    ref_net_forward(&r, sd, sh, sw, net.n, &as);
    double *bx[NST_VGG_MAX_LAYERS], *bc[NST_VGG_MAX_LAYERS],
        *bs[NST_VGG_MAX_LAYERS];
    forward_sd(&r, &ax, bx);
    forward_sd(&r, &ac, bc);
    forward_sd(&r, &as, bs);

    const int lc = 6;
    const size_t nc = (size_t)r.cout[lc] * ax.h[lc] * ax.w[lc];
    double tol_c = 0;
    for (size_t i = 0; i < nc; i++) {
        const double e = SIGMAS * (bx[lc][i] + bc[lc][i]);
        tol_c += 2 * fabs(ax.f[lc][i] - ac.f[lc][i]) * e + e * e;
    }
    tol_c = tol_c / nc + 1e-12 * want.content;

    double tol_s = 1e-12 * want.style;
    for (int l = 0; l < 7; l++) {
        const int c = r.cout[l], m = ax.h[l] * ax.w[l],
                  ms = as.h[l] * as.w[l];
        double *gx = tu_doubles((size_t)c * c), *gs = tu_doubles((size_t)c * c);
        double *ex = tu_doubles((size_t)c * c), *es = tu_doubles((size_t)c * c);
        ref_gram(ax.f[l], c, m, 1.0 / m, gx, NULL);
        ref_gram(as.f[l], c, ms, 1.0 / ms, gs, NULL);
        gram_sd(ax.f[l], bx[l], c, m, ex);
        gram_sd(as.f[l], bs[l], c, ms, es);
        double t = 0;
        for (size_t i = 0; i < (size_t)c * c; i++) {
            const double e = SIGMAS * (ex[i] + es[i]);
            t += 2 * fabs(gx[i] - gs[i]) * e + e * e;
        }
        tol_s += t / ((double)c * c) / 7;
        free(gx);
        free(gs);
        free(ex);
        free(es);
    }
    const double tol_tv = 1e-12 * want.tv;
    const double tol_total = spec.content_weight * tol_c +
                             spec.style_weight * tol_s +
                             spec.tv_weight * tol_tv;
    const struct {
        const char *what;
        double got, want, tol;
    } cmp[] = {{"content", got.content, want.content, tol_c},
               {"style", got.style, want.style, tol_s},
               {"tv", got.tv, want.tv, tol_tv},
               {"total", got.total, want.total, tol_total}};
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(fabs(cmp[i].got - cmp[i].want) <= cmp[i].tol,
                      "%s %s loss at %dx%d: expected %.12g got %.12g (tol %.3g)",
                      k->name, cmp[i].what, w, h, cmp[i].want, cmp[i].got,
                      cmp[i].tol);
        /* The tolerance is a small fraction of the value, so a wrong
         * weighting or normalisation cannot pass. */
        ck_assert_msg(cmp[i].tol < 1e-2 * cmp[i].want, "%s: tol %g vs %g",
                      cmp[i].what, cmp[i].tol, cmp[i].want);
    }

    free_bounds(bx, net.n);
    free_bounds(bc, net.n);
    free_bounds(bs, net.n);
    ref_acts_free(&ax);
    ref_acts_free(&ac);
    ref_acts_free(&as);
    free(xd);
    free(cd);
    free(sd);
    free(x);
    free(content);
    free(style);
    ref_objective_free(&ro);
    nst_objective_free(o);
    nst_vgg_free(&net);
    ref_net_free(&r);
}
END_TEST

START_TEST(shape_chain)
{
    char buf[4096];
    const char *names[] = {"conv2_2", "relu3_4", "relu1_1"};
    nst_vgg net;
    if (!load_real(&net, names, 3, NST_POOL_AVG, &nst_kernels_scalar, buf,
                   sizeof buf))
        return;
    static const struct {
        const char *name;
        int cin, cout, pool_before, h, w;
    } want[] = {{"conv1_1", 3, 64, 0, 13, 11},    {"conv1_2", 64, 64, 0, 13, 11},
                {"conv2_1", 64, 128, 1, 6, 5},    {"conv2_2", 128, 128, 0, 6, 5},
                {"conv3_1", 128, 256, 1, 3, 2},   {"conv3_2", 256, 256, 0, 3, 2},
                {"conv3_3", 256, 256, 0, 3, 2},   {"conv3_4", 256, 256, 0, 3, 2}};
    ck_assert_int_eq(net.n, 8);
    nst_vgg_acts a;
    ck_assert(nst_vgg_acts_alloc(&net, 13, 11, &a) == 0);
    for (int l = 0; l < 8; l++) {
        ck_assert_str_eq(net.layer[l].name, want[l].name);
        ck_assert_int_eq(net.layer[l].conv.cin, want[l].cin);
        ck_assert_int_eq(net.layer[l].conv.cout, want[l].cout);
        ck_assert_int_eq(net.layer[l].pool_before, want[l].pool_before);
        ck_assert_int_eq(a.h[l], want[l].h);
        ck_assert_int_eq(a.w[l], want[l].w);
    }
    nst_vgg_acts_free(&a);
    nst_vgg_free(&net);
}
END_TEST

START_TEST(layer_names)
{
    char path[4096];
    nst_vgg net;
    const char *n33[] = {"relu3_3"}, *n34[] = {"relu3_4"}, *n41[] = {"relu4_1"};
    if (!load_real(&net, n33, 1, NST_POOL_AVG, &nst_kernels_scalar, path,
                   sizeof path))
        return;
    ck_assert_int_eq(net.n, 7);
    ck_assert_int_eq(nst_vgg_find(&net, "relu3_3"), 6);
    ck_assert_int_eq(nst_vgg_find(&net, "conv3_3"), 6);
    ck_assert_int_eq(nst_vgg_find(&net, "relu1_1"), 0);
    ck_assert_int_eq(nst_vgg_find(&net, "relu2_1"), 2);
    ck_assert_int_eq(nst_vgg_find(&net, "relu3_4"), -1);
    ck_assert_ptr_nonnull(strstr(nst_failure_reason(), "relu3_4"));
    static const char *const bad[] = {"relu9_1", "pool1", "relu1_3",
                                      "relu3_5", "conv3_3x", "", "Relu3_3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(nst_vgg_find(&net, bad[i]), -1);
        ck_assert_msg(strstr(nst_failure_reason(), "unknown layer name"),
                      "'%s': %s", bad[i], nst_failure_reason());
    }
    nst_vgg_free(&net);

    ck_assert(nst_vgg_load(&net, path, n34, 1, NST_POOL_AVG,
                           &nst_kernels_scalar) == 0);
    ck_assert_int_eq(net.n, 8);
    ck_assert_int_eq(nst_vgg_find(&net, "relu3_4"), 7);
    nst_vgg_free(&net);

    ck_assert_int_eq(nst_vgg_load(&net, path, n41, 1, NST_POOL_AVG,
                                  &nst_kernels_scalar),
                     -1);
    char want[4200];
    snprintf(want, sizeof want, "%s: no entry conv4_1_W (needed for relu4_1)",
             path);
    ck_assert_str_eq(nst_failure_reason(), want);
}
END_TEST

START_TEST(image_too_small_for_pools)
{
    char buf[4096];
    const char *names[] = {"relu3_1"}; /* after two pools */
    nst_vgg net;
    if (!load_real(&net, names, 1, NST_POOL_AVG, &nst_kernels_scalar, buf,
                   sizeof buf))
        return;
    nst_vgg_acts a;
    ck_assert_int_eq(nst_vgg_acts_alloc(&net, 4, 4, &a), 0);
    ck_assert_int_eq(a.h[4], 1);
    ck_assert_int_eq(a.w[4], 1);
    nst_vgg_acts_free(&a);
    static const int sizes[][2] = {{3, 4}, {4, 3}, {1, 100}, {0, 8}, {8, -1}};
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(
            nst_vgg_acts_alloc(&net, sizes[i][0], sizes[i][1], &a), -1);
        ck_assert_msg(strstr(nst_failure_reason(), "image"), "%s",
                      nst_failure_reason());
    }
    nst_vgg_free(&net);
}
END_TEST

/* The plan is bounded by what a byte count can address, not by a fixed
 * margin per map: a 700x525 image through relu3_3 (about 0.4 GB of maps)
 * fits on a 32-bit target as on a 64-bit one, and sides near INT_MAX are
 * refused with a reason instead of wrapping the offsets. */
START_TEST(activation_plan_bounded_by_address_space)
{
    char buf[4096];
    const char *names[] = {"relu3_3"};
    nst_vgg net;
    if (!load_real(&net, names, 1, NST_POOL_AVG, &nst_kernels_scalar, buf,
                   sizeof buf))
        return;
    nst_vgg_acts a;
    ck_assert_msg(nst_vgg_acts_alloc(&net, 525, 700, &a) == 0, "%s",
                  nst_failure_reason());
    nst_vgg_acts_free(&a);
    ck_assert_int_eq(nst_vgg_acts_alloc(&net, INT_MAX / 2, INT_MAX / 2, &a),
                     -1);
    ck_assert_msg(strstr(nst_failure_reason(), "too large to address"), "%s",
                  nst_failure_reason());
    nst_vgg_free(&net);
}
END_TEST

/* Fixture weights: conv1_1 (3 -> 2), conv1_2 (2 -> 2), conv2_1 (2 -> 3),
 * every value coding its HWIO position as ky*1000 + kx*100 + i*10 + o
 * (exact in float), biases 0.5 + o. */
typedef struct fixture {
    npzw_array a[6];
    double w[3][3 * 3 * 3 * 3], b[3][3];
} fixture;

static void fixture_init(fixture *f)
{
    static const char *const names[3] = {"conv1_1", "conv1_2", "conv2_1"};
    static char keys[6][16];
    static const int cin[3] = {3, 2, 2}, cout[3] = {2, 2, 3};
    memset(f, 0, sizeof *f);
    for (int l = 0; l < 3; l++) {
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
                for (int i = 0; i < cin[l]; i++)
                    for (int o = 0; o < cout[l]; o++)
                        f->w[l][((ky * 3 + kx) * cin[l] + i) * cout[l] + o] =
                            ky * 1000 + kx * 100 + i * 10 + o;
        for (int o = 0; o < cout[l]; o++)
            f->b[l][o] = 0.5 + o;
        snprintf(keys[2 * l], sizeof keys[0], "%s_W", names[l]);
        snprintf(keys[2 * l + 1], sizeof keys[0], "%s_b", names[l]);
        f->a[2 * l] = (npzw_array){.name = keys[2 * l], .descr = "<f4",
                                   .ndim = 4, .shape = {3, 3, cin[l], cout[l]},
                                   .values = f->w[l]};
        f->a[2 * l + 1] = (npzw_array){.name = keys[2 * l + 1], .descr = "<f4",
                                       .ndim = 1, .shape = {cout[l]},
                                       .values = f->b[l]};
    }
}

/* Writes the fixture's first n arrays to dir/name; the path in buf. */
static const char *fixture_write(const fixture *f, int n, const char *name,
                                 char *buf, size_t size)
{
    char dir[4096];
    tu_tmpdir("check_forward", dir, sizeof dir);
    snprintf(buf, size, "%s/%s", dir, name);
    const npzw_options opt = {0};
    ck_assert(npzw_write(buf, f->a, n, &opt, NULL) == 0);
    return buf;
}

/* Loading `name` from the fixture after `change` fails with exactly
 * "<path>: <want>". */
static void expect_load_error(const fixture *f, int n, const char *name,
                              const char *want)
{
    char buf[4200], full[8400];
    const char *path = fixture_write(f, n, "w.npz", buf, sizeof buf);
    const char *names[] = {name};
    nst_vgg net;
    ck_assert_int_eq(
        nst_vgg_load(&net, path, names, 1, NST_POOL_AVG, &nst_kernels_scalar),
        -1);
    snprintf(full, sizeof full, "%s: %s", path, want);
    ck_assert_str_eq(nst_failure_reason(), full);
}

START_TEST(fixture_loads_as_oihw)
{
    fixture f;
    fixture_init(&f);
    char buf[4200];
    const char *path = fixture_write(&f, 6, "w.npz", buf, sizeof buf);
    const char *names[] = {"relu2_1"};
    nst_vgg net;
    ck_assert_msg(nst_vgg_load(&net, path, names, 1, NST_POOL_AVG,
                               &nst_kernels_scalar) == 0,
                  "%s", nst_failure_reason());
    ck_assert_int_eq(net.n, 3);
    ck_assert_int_eq(net.layer[2].pool_before, 1);
    for (int l = 0; l < 3; l++) {
        const nst_conv *c = &net.layer[l].conv;
        for (int o = 0; o < c->cout; o++) {
            ck_assert_float_eq(c->bias[o], 0.5f + o);
            for (int i = 0; i < c->cin; i++)
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                        ck_assert_float_eq(
                            c->weight[((o * c->cin + i) * 3 + ky) * 3 + kx],
                            (float)(ky * 1000 + kx * 100 + i * 10 + o));
        }
    }
    nst_vgg_free(&net);
}
END_TEST

START_TEST(fixture_errors)
{
    /* Each case changes one array of a fresh fixture: the non-zero
     * entries of shape replace its shape's, a non-zero ndim its ndim. */
    static const struct {
        int array;
        int64_t shape[4];
        int ndim;
        int n; /* arrays written */
        const char *layer, *want;
    } cases[] = {
        {0, {0}, 0, 6, "relu2_2", "no entry conv2_2_W (needed for relu2_2)"},
        {0, {0}, 0, 3, "conv1_2", "no entry conv1_2_b (needed for conv1_2)"},
        /* conv2_1_W takes 1 channel, not conv1_2's 2 */
        {4, {0, 0, 1}, 0, 6, "relu2_1",
         "conv2_1_W: shape (3,3,1,3) does not follow conv1_2's 2 output "
         "channels"},
        {0, {0, 0, 1}, 0, 6, "relu1_1",
         "conv1_1_W: shape (3,3,1,2) does not take the 3 channels of an RGB "
         "image"},
        {0, {1, 1}, 0, 6, "relu1_1",
         "conv1_1_W: shape (1,1,3,2) is not a 3x3 kernel (3,3,cin,cout) with "
         "1 to 1024 output channels"},
        {0, {0}, 3, 6, "relu1_1",
         "conv1_1_W: shape (3,3,3) is not a 3x3 kernel (3,3,cin,cout) with 1 "
         "to 1024 output channels"},
        {3, {1}, 0, 6, "relu1_2",
         "conv1_2_b: shape (1,) does not match conv1_2_W's 2 output "
         "channels"},
        /* No conv3_4 entry: a VGG16 file, whose block 3 ends at conv3_3. */
        {0, {0}, 0, 6, "relu3_4", "no entry conv3_4_W (needed for relu3_4)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fixture f;
        fixture_init(&f);
        npzw_array *a = &f.a[cases[i].array];
        for (int d = 0; d < 4; d++)
            if (cases[i].shape[d])
                a->shape[d] = cases[i].shape[d];
        if (cases[i].ndim)
            a->ndim = cases[i].ndim;
        expect_load_error(&f, cases[i].n, cases[i].layer, cases[i].want);
    }

    const char *names[] = {"relu2_1", "pool2"};
    nst_vgg net;
    ck_assert_int_eq(nst_vgg_load(&net, "/nonexistent/w.npz", names, 1,
                                  NST_POOL_AVG, &nst_kernels_scalar),
                     -1);
    ck_assert_ptr_nonnull(strstr(nst_failure_reason(), "/nonexistent/w.npz"));
    ck_assert_int_eq(nst_vgg_load(&net, "/nonexistent/w.npz", names, 2,
                                  NST_POOL_AVG, &nst_kernels_scalar),
                     -1);
    ck_assert_ptr_nonnull(strstr(nst_failure_reason(), "'pool2'"));
}
END_TEST

static Suite *forward_suite(void)
{
    Suite *s = suite_create("forward");
    TCase *tc = tcase_create("network");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, forward_avg_pool, 0, TU_N_ISAS);
    tcase_add_loop_test(tc, forward_max_pool, 0, TU_N_ISAS);
    tcase_add_loop_test(tc, losses_match_reference, 0, TU_N_ISAS);
    tcase_add_test(tc, shape_chain);
    tcase_add_test(tc, layer_names);
    tcase_add_test(tc, image_too_small_for_pools);
    tcase_add_test(tc, activation_plan_bounded_by_address_space);
    suite_add_tcase(s, tc);
    tc = tcase_create("loading");
    tcase_add_test(tc, fixture_loads_as_oihw);
    tcase_add_test(tc, fixture_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(forward_suite());
}
