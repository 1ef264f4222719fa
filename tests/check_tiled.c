/* The tiled objective against the whole-image one: the same losses and
 * gradient up to float rounding, for both pools, odd sizes, tiles that do
 * not divide the image, masks and several styles, with every kernel set;
 * the tile geometry; the memory plan's choices and refusals; and whole
 * runs under --tile and --max-memory. (The tiled gradient against finite
 * differences of the double reference is in check_grad.c, beside the
 * whole-image one.) */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "image.h"
#include "memory_plan.h"
#include "nst_runner.h"
#include "objective.h"
#include "testutil.h"
#include "tiles.h"
#include "vgg.h"

#define WEIGHTS "vgg/vgg19_conv1_1-conv3_4.npz"

static int quick(void)
{
    const char *q = getenv("NST_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

static const char *const relu_names[] = {"relu1_1", "relu1_2", "relu2_1",
                                         "relu2_2", "relu3_1", "relu3_2",
                                         "relu3_3"};

/* One comparison: image h x w cut in tiles of `tile`, styles sh x sw (the
 * second style, when there are two, is sh2 x sw2), layer lists as indices
 * into relu_names. masked[k]: style k has a mask. */
typedef struct tcase_spec {
    const char *name;
    int h, w, tile, qh, qw, qtile; /* qh, qw, qtile: under NST_TEST_QUICK */
    nst_pool pool;
    int content[2], n_content, style[7], n_style;
    int n_styles, masked[2];
    double blend[2];
    double style_w[7];
} tcase_spec;

static const tcase_spec cases[] = {
    {"default layers (to relu3_3), avg pool, 37x43 in tiles of 12", 43, 37,
     12, 27, 22, 8, NST_POOL_AVG, {6}, 1, {0, 1, 2, 3, 4, 5, 6}, 7, 1, {0},
     {1}, {0}},
    {"max pool, 53x47 in tiles of 20, to relu2_2", 47, 53, 20, 31, 27, 10,
     NST_POOL_MAX, {3}, 1, {0, 2, 3}, 3, 1, {0}, {1}, {0}},
    {"two styles 3:1, the second masked, max pool, 58x43 in tiles of 16, "
     "to relu3_1",
     43, 58, 16, 27, 30, 12, NST_POOL_MAX, {3}, 1, {0, 2, 4}, 3, 2, {0, 1},
     {3, 1}, {0}},
    {"two masked styles, layer weights, avg pool, 41x70 in tiles of 14, to "
     "relu2_2",
     70, 41, 14, 35, 21, 10, NST_POOL_AVG, {1, 3}, 2, {1, 2, 3}, 3, 2, {1, 1},
     {1, 2}, {2, 0.5, 1}},
};
enum { N_CASES = sizeof cases / sizeof *cases };

/* A ramp across the columns for style 0 and its complement for style 1,
 * exact 0s and 1s at the sides. */
static float *make_mask(int k, int h, int w)
{
    float *m = tu_nan_floats((size_t)h * w);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            const double ramp = fmin(1, fmax(0, (j - w / 4 + 0.3 * i) /
                                                    (w / 2.0)));
            m[i * w + j] = (float)(k == 0 ? ramp : 1 - ramp);
        }
    return m;
}

/* Tolerance. The two evaluations differ only in the order of float sums:
 * a tile's Gram matrix is summed over its interior and the tiles' sums
 * added in double, where the whole-image kernel sums all m columns at
 * once, so each Gram entry moves by a few u = 2^-24 of its size. The
 * windows start on the Winograd convolutions' 4 x 4 blocks (tiles.c), so
 * their convolutions make the whole image's sums. G - A loses about one
 * digit to cancellation for these random images: measured, the tiled
 * gradient stays within 2e-7 (scalar) and 2e-6 (AVX2) of the largest
 * entry, the losses within 5e-7. 1e-5 of the largest gradient entry and of
 * each loss holds that with room, while a short halo or a misplaced tile
 * (errors the size of the gradient itself; a window off the 4 x 4 blocks
 * alone gives 2e-4 with the AVX2 kernels) cannot pass. */
#define TOL 1e-5

static void compare(const nst_kernels *k, const tcase_spec *c,
                    const char *weights)
{
    const int h = quick() ? c->qh : c->h, w = quick() ? c->qw : c->w;
    const int tile = quick() ? c->qtile : c->tile;
    const int depth = tu_depth(c->content, c->n_content, c->style,
                               c->n_style);
    nst_vgg net;
    const char *names[] = {relu_names[depth - 1]};
    ck_assert_msg(nst_vgg_load(&net, weights, names, 1, c->pool, k) == 0,
                  "%s", nst_failure_reason());

    tu_rng rng = {41};
    const int sh[2] = {h + 7, h - 5}, sw[2] = {w - 3, w + 9};
    float *x = tu_random_image(&rng, h, w);
    float *content = tu_random_image(&rng, h, w);
    nst_style_target styles[2];
    for (int s = 0; s < c->n_styles; s++)
        styles[s] = (nst_style_target){
            tu_random_image(&rng, sh[s], sw[s]), sh[s], sw[s], c->blend[s],
            c->masked[s] ? make_mask(s, h, w) : NULL};
    const nst_objective_spec spec = {
        c->content, c->n_content, c->style, c->n_style, 1.0, 2.5e-5, 0.25,
        NULL, c->style_w[0] != 0 ? c->style_w : NULL};

    const size_t n = (size_t)3 * h * w;
    float *gw = tu_nan_floats(n), *gt = tu_nan_floats(n);
    nst_losses lw, lt, lt_only;
    nst_objective *o =
        nst_objective_create_styles(&net, &spec, content, h, w, styles,
                                    c->n_styles);
    ck_assert_msg(o, "%s", nst_failure_reason());
    ck_assert_int_eq(nst_objective_eval(o, x, &lw, gw), 0);
    nst_objective_free(o);

    o = nst_objective_create_tiled(&net, &spec, tile, content, h, w, styles,
                                   c->n_styles);
    ck_assert_msg(o, "%s", nst_failure_reason());
    ck_assert_int_eq(nst_objective_eval(o, x, &lt, gt), 0);
    /* Again, without the gradient: pass 1 alone gives the same sums. */
    ck_assert_int_eq(nst_objective_eval(o, x, &lt_only, NULL), 0);
    nst_objective_free(o);
    ck_assert(lt.total == lt_only.total && lt.style == lt_only.style &&
              lt.content == lt_only.content);

    /* The case must really be cut: several tiles each way. */
    nst_tiling t;
    nst_tiling_make(&net, net.n, h, w, tile, &t);
    ck_assert_msg(t.rows > 1 && t.cols > 1, "%s: %dx%d tiles", c->name,
                  t.cols, t.rows);

    const double want[4] = {lw.total, lw.content, lw.style, lw.tv};
    const double got[4] = {lt.total, lt.content, lt.style, lt.tv};
    static const char *const what[4] = {"total", "content", "style", "tv"};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= TOL * fabs(want[i]),
                      "%s %s (%dx%d, tiles of %d): %s loss: whole %.12g "
                      "tiled %.12g",
                      k->name, c->name, w, h, tile, what[i], want[i], got[i]);
    double gmax = 0;
    for (size_t i = 0; i < n; i++)
        gmax = fmax(gmax, fabs(gw[i]));
    ck_assert(gmax > 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(gt[i] - gw[i]) <= TOL * gmax,
                      "%s %s (%dx%d, tiles of %d): dL/dx at (c %zu, y %zu, "
                      "x %zu): whole %.9g tiled %.9g (largest %.3g)",
                      k->name, c->name, w, h, tile, i / ((size_t)h * w),
                      i / w % h, i % w, (double)gw[i], (double)gt[i], gmax);
    free(gw);
    free(gt);
    free(x);
    free(content);
    for (int s = 0; s < c->n_styles; s++) {
        free((float *)styles[s].image);
        free((float *)styles[s].mask);
    }
    nst_vgg_free(&net);
}

