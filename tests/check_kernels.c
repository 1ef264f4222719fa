/* Every kernel of every instruction set this CPU runs, against the naive
 * double-precision reference (ref.c), over awkward sizes: 1, tile sizes and
 * their neighbours, primes, 1 x N and N x 1 images, and the shapes of the
 * VGG layers at small spatial sizes.
 *
 * Tolerances. A float sum of n terms computed in any order (with or
 * without FMA) has an error bounded by about n * 2^-24 * (sum of |terms|);
 * with rounding errors of random sign the error grows like sqrt(n)
 * instead. tol_sum(n) = 4 sqrt(n) FLT_EPSILON * (sum of |terms|) is eight
 * times that typical growth (the scalar kernels stay below a seventh of
 * it), and still rejects a single missing or extra term (about sum/n) by a
 * wide margin for every n tested here (n <= 2305: 4 * 48 * 1.2e-7 = 2.3e-5
 * against 1/2305 = 4.3e-4).
 *
 * Convolutions may use a fast algorithm: Winograd F(4x4, 3x3) rounds its
 * transformed values, and the output transform magnifies those roundings
 * by up to 8 per dimension, adding an error that does not shrink with n.
 * It stays below 45 FLT_EPSILON * (sum of |terms|) over this sweep
 * (measured, VGG shapes included), so convolutions get 128 FLT_EPSILON on
 * top of tol_sum: still 11 times under a missing term at n = 2305. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../simd/kctx.h"
#include "../simd/simd.h"
#include "error.h"
#include "ref.h"
#include "testutil.h"


static double tol_sum(size_t n)
{
    return 4.0 * sqrt((double)n) * FLT_EPSILON;
}

static double tol_conv(size_t n)
{
    return tol_sum(n) + 128.0 * FLT_EPSILON;
}

/* Outputs carry a guard after their n elements, to catch writes past the
 * end in builds without AddressSanitizer. */
enum { GUARD = 16 };
static const float guard_value = 1234.5f;

static float *guarded(float *a, size_t n)
{
    for (size_t i = n; i < n + GUARD; i++)
        a[i] = guard_value;
    return a;
}

static float *out_alloc(size_t n)
{
    return guarded(tu_nan_floats(n + GUARD), n);
}

static float *in_alloc(tu_rng *rng, size_t n, double lo, double hi)
{
    float *a = malloc((n ? n : 1) * sizeof *a);
    ck_assert_ptr_nonnull(a);
    tu_fill(rng, a, n, lo, hi);
    return a;
}

/* Random values that a kernel updates in place, then the guard. */
static float *inout_alloc(tu_rng *rng, size_t n, double lo, double hi)
{
    return guarded(in_alloc(rng, n + GUARD, lo, hi), n);
}

/* Fails at the first element of got (c x h x w) with |got - ref| >
 * k * mag, or got != ref when mag is NULL, or if the guard was touched. */
static void expect_close(const char *isa, const char *op, const char *shape,
                         const float *got, const double *ref,
                         const double *mag, double k, int c, int h, int w)
{
    const size_t n = (size_t)c * h * w;
    for (size_t i = 0; i < n; i++) {
        const double diff = fabs((double)got[i] - ref[i]);
        const double tol = mag ? k * mag[i] : 0.0;
        if (!(diff <= tol)) /* also catches NaN */
            ck_abort_msg("%s %s %s: [%zu][%zu][%zu] expected %.9g got %.9g "
                         "(|diff| %.3g, tol %.3g)",
                         isa, op, shape, i / ((size_t)h * w), i / w % h,
                         i % w, ref[i], (double)got[i], diff, tol);
    }
    for (size_t i = n; i < n + GUARD; i++)
        if (got[i] != guard_value)
            ck_abort_msg("%s %s %s: wrote past the end of its output "
                         "(element %zu of %zu)",
                         isa, op, shape, i, n);
}

/* ---- convolution ---- */

typedef struct conv_shape {
    int cin, cout, h, w;
} conv_shape;

/* Around the tile sizes kernels are likely to use (4, 6, 8, 16, 32) and
 * primes. */
static const int awkward[] = {1,  2,  3,  5,  6,  7,  8, 9,
                              12, 13, 15, 16, 17, 31, 33};
enum { N_AWKWARD = sizeof awkward / sizeof *awkward };

/* Channel counts swept against each other on small images, image sizes
 * swept with a few channels, thin images, and the VGG layers. */
