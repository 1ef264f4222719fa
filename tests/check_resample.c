/* The resampler (src/resample.c): against a naive double-precision
 * evaluation of its definition for every 1-D size pair up to 300 and a
 * spread of 2-D shapes; its properties; and the real images fitted to every
 * --size. */
#include "error.h"
#include "image.h"
#include "resample.h"
#include "testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define U_F32 0x1p-24 /* float's unit roundoff */
#define MAX_SIDE 300   /* largest side the reference is used on */
#define MAX_TAPS (4 * MAX_SIDE + 8)

/* Keys' cubic convolution kernel in his general form, with a = -1/2:
 * the Catmull-Rom spline. */
static double keys_cubic(double x)
{
    const double a = -0.5;
    x = fabs(x);
    if (x <= 1)
        return (a + 2) * x * x * x - (a + 3) * x * x + 1;
    if (x < 2)
        return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a;
    return 0;
}

/* The definition along one axis, for output j of n samples taken to m:
 * the centre u = (j + 1/2) n/m - 1/2 in input coordinates, the kernel
 * widened to s = max(1, n/m), every integer i within its reach weighted by
 * k((i - u)/s) and reading sample i clamped to [0, n). The weights are
 * kept raw (unnormalised); `total` is their sum. */
typedef struct {
    int count;
    int idx[MAX_TAPS];
    double k[MAX_TAPS];
    double total, abs_total;
} ref_taps;

static void ref_axis(int n, int m, int j, ref_taps *t)
{
    if (n > MAX_SIDE) /* ck_assert would cost a message per call */
        ck_abort_msg("reference asked for %d samples, at most %d", n, MAX_SIDE);
    const double u = (j + 0.5) * n / m - 0.5;
    const double s = n > m ? (double)n / m : 1;
    t->count = 0;
    t->total = t->abs_total = 0;
    for (int i = (int)floor(u - 2 * s) - 1; i <= (int)ceil(u + 2 * s) + 1; i++) {
        const double k = keys_cubic((i - u) / s);
        if (k == 0)
            continue;
        if (t->count == MAX_TAPS)
            ck_abort_msg("reference footprint of %d -> %d too long", n, m);
        t->idx[t->count] = i < 0 ? 0 : i > n - 1 ? n - 1 : i;
        t->k[t->count++] = k;
        t->total += k;
        t->abs_total += fabs(k);
    }
}

/* The float code rounds each normalised weight once (relative error u)
 * and takes a float dot product of at most `count` terms per axis, which
 * errs by at most count * u * sum |w x| (Higham, Accuracy and Stability,
 * 3.1). A second pass adds its own sum's error and carries the first
 * pass's through weights of total size sum |w|. So, with mag = sum |w_x
 * w_y x| over the normalised weights, |got - exact| <= (count_x + count_y
 * + 2) u mag to first order; one more u absorbs the double reference's
 * rounding and second-order terms. */
static double tolerance(const ref_taps *tx, const ref_taps *ty, double mag)
{
    return (tx->count + ty->count + 3) * U_F32 * mag;
}

/* Output (x, y) of plane c evaluated directly in 2-D: the sum over the
 * footprint of k_x k_y times the clamped input pixel, over the sum of
 * k_x k_y. mag is the sum of the absolute terms, normalised the same way. */
static double ref_pixel(const float *plane, int w, const ref_taps *tx,
                        const ref_taps *ty, double *mag)
{
    double sum = 0, abs_sum = 0;
    for (int b = 0; b < ty->count; b++)
        for (int a = 0; a < tx->count; a++) {
            const double term = tx->k[a] * ty->k[b] *
                                plane[(size_t)ty->idx[b] * w + tx->idx[a]];
            sum += term;
            abs_sum += fabs(term);
        }
    const double total = tx->total * ty->total;
    *mag = abs_sum / fabs(total);
    return sum / total;
}

static ref_taps ref_x[MAX_SIDE], ref_y[MAX_SIDE];

/* Resamples a c x h x w image to oh x ow and compares every output with
 * ref_pixel. */