/* The shared weights' path, or NULL after saying the test is skipped. */
static const char *weights_or_skip(char *buf, size_t size)
{
    const char *path = tu_shared(WEIGHTS, buf, size);
    if (!path)
        printf("SKIP: %s not found (set NST_SHARED)\n", WEIGHTS);
    return path;
}

START_TEST(tiled_matches_whole)
{
    char buf[4096];
    const char *path = weights_or_skip(buf, sizeof buf);
    if (!path)
        return;
    for (int isa = 0; isa < TU_N_ISAS; isa++) {
        const nst_kernels *k = tu_isa_or_skip(isa);
        if (k)
            compare(k, &cases[_i], path);
    }
}
END_TEST

/* The default network and spec (content relu3_3, style relu1_1..relu3_3)
 * with the scalar kernels, for the plan. */
static const int plan_content[] = {6}, plan_style[] = {0, 1, 2, 3, 4, 5, 6};
static const nst_objective_spec plan_spec = {plan_content, 1, plan_style, 7,
                                             1, 1e-2, 0.1, NULL, NULL};

/* The default network up to relu3_3 with the scalar kernels, for the
 * plan; -1 (skipped) without the weights. */
static int plan_net(nst_vgg *net)
{
    char buf[4096];
    const char *path = weights_or_skip(buf, sizeof buf);
    if (!path)
        return -1;
    const char *names[] = {"relu3_3"};
    ck_assert(nst_vgg_load(net, path, names, 1, NST_POOL_AVG,
                           &nst_kernels_scalar) == 0);
    return 0;
}

