/* Coarse-to-fine runs: the schedule of sizes and iterations (src/scales.c)
 * for several --size / --start-size pairs, and, end to end on the real
 * weights and images at small sizes, the log's size column and rows per
 * level, the second level starting from the first level's result resized
 * up (its row 0 against an evaluation made here), snapshots named by
 * level, a batch pair run on the same schedule, one level giving exactly
 * the single-level bytes, and bad --start-size values refused. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "image.h"
#include "network.h"
#include "nst_runner.h"
#include "objective.h"
#include "pixels.h"
#include "resample.h"
#include "scales.h"
#include "testutil.h"

/* ---- the schedule ------------------------------------------------------ */

typedef struct plan_case {
    int size, start, iters, start_iters;
    int n;
    int sizes[NST_MAX_LEVELS], level_iters[NST_MAX_LEVELS];
} plan_case;

static const plan_case plans[] = {
    /* One level: no start, the start at --size, or above it. */
    {512, 0, 300, 150, 1, {512}, {300}},
    {512, 512, 40, 150, 1, {512}, {40}},
    {200, 256, 40, 150, 1, {200}, {40}},
    /* Powers of two: S * 2^k exactly. */
    {1024, 256, 30, 150, 3, {256, 512, 1024}, {150, 30, 30}},
    {2048, 512, 20, 100, 3, {512, 1024, 2048}, {100, 20, 20}},
    {512, 256, 60, 0, 2, {256, 512}, {0, 60}},
    {4096, 16, 5, 7, 9, {16, 32, 64, 128, 256, 512, 1024, 2048, 4096},
     {7, 5, 5, 5, 5, 5, 5, 5, 5}},
    /* Other ratios: the fewest equal steps of at most 2. 700/256 = 2.73
     * takes two steps of 1.654: 423.4; 520/256 two of 1.425: 364.8;
     * 300/256 one; 1000/100 = 10 four of 1.778: 177.8, 316.2, 562.3. */
    {700, 256, 30, 150, 3, {256, 423, 700}, {150, 30, 30}},
    {520, 256, 30, 150, 3, {256, 365, 520}, {150, 30, 30}},
    {300, 256, 30, 150, 2, {256, 300}, {150, 30}},
    {1000, 100, 1, 2, 5, {100, 178, 316, 562, 1000}, {2, 1, 1, 1, 1}},
    {17, 16, 3, 4, 2, {16, 17}, {4, 3}},
};

START_TEST(schedule_sizes_and_iterations)
{
    const plan_case *c = &plans[_i];
    nst_scales s;
    nst_scales_plan(c->size, c->start, c->iters, c->start_iters, &s);
    ck_assert_msg(s.n == c->n, "size %d start %d: %d levels, expected %d",
                  c->size, c->start, s.n, c->n);
    long total = 0;
    for (int k = 0; k < c->n; k++) {
        ck_assert_msg(s.size[k] == c->sizes[k] &&
                          s.iters[k] == c->level_iters[k],
                      "size %d start %d, level %d: %d px %d iters, expected "
                      "%d px %d iters",
                      c->size, c->start, k, s.size[k], s.iters[k],
                      c->sizes[k], c->level_iters[k]);
        /* Each step grows by at most 2. */
        ck_assert(k == 0 || s.size[k] <= 2 * s.size[k - 1]);
        total += c->level_iters[k];
    }
    ck_assert_int_eq(nst_scales_total_iters(&s), total);
}
END_TEST

/* ---- end to end ------------------------------------------------------- */

static char weights[4096], content[4096], style[4096];

static int have_data(void)
{
    return tu_shared_transfer(weights, content, style, sizeof weights);
}

/* Two layers keep the runs short; the level logic does not depend on
 * the network's depth. */
#define LAYERS "--content-layers relu2_1 --style-layers relu1_1,relu2_1"

/* Runs nst on Tübingen and The Starry Night with args; fails the test
 * unless it succeeds silently. */
static void run_ok(const char *args)
{
    char all[20000], err[4096];
    snprintf(all, sizeof all,
             "--content '%s' --style '%s' --weights '%s' " LAYERS
             " --quiet %s",
             content, style, weights, args);
    ck_assert_msg(tu_nst(all, err, sizeof err) == 0, "%s: %s", args, err);
    ck_assert_str_eq(err, "");
}