static void check_against_reference(const float *in, int w, int h, int c,
                                    int ow, int oh)
{
    float *out = tu_nan_floats((size_t)c * oh * ow);
    ck_assert_msg(nst_resample(in, w, h, c, out, ow, oh) == 0, "%s",
                  nst_failure_reason());
    for (int x = 0; x < ow; x++)
        ref_axis(w, ow, x, &ref_x[x]);
    for (int y = 0; y < oh; y++)
        ref_axis(h, oh, y, &ref_y[y]);
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                double mag;
                const double want = ref_pixel(in + (size_t)ch * h * w, w,
                                              &ref_x[x], &ref_y[y], &mag);
                const double got = out[((size_t)ch * oh + y) * ow + x];
                const double tol = tolerance(&ref_x[x], &ref_y[y], mag);
                if (!(fabs(got - want) <= tol)) /* also catches NaN */
                    ck_abort_msg("%dx%dx%d -> %dx%d: c %d (%d,%d) expected "
                                 "%.9g got %.9g (tolerance %.3g)",
                                 c, w, h, ow, oh, ch, x, y, want, got, tol);
            }
    free(out);
}

static float *random_floats(tu_rng *r, size_t n, double lo, double hi)
{
    float *a = tu_nan_floats(n);
    tu_fill(r, a, n, lo, hi);
    return a;
}

START_TEST(every_1d_size_pair_matches_the_definition)
{
    /* One signal per (n, m), resampled as a row (the x pass) and as a
     * column (the y pass), both held to the same reference values. Mixed
     * signs, so cancellation is exercised. Check's assertions send a
     * message each, so this loop only calls Check on a failure. */
    tu_rng rng = {300};
    float x[MAX_SIDE], row[MAX_SIDE], column[MAX_SIDE];
    ref_taps *t = &ref_x[0], *one = &ref_y[0];
    ref_axis(1, 1, 0, one);
    for (int n = 1; n <= MAX_SIDE; n++)
        for (int m = 1; m <= MAX_SIDE; m++) {
            tu_fill(&rng, x, n, -1, 1);
            for (int j = 0; j < m; j++)
                row[j] = column[j] = NAN;
            if (nst_resample(x, n, 1, 1, row, m, 1) != 0 ||
                nst_resample(x, 1, n, 1, column, 1, m) != 0)
                ck_abort_msg("%d -> %d: %s", n, m, nst_failure_reason());
            for (int j = 0; j < m; j++) {
                double mag;
                ref_axis(n, m, j, t);
                const double want = ref_pixel(x, n, t, one, &mag);
                const double tol = tolerance(t, one, mag);
                /* written this way round, NaN fails too */
                if (!(fabs(row[j] - want) <= tol &&
                      fabs(column[j] - want) <= tol))
                    ck_abort_msg("%d -> %d: j %d expected %.9g got %.9g as a "
                                 "row, %.9g as a column (tolerance %.3g)",
                                 n, m, j, want, (double)row[j],
                                 (double)column[j], tol);
            }
        }
}
END_TEST

START_TEST(two_d_shapes_match_the_definition)
{
    static const int shapes[][5] = {
        /* w, h, channels, out w, out h */
        { 1, 1, 1, 5, 7 },      { 7, 5, 2, 1, 1 },     { 13, 11, 3, 31, 7 },
        { 64, 48, 3, 17, 29 },  { 40, 3, 1, 3, 40 },   { 2, 97, 2, 50, 1 },
        { 37, 23, 5, 37, 9 },   { 30, 40, 3, 60, 80 }, { 101, 67, 3, 33, 22 },
        { 128, 96, 3, 100, 75 }, { 9, 200, 1, 300, 4 }, { 45, 45, 4, 44, 46 },
    };
    tu_rng rng = {2020};
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        const int *s = shapes[k];
        float *in = random_floats(&rng, (size_t)s[2] * s[1] * s[0], -100, 300);
        check_against_reference(in, s[0], s[1], s[2], s[3], s[4]);
        free(in);
    }
}
END_TEST

/* Resamples in (c x h x w) to oh x ow; the caller frees the result. */
static float *resampled(const float *in, int w, int h, int c, int ow, int oh)
{
    float *out = tu_nan_floats((size_t)c * oh * ow);
    ck_assert_msg(nst_resample(in, w, h, c, out, ow, oh) == 0, "%s",
                  nst_failure_reason());
    return out;
}