START_TEST(plan_tiles_when_the_image_does_not_fit)
{
    nst_vgg net;
    if (plan_net(&net) != 0)
        return;
    nst_style_target style = {NULL, 384, 512, 1, NULL};
    nst_memory_job job = {&net, &plan_spec, 384, 512, &style, 1,
                          NST_OPTIMIZER_ADAM, 0, 0};
    nst_memory_plan p;
    /* 512x384 fits 4096 MiB whole. */
    ck_assert_int_eq(nst_memory_plan_make(&job, 4096, 0, &p), 0);
    ck_assert_int_eq(p.tile, 0);
    const size_t whole = p.total;
    /* Not in its own total less 1 MiB: tiles, within the budget. */
    const int tight = (int)(whole >> 20) - 1;
    ck_assert_int_eq(nst_memory_plan_make(&job, tight, 0, &p), 0);
    ck_assert_int_gt(p.tile, 0);
    ck_assert_uint_le(p.total, (size_t)tight << 20);
    /* --tile is taken as given. */
    ck_assert_int_eq(nst_memory_plan_make(&job, 4096, 40, &p), 0);
    ck_assert_int_eq(p.tile, 40);
    /* 12000x16000 cannot fit 1 GiB even in the smallest tiles; the message
     * says how much it needs. Where size_t has 32 bits its two pictures
     * alone (4.6 GB of floats) are more than the address space, and the
     * message says that instead. */
    job.h = 12000;
    job.w = 16000;
    style.h = 12000;
    style.w = 16000;
    ck_assert_int_eq(nst_memory_plan_make(&job, 1024, 0, &p), -1);
    if (SIZE_MAX > UINT32_MAX) {
        ck_assert_ptr_nonnull(strstr(nst_failure_reason(), "needs at least"));
        ck_assert_ptr_nonnull(
            strstr(nst_failure_reason(), "more than --max-memory 1024"));
    } else {
        ck_assert_ptr_nonnull(
            strstr(nst_failure_reason(), "16000x12000 image is too large "
                                         "to address"));
    }
    ck_assert_uint_gt(p.total, (size_t)1024 << 20);
    nst_vgg_free(&net);
}
END_TEST

/* The smallest budget in MiB that job's plan fits, whole or in any of
 * the plan's tiles: found by bisection on the plan itself. */