static int conv_shapes(conv_shape *s)
{
    int n = 0;
    for (int a = 0; a < N_AWKWARD; a++)
        for (int b = 0; b < N_AWKWARD; b++)
            s[n++] = (conv_shape){awkward[a], awkward[b],
                                  awkward[(a + b) % 7],
                                  awkward[(2 * a + b + 3) % 9]};
    for (int a = 0; a < N_AWKWARD; a++)
        for (int b = 0; b < N_AWKWARD; b++)
            s[n++] = (conv_shape){1 + (a + b) % 3, 2 + (a * b) % 7,
                                  awkward[a], awkward[b]};
    static const conv_shape thin[] = {
        {3, 8, 1, 97},  {3, 8, 97, 1},  {5, 3, 2, 61},  {5, 3, 61, 2},
        {2, 17, 1, 1},  {9, 4, 3, 70},  {9, 4, 70, 3},  {16, 16, 1, 40},
        {16, 16, 40, 1}, {4, 33, 37, 41}, {3, 8, 6, 300}, {5, 7, 2, 517},
        {2, 3, 9, 1030},
    };
    for (size_t i = 0; i < sizeof thin / sizeof *thin; i++)
        s[n++] = thin[i];
    static const conv_shape vgg[] = {
        {3, 64, 16, 16},   {64, 64, 17, 13},   {64, 128, 9, 11},
        {128, 128, 16, 16}, {128, 256, 9, 11}, {256, 256, 7, 9},
    };
    for (size_t i = 0; i < sizeof vgg / sizeof *vgg; i++)
        s[n++] = vgg[i];
    return n;
}

enum { MAX_CONV_SHAPES = 2 * N_AWKWARD * N_AWKWARD + 32 };

/* Random weights and bias for one shape; free with conv_free. */
static nst_conv conv_make(const nst_kernels *k, tu_rng *rng,
                          const conv_shape *s)
{
    nst_conv c = {.cin = s->cin, .cout = s->cout};
    c.weight = in_alloc(rng, (size_t)s->cout * s->cin * 9, -1.0, 1.0);
    c.bias = in_alloc(rng, (size_t)s->cout, -1.0, 1.0);
    ck_assert_msg(k->conv_prepare(&c) == 0,
                  "%s conv_prepare cin=%d cout=%d: out of memory", k->name,
                  s->cin, s->cout);
    return c;
}

static void conv_free(const nst_kernels *k, nst_conv *c)
{
    k->conv_release(c);
    free((void *)c->weight);
    free((void *)c->bias);
}

/* One shape of conv3x3_bias_relu (cin channels to cout) or, backward, of
 * conv3x3_backward_data (cout channels to cin). */
static void check_conv(nst_kctx *ctx, const conv_shape *s, int backward,
                       tu_rng *rng)
{
    const nst_kernels *k = nst_kctx_kernels(ctx);
    const char *op = backward ? "conv3x3_backward_data" : "conv3x3_bias_relu";
    char shape[96];
    snprintf(shape, sizeof shape, "cin=%d cout=%d h=%d w=%d", s->cin,
             s->cout, s->h, s->w);
    const int cin = backward ? s->cout : s->cin;
    const int cout = backward ? s->cin : s->cout;
    const size_t nx = (size_t)cin * s->h * s->w;
    const size_t ny = (size_t)cout * s->h * s->w;
    nst_conv c = conv_make(k, rng, s);
    float *x = in_alloc(rng, nx, -1.0, 1.0), *y = out_alloc(ny);
    double *xd = tu_widened(x, nx), *ref = tu_doubles(ny), *mag = tu_doubles(ny);
    if (backward) {
        ck_assert_int_eq(
            k->conv3x3_backward_data(ctx, &c, x, s->h, s->w, y), 0);
        ref_conv3x3_backward_data(xd, s->cout, s->h, s->w, c.weight, s->cin,
                                  ref, mag);
    } else {
        ck_assert_int_eq(k->conv3x3_bias_relu(ctx, &c, x, s->h, s->w, y), 0);
        ref_conv3x3(xd, s->cin, s->h, s->w, c.weight, c.bias, s->cout, 1, ref,
                    mag);
    }
    /* 9 cin products per output, and the bias going forward. */
    expect_close(k->name, op, shape, y, ref, mag,
                 tol_conv((size_t)9 * cin + !backward), cout, s->h, s->w);
    free(xd), free(ref), free(mag), free(x), free(y);
    conv_free(k, &c);
}

/* ---- Gram matrix ---- */

static const int gram_m[] = {1,  2,  3,  5,   7,   8,   9,   15,  16,  17,
                             31, 33, 63, 64,  65,  255, 256, 257, 1031};
enum { N_GRAM_M = sizeof gram_m / sizeof *gram_m };

typedef struct gram_shape {
    int c, m;
} gram_shape;

/* Every awkward c against every m, then VGG-sized ones. */
static int gram_shapes(gram_shape *s)
{
    int n = 0;
    for (int a = 0; a < N_AWKWARD; a++)
        for (int b = 0; b < N_GRAM_M; b++)
            s[n++] = (gram_shape){awkward[a], gram_m[b]};
    static const gram_shape vgg[] = {{64, 4099}, {128, 577}, {256, 99}};
    for (size_t i = 0; i < sizeof vgg / sizeof *vgg; i++)
        s[n++] = vgg[i];
    return n;
}

