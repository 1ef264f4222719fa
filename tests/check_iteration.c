/* One whole iteration — losses, gradient with respect to the image, Adam
 * step — with every kernel set the CPU runs, against the scalar reference
 * kernels, on the real weights. Each set is tested against the
 * double-precision reference piece by piece elsewhere (check_kernels,
 * check_forward, check_grad); this checks that they also agree with each
 * other through the whole chain the program runs (for the scalar set: that
 * a second run reproduces the first). check_differential does the same
 * over random configurations. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "adam.h"
#include "error.h"
#include "objective.h"
#include "testutil.h"

typedef struct iteration {
    nst_losses l;
    float *grad, *x; /* x after one Adam step */
} iteration;

static void run_iteration(const nst_kernels *k, const char *weights,
                          iteration *it)
{
    enum { H = 29, W = 23, SH = 19, SW = 31 };
    static const char *const names[] = {"relu1_1", "relu1_2", "relu2_1",
                                        "relu2_2", "relu3_1", "relu3_2",
                                        "relu3_3"};
    nst_vgg net;
    ck_assert_msg(nst_vgg_load(&net, weights, names, 7, NST_POOL_AVG, k) == 0,
                  "%s", nst_failure_reason());
    const int style[7] = {0, 1, 2, 3, 4, 5, 6}, content[1] = {6};
    const nst_objective_spec spec = {content, 1, style, 7, 1.0, 1e-2, 1e-1,
                                     NULL, NULL};
    tu_rng r = {42};
    const size_t n = 3 * (size_t)H * W;
    float *c = tu_nan_floats(n), *s = tu_nan_floats(3 * (size_t)SH * SW);
    tu_fill(&r, c, n, -120, 130);
    tu_fill(&r, s, 3 * (size_t)SH * SW, -120, 130);
    nst_objective *o = nst_objective_create(&net, &spec, c, H, W, s, SH, SW);
    ck_assert_msg(o, "%s", nst_failure_reason());
    it->x = tu_nan_floats(n);
    it->grad = tu_nan_floats(n);
    /* The generated image: the content plus noise, so every term is
     * non-zero. */
    for (size_t i = 0; i < n; i++)
        it->x[i] = c[i] + (float)tu_uniform(&r, -20, 20);
    ck_assert_msg(nst_objective_eval(o, it->x, &it->l, it->grad) == 0, "%s",
                  nst_failure_reason());
    nst_adam a;
    ck_assert_int_eq(nst_adam_init(&a, n, 4.0), 0);
    nst_adam_step(&a, net.k, it->x, it->grad);
    nst_adam_free(&a);
    nst_objective_free(o);
    nst_vgg_free(&net);
    free(c);
    free(s);
}

/* Tolerances. Losses: each kernel set's forward pass stays within ~2e-5
 * relative of the exact features (Winograd's worst case, check_forward),
 * so the squared feature and Gram differences agree to 1e-4 relative
 * (measured: 2.5e-6). Gradient: relative 2-norm of the difference; the
 * backward pass adds rounding of the same order (measured: 2.6e-6), and a
 * pre-activation within rounding of 0 may flip its ReLU mask and move a few
 * entries: 2e-4 leaves room for that and still fails on any wrong term (a
 * missing layer or factor changes the gradient by percents or more). Adam's
 * first step is lr * g / (|g| + eps), about lr * sign(g): an entry whose
 * gradient is within rounding of 0 may step the other way, so the images
 * after the step are compared by their mean absolute difference, at most
 * 1e-3 of lr (measured: 4e-9 of lr). */
START_TEST(iteration_matches_scalar)
{
    const nst_kernels *k = tu_isa_or_skip(_i);
    char buf[4096];
    const char *weights =
        tu_shared("vgg/vgg19_conv1_1-conv3_4.npz", buf, sizeof buf);
    if (k && !weights)
        printf("SKIP %s: no weights under $NST_SHARED\n", k->name);
    if (!k || !weights)
        return;
    iteration ref, got;
    run_iteration(&nst_kernels_scalar, weights, &ref);
    run_iteration(k, weights, &got);
    const double lr[4] = {ref.l.total, ref.l.content, ref.l.style, ref.l.tv};
    const double lg[4] = {got.l.total, got.l.content, got.l.style, got.l.tv};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabs(lg[i] - lr[i]) <= 1e-4 * fabs(lr[i]),
                      "%s loss %d: scalar %.9g, %s %.9g", k->name, i, lr[i],
                      k->name, lg[i]);
    const size_t n = 3 * 29 * 23;
    double diff = 0, norm = 0, step = 0;
    for (size_t i = 0; i < n; i++) {
        diff += ((double)got.grad[i] - ref.grad[i]) *
                ((double)got.grad[i] - ref.grad[i]);
        norm += (double)ref.grad[i] * ref.grad[i];
        step += fabs((double)got.x[i] - ref.x[i]);
    }
    ck_assert_msg(sqrt(diff) <= 2e-4 * sqrt(norm),
                  "%s gradient off by %.3g relative", k->name,
                  sqrt(diff / norm));
    ck_assert_msg(step / n <= 1e-3 * 4.0, "%s image after a step off by %.3g",
                  k->name, step / n);
    free(ref.grad);
    free(ref.x);
    free(got.grad);
    free(got.x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("iteration");
    TCase *tc = tcase_create("isa_vs_scalar");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, iteration_matches_scalar, 0, TU_N_ISAS);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