static const int property_shapes[][4] = {
    /* w, h, out w, out h: shrinking, enlarging, mixed, extreme */
    { 37, 23, 10, 7 },  { 37, 23, 80, 50 }, { 37, 23, 1, 1 },
    { 37, 23, 200, 3 }, { 5, 300, 97, 2 },  { 1, 1, 9, 4 },
};

START_TEST(a_constant_stays_constant)
{
    /* The normalised weights sum to 1, so the exact result is the
     * constant; only the float rounding of tolerance() separates them,
     * with mag = |c| (sum |w_x|)(sum |w_y|). */
    static const float values[] = { 0.7f, -123.25f, 255.0f };
    const int n_sh = sizeof property_shapes / sizeof *property_shapes;
    for (int k = 0; k < n_sh; k++) {
        const int *s = property_shapes[k];
        float *in = tu_nan_floats((size_t)3 * s[0] * s[1]);
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < s[0] * s[1]; i++)
                in[(size_t)c * s[0] * s[1] + i] = values[c];
        float *out = resampled(in, s[0], s[1], 3, s[2], s[3]);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < s[3]; y++)
                for (int x = 0; x < s[2]; x++) {
                    ref_taps *tx = &ref_x[0], *ty = &ref_y[0];
                    ref_axis(s[0], s[2], x, tx);
                    ref_axis(s[1], s[3], y, ty);
                    const double mag = fabs(values[c]) *
                                       (tx->abs_total / tx->total) *
                                       (ty->abs_total / ty->total);
                    const double got = out[((size_t)c * s[3] + y) * s[2] + x];
                    const double tol = tolerance(tx, ty, mag);
                    ck_assert_msg(fabs(got - values[c]) <= tol,
                                  "%dx%d -> %dx%d: c %d (%d,%d) expected %g "
                                  "got %.9g", s[0], s[1], s[2], s[3], c, x, y,
                                  (double)values[c], got);
                }
        free(in);
        free(out);
    }
}
END_TEST

START_TEST(an_unchanged_size_copies_exactly)
{
    /* The single weight 1 per output: the bits come back unchanged, even
     * values whose products with neighbours' zero weights would not. */
    static const int sizes[][2] = { { 1, 1 }, { 7, 5 }, { 64, 48 }, { 300, 2 } };
    tu_rng rng = {77};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        const int w = sizes[k][0], h = sizes[k][1];
        const size_t n = (size_t)3 * w * h;
        float *in = random_floats(&rng, n, -1, 1);
        for (size_t i = 0; i < n; i++)
            in[i] = ldexpf(in[i], (int)(i % 200) - 100); /* 2^-100 .. 2^99 */
        in[n / 2] = INFINITY;
        in[n - 1] = -0.0f;
        float *out = resampled(in, w, h, 3, w, h);
        ck_assert_msg(memcmp(in, out, n * sizeof *in) == 0,
                      "%dx%d -> same size changed the values", w, h);
        free(in);
        free(out);
    }
}
END_TEST

/* Catmull-Rom reproduces polynomials up to degree 2 when it interpolates
 * (Keys, 1981: its error is O(h^3)). So when enlarging, every output whose
 * footprint (radius 2) lies inside the input equals the polynomial at the
 * output's centre, up to tolerance(). Checked along x, along y, and for a
 * 2-D plane. */
static void check_polynomial(int n, int m, int vertical, double a, double b,
                             double c)
{
    float *in = tu_nan_floats(n);
    for (int i = 0; i < n; i++)
        in[i] = (float)(a + b * i + c * i * i);
    float *out = vertical ? resampled(in, 1, n, 1, 1, m)
                          : resampled(in, n, 1, 1, m, 1);
    ref_taps *one = &ref_y[0], *t = &ref_x[0];
    ref_axis(1, 1, 0, one);
    int compared = 0;
    for (int j = 0; j < m; j++) {
        const double u = (j + 0.5) * n / m - 0.5;
        if (u - 2 < 0 || u + 2 > n - 1)
            continue;
        double mag;
        ref_axis(n, m, j, t);
        ref_pixel(in, n, t, one, &mag);
        const double want = a + b * u + c * u * u;
        ck_assert_msg(fabs(out[j] - want) <= tolerance(t, one, mag),
                      "%d -> %d (%s), %g + %g i + %g i^2: j %d expected %.9g "
                      "got %.9g", n, m, vertical ? "column" : "row", a, b, c,
                      j, want, (double)out[j]);
        compared++;
    }
    ck_assert_int_gt(compared, m / 2);
    free(in);
    free(out);
}