enum { MAX_GRAM_SHAPES = N_AWKWARD * N_GRAM_M + 8 };

/* Features: mixed signs, or ReLU-like (about half exact zeros, the rest
 * positive) on odd shapes. */
static float *features(tu_rng *rng, size_t n, int relu_like)
{
    float *f = in_alloc(rng, n, -1.0, 1.0);
    if (relu_like)
        for (size_t i = 0; i < n; i++)
            f[i] = f[i] > 0.0f ? f[i] : 0.0f;
    return f;
}

static void check_gram(nst_kctx *ctx, const gram_shape *s, int shape_no,
                       tu_rng *rng)
{
    const nst_kernels *k = nst_kctx_kernels(ctx);
    char shape[96];
    const float scale = shape_no % 3 ? 1.0f / (float)s->m : -0.75f;
    snprintf(shape, sizeof shape, "c=%d m=%d scale=%g", s->c, s->m,
             (double)scale);
    const size_t nf = (size_t)s->c * s->m, ng = (size_t)s->c * s->c;
    float *f = features(rng, nf, shape_no & 1), *g = out_alloc(ng);
    ck_assert_int_eq(k->gram(ctx, f, s->c, s->m, scale, g), 0);

    double *fd = tu_widened(f, nf), *ref = tu_doubles(ng), *mag = tu_doubles(ng);
    ref_gram(fd, s->c, s->m, scale, ref, mag);
    /* m products, then the scaling. */
    expect_close(k->name, "gram", shape, g, ref, mag,
                 tol_sum((size_t)s->m + 1), 1, s->c, s->c);
    for (int i = 0; i < s->c; i++)
        for (int j = i + 1; j < s->c; j++)
            if (memcmp(&g[(size_t)i * s->c + j], &g[(size_t)j * s->c + i],
                       sizeof *g) != 0)
                ck_abort_msg("%s gram %s: not symmetric: g[%d][%d] = %.9g, "
                             "g[%d][%d] = %.9g",
                             k->name, shape, i, j,
                             (double)g[(size_t)i * s->c + j], j, i,
                             (double)g[(size_t)j * s->c + i]);
    free(fd), free(ref), free(mag), free(f), free(g);
}

static void check_gram_backward(nst_kctx *ctx, const gram_shape *s,
                                int shape_no, tu_rng *rng)
{
    const nst_kernels *k = nst_kctx_kernels(ctx);
    char shape[96];
    /* Scaled so that scale * D F and the initial df have similar sizes,
     * and an accumulate that overwrote df would be caught. */
    const float scale = (shape_no % 3 ? 1.0f : -1.0f) / sqrtf((float)s->c);
    snprintf(shape, sizeof shape, "c=%d m=%d scale=%g", s->c, s->m,
             (double)scale);
    const size_t nf = (size_t)s->c * s->m, nd = (size_t)s->c * s->c;
    float *f = features(rng, nf, shape_no & 1);
    float *d = in_alloc(rng, nd, -1.0, 1.0);
    for (int i = 0; i < s->c; i++)
        for (int j = 0; j < i; j++)
            d[(size_t)i * s->c + j] = d[(size_t)j * s->c + i];
    float *df = inout_alloc(rng, nf, -1.0, 1.0);

    double *ref = tu_widened(df, nf), *mag = tu_doubles(nf);
    double *fd = tu_widened(f, nf), *dd = tu_widened(d, nd);
    k->gram_backward(ctx, d, f, s->c, s->m, scale, df);
    ref_gram_backward(dd, fd, s->c, s->m, scale, ref, mag);
    /* c products, the scaling and the addition to df. */
    expect_close(k->name, "gram_backward", shape, df, ref, mag,
                 tol_sum((size_t)s->c + 2), 1, s->c, s->m);
    free(ref), free(mag), free(fd), free(dd), free(f), free(d), free(df);
}

/* The kernels that run over a list of shapes. */
enum shape_op { CONV_FORWARD, CONV_BACKWARD, GRAM, GRAM_BACKWARD };

/* Runs op over every shape of its kind in one kernel context. */
static void sweep_shapes(const nst_kernels *k, enum shape_op op,
                         uint64_t seed)
{
    tu_rng rng = {seed};
    nst_kctx *ctx = tu_kctx(k, 0);
    if (op == CONV_FORWARD || op == CONV_BACKWARD) {
        conv_shape s[MAX_CONV_SHAPES];
        const int n = conv_shapes(s);
        for (int i = 0; i < n; i++)
            check_conv(ctx, &s[i], op == CONV_BACKWARD, &rng);
    } else {
        gram_shape s[MAX_GRAM_SHAPES];
        const int n = gram_shapes(s);
        for (int i = 0; i < n; i++)
            if (op == GRAM)
                check_gram(ctx, &s[i], i, &rng);
            else
                check_gram_backward(ctx, &s[i], i, &rng);
    }
    nst_kctx_free(ctx);
}

