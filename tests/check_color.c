/* Colour preservation (src/color.c) against statistics computed here in
 * double and the YCbCr transform written with JPEG's published
 * coefficients, independently of the code's derivation from Kr and Kb. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "color.h"
#include "testutil.h"

enum { W = 37, H = 23 };

/* Pixels mean + A z, z uniform in [-1, 1]^3: correlated colours well
 * inside [0, 255], so no transform below clips. */
static void correlated_image(nst_image *img, unsigned seed, const double mean[3],
                             const double a[3][3])
{
    ck_assert_int_eq(nst_image_alloc(img, W, H), 0);
    tu_rng r = {seed};
    const size_t n = (size_t)W * H;
    for (size_t i = 0; i < n; i++) {
        double z[3];
        for (int k = 0; k < 3; k++)
            z[k] = tu_uniform(&r, -1, 1);
        for (int c = 0; c < 3; c++)
            img->data[c * n + i] =
                (float)(mean[c] + a[c][0] * z[0] + a[c][1] * z[1] + a[c][2] * z[2]);
    }
}

static void stats(const nst_image *img, double mean[3], double cov[3][3])
{
    const size_t n = (size_t)img->w * img->h;
    for (int c = 0; c < 3; c++) {
        mean[c] = 0;
        for (size_t i = 0; i < n; i++)
            mean[c] += img->data[c * n + i];
        mean[c] /= (double)n;
    }
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += (img->data[a * n + i] - mean[a]) *
                     (img->data[b * n + i] - mean[b]);
            cov[a][b] = s / (double)n;
        }
}

static void assert_inside(const nst_image *img)
{
    for (size_t i = 0; i < 3 * (size_t)img->w * img->h; i++)
        ck_assert_msg(img->data[i] > 0 && img->data[i] < 255,
                      "value %zu = %g was clipped", i, img->data[i]);
}

static const double content_mean[3] = {140, 110, 90};
static const double content_a[3][3] = {{30, 5, 0}, {20, 15, 3}, {5, 10, 25}};
static const double style_mean[3] = {90, 120, 160};
static const double style_a[3][3] = {{10, -20, 2}, {4, 25, -6}, {-15, 5, 12}};

/* After matching, the style's mean and covariance are the content's. Each
 * transformed value is one float rounding (~1.5e-5 at 255) off the exact
 * affine map, so the moments agree to ~1e-6 of the largest variance; 1e-4
 * leaves room and still fails for any wrong matrix. */
START_TEST(histogram_matches_mean_and_covariance)
{
    nst_image content, style;
    correlated_image(&content, 1, content_mean, content_a);
    correlated_image(&style, 2, style_mean, style_a);
    nst_color_match_histogram(&style, &content);
    assert_inside(&style);
    double mc[3], cc[3][3], ms[3], cs[3][3];
    stats(&content, mc, cc);
    stats(&style, ms, cs);
    const double scale = fmax(cc[0][0], fmax(cc[1][1], cc[2][2]));
    for (int a = 0; a < 3; a++) {
        ck_assert_double_eq_tol(ms[a], mc[a], 1e-3);
        for (int b = 0; b < 3; b++)
            ck_assert_msg(fabs(cs[a][b] - cc[a][b]) <= 1e-4 * scale,
                          "cov[%d][%d]: %g, content %g", a, b, cs[a][b],
                          cc[a][b]);
    }
    nst_image_free(&content);
    nst_image_free(&style);
}
END_TEST

/* C^1/2 C^-1/2 is the identity: an image matched to itself is unchanged. */
START_TEST(histogram_of_itself_is_identity)
{
    nst_image a, b;
    correlated_image(&a, 3, content_mean, content_a);
    correlated_image(&b, 3, content_mean, content_a);
    nst_color_match_histogram(&b, &a);
    for (size_t i = 0; i < 3 * (size_t)W * H; i++)
        ck_assert_float_eq_tol(b.data[i], a.data[i], 1e-3);
    nst_image_free(&a);
    nst_image_free(&b);
}
END_TEST