START_TEST(enlarging_reproduces_ramps_and_parabolas)
{
    static const int sizes[][2] = { { 10, 37 }, { 50, 130 }, { 20, 23 },
                                    { 13, 100 }, { 100, 101 } };
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
        for (int vertical = 0; vertical < 2; vertical++) {
            check_polynomial(sizes[k][0], sizes[k][1], vertical, 3, 1.5, 0);
            check_polynomial(sizes[k][0], sizes[k][1], vertical, -20, 0.75,
                             0.125);
        }

    /* A plane p = 10 + 2x - 3y enlarged from 20x15 to 53x41. */
    const int w = 20, h = 15, ow = 53, oh = 41;
    float *in = tu_nan_floats((size_t)w * h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            in[y * w + x] = (float)(10 + 2 * x - 3 * y);
    float *out = resampled(in, w, h, 1, ow, oh);
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            const double u = (x + 0.5) * w / ow - 0.5;
            const double v = (y + 0.5) * h / oh - 0.5;
            if (u < 2 || u > w - 3 || v < 2 || v > h - 3)
                continue;
            double mag;
            ref_axis(w, ow, x, &ref_x[0]);
            ref_axis(h, oh, y, &ref_y[0]);
            ref_pixel(in, w, &ref_x[0], &ref_y[0], &mag);
            const double want = 10 + 2 * u - 3 * v;
            ck_assert_msg(fabs(out[y * ow + x] - want) <=
                              tolerance(&ref_x[0], &ref_y[0], mag),
                          "plane (%d,%d): expected %.9g got %.9g", x, y, want,
                          (double)out[y * ow + x]);
        }
    free(in);
    free(out);
}
END_TEST

START_TEST(shrinking_filters_out_the_finest_detail)
{
    /* The signal (-1)^i shrunk by s >= 2 has no place in the output, whose
     * spacing is s input pixels. By Poisson summation what is left of it
     * is the kernel's spectrum K at the aliases pi s (2k + 1) relative to
     * K(0) = 1. At an even s the output centre falls half-way between two
     * input pixels and the symmetric weights cancel it pair by pair, so
     * only rounding remains; otherwise |K(w)| <= 0.0081 for |w| >= 2 pi,
     * the two nearest aliases give at most 0.0162 and the rest far less:
     * at most 0.02. Only outputs whose footprint (radius 2s) lies inside
     * are checked: clamping at the edges breaks the symmetry. */
    static const double factors[] = { 2, 4, 6, 2.4, 3, 3.7, 7.3 };
    for (size_t k = 0; k < sizeof factors / sizeof *factors; k++) {
        const double s = factors[k];
        const int m = 40, n = (int)lround(m * s);
        float *in = tu_nan_floats(n);
        for (int i = 0; i < n; i++)
            in[i] = i % 2 ? 1.0f : -1.0f;
        float *out = resampled(in, n, 1, 1, m, 1);
        const int even = fmod(s, 2) == 0;
        int compared = 0;
        for (int j = 0; j < m; j++) {
            const double u = (j + 0.5) * n / m - 0.5;
            if (u - 2 * s < 0 || u + 2 * s > n - 1)
                continue;
            double mag;
            ref_axis(n, m, j, &ref_x[0]);
            ref_axis(1, 1, 0, &ref_y[0]);
            ref_pixel(in, n, &ref_x[0], &ref_y[0], &mag);
            const double bound = even ? tolerance(&ref_x[0], &ref_y[0], mag)
                                      : 0.02;
            ck_assert_msg(fabs(out[j]) <= bound,
                          "%d -> %d: j %d left %g of the pattern (bound %g)",
                          n, m, j, (double)out[j], bound);
            compared++;
        }
        ck_assert_int_gt(compared, m / 2);
        free(in);
        free(out);
    }
}
END_TEST