/* A test that runs once per kernel set (kernels_suite): sweep(k, what, seed)
 * with set _i, if this CPU runs it. */
#define ISA_TEST(name, sweep, what, seed)                                     \
    START_TEST(name)                                                          \
    {                                                                         \
        const nst_kernels *k = tu_isa_or_skip(_i);                           \
        if (k)                                                                \
            sweep(k, what, seed);                                             \
    }                                                                         \
    END_TEST

ISA_TEST(test_conv_forward, sweep_shapes, CONV_FORWARD, 101)
ISA_TEST(test_conv_backward_data, sweep_shapes, CONV_BACKWARD, 202)
ISA_TEST(test_gram, sweep_shapes, GRAM, 303)
ISA_TEST(test_gram_backward, sweep_shapes, GRAM_BACKWARD, 404)

/* ---- ReLU and pooling ---- */

START_TEST(test_relu_backward)
{
    const nst_kernels *k = tu_isa_or_skip(_i);
    if (!k)
        return;
    static const size_t sizes[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33,
                                   1000, 4099};
    tu_rng rng = {505};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        const size_t n = sizes[s];
        /* Outputs of a ReLU: zeros (both signs, as y > 0 must reject -0)
         * and positives, with a few negatives for good measure. */
        float *y = in_alloc(&rng, n, -0.5, 1.0);
        for (size_t i = 0; i < n; i++)
            if (i % 5 == 1)
                y[i] = i % 2 ? 0.0f : -0.0f;
        float *dy = inout_alloc(&rng, n, -1.0, 1.0);
        double *yd = tu_widened(y, n), *ref = tu_widened(dy, n);
        k->relu_backward(y, dy, n);
        ref_relu_backward(yd, ref, n);
        char shape[32];
        snprintf(shape, sizeof shape, "n=%zu", n);
        expect_close(k->name, "relu_backward", shape, dy, ref, NULL, 0.0, 1, 1,
                     (int)n);
        free(y), free(dy), free(yd), free(ref);
    }
}
END_TEST

/* Small awkward sides (the SIMD kernels take 4 or 8 windows a step: 8,
 * 9, 16, 17 and 33 columns leave 0..4 leftovers), and the sides of the VGG
 * maps where the kernels once seemed to part from the scalar ones: 64+
 * pixels with an odd side after a pool (63, 65, 97, 131; 130 pools to 65). */
static const int pool_sizes[] = {1,  2,  3,  4,  5,  7,  8,  9,   16,
                                 17, 31, 33, 63, 64, 65, 97, 130, 131};
enum { N_POOL_SIZES = sizeof pool_sizes / sizeof *pool_sizes };

/* Pool inputs: random floats; small integers, so that many windows hold
 * their maximum more than once; or ReLU outputs, about half exact zeros,
 * as the network feeds its pools (windows of tied zeros). */
enum { POOL_RANDOM, POOL_TIES, POOL_RELU, N_POOL_INPUTS };
static const char *const pool_input_names[N_POOL_INPUTS] = {"", " (ties)",
                                                            " (relu)"};

static float *pool_input(tu_rng *rng, size_t n, int kind)
{
    float *x = in_alloc(rng, n, -1.0, 1.0);
    for (size_t i = 0; i < n; i++)
        if (kind == POOL_TIES)
            x[i] = floorf(3.0f * x[i]);
        else if (kind == POOL_RELU)
            x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return x;
}

/* Runs fn(k, c, h, w, kind, rng, shape) over every pool shape and input
 * kind. */
typedef void pool_check(const nst_kernels *k, int c, int h, int w, int kind,
                        tu_rng *rng, const char *shape);

static void sweep_pools(const nst_kernels *k, pool_check *fn, uint64_t seed)
{
    tu_rng rng = {seed};
    for (int a = 0; a < N_POOL_SIZES; a++)
        for (int b = 0; b < N_POOL_SIZES; b++)
            for (int kind = 0; kind < N_POOL_INPUTS; kind++) {
                const int c = 1 + (a + 2 * b + kind) % 4;
                const int h = pool_sizes[a], w = pool_sizes[b];
                char shape[64];
                snprintf(shape, sizeof shape, "c=%d h=%d w=%d%s", c, h, w,
                         pool_input_names[kind]);
                fn(k, c, h, w, kind, &rng, shape);
            }
    char shape[64];
    snprintf(shape, sizeof shape, "c=%d h=%d w=%d (relu)", 64, 17, 13);
    fn(k, 64, 17, 13, POOL_RELU, &rng, shape);
}

