/* The kernel layer keeps no global state: whatever a kernel keeps between
 * calls lives in a kernel context (simd/kctx.h) that its caller owns. So
 * - each kernel set's workspace-using kernels (the convolutions and the
 *   Gram kernels) give the same bytes through two contexts used by two
 *   threads at once as through one context used for one job after the
 *   other;
 * - two style transfers (objective, gradient, Adam steps) on two threads,
 *   sharing one loaded network, give the same bytes as the same two run
 *   one after the other, with the real weights and with a small synthetic
 *   network written here;
 * - a kernel that cannot grow its workspace makes every caller up the
 *   chain fail with a reason, at whichever call it happens.
 * Every kernel is deterministic for a given input (the sums' order is
 * fixed, whatever the thread count), so "the same" means equal bytes: any
 * buffer two threads wrongly share shows up as a difference. The jobs
 * repeat a few rounds behind a barrier so that they overlap in time. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "adam.h"
#include "error.h"
#include "npz_writer.h"
#include "objective.h"
#include "testutil.h"
#include "vgg.h"

enum { ROUNDS = 6, THREADS_PER_CONTEXT = 2 };

/* Runs fn(arg[i]) for i < n on n threads at once; each thread waits at the
 * barrier before starting, so the runs overlap. */
typedef struct side_by_side {
    pthread_barrier_t *barrier;
    void *(*fn)(void *);
    void *arg;
} side_by_side;

static void *start_after_barrier(void *p)
{
    side_by_side *s = p;
    pthread_barrier_wait(s->barrier);
    return s->fn(s->arg);
}

static void run_side_by_side(void *(*fn)(void *), void *args, size_t size,
                             int n)
{
    enum { MAX_RUNS = 2 };
    ck_assert(n <= MAX_RUNS);
    pthread_barrier_t barrier;
    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, n), 0);
    pthread_t t[MAX_RUNS];
    side_by_side s[MAX_RUNS];
    for (int i = 0; i < n; i++) {
        s[i] = (side_by_side){&barrier, fn, (char *)args + i * size};
        ck_assert_int_eq(pthread_create(&t[i], NULL, start_after_barrier,
                                        &s[i]),
                         0);
    }
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&barrier);
}

/* Runs fn(arg) on a thread of its own and waits for it, so that one after
 * the other runs in the same conditions as side by side. */
static void run_alone(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, fn, arg), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
}

/* ---- kernels through two contexts ---- */

/* One thread's kernel work: a convolution forward and backward and a Gram
 * and its backward, each on its own shape and inputs. */
typedef struct kernel_job {
    const nst_kernels *k;
    int threads;         /* of its context, when it has one */
    int cin, cout, h, w; /* convolution */
    int c, m;            /* Gram: c x m */
    nst_conv conv;
    float *x, *dy, *f, *d, *df0; /* inputs */
    float *y, *dx, *g, *df;      /* outputs, ROUNDS each */
    int failed;                  /* a kernel returned -1 */
} kernel_job;

static float *random_floats(tu_rng *r, size_t n)
{
    float *a = tu_nan_floats(n);
    tu_fill(r, a, n, -1, 1);
    return a;
}

static void kernel_job_init(kernel_job *j, const nst_kernels *k, int threads,
                            int cin, int cout, int h, int w, int c, int m,
                            uint64_t seed)
{
    tu_rng r = {seed};
    *j = (kernel_job){.k = k, .threads = threads, .cin = cin, .cout = cout,
                      .h = h, .w = w, .c = c, .m = m};
    const size_t hw = (size_t)h * w, cm = (size_t)c * m;
    j->conv = (nst_conv){.cin = cin, .cout = cout,
                         .weight = random_floats(&r, (size_t)cout * cin * 9),
                         .bias = random_floats(&r, (size_t)cout)};
    ck_assert_int_eq(k->conv_prepare(&j->conv), 0);
    j->x = random_floats(&r, cin * hw);
    j->dy = random_floats(&r, cout * hw);
    j->f = random_floats(&r, cm);
    j->d = random_floats(&r, (size_t)c * c);
    for (int a = 0; a < c; a++) /* D is symmetric */
        for (int b = 0; b < a; b++)
            j->d[(size_t)a * c + b] = j->d[(size_t)b * c + a];
    j->df0 = random_floats(&r, cm);
    j->y = tu_nan_floats(ROUNDS * cout * hw);
    j->dx = tu_nan_floats(ROUNDS * cin * hw);
    j->g = tu_nan_floats(ROUNDS * (size_t)c * c);
    j->df = tu_nan_floats(ROUNDS * cm);
}