enum { LOG_COLS = TU_LOG_COLS, MAX_ROWS = 64 };

static int exists(const char *path)
{
    return tu_file_size(path) > 0;
}

/* The log has rows 0..start_iters at 24 px and 0..iters at 48 px, the
 * seconds never going back; snapshots are named by level, each at its
 * level's size. */
START_TEST(levels_log_and_snapshots)
{
    if (!have_data())
        return;
    char dir[4096], args[20000], out[4200], log[4200], path[4300];
    tu_tmpdir("scales_levels", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/o.png", dir);
    snprintf(log, sizeof log, "%s/loss.csv", dir);
    snprintf(args, sizeof args,
             "--out '%s' --log '%s' --size 48 --start-size 24 "
             "--start-iters 3 --iters 2 --save-every 1 --optimizer adam",
             out, log);
    run_ok(args);
    double rows[MAX_ROWS][LOG_COLS];
    ck_assert_int_eq(tu_read_log(log, rows, MAX_ROWS), 4 + 3);
    for (int i = 0; i < 7; i++) {
        const int level2 = i >= 4;
        ck_assert_int_eq((int)rows[i][0], level2 ? i - 4 : i);
        ck_assert_int_eq((int)rows[i][6], level2 ? 48 : 24);
        ck_assert(i == 0 || rows[i][5] >= rows[i - 1][5]);
    }
    /* Level 1 starts at the content (content loss 0), level 2 at level
     * 1's result, which is not the content at 48 px. */
    ck_assert_double_eq(rows[0][2], 0.0);
    ck_assert(rows[4][2] > 0);
    const struct {
        const char *name;
        int w, h; /* 0: must not exist */
    } snaps[] = {
        {"o_level1_iter_0001.png", 24, 18}, {"o_level1_iter_0002.png", 24, 18},
        {"o_level2_iter_0001.png", 48, 36}, {"o_level1_iter_0003.png", 0, 0},
        {"o_level2_iter_0002.png", 0, 0},   {"o_iter_0001.png", 0, 0},
    };
    for (size_t i = 0; i < sizeof snaps / sizeof snaps[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, snaps[i].name);
        if (!snaps[i].w) {
            ck_assert_msg(!exists(path), "%s written", snaps[i].name);
            continue;
        }
        nst_image img;
        ck_assert_msg(nst_image_load(path, &img) == 0, "%s",
                      nst_failure_reason());
        ck_assert_int_eq(img.w, snaps[i].w);
        ck_assert_int_eq(img.h, snaps[i].h);
        nst_image_free(&img);
    }
    nst_image img;
    ck_assert_int_eq(nst_image_load(out, &img), 0);
    ck_assert_int_eq(img.w, 48);
    nst_image_free(&img);
}
END_TEST

/* The loss of x (3 x h x w) under the objective made here from the
 * pictures loaded at longest side `size` straight from the files, as a
 * run with the default options loads them. */
static nst_losses evaluate_at(const nst_network *net, int size,
                              const float *x, int w, int h)
{
    nst_options o;
    nst_options_default(&o);
    nst_image c, st;
    ck_assert_msg(
        nst_pixels_load(&o, &net->vgg, content, size, 0, &c) == 0 &&
            nst_pixels_load(&o, &net->vgg, style, size, nst_image_bytes(&c),
                            &st) == 0,
        "%s", nst_failure_reason());
    nst_pair_pixels px;
    const nst_image *styles[] = {&st};
    ck_assert_msg(nst_pixels_prepare_pair(&c, size, styles, &size, 1,
                                          NST_COLORS_NONE, &px) == 0,
                  "%s", nst_failure_reason());
    nst_image_free(&c);
    nst_image_free(&st);
    ck_assert_int_eq(px.content.w, w);
    ck_assert_int_eq(px.content.h, h);
    const nst_objective_spec spec = {
        .content_layers = net->content, .n_content = net->n_content,
        .style_layers = net->style, .n_style = net->n_style,
        .content_weight = 1, .style_weight = 1e-2, .tv_weight = 1,
        .content_layer_weights = net->content_w,
        .style_layer_weights = net->style_w};
    const nst_style_target t = {px.style[0].data, px.style[0].h,
                                px.style[0].w, 1, NULL};
    nst_objective *obj = nst_objective_create_styles(
        &net->vgg, &spec, px.content.data, h, w, &t, 1);
    ck_assert_msg(obj, "%s", nst_failure_reason());
    nst_losses l;
    ck_assert_int_eq(nst_objective_eval(obj, x, &l, NULL), 0);
    nst_objective_free(obj);
    nst_pixels_free_pair(&px);
    return l;
}

/* With --init noise and no iterations on the first level, level 1's
 * result is the seeded noise at 32 px; level 2's row 0 must be the loss
 * of that noise resized to 64 px and clamped, against targets loaded at
 * 64 px from the files. Noise at 64 px, or the content, would give
 * other losses. */
START_TEST(second_level_starts_from_the_first_resized_up)
{
    if (!have_data())
        return;
    char dir[4096], args[20000], out[4200], log[4200];
    tu_tmpdir("scales_start", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/o.png", dir);
    snprintf(log, sizeof log, "%s/loss.csv", dir);
    snprintf(args, sizeof args,
             "--out '%s' --log '%s' --size 64 --start-size 32 "
             "--start-iters 0 --iters 1 --init noise --init-noise-ratio 1 "
             "--seed 7 "
             "--optimizer adam",
             out, log);
    run_ok(args);
    double rows[MAX_ROWS][LOG_COLS];
    ck_assert_int_eq(tu_read_log(log, rows, MAX_ROWS), 1 + 2);
    ck_assert_int_eq((int)rows[1][6], 64);

    nst_network net;
    ck_assert_msg(nst_network_load(&net, weights, "relu2_1",
                                   "relu1_1,relu2_1", NST_POOL_AVG,
                                   nst_kernels_best()) == 0,
                  "%s", nst_failure_reason());
    const int w1 = 32, h1 = 24, w2 = 64, h2 = 48; /* 1024x768 fitted */
    /* Noise alone (ratio 1) replaces what x held. */
    float *noise = calloc((size_t)3 * w1 * h1, sizeof(float));
    float *up = malloc(sizeof(float) * 3 * w2 * h2);
    ck_assert(noise && up);
    nst_pixels_noise(noise, w1, h1, 7, 1.0);
    const nst_losses first = evaluate_at(&net, 32, noise, w1, h1);
    ck_assert_int_eq(nst_resample(noise, w1, h1, 3, up, w2, h2), 0);
    nst_pixels_clamp(up, w2, h2);
    const nst_losses second = evaluate_at(&net, 64, up, w2, h2);
    /* The same float operations as the run's (their results do not
     * depend on the thread count), printed to 9 significant digits: the
     * printing alone differs, by at most 5e-9 relative. */
    const double got[] = {rows[0][1], rows[1][1], rows[1][2], rows[1][3]};
    const double want[] = {first.total, second.total, second.content,
                           second.style};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= 1e-8 * fabs(want[i]),
                      "value %d: log %.9g, evaluated %.9g", i, got[i],
                      want[i]);
    free(noise);
    free(up);
    nst_network_free(&net);
}
END_TEST

/* --start-size equal to --size, 0, or a default above --size: the very
 * bytes of a single-level run; a start below --size changes them. */
START_TEST(one_level_is_the_single_level_run)
{
    if (!have_data())
        return;
    char dir[4096], args[20000], path[4][4200];
    tu_tmpdir("scales_one", dir, sizeof dir);
    const char *extra[] = {"--start-size 0", "--start-size 40", "",
                           "--start-size 20"};
    for (int i = 0; i < 4; i++) {
        snprintf(path[i], sizeof path[i], "%s/o%d.png", dir, i);
        snprintf(args, sizeof args,
                 "--out '%s' --size 40 --iters 2 --start-iters 2 %s",
                 path[i], extra[i]);
        run_ok(args);
    }
    ck_assert(tu_same_bytes(path[0], path[1]));
    ck_assert(tu_same_bytes(path[0], path[2]));
    ck_assert(!tu_same_bytes(path[0], path[3]));
}
END_TEST

/* A batch pair runs the whole schedule: its log has both levels, its
 * pair.txt the schedule's options and the iterations of both. */
START_TEST(batch_pairs_run_every_level)
{
    if (!have_data())
        return;
    char dir[4096], data[4200], outdir[4200], args[40000], err[4096],
        path[4300];
    tu_tmpdir("scales_batch", dir, sizeof dir);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(outdir, sizeof outdir, "%s/out", dir);
    snprintf(args, sizeof args,
             "mkdir -p '%s' && ln -s '%s' '%s/content_a.jpg' && "
             "ln -s '%s' '%s/style_a.jpg'",
             data, content, data, style, data);
    ck_assert_int_eq(system(args), 0);
    snprintf(args, sizeof args,
             "--data '%s' --out '%s' --weights '%s' " LAYERS
             " --size 32 --start-size 16 --start-iters 1 --iters 1 "
             "--log loss.csv --quiet",
             data, outdir, weights);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    snprintf(path, sizeof path, "%s/gen_0/loss.csv", outdir);
    double rows[MAX_ROWS][LOG_COLS];
    ck_assert_int_eq(tu_read_log(path, rows, MAX_ROWS), 2 + 2);
    ck_assert_int_eq((int)rows[1][6], 16);
    ck_assert_int_eq((int)rows[2][6], 32);
    char text[4096];
    snprintf(path, sizeof path, "%s/gen_0/pair.txt", outdir);
    tu_read_text(path, text, sizeof text);
    ck_assert_msg(strstr(text, "\nstart-size 16\nstart-iters 1\n") &&
                      strstr(text, "\niters-done 2\n"),
                  "pair.txt: %s", text);
}
END_TEST

/* Bad values: one line naming the problem, no output. */
START_TEST(bad_start_sizes_are_refused)
{
    if (!have_data())
        return;
    char dir[4096], out[4200], args[20000], err[4096];
    tu_tmpdir("scales_bad", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/o.png", dir);
    const struct {
        const char *extra;
        int status;
        const char *what;
    } cases[] = {
        {"--start-size 64", 2, "--start-size 64 is larger than --size 32"},
        {"--start-size -1", 2, "--start-size: '-1' is not a whole number"},
        {"--start-size 1x", 2, "--start-size: '1x' is not a whole number"},
        {"--start-size ''", 2, "--start-size: '' is not a whole number"},
        {"--start-iters x", 2, "--start-iters: 'x' is not a whole number"},
        /* 3x2 cannot go through the two pools before relu3_1. */
        {"--start-size 3", 1,
         "content_tubingen.jpg (content image at 3 px): image 3x2 is too "
         "small"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(args, sizeof args,
                 "--content '%s' --style '%s' --weights '%s' --out '%s' "
                 "--size 32 --iters 1 --quiet %s",
                 content, style, weights, out, cases[i].extra);
        ck_assert_msg(tu_nst(args, err, sizeof err) == cases[i].status,
                      "%s: %s", cases[i].extra, err);
        tu_assert_one_line_naming(err, cases[i].what);
        ck_assert_int_eq(tu_file_size(out), -1);
    }
}
END_TEST

static Suite *scales_suite(void)
{
    Suite *s = suite_create("scales");
    TCase *plan = tcase_create("schedule");
    tcase_add_loop_test(plan, schedule_sizes_and_iterations, 0,
                        (int)(sizeof plans / sizeof plans[0]));
    suite_add_tcase(s, plan);
    TCase *run = tcase_create("runs");
    tcase_add_test(run, levels_log_and_snapshots);
    tcase_add_test(run, second_level_starts_from_the_first_resized_up);
    tcase_add_test(run, one_level_is_the_single_level_run);
    tcase_add_test(run, batch_pairs_run_every_level);
    tcase_add_test(run, bad_start_sizes_are_refused);
    suite_add_tcase(s, run);
    return s;
}

int main(void)
{
    return tu_run_suite(scales_suite());
}