/* Fails unless got (n floats) has the scalar kernel's bits, want. */
static void expect_scalar_bits(const char *isa, const char *op,
                               const char *shape, const float *got,
                               const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof *got) != 0)
            ck_abort_msg("%s %s %s: element %zu is %.9g, the scalar "
                         "kernel's %.9g",
                         isa, op, shape, i, (double)got[i], (double)want[i]);
}

static void check_avgpool(const nst_kernels *k, int c, int h, int w, int kind,
                          tu_rng *rng, const char *shape)
{
    const size_t nx = (size_t)c * h * w, ny = (size_t)c * (h / 2) * (w / 2);
    float *x = pool_input(rng, nx, kind), *y = out_alloc(ny);
    k->avgpool2x2(x, c, h, w, y);
    double *xd = tu_widened(x, nx), *ref = tu_doubles(ny), *mag = tu_doubles(ny);
    ref_avgpool2x2(xd, c, h, w, ref);
    for (size_t i = 0; i < nx; i++)
        xd[i] = fabs(xd[i]);
    ref_avgpool2x2(xd, c, h, w, mag);
    /* Three float additions, each off by at most 2^-24 of a partial sum
     * no larger than the sum of |x|, and an exact scaling by 1/4: the error
     * is at most 3 * 2^-24 * 4 * mag = 6 FLT_EPSILON * mag, where mag is
     * the mean of |x| over the window. */
    expect_close(k->name, "avgpool2x2", shape, y, ref, mag, 6.0 * FLT_EPSILON,
                 c, h / 2, w / 2);
    /* Every instruction set adds in the scalar kernel's order: same bits. */
    float *y_scalar = out_alloc(ny);
    nst_kernels_scalar.avgpool2x2(x, c, h, w, y_scalar);
    expect_scalar_bits(k->name, "avgpool2x2", shape, y, y_scalar, ny);
    free(x), free(y), free(y_scalar), free(xd), free(ref), free(mag);
}

static void check_avgpool_backward(const nst_kernels *k, int c, int h, int w,
                                   int kind, tu_rng *rng, const char *shape)
{
    (void)kind;
    const size_t nx = (size_t)c * h * w, ny = (size_t)c * (h / 2) * (w / 2);
    float *dy = in_alloc(rng, ny, -1.0, 1.0), *dx = out_alloc(nx);
    k->avgpool2x2_backward(dy, c, h, w, dx);
    double *dyd = tu_widened(dy, ny), *ref = tu_doubles(nx);
    ref_avgpool2x2_backward(dyd, c, h, w, ref);
    /* dy / 4 is exact in float. */
    expect_close(k->name, "avgpool2x2_backward", shape, dx, ref, NULL, 0.0, c,
                 h, w);
    free(dy), free(dx), free(dyd), free(ref);
}

static void check_maxpool(const nst_kernels *k, int c, int h, int w, int kind,
                          tu_rng *rng, const char *shape)
{
    const size_t nx = (size_t)c * h * w, ny = (size_t)c * (h / 2) * (w / 2);
    float *x = pool_input(rng, nx, kind), *y = out_alloc(ny);
    k->maxpool2x2(x, c, h, w, y);
    double *xd = tu_widened(x, nx), *ref = tu_doubles(ny);
    ref_maxpool2x2(xd, c, h, w, ref);
    expect_close(k->name, "maxpool2x2", shape, y, ref, NULL, 0.0, c, h / 2,
                 w / 2);
    float *y_scalar = out_alloc(ny);
    nst_kernels_scalar.maxpool2x2(x, c, h, w, y_scalar);
    expect_scalar_bits(k->name, "maxpool2x2", shape, y, y_scalar, ny);
    free(x), free(y), free(y_scalar), free(xd), free(ref);
}

static void check_maxpool_backward(const nst_kernels *k, int c, int h, int w,
                                   int kind, tu_rng *rng, const char *shape)
{
    const size_t nx = (size_t)c * h * w, ny = (size_t)c * (h / 2) * (w / 2);
    float *x = pool_input(rng, nx, kind), *dx = out_alloc(nx);
    float *dy = in_alloc(rng, ny, -1.0, 1.0);
    k->maxpool2x2_backward(x, dy, c, h, w, dx);
    double *xd = tu_widened(x, nx), *dyd = tu_widened(dy, ny), *ref = tu_doubles(nx);
    ref_maxpool2x2_backward(xd, dyd, c, h, w, ref);
    expect_close(k->name, "maxpool2x2_backward", shape, dx, ref, NULL, 0.0, c,
                 h, w);
    float *dx_scalar = out_alloc(nx);
    nst_kernels_scalar.maxpool2x2_backward(x, dy, c, h, w, dx_scalar);
    expect_scalar_bits(k->name, "maxpool2x2_backward", shape, dx, dx_scalar,
                       nx);
    free(x), free(dx), free(dx_scalar), free(dy), free(xd), free(dyd);
    free(ref);
}