static void kernel_job_free(kernel_job *j)
{
    j->k->conv_release(&j->conv);
    free((void *)j->conv.weight), free((void *)j->conv.bias);
    free(j->x), free(j->dy), free(j->f), free(j->d), free(j->df0);
    free(j->y), free(j->dx), free(j->g), free(j->df);
}

/* Round i of a job through ctx. */
static void kernel_job_round(kernel_job *j, nst_kctx *ctx, int i)
{
    const nst_kernels *k = j->k;
    const size_t hw = (size_t)j->h * j->w, cm = (size_t)j->c * j->m;
    float *df = j->df + i * cm;
    memcpy(df, j->df0, cm * sizeof *df);
    j->failed |= k->conv3x3_bias_relu(ctx, &j->conv, j->x, j->h, j->w,
                                      j->y + i * j->cout * hw) != 0;
    j->failed |= k->conv3x3_backward_data(ctx, &j->conv, j->dy, j->h, j->w,
                                          j->dx + i * j->cin * hw) != 0;
    j->failed |= k->gram(ctx, j->f, j->c, j->m, 1.0f / (float)j->m,
                         j->g + i * (size_t)j->c * j->c) != 0;
    k->gram_backward(ctx, j->d, j->f, j->c, j->m, 0.5f, df);
}

/* Every round of a job through a context of its own. */
static void *kernel_job_run(void *arg)
{
    kernel_job *j = arg;
    nst_kctx *ctx = nst_kctx_create(j->k, j->threads);
    if (!ctx) {
        j->failed = 1;
        return NULL;
    }
    for (int i = 0; i < ROUNDS; i++)
        kernel_job_round(j, ctx, i);
    nst_kctx_free(ctx);
    return NULL;
}

/* Both jobs' rounds, one job after the other, through one context. */
typedef struct kernel_jobs {
    kernel_job *job;
    int n;
} kernel_jobs;

static void *kernel_jobs_run_in_turn(void *arg)
{
    kernel_jobs *js = arg;
    nst_kctx *ctx = nst_kctx_create(js->job[0].k, THREADS_PER_CONTEXT);
    for (int n = 0; n < js->n; n++)
        for (int i = 0; i < ROUNDS; i++)
            if (ctx)
                kernel_job_round(&js->job[n], ctx, i);
            else
                js->job[n].failed = 1;
    nst_kctx_free(ctx);
    return NULL;
}

static void expect_same_bytes(const char *isa, const char *what, int job,
                              int round, const float *want, const float *got,
                              size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&want[i], &got[i], sizeof *got) != 0)
            ck_abort_msg("%s %s, job %d round %d: at %zu expected %.9g "
                         "(one context, in turn) got %.9g (two at once)",
                         isa, what, job, round, i, (double)want[i],
                         (double)got[i]);
}

START_TEST(kernels_through_two_contexts)
{
    const nst_kernels *k = tu_isa_or_skip(_i);
    if (!k)
        return;
    /* Different shapes, so the two contexts' workspaces differ in size
     * (and a shared one would be grown under the other's feet), and
     * different thread counts: a context of one thread keeps the two jobs
     * overlapping even when the machine is busy, one of two uses every
     * thread's part of its workspace. */
    kernel_job in_turn[2], at_once[2];
    kernel_job_init(&in_turn[0], k, 1, 32, 48, 17, 13, 48, 2053, 1);
    kernel_job_init(&in_turn[1], k, 2, 17, 33, 29, 37, 37, 1031, 2);
    kernel_job_init(&at_once[0], k, 1, 32, 48, 17, 13, 48, 2053, 1);
    kernel_job_init(&at_once[1], k, 2, 17, 33, 29, 37, 37, 1031, 2);

    kernel_jobs js = {in_turn, 2};
    run_alone(kernel_jobs_run_in_turn, &js);
    run_side_by_side(kernel_job_run, at_once, sizeof *at_once, 2);

    for (int n = 0; n < 2; n++) {
        const kernel_job *a = &in_turn[n], *b = &at_once[n];
        ck_assert_msg(!a->failed && !b->failed,
                      "%s job %d: a kernel could not grow its workspace",
                      k->name, n);
        const size_t hw = (size_t)a->h * a->w, cm = (size_t)a->c * a->m;
        for (int i = 0; i < ROUNDS; i++) {
            expect_same_bytes(k->name, "conv3x3_bias_relu", n, i,
                              a->y + i * a->cout * hw,
                              b->y + i * b->cout * hw, a->cout * hw);
            expect_same_bytes(k->name, "conv3x3_backward_data", n, i,
                              a->dx + i * a->cin * hw,
                              b->dx + i * b->cin * hw, a->cin * hw);
            expect_same_bytes(k->name, "gram", n, i,
                              a->g + i * (size_t)a->c * a->c,
                              b->g + i * (size_t)b->c * b->c,
                              (size_t)a->c * a->c);
            expect_same_bytes(k->name, "gram_backward", n, i,
                              a->df + i * cm, b->df + i * cm, cm);
        }
    }
    for (int n = 0; n < 2; n++) {
        kernel_job_free(&in_turn[n]);
        kernel_job_free(&at_once[n]);
    }
}
END_TEST