static int least_mib(const nst_memory_job *job)
{
    nst_memory_plan p;
    int lo = 1, hi = 1 << 20; /* lo does not fit, hi does */
    ck_assert_int_eq(nst_memory_plan_make(job, hi, 0, &p), 0);
    while (hi - lo > 1) {
        const int mid = lo + (hi - lo) / 2;
        if (nst_memory_plan_make(job, mid, 0, &p) == 0)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* An L-BFGS run that does not fit is told what would: the longest history
 * that fits, found here from the plans of each history, or Adam. */
START_TEST(plan_refusal_names_what_fits)
{
    nst_vgg net;
    if (plan_net(&net) != 0)
        return;
    nst_style_target style = {NULL, 1536, 2048, 1, NULL};
    nst_memory_job job = {&net, &plan_spec, 1536, 2048, &style, 1,
                          NST_OPTIMIZER_LBFGS, 3, 0};
    /* The least budget history 3 fits is below history 4's (one more
     * pair is 2 x 3HW floats, 72 MiB here). */
    const int budget = least_mib(&job);
    job.lbfgs_history = 4;
    ck_assert_int_gt(least_mib(&job), budget);
    job.lbfgs_history = 10;
    nst_memory_plan p;
    ck_assert_int_eq(nst_memory_plan_make(&job, budget, 0, &p), -1);
    ck_assert_ptr_nonnull(strstr(nst_failure_reason(), "more than --max-memory"));
    ck_assert_ptr_nonnull(strstr(nst_failure_reason(),
                                 "L-BFGS's 10 pairs take 720 MiB of it: "
                                 "--lbfgs-history 3 fits, or --optimizer adam"));
    /* Where Adam fits but not history 1: Adam alone. */
    job.optimizer = NST_OPTIMIZER_ADAM;
    const int adam_budget = least_mib(&job);
    job.optimizer = NST_OPTIMIZER_LBFGS;
    job.lbfgs_history = 1;
    ck_assert_int_gt(least_mib(&job), adam_budget);
    job.lbfgs_history = 10;
    ck_assert_int_eq(nst_memory_plan_make(&job, adam_budget, 0, &p), -1);
    ck_assert_ptr_nonnull(strstr(nst_failure_reason(),
                                 "L-BFGS's 10 pairs take 720 MiB of it: "
                                 "--optimizer adam fits"));
    /* Below Adam's least: the plan's refusal, nothing to suggest. */
    ck_assert_int_eq(nst_memory_plan_make(&job, adam_budget - 1, 0, &p), -1);
    ck_assert_ptr_nonnull(strstr(nst_failure_reason(), "needs at least"));
    ck_assert_ptr_null(strstr(nst_failure_reason(), "L-BFGS"));
    nst_vgg_free(&net);
}
END_TEST

/* Content and style for a run, from the shared images. */
static int run_inputs(char *content, char *style, char *weights, size_t size)
{
    if (!tu_shared("images/content_tubingen.jpg", content, size) ||
        !tu_shared("images/style_starry_night.jpg", style, size) ||
        !tu_shared(WEIGHTS, weights, size)) {
        printf("SKIP: shared images or weights not found\n");
        return -1;
    }
    return 0;
}

/* The nst run with options (besides the shared inputs and an output in a
 * new folder name) fails with one line naming what, ending in tail, and
 * leaves no output. */
static void assert_refused(const char *name, const char *options,
                           const char *what, const char *tail)
{
    char content[4096], style[4096], weights[4096], dir[4096], args[20480],
        err[4096];
    if (run_inputs(content, style, weights, sizeof content) != 0)
        return;
    tu_tmpdir(name, dir, sizeof dir);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s/r.png' %s",
             content, style, weights, dir, options);
    ck_assert_int_eq(tu_nst(args, err, sizeof err), 1);
    tu_assert_one_line_naming(err, what);
    ck_assert_ptr_nonnull(strstr(err, tail));
    char out[4200];
    snprintf(out, sizeof out, "%s/r.png", dir);
    ck_assert_int_eq(tu_file_size(out), -1);
}

START_TEST(run_refused_over_budget)
{
    assert_refused("tiled_refused", "--size 32 --iters 1 --max-memory 20",
                   "alone need", "MiB, more than --max-memory 20");
}
END_TEST

/* A coarse-to-fine run whose last level cannot fit is refused before its
 * first level runs (one line: no level's plan or progress before it): 128
 * px fits 300 MiB, 1024x768 does not even in the smallest tiles (it needs
 * about 550 MiB). */
START_TEST(levels_refused_before_the_first)
{
    assert_refused("tiled_levels_refused",
                   "--size 1024 --start-size 128 --start-iters 1 --iters 1 "
                   "--max-memory 300",
                   "a 1024x768 run needs at least",
                   "more than --max-memory 300");
}
END_TEST

/* A run in tiles of 16 (2 x 2 tiles) paints what the whole-image run
 * paints: the objectives agree to ~1e-6, so after 2 Adam steps of 1 level
 * the pixels agree to rounding (at most 1 level apart). */
START_TEST(run_in_tiles_paints_the_same)
{
    char content[4096], style[4096], weights[4096], dir[4096], args[20480],
        err[4096];
    if (run_inputs(content, style, weights, sizeof content) != 0)
        return;
    tu_tmpdir("tiled_run", dir, sizeof dir);
    nst_image img[2];
    for (int tiled = 0; tiled < 2; tiled++) {
        snprintf(args, sizeof args,
                 "--content '%s' --style '%s' --weights '%s' --out "
                 "'%s/%d.png' --size 32 --iters 2 --lr 1 %s",
                 content, style, weights, dir, tiled,
                 tiled ? "--tile 16" : "");
        ck_assert_int_eq(tu_nst(args, err, sizeof err), 0);
        ck_assert_msg(strstr(err, tiled ? "(tiles of 16 px)"
                                        : "(whole image)"),
                      "no plan line in: %s", err);
        char out[4200];
        snprintf(out, sizeof out, "%s/%d.png", dir, tiled);
        ck_assert_int_eq(nst_image_load(out, &img[tiled]), 0);
    }
    ck_assert(img[0].w == img[1].w && img[0].h == img[1].h);
    for (size_t i = 0; i < (size_t)3 * img[0].w * img[0].h; i++) {
        ck_assert_float_le(fabsf(img[0].data[i] - img[1].data[i]), 1.0f);
    }
    nst_image_free(&img[0]);
    nst_image_free(&img[1]);
}
END_TEST

Suite *tiled_suite(void);
Suite *tiled_suite(void)
{
    Suite *s = suite_create("tiled");
    TCase *tc = tcase_create("objective");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, tiled_matches_whole, 0, N_CASES);
    suite_add_tcase(s, tc);
    tc = tcase_create("plan");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, plan_tiles_when_the_image_does_not_fit);
    tcase_add_test(tc, plan_refusal_names_what_fits);
    tcase_add_test(tc, run_refused_over_budget);
    tcase_add_test(tc, levels_refused_before_the_first);
    tcase_add_test(tc, run_in_tiles_paints_the_same);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(tiled_suite());
}