ISA_TEST(test_avgpool, sweep_pools, check_avgpool, 606)
ISA_TEST(test_avgpool_backward, sweep_pools, check_avgpool_backward, 707)
ISA_TEST(test_maxpool, sweep_pools, check_maxpool, 808)
ISA_TEST(test_maxpool_backward, sweep_pools, check_maxpool_backward, 909)

/* ---- Adam ---- */

/* One step from random moments against ref_adam_update at steps t = 1 and
 * t = 30, where the bias corrections are far from and closer to 1.
 *
 * Tolerances, with u = 2^-24 = FLT_EPSILON / 2 the float rounding bound:
 * m = b1 m + k1 g rounds 3 times, each by at most u times
 * mag_m = |b1 m| + |k1 g|; v = b2 v + k2 g g rounds 4 times, by at most u
 * times mag_v = v (all its terms are positive). The step then has a
 * relative error of at most 2u mag_m / |m| from m, 2u from v (through the
 * square root) and, in float, about 7u from forming it (two constants,
 * sqrt, two products, the sum, the quotient); the update of x rounds by
 * u |x|. Taking S, the step with |m| replaced by mag_m, the error is below
 * u |x| + 11u S; the test allows FLT_EPSILON (|x| + 8 S), near 1.5 times
 * that. A missing bias correction or a wrong decay is off by far more
 * than 8 float ulps of the step. Elements with m = v = g = 0 must not
 * move. m and v are also checked to be the scalar kernel's bits. */
static void check_adam(const nst_kernels *k, size_t n, long t, tu_rng *rng)
{
    const double beta1 = 0.9, beta2 = 0.999, lr = 0.5;
    const nst_adam_coeffs p = {
        .b1 = (float)beta1,
        .b2 = (float)beta2,
        .k1 = (float)(1.0 - beta1),
        .k2 = (float)(1.0 - beta2),
        .lr = lr,
        .c1 = 1.0 - pow(beta1, (double)t),
        .c2 = 1.0 - pow(beta2, (double)t),
        .eps = 1e-8,
    };
    float *x = inout_alloc(rng, n, -2.0, 2.0);
    float *m = inout_alloc(rng, n, -1.0, 1.0);
    float *v = inout_alloc(rng, n, 0.0, 1.0);
    float *g = in_alloc(rng, n, -2.0, 2.0);
    for (size_t i = 3; i < n; i += 7)
        m[i] = v[i] = g[i] = 0.0f;
    double *xr = tu_widened(x, n), *mr = tu_widened(m, n), *vr = tu_widened(v, n);
    double *gd = tu_widened(g, n);
    double *mag_x = tu_doubles(n), *mag_m = tu_doubles(n);
    for (size_t i = 0; i < n; i++)
        mag_m[i] = fabs((double)p.b1 * mr[i]) + fabs((double)p.k1 * gd[i]);
    float *m_scalar = malloc(n * sizeof *m), *v_scalar = malloc(n * sizeof *v);
    float *x_scalar = malloc(n * sizeof *x);
    ck_assert(m_scalar && v_scalar && x_scalar);
    memcpy(m_scalar, m, n * sizeof *m);
    memcpy(v_scalar, v, n * sizeof *v);
    memcpy(x_scalar, x, n * sizeof *x);

    k->adam_update(&p, x, m, v, g, n);
    nst_kernels_scalar.adam_update(&p, x_scalar, m_scalar, v_scalar, g, n);
    ref_adam_update(p.b1, p.b2, p.k1, p.k2, p.lr, p.c1, p.c2, p.eps, xr, mr,
                    vr, gd, n);
    for (size_t i = 0; i < n; i++) {
        const double s = p.lr / p.c1 * mag_m[i] / (sqrt(vr[i] / p.c2) + p.eps);
        mag_x[i] = fabs(xr[i]) + 8.0 * s;
    }
    char shape[48];
    snprintf(shape, sizeof shape, "n=%zu t=%ld", n, t);
    expect_close(k->name, "adam_update m", shape, m, mr, mag_m,
                 2.0 * FLT_EPSILON, 1, 1, (int)n);
    expect_close(k->name, "adam_update v", shape, v, vr, vr,
                 3.0 * FLT_EPSILON, 1, 1, (int)n);
    expect_close(k->name, "adam_update x", shape, x, xr, mag_x, FLT_EPSILON,
                 1, 1, (int)n);
    for (size_t i = 0; i < n; i++)
        if (memcmp(&m[i], &m_scalar[i], sizeof *m) != 0 ||
            memcmp(&v[i], &v_scalar[i], sizeof *v) != 0)
            ck_abort_msg("%s adam_update %s: moments at %zu are %.9g, %.9g, "
                         "the scalar kernel's %.9g, %.9g",
                         k->name, shape, i, (double)m[i], (double)v[i],
                         (double)m_scalar[i], (double)v_scalar[i]);
    free(x), free(m), free(v), free(g), free(xr), free(mr), free(vr);
    free(gd), free(mag_x), free(mag_m), free(m_scalar), free(v_scalar);
    free(x_scalar);
}