/* ---- whole transfers ---- */

/* A small network of VGG's shape: conv1_1 (3 -> 8), conv1_2 (8 -> 8), a
 * pool, conv2_1 (8 -> 16), with uniform weights in +-sqrt(6 / (9 cin))
 * (activations keep their scale from layer to layer) and small biases,
 * written to an npz under the test folder; the path in buf. */
static const char *synthetic_weights(char *buf, size_t size)
{
    static const char *const keys[6] = {"conv1_1_W", "conv1_1_b",
                                        "conv1_2_W", "conv1_2_b",
                                        "conv2_1_W", "conv2_1_b"};
    static const int cin[3] = {3, 8, 8}, cout[3] = {8, 8, 16};
    npzw_array a[6];
    double *values[6];
    tu_rng r = {77};
    for (int l = 0; l < 3; l++) {
        const size_t nw = (size_t)9 * cin[l] * cout[l];
        const double lim = sqrt(6.0 / (9.0 * cin[l]));
        values[2 * l] = malloc(nw * sizeof(double));
        values[2 * l + 1] = malloc(cout[l] * sizeof(double));
        ck_assert(values[2 * l] && values[2 * l + 1]);
        for (size_t i = 0; i < nw; i++)
            values[2 * l][i] = tu_uniform(&r, -lim, lim);
        for (int o = 0; o < cout[l]; o++)
            values[2 * l + 1][o] = tu_uniform(&r, -0.1, 0.1);
        a[2 * l] = (npzw_array){.name = keys[2 * l], .descr = "<f4",
                                .ndim = 4,
                                .shape = {3, 3, cin[l], cout[l]},
                                .values = values[2 * l]};
        a[2 * l + 1] = (npzw_array){.name = keys[2 * l + 1], .descr = "<f4",
                                    .ndim = 1, .shape = {cout[l]},
                                    .values = values[2 * l + 1]};
    }
    char dir[4096];
    tu_tmpdir("check_reentrant", dir, sizeof dir);
    snprintf(buf, size, "%s/synthetic.npz", dir);
    const npzw_options opt = {0};
    ck_assert(npzw_write(buf, a, 6, &opt, NULL) == 0);
    for (int i = 0; i < 6; i++)
        free(values[i]);
    return buf;
}

/* One transfer: the objective for its content and style, a few gradient
 * and Adam steps from the content, and the losses at the end. */
typedef struct transfer {
    const nst_vgg *net;
    const nst_objective_spec *spec;
    int h, w, sh, sw;
    float *content, *style;
    float *x;      /* the result, 3 x h x w */
    nst_losses l;  /* at the result */
    int rc;
    char why[1024]; /* the failure reason, when rc is -1 */
} transfer;

enum { STEPS = 2 };

static void transfer_init(transfer *t, const nst_vgg *net,
                          const nst_objective_spec *spec, int h, int w,
                          int sh, int sw, uint64_t seed)
{
    tu_rng r = {seed};
    *t = (transfer){.net = net, .spec = spec, .h = h, .w = w, .sh = sh,
                    .sw = sw};
    t->content = tu_random_image(&r, h, w);
    t->style = tu_random_image(&r, sh, sw);
    t->x = tu_nan_floats((size_t)3 * h * w);
}

static void transfer_free(transfer *t)
{
    free(t->content), free(t->style), free(t->x);
}