static double luma(double r, double g, double b)
{
    return 0.299 * r + 0.587 * g + 0.114 * b;
}

START_TEST(luminance_is_bt601_in_every_channel)
{
    nst_image img, orig;
    correlated_image(&img, 4, style_mean, style_a);
    correlated_image(&orig, 4, style_mean, style_a);
    nst_color_to_luminance(&img);
    const size_t n = (size_t)W * H;
    for (size_t i = 0; i < n; i++) {
        const double y =
            luma(orig.data[i], orig.data[n + i], orig.data[2 * n + i]);
        for (int c = 0; c < 3; c++)
            ck_assert_double_eq_tol(img.data[c * n + i], y, 1e-4);
    }
    nst_image_free(&img);
    nst_image_free(&orig);
}
END_TEST

START_TEST(luminance_match_takes_mean_and_spread)
{
    nst_image y, ref;
    correlated_image(&y, 5, style_mean, style_a);
    correlated_image(&ref, 6, content_mean, content_a);
    nst_color_to_luminance(&y);
    nst_color_to_luminance(&ref);
    nst_color_match_luminance(&y, &ref);
    assert_inside(&y);
    double my[3], cy[3][3], mr[3], cr[3][3];
    stats(&y, my, cy);
    stats(&ref, mr, cr);
    ck_assert_double_eq_tol(my[0], mr[0], 1e-3);
    ck_assert_double_eq_tol(sqrt(cy[0][0]), sqrt(cr[0][0]), 1e-3);
    nst_image_free(&y);
    nst_image_free(&ref);
}
END_TEST

/* JPEG's chroma: Cb = -0.168736 R - 0.331264 G + 0.5 B and Cr = 0.5 R -
 * 0.418688 G - 0.081312 B (the 128 offset cancels in a comparison). */
static void chroma(const float *p, size_t n, size_t i, double *cb, double *cr)
{
    const double r = p[i], g = p[n + i], b = p[2 * n + i];
    *cb = -0.168736 * r - 0.331264 * g + 0.5 * b;
    *cr = 0.5 * r - 0.418688 * g - 0.081312 * b;
}

/* The joined image has the result's luminance and the content's chroma;
 * the published coefficients are given to 6 digits, so 1e-3 levels. */
START_TEST(join_keeps_luminance_takes_chroma)
{
    nst_image result, before, content;
    static const double grey_a[3][3] = {{20, 0, 0}, {20, 0, 0}, {20, 0, 0}};
    static const double mid[3] = {120, 125, 130};
    correlated_image(&result, 7, mid, grey_a);
    correlated_image(&before, 7, mid, grey_a);
    correlated_image(&content, 8, content_mean, content_a);
    nst_color_join_chroma(&result, &content);
    assert_inside(&result);
    const size_t n = (size_t)W * H;
    for (size_t i = 0; i < n; i++) {
        double cb, cr, cb_c, cr_c;
        chroma(result.data, n, i, &cb, &cr);
        chroma(content.data, n, i, &cb_c, &cr_c);
        ck_assert_double_eq_tol(cb, cb_c, 1e-3);
        ck_assert_double_eq_tol(cr, cr_c, 1e-3);
        ck_assert_double_eq_tol(
            luma(result.data[i], result.data[n + i], result.data[2 * n + i]),
            luma(before.data[i], before.data[n + i], before.data[2 * n + i]),
            1e-3);
    }
    nst_image_free(&result);
    nst_image_free(&before);
    nst_image_free(&content);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("color");
    TCase *t = tcase_create("color");
    tcase_add_test(t, histogram_matches_mean_and_covariance);
    tcase_add_test(t, histogram_of_itself_is_identity);
    tcase_add_test(t, luminance_is_bt601_in_every_channel);
    tcase_add_test(t, luminance_match_takes_mean_and_spread);
    tcase_add_test(t, join_keeps_luminance_takes_chroma);
    suite_add_tcase(s, t);
    return tu_run_suite(s);
}