START_TEST(an_edge_rings_at_most_two_27ths)
{
    /* A step from 0 to 1. The output on either side of it is 1 (or 0)
     * minus the weights that fall on the other side, so it overshoots by
     * the largest sum of negative weights on one side. At s = 1 there is
     * one, -t(1-t)^2/2 at distance 1 + t, largest (2/27) at t = 1/3;
     * widened, the lobes are smaller and tend to their area, 1/24.
     * Rounding adds tolerance()'s (count + 3) u, below 1e-5 here. */
    static const int sizes[][2] = { { 20, 50 }, { 20, 7 }, { 20, 13 },
                                    { 60, 61 }, { 60, 25 }, { 9, 300 } };
    const double ring = 2.0 / 27 + 1e-5;
    double lowest = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        const int n = sizes[k][0], m = sizes[k][1];
        float *in = tu_nan_floats(n);
        for (int i = 0; i < n; i++)
            in[i] = i < n / 2 ? 0.0f : 1.0f;
        float *out = resampled(in, n, 1, 1, m, 1);
        for (int j = 0; j < m; j++) {
            ck_assert_msg(out[j] >= -ring && out[j] <= 1 + ring,
                          "%d -> %d: j %d is %.9g", n, m, j, (double)out[j]);
            lowest = fmin(lowest, out[j]);
        }
        free(in);
        free(out);
    }
    /* Catmull-Rom does ring: a non-negative filter would never go below 0. */
    ck_assert_msg(lowest < -0.02, "no ringing at all (lowest %g)", lowest);
}
END_TEST

START_TEST(huge_values_stay_finite)
{
    /* Each side's negative weights add to at most 2/27 (the test above),
     * so an axis's weights have sum |w| <= 1 + 4 * 2/27 and the 2-D ones
     * at most its square, 1.68: values up to 1e37 stay below 1.7e37, far
     * from float's 3.4e38, and nothing becomes NaN. */
    tu_rng rng = {37};
    const int n_sh = sizeof property_shapes / sizeof *property_shapes;
    for (int k = 0; k < n_sh; k++) {
        const int *s = property_shapes[k];
        const size_t n = (size_t)2 * s[0] * s[1], n_out = (size_t)2 * s[2] * s[3];
        float *in = random_floats(&rng, n, -1e37, 1e37);
        float *out = resampled(in, s[0], s[1], 2, s[2], s[3]);
        for (size_t i = 0; i < n_out; i++)
            ck_assert_msg(isfinite(out[i]) && fabsf(out[i]) <= 1.7e37f,
                          "%dx%d -> %dx%d: value %zu is %g", s[0], s[1], s[2],
                          s[3], i, (double)out[i]);
        free(in);
        free(out);
    }
}
END_TEST

START_TEST(same_bytes_for_any_thread_count)
{
#ifdef _OPENMP
    if (omp_get_thread_limit() < 2) {
        printf("SKIP resample thread count invariance: OMP_THREAD_LIMIT=1\n");
        return;
    }
    /* Large enough for both passes to run threaded; one shrinks along y
     * first, the other enlarges along x first. */
    static const int shapes[][4] = { { 300, 200, 517, 331 },
                                     { 300, 200, 123, 77 },
                                     { 200, 300, 77, 410 } };
    tu_rng rng = {3};
    const int threads = omp_get_max_threads();
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        const int *s = shapes[k];
        const size_t n_out = (size_t)3 * s[2] * s[3];
        float *in = random_floats(&rng, (size_t)3 * s[0] * s[1], 0, 255);
        float *out[3];
        for (int t = 0; t < 3; t++) {
            omp_set_num_threads(t + 1);
            out[t] = resampled(in, s[0], s[1], 3, s[2], s[3]);
        }
        omp_set_num_threads(threads);
        for (int t = 1; t < 3; t++)
            ck_assert_msg(memcmp(out[0], out[t], n_out * sizeof(float)) == 0,
                          "%dx%d -> %dx%d: 1 and %d threads differ", s[0],
                          s[1], s[2], s[3], t + 1);
        for (int t = 0; t < 3; t++)
            free(out[t]);
        free(in);
    }
#else
    printf("SKIP resample thread count invariance: built without OpenMP\n");
#endif
}
END_TEST