static void *transfer_run(void *arg)
{
    transfer *t = arg;
#ifdef _OPENMP
    omp_set_num_threads(THREADS_PER_CONTEXT); /* this thread's own count */
#endif
    const size_t n = (size_t)3 * t->h * t->w;
    memcpy(t->x, t->content, n * sizeof *t->x);
    t->rc = -1;
    nst_objective *o =
        nst_objective_create(t->net, t->spec, t->content, t->h, t->w,
                             t->style, t->sh, t->sw);
    float *grad = malloc(n * sizeof *grad);
    nst_adam adam;
    if (o && grad && nst_adam_init(&adam, n, 4.0) == 0) {
        int rc = 0;
        for (int s = 0; rc == 0 && s < STEPS; s++) {
            rc = nst_objective_eval(o, t->x, &t->l, grad);
            if (rc == 0)
                nst_adam_step(&adam, t->net->k, t->x, grad);
        }
        if (rc == 0)
            rc = nst_objective_eval(o, t->x, &t->l, NULL);
        t->rc = rc;
        nst_adam_free(&adam);
    } else if (o) {
        nst_fail("out of memory for the gradient");
    }
    snprintf(t->why, sizeof t->why, "%s", nst_failure_reason());
    free(grad);
    nst_objective_free(o);
    return NULL;
}

/* Two transfers with different images and sizes, one after the other and
 * then side by side on the same loaded network: equal bytes. */
static void check_transfers(const nst_vgg *net,
                            const nst_objective_spec *spec, const char *what)
{
    transfer in_turn[2], at_once[2];
    transfer_init(&in_turn[0], net, spec, 14, 10, 9, 11, 5);
    transfer_init(&in_turn[1], net, spec, 11, 13, 12, 8, 6);
    transfer_init(&at_once[0], net, spec, 14, 10, 9, 11, 5);
    transfer_init(&at_once[1], net, spec, 11, 13, 12, 8, 6);
    for (int i = 0; i < 2; i++)
        run_alone(transfer_run, &in_turn[i]);
    run_side_by_side(transfer_run, at_once, sizeof *at_once, 2);
    for (int i = 0; i < 2; i++) {
        const transfer *a = &in_turn[i], *b = &at_once[i];
        ck_assert_msg(a->rc == 0, "%s %s transfer %d: %s", net->k->name,
                      what, i, a->why);
        ck_assert_msg(b->rc == 0, "%s %s transfer %d: %s", net->k->name,
                      what, i, b->why);
        /* A loss of zero would make the comparison of results hollow. */
        ck_assert_msg(a->l.content > 0 && a->l.style > 0 && a->l.tv > 0,
                      "%s %s transfer %d: a loss term is zero", net->k->name,
                      what, i);
        const double la[4] = {a->l.total, a->l.content, a->l.style, a->l.tv};
        const double lb[4] = {b->l.total, b->l.content, b->l.style, b->l.tv};
        for (int q = 0; q < 4; q++)
            ck_assert_msg(memcmp(&la[q], &lb[q], sizeof la[q]) == 0,
                          "%s %s transfer %d: loss %d is %.17g in turn, "
                          "%.17g side by side",
                          net->k->name, what, i, q, la[q], lb[q]);
        expect_same_bytes(net->k->name, what, i, STEPS, a->x, b->x,
                          (size_t)3 * a->h * a->w);
    }
    for (int i = 0; i < 2; i++) {
        transfer_free(&in_turn[i]);
        transfer_free(&at_once[i]);
    }
}

START_TEST(transfers_side_by_side_real_weights)
{
    const nst_kernels *k = tu_isa_or_skip(_i);
    char buf[4096];
    const char *path =
        tu_shared("vgg/vgg19_conv1_1-conv3_4.npz", buf, sizeof buf);
    if (!path)
        printf("SKIP: vgg/vgg19_conv1_1-conv3_4.npz not found (set "
               "NST_SHARED)\n");
    if (!k || !path)
        return;
    /* Style relu1_1, relu2_1, relu3_1 and content relu2_2: every kind of
     * layer the default run has, at a third of its cost. */
    static const char *const names[] = {"relu3_1"};
    nst_vgg net;
    ck_assert_msg(nst_vgg_load(&net, path, names, 1, NST_POOL_AVG, k) == 0,
                  "%s", nst_failure_reason());
    const int style[3] = {0, 2, 4}, content[1] = {3};
    const nst_objective_spec spec = {content, 1, style, 3, 1.0, 1e-2, 1e-1,
                                     NULL, NULL};
    check_transfers(&net, &spec, "transfer (real weights)");
    nst_vgg_free(&net);
}
END_TEST

START_TEST(transfers_side_by_side_synthetic)
{
    const nst_kernels *k = tu_isa_or_skip(_i);
    if (!k)
        return;
    char buf[4200];
    const char *path = synthetic_weights(buf, sizeof buf);
    static const char *const names[] = {"relu2_1"};
    nst_vgg net;
    ck_assert_msg(nst_vgg_load(&net, path, names, 1, NST_POOL_MAX, k) == 0,
                  "%s", nst_failure_reason());
    const int style[3] = {0, 1, 2}, content[1] = {2};
    const nst_objective_spec spec = {content, 1, style, 3, 1.0, 1e2, 1e-1,
                                     NULL, NULL};
    check_transfers(&net, &spec, "transfer (synthetic network)");
    nst_vgg_free(&net);
}
END_TEST

