/* Adam against steps worked out by hand and against a double-precision
 * recurrence written from the paper's Algorithm 1. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "adam.h"
#include "testutil.h"

/* Step 1 by hand: m1 = (1-b1) g and v1 = (1-b2) g^2, so after the bias
 * correction m_hat = g and v_hat = g^2 and the step is lr * g / (|g| + eps):
 * lr times the sign of g for any g much larger than eps. */
START_TEST(first_step_is_lr_times_sign)
{
    nst_adam a;
    ck_assert_int_eq(nst_adam_init(&a, 4, 0.5), 0);
    float x[4] = {1.0f, -2.0f, 3.0f, 0.25f};
    const float g[4] = {0.5f, -3.0f, 1e-3f, 0.0f};
    nst_adam_step(&a, &nst_kernels_scalar, x, g);
    /* float32 has 24 bits: the x values here are exact to ~1e-7. */
    ck_assert_float_eq_tol(x[0], 0.5f, 1e-6f);
    ck_assert_float_eq_tol(x[1], -1.5f, 1e-6f);
    ck_assert_float_eq_tol(x[2], 3.0f - 0.5f * 1e-3f / (1e-3f + 1e-8f), 1e-6f);
    ck_assert_float_eq(x[3], 0.25f); /* zero gradient: no move */
    nst_adam_free(&a);
}
END_TEST

/* Step 2 by hand for g1 = 0.5, g2 = 1.0, lr = 0.1:
 * m2 = 0.9*0.05 + 0.1*1.0 = 0.145, m_hat = 0.145/0.19 = 0.763157894...
 * v2 = 0.999*0.00025 + 0.001*1.0 = 0.00124975,
 * v_hat = 0.00124975/0.001999 = 0.625187593..., sqrt = 0.790688...
 * step = 0.1 * 0.763157894 / 0.790688... = 0.0965183... */
START_TEST(second_step_by_hand)
{
    nst_adam a;
    ck_assert_int_eq(nst_adam_init(&a, 1, 0.1), 0);
    float x = 0.0f;
    const float g1 = 0.5f, g2 = 1.0f;
    nst_adam_step(&a, &nst_kernels_scalar, &x, &g1);
    ck_assert_float_eq_tol(x, -0.1f, 1e-7f);
    nst_adam_step(&a, &nst_kernels_scalar, &x, &g2);
    const double m_hat = 0.145 / 0.19;
    const double v_hat = 0.00124975 / 0.001999;
    const double expect = -0.1 - 0.1 * m_hat / (sqrt(v_hat) + 1e-8);
    ck_assert_double_eq_tol(x, expect, 1e-6);
    ck_assert_double_eq_tol(x, -0.1965183, 1e-6);
    nst_adam_free(&a);
}
END_TEST

/* With a constant gradient the corrected moments are exactly g and g^2, so
 * every step is lr: after n steps x moved n*lr. Tolerance: beta2 held in
 * float32 (0.999f = 0.999 + 1.3e-8) makes v_hat off by up to ~3e-5
 * relative at t = 200, so each step by ~1.5e-5 * lr; and each update of x
 * (near 9, ulp 9.5e-7) rounds by half an ulp: 200 * (1.5e-7 + 4.8e-7)
 * bounds the drift by 1.3e-4. A missing bias correction is off by far
 * more (the first step alone would be lr * 0.1/sqrt(0.001) = 3.2 lr). */
START_TEST(constant_gradient_moves_lr_per_step)
{
    nst_adam a;
    ck_assert_int_eq(nst_adam_init(&a, 1, 0.01), 0);
    float x = 10.0f;
    const float g = 4.0f;
    for (int i = 0; i < 200; i++)
        nst_adam_step(&a, &nst_kernels_scalar, &x, &g);
    ck_assert_double_eq_tol(x, 10.0 - 200 * 0.01, 1.3e-4);
    nst_adam_free(&a);
}
END_TEST

/* 50 random steps on 64 values against a double-precision recurrence. The
 * float32 moments differ from the double ones by ~1e-7 relative per step;
 * the accumulated position error stays far below 1e-4 * lr * steps. */
START_TEST(matches_double_recurrence)
{
    enum { N = 64, STEPS = 50 };
    const double lr = 0.3, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    nst_adam a;
    ck_assert_int_eq(nst_adam_init(&a, N, lr), 0);
    tu_rng r = {7};
    float x[N], g[N];
    double xr[N], m[N] = {0}, v[N] = {0};
    tu_fill(&r, x, N, -5, 5);
    for (int i = 0; i < N; i++)
        xr[i] = x[i];
    for (int t = 1; t <= STEPS; t++) {
        tu_fill(&r, g, N, -2, 2);
        nst_adam_step(&a, &nst_kernels_scalar, x, g);
        for (int i = 0; i < N; i++) {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * (double)g[i] * g[i];
            double mh = m[i] / (1 - pow(b1, t)), vh = v[i] / (1 - pow(b2, t));
            xr[i] -= lr * mh / (sqrt(vh) + eps);
        }
    }
    for (int i = 0; i < N; i++)
        ck_assert_msg(fabs(x[i] - xr[i]) < 1e-4,
                      "index %d: expected %.9g got %.9g", i, xr[i], x[i]);
    ck_assert_int_eq(a.t, STEPS);
    nst_adam_free(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("adam");
    TCase *tc = tcase_create("steps");
    tcase_add_test(tc, first_step_is_lr_times_sign);
    tcase_add_test(tc, second_step_by_hand);
    tcase_add_test(tc, constant_gradient_moves_lr_per_step);
    tcase_add_test(tc, matches_double_recurrence);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