START_TEST(bad_sizes_fail_and_leave_the_output_alone)
{
    static const int cases[][5] = {
        /* w, h, channels, out w, out h */
        { 0, 5, 3, 4, 4 }, { 5, -1, 3, 4, 4 }, { 5, 5, 0, 4, 4 },
        { 5, 5, 3, 0, 4 }, { 5, 5, 3, 4, -7 },
    };
    float in[75] = {0}, out[48];
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const int *c = cases[k];
        for (int i = 0; i < 48; i++)
            out[i] = 42;
        ck_assert_int_eq(nst_resample(in, c[0], c[1], c[2], out, c[3], c[4]),
                         -1);
        char want[128];
        snprintf(want, sizeof want, "%d channels of %dx%d to %dx%d", c[2],
                 c[0], c[1], c[3], c[4]);
        ck_assert_msg(strstr(nst_failure_reason(), want),
                      "reason \"%s\" does not say \"%s\"",
                      nst_failure_reason(), want);
        for (int i = 0; i < 48; i++)
            ck_assert(out[i] == 42);
    }
}
END_TEST

static const char *const real_images[] = {
    "images/content_tubingen.jpg", "images/content_golden_gate.jpg",
    "images/style_starry_night.jpg", "images/style_the_scream.jpg",
};

START_TEST(real_images_fit_every_size)
{
    /* The first image at every --size from 16 to 1100, the others at every
     * 7th (the 1-D sweep covers every ratio up to 300 already); with
     * NST_TEST_QUICK set and not 0, every 101st. 100 and 700 always:
     * ratios an earlier resampler aborted on. No failure, the fitted
     * dimensions, and whole values in [0, 255]. One image per test, so
     * each has its own time limit. */
    char path[4096];
    if (!tu_shared(real_images[_i], path, sizeof path)) {
        printf("SKIP %s: not found (set NST_SHARED)\n", real_images[_i]);
        return;
    }
    const char *q = getenv("NST_TEST_QUICK");
    const int quick = q && *q && strcmp(q, "0") != 0;
    nst_image img;
    ck_assert_msg(nst_image_load(path, &img) == 0, "%s", nst_failure_reason());
    for (int size = 16; size <= 1100; size++) {
        const int stride = quick ? 101 : _i == 0 ? 1 : 7;
        if (size % stride != 0 && size != 100 && size != 700)
            continue;
        nst_image out;
        int w, h;
        nst_image_fit_size(img.w, img.h, size, &w, &h);
        ck_assert_msg(nst_image_fit(&img, size, &out) == 0, "%s at %d: %s",
                      path, size, nst_failure_reason());
        ck_assert_msg(out.w == w && out.h == h,
                      "%s at %d: %dx%d, expected %dx%d", path, size, out.w,
                      out.h, w, h);
        for (size_t i = 0; i < (size_t)3 * w * h; i++) {
            const float v = out.data[i];
            if (!(v >= 0 && v <= 255 && v == floorf(v)))
                ck_abort_msg("%s at %d: value %zu is %g", path, size, i,
                             (double)v);
        }
        nst_image_free(&out);
    }
    nst_image_free(&img);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("resample");
    TCase *ref = tcase_create("reference");
    tcase_add_test(ref, every_1d_size_pair_matches_the_definition);
    tcase_add_test(ref, two_d_shapes_match_the_definition);
    suite_add_tcase(s, ref);
    TCase *prop = tcase_create("properties");
    tcase_add_test(prop, a_constant_stays_constant);
    tcase_add_test(prop, an_unchanged_size_copies_exactly);
    tcase_add_test(prop, enlarging_reproduces_ramps_and_parabolas);
    tcase_add_test(prop, shrinking_filters_out_the_finest_detail);
    tcase_add_test(prop, an_edge_rings_at_most_two_27ths);
    tcase_add_test(prop, huge_values_stay_finite);
    tcase_add_test(prop, same_bytes_for_any_thread_count);
    tcase_add_test(prop, bad_sizes_fail_and_leave_the_output_alone);
    suite_add_tcase(s, prop);
    TCase *real = tcase_create("real_images");
    tcase_add_loop_test(real, real_images_fit_every_size, 0,
                        sizeof real_images / sizeof *real_images);
    suite_add_tcase(s, real);
    return tu_run_suite(s);
}