/* ---- failures ---- */

/* The scalar kernels, except that the convolutions and the Gram kernel
 * fail (as on out-of-memory) once `left` calls have succeeded. One test
 * thread uses it at a time. */
static int left;

static int fwd_or_fail(nst_kctx *ctx, const nst_conv *c, const float *x,
                       int h, int w, float *y)
{
    return left-- > 0 ? nst_kernels_scalar.conv3x3_bias_relu(ctx, c, x, h, w,
                                                             y)
                      : -1;
}

static int bwd_or_fail(nst_kctx *ctx, const nst_conv *c, const float *dy,
                       int h, int w, float *dx)
{
    return left-- > 0 ? nst_kernels_scalar.conv3x3_backward_data(ctx, c, dy,
                                                                 h, w, dx)
                      : -1;
}

static int gram_or_fail(nst_kctx *ctx, const float *f, int c, int m,
                        float scale, float *g)
{
    return left-- > 0 ? nst_kernels_scalar.gram(ctx, f, c, m, scale, g) : -1;
}

/* Every call of a kernel that can fail, in the objective's creation and in
 * an evaluation with and without the gradient, fails in turn: each time
 * the failing function returns -1 with a reason naming the workspace, and
 * the calls after enough successes all succeed. */
START_TEST(kernel_failures_propagate)
{
    nst_kernels failing = nst_kernels_scalar;
    failing.name = "failing";
    failing.conv3x3_bias_relu = fwd_or_fail;
    failing.conv3x3_backward_data = bwd_or_fail;
    failing.gram = gram_or_fail;
    char buf[4200];
    const char *path = synthetic_weights(buf, sizeof buf);
    static const char *const names[] = {"relu2_1"};
    nst_vgg net;
    ck_assert_msg(
        nst_vgg_load(&net, path, names, 1, NST_POOL_AVG, &failing) == 0, "%s",
        nst_failure_reason());
    const int style[3] = {0, 1, 2}, content[1] = {2};
    const nst_objective_spec spec = {content, 1, style, 3, 1.0, 1e2, 1e-1,
                                     NULL, NULL};
    enum { H = 12, W = 10 };
    tu_rng r = {9};
    float *c = tu_random_image(&r, H, W), *s = tu_random_image(&r, H, W);
    float *grad = tu_nan_floats((size_t)3 * H * W);
    /* Creation: 3 convolutions and 3 Grams for the style, 3 convolutions
     * for the content; an evaluation with the gradient: 3 forward, 3 Grams
     * and 3 backward; without: 3 forward and 3 Grams. */
    enum { CALLS = 9 + 9 + 6 };
    int failures = 0;
    for (int budget = 0; budget <= CALLS; budget++) {
        left = budget;
        nst_losses l;
        nst_objective *o = nst_objective_create(&net, &spec, c, H, W, s, H, W);
        int rc = o ? nst_objective_eval(o, c, &l, grad) : -1;
        if (rc == 0)
            rc = nst_objective_eval(o, c, &l, NULL);
        nst_objective_free(o);
        if (budget < CALLS) {
            ck_assert_msg(rc == -1, "%d successful calls: no failure",
                          budget);
            ck_assert_msg(strstr(nst_failure_reason(),
                                 "out of memory for the failing kernels' "
                                 "workspace"),
                          "%d successful calls: reason '%s'", budget,
                          nst_failure_reason());
            failures++;
        } else {
            ck_assert_msg(rc == 0, "%d successful calls: %s", budget,
                          nst_failure_reason());
            ck_assert_int_eq(left, 0); /* every call counted above */
        }
    }
    ck_assert_int_eq(failures, CALLS);
    free(c), free(s), free(grad);
    nst_vgg_free(&net);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reentrant");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, kernels_through_two_contexts, 0, TU_N_ISAS);
    suite_add_tcase(s, tc);
    tc = tcase_create("transfers");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, transfers_side_by_side_synthetic, 0, TU_N_ISAS);
    tcase_add_loop_test(tc, transfers_side_by_side_real_weights, 0,
                        TU_N_ISAS);
    suite_add_tcase(s, tc);
    tc = tcase_create("failures");
    tcase_add_test(tc, kernel_failures_propagate);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