START_TEST(test_adam)
{
    const nst_kernels *k = tu_isa_or_skip(_i);
    if (!k)
        return;
    static const size_t sizes[] = {1, 7, 8, 9, 15, 16, 17, 1000, 1031};
    static const long steps[] = {1, 30};
    tu_rng rng = {1111};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (size_t t = 0; t < sizeof steps / sizeof *steps; t++)
            check_adam(k, sizes[s], steps[t], &rng);
}
END_TEST

/* ---- thread count ---- */

/* The kernels split outputs, never reductions, between threads, so 1, 2
 * and 3 threads must give the same bytes. */
START_TEST(test_thread_count_invariance)
{
    const nst_kernels *k = tu_isa_or_skip(_i);
    if (!k)
        return;
#ifdef _OPENMP
    if (omp_get_thread_limit() < 2) {
        printf("SKIP %s thread count invariance: OMP_THREAD_LIMIT=1\n",
               k->name);
        return;
    }
    static const conv_shape convs[] = {{17, 33, 13, 19}, {64, 64, 16, 16}};
    static const gram_shape grams[] = {{37, 1031}, {64, 4099}};
    static const int threads[] = {1, 2, 3};
    enum { N_THREADS = sizeof threads / sizeof *threads };
    tu_rng rng = {1010};

    for (size_t s = 0; s < sizeof convs / sizeof *convs; s++) {
        const conv_shape *cs = &convs[s];
        const size_t nx = (size_t)cs->cin * cs->h * cs->w;
        const size_t ny = (size_t)cs->cout * cs->h * cs->w;
        nst_conv c = conv_make(k, &rng, cs);
        float *x = in_alloc(&rng, nx, -1.0, 1.0);
        float *dy = in_alloc(&rng, ny, -1.0, 1.0);
        float *y[N_THREADS], *dx[N_THREADS];
        for (int t = 0; t < N_THREADS; t++) {
            nst_kctx *ctx = tu_kctx(k, threads[t]);
            y[t] = out_alloc(ny);
            dx[t] = out_alloc(nx);
            ck_assert_int_eq(
                k->conv3x3_bias_relu(ctx, &c, x, cs->h, cs->w, y[t]), 0);
            ck_assert_int_eq(
                k->conv3x3_backward_data(ctx, &c, dy, cs->h, cs->w, dx[t]), 0);
            nst_kctx_free(ctx);
        }
        for (int t = 1; t < N_THREADS; t++) {
            ck_assert_msg(memcmp(y[0], y[t], ny * sizeof(float)) == 0,
                          "%s conv3x3_bias_relu cin=%d cout=%d h=%d w=%d: "
                          "1 and %d threads differ",
                          k->name, cs->cin, cs->cout, cs->h, cs->w,
                          threads[t]);
            ck_assert_msg(memcmp(dx[0], dx[t], nx * sizeof(float)) == 0,
                          "%s conv3x3_backward_data cin=%d cout=%d h=%d "
                          "w=%d: 1 and %d threads differ",
                          k->name, cs->cin, cs->cout, cs->h, cs->w,
                          threads[t]);
        }
        for (int t = 0; t < N_THREADS; t++)
            free(y[t]), free(dx[t]);
        free(x), free(dy);
        conv_free(k, &c);
    }

    for (size_t s = 0; s < sizeof grams / sizeof *grams; s++) {
        const gram_shape *gs = &grams[s];
        const size_t nf = (size_t)gs->c * gs->m, ng = (size_t)gs->c * gs->c;
        const float scale = 1.0f / (float)gs->m;
        float *f = features(&rng, nf, 1);
        float *d = in_alloc(&rng, ng, -1.0, 1.0);
        for (int i = 0; i < gs->c; i++)
            for (int j = 0; j < i; j++)
                d[(size_t)i * gs->c + j] = d[(size_t)j * gs->c + i];
        float *df0 = in_alloc(&rng, nf, -1.0, 1.0);
        float *g[N_THREADS], *df[N_THREADS];
        for (int t = 0; t < N_THREADS; t++) {
            nst_kctx *ctx = tu_kctx(k, threads[t]);
            g[t] = out_alloc(ng);
            df[t] = malloc(nf * sizeof(float));
            ck_assert_ptr_nonnull(df[t]);
            memcpy(df[t], df0, nf * sizeof(float));
            ck_assert_int_eq(k->gram(ctx, f, gs->c, gs->m, scale, g[t]), 0);
            k->gram_backward(ctx, d, f, gs->c, gs->m, scale, df[t]);
            nst_kctx_free(ctx);
        }
        for (int t = 1; t < N_THREADS; t++) {
            ck_assert_msg(memcmp(g[0], g[t], ng * sizeof(float)) == 0,
                          "%s gram c=%d m=%d: 1 and %d threads differ",
                          k->name, gs->c, gs->m, threads[t]);
            ck_assert_msg(memcmp(df[0], df[t], nf * sizeof(float)) == 0,
                          "%s gram_backward c=%d m=%d: 1 and %d threads "
                          "differ",
                          k->name, gs->c, gs->m, threads[t]);
        }
        for (int t = 0; t < N_THREADS; t++)
            free(g[t]), free(df[t]);
        free(f), free(d), free(df0);
    }
#else
    printf("SKIP thread count invariance: built without OpenMP\n");
#endif
}
END_TEST

/* ---- cache size ---- */

/* The blocks follow the L2 size of the kernel context, and no sum is split
 * by them, so the smallest and a large L2 must give the same bytes. The
 * shapes make the blocks differ: for the AVX2 convolution 16 against 48
 * tiles per block (64 channels, 33 tiles a row), for the Gram's packed
 * slice one micro-kernel call of columns against all 1031. */
START_TEST(test_cache_size_invariance)
{
    const nst_kernels *k = tu_isa_or_skip(_i);
    if (!k)
        return;
    static const size_t l2[] = {NST_KCTX_L2_MIN, 4u << 20};
    const conv_shape cs = {64, 64, 5, 131};
    const int gc = 37, gm = 1031;
    const size_t nx = (size_t)cs.cin * cs.h * cs.w;
    const size_t ny = (size_t)cs.cout * cs.h * cs.w;
    const size_t nf = (size_t)gc * gm, ng = (size_t)gc * gc;
    tu_rng rng = {2020};
    nst_conv c = conv_make(k, &rng, &cs);
    float *x = in_alloc(&rng, nx, -1.0, 1.0);
    float *dy = in_alloc(&rng, ny, -1.0, 1.0);
    float *f = features(&rng, nf, 1);
    float *y[2], *dx[2], *g[2];
    for (int t = 0; t < 2; t++) {
        nst_kctx *ctx = tu_kctx(k, 0);
        nst_kctx_set_l2_bytes(ctx, l2[t]);
        ck_assert_uint_eq(nst_kctx_l2_bytes(ctx), l2[t]);
        y[t] = out_alloc(ny);
        dx[t] = out_alloc(nx);
        g[t] = out_alloc(ng);
        ck_assert_int_eq(k->conv3x3_bias_relu(ctx, &c, x, cs.h, cs.w, y[t]),
                         0);
        ck_assert_int_eq(
            k->conv3x3_backward_data(ctx, &c, dy, cs.h, cs.w, dx[t]), 0);
        ck_assert_int_eq(k->gram(ctx, f, gc, gm, 1.0f / gm, g[t]), 0);
        nst_kctx_free(ctx);
    }
    ck_assert_msg(memcmp(y[0], y[1], ny * sizeof(float)) == 0,
                  "%s conv3x3_bias_relu: L2 %zu and %zu bytes differ",
                  k->name, l2[0], l2[1]);
    ck_assert_msg(memcmp(dx[0], dx[1], nx * sizeof(float)) == 0,
                  "%s conv3x3_backward_data: L2 %zu and %zu bytes differ",
                  k->name, l2[0], l2[1]);
    ck_assert_msg(memcmp(g[0], g[1], ng * sizeof(float)) == 0,
                  "%s gram c=%d m=%d: L2 %zu and %zu bytes differ", k->name,
                  gc, gm, l2[0], l2[1]);
    for (int t = 0; t < 2; t++)
        free(y[t]), free(dx[t]), free(g[t]);
    free(x), free(dy), free(f);
    conv_free(k, &c);
}
END_TEST

/* ---- suite ---- */

/* One test case per kernel, each test run once per kernel set. */
static Suite *kernels_suite(void)
{
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"conv3x3_bias_relu", test_conv_forward},
        {"conv3x3_backward_data", test_conv_backward_data},
        {"gram", test_gram},
        {"gram_backward", test_gram_backward},
        {"relu_backward", test_relu_backward},
        {"avgpool2x2", test_avgpool},
        {"avgpool2x2_backward", test_avgpool_backward},
        {"maxpool2x2", test_maxpool},
        {"maxpool2x2_backward", test_maxpool_backward},
        {"adam_update", test_adam},
        {"thread_count_invariance", test_thread_count_invariance},
        {"cache_size_invariance", test_cache_size_invariance},
    };
    Suite *s = suite_create("kernels");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 600);
        tcase_add_loop_test(tc, cases[i].test, 0, TU_N_ISAS);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return tu_run_suite(kernels_suite());
}
