/* The library API (nst.h) on pictures in memory:
 * - a transfer gives the same bytes as the nst program run with the same
 *   settings on the same files (both go through the transfer core, so
 *   "the same" is exact: any difference in sizing, colours, masks or the
 *   starting image shows up);
 * - a transfer prints nothing, whatever o->quiet says;
 * - the progress callback sees every iteration once, in order, and a
 *   non-zero return at iteration k stops the run there with NST_CANCELLED,
 *   handing back, if asked, the picture of a run of k + 1 iterations;
 * - two transfers on two threads sharing one model give the same bytes as
 *   the two one after the other;
 * - bad arguments fail with a reason naming the problem, in the caller's
 *   nst_error, whole however long, and two threads' reasons never mix.
 * Pictures are at most 48 pixels and runs a few iterations; with
 * NST_TEST_QUICK (sanitizers, emulators) 32 pixels and fewer
 * iterations. */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "error.h"
#include "image.h"
#include "nst.h"
#include "nst_runner.h"
#include "testutil.h"

static char weights[4096], content_path[4096], style_path[4096],
    style2_path[4096];
static nst_rgb8 content, style, style2;
static nst_model *model;
static int side, iters;

static int quick(void)
{
    const char *q = getenv("NST_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

/* An image file as the caller of the API would hand it over; 0, or -1
 * with a failure reason. */
static int decode(const char *path, nst_rgb8 *out)
{
    nst_image img;
    *out = (nst_rgb8){0};
    if (nst_image_load(path, &img) != 0)
        return -1;
    *out = (nst_rgb8){img.w, img.h, nst_image_to_rgb8(&img)};
    nst_image_free(&img);
    return out->pixels ? 0 : nst_fail("%s: out of memory", path);
}

/* Loads the weights, the pictures and the model once; 0 (having said
 * SKIP) when the shared data is missing. */
static int find_data(void)
{
    if (!tu_shared("vgg/vgg19_conv1_1-conv3_4.npz", weights, sizeof weights) ||
        !tu_shared("images/content_tubingen.jpg", content_path,
                   sizeof content_path) ||
        !tu_shared("images/style_starry_night.jpg", style_path,
                   sizeof style_path) ||
        !tu_shared("images/style_the_scream.jpg", style2_path,
                   sizeof style2_path)) {
        printf("SKIP api: weights or images not found (set NST_SHARED)\n");
        return 0;
    }
    side = quick() ? 32 : 48;
    iters = quick() ? 2 : 4;
    nst_error err = {0};
    model = nst_model_load(weights, NULL, NULL, NST_POOL_AVG, NULL, &err);
    if (!model) {
        fprintf(stderr, "api: %s\n", err.reason);
        exit(EXIT_FAILURE);
    }
    return 1;
}

static void small_options(nst_options *o)
{
    nst_options_default(o);
    o->size = side;
    o->iters = iters;
}

static void assert_same_pictures(const nst_rgb8 *a, const nst_rgb8 *b)
{
    ck_assert_int_eq(a->width, b->width);
    ck_assert_int_eq(a->height, b->height);
    ck_assert_mem_eq(a->pixels, b->pixels, (size_t)3 * a->width * a->height);
}

/* The request of configuration c: 0 one style from the content; 1 two
 * styles, blended, each with a mask (the content picture itself, which
 * has its size), from the second style as starting picture, with L-BFGS
 * and the colours kept by luminance. The matching command line in args. */
static void configuration(int c, nst_options *o, nst_request *rq,
                          nst_rgb8 styles[2], nst_rgb8 masks[2], char *args,
                          size_t size, const char *out)
{
    small_options(o);
    styles[0] = style;
    styles[1] = style2;
    masks[0] = masks[1] = content;
    *rq = (nst_request){.content = &content, .styles = styles, .n_styles = 1};
    int n = snprintf(args, size,
                     "--quiet --weights %s --size %d --iters %d --content %s "
                     "--style %s --out %s",
                     weights, side, iters, content_path, style_path, out);
    if (c == 1) {
        o->optimizer = NST_OPTIMIZER_LBFGS;
        o->colors = NST_COLORS_LUMINANCE;
        o->n_blend = 2;
        o->style_blend[0] = 1;
        o->style_blend[1] = 3;
        rq->n_styles = 2;
        rq->masks = masks;
        rq->init = &style2;
        n += snprintf(args + n, size - (size_t)n,
                      " --style %s --style-blend 1,3 --style-mask %s "
                      "--style-mask %s --init %s --optimizer lbfgs "
                      "--preserve-colors luminance",
                      style2_path, content_path, content_path, style2_path);
    }
    ck_assert((size_t)n < size);
}

START_TEST(api_gives_the_bytes_of_the_program)
{
    if (!model)
        return;
    char dir[4096], out[4200], args[20000], err[4096];
    tu_tmpdir("api_vs_cli", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out.png", dir);
    nst_options o;
    nst_request rq;
    nst_rgb8 styles[2], masks[2], got, want;
    configuration(_i, &o, &rq, styles, masks, args, sizeof args, out);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "nst: %s", err);
    ck_assert_msg(decode(out, &want) == 0, "%s", nst_failure_reason());
    nst_error e = {0};
    ck_assert_msg(nst_transfer_rgb8(model, &o, &rq, &got, &e) == NST_OK,
                  "%s", e.reason);
    assert_same_pictures(&got, &want);
    nst_rgb8_free(&got);
    nst_rgb8_free(&want);
}
END_TEST

/* A transfer prints nothing, even with o->quiet 0: the progress and the
 * memory plan's line are the program's. Standard error goes to a file
 * for the call. */
START_TEST(transfer_prints_nothing)
{
    if (!model)
        return;
    nst_options o;
    small_options(&o);
    o.quiet = 0;
    o.iters = 1;
    nst_rgb8 styles[1] = {style};
    nst_request rq = {.content = &content, .styles = styles, .n_styles = 1};
    char dir[4096], path[4200];
    tu_tmpdir("api_silent", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/stderr", dir);
    fflush(stderr);
    const int saved = dup(2);
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert(saved >= 0 && fd >= 0 && dup2(fd, 2) == 2);
    nst_rgb8 out;
    nst_error e = {0};
    const nst_status st = nst_transfer_rgb8(model, &o, &rq, &out, &e);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    ck_assert_msg(st == NST_OK, "%s", e.reason);
    struct stat sb;
    ck_assert(stat(path, &sb) == 0);
    ck_assert_msg(sb.st_size == 0, "%s: the transfer printed %lld bytes",
                  path, (long long)sb.st_size);
    nst_rgb8_free(&out);
    nst_error_clear(&e);
}
END_TEST

/* Records what the callback saw; returns non-zero at cancel_at. */
typedef struct seen {
    int n, iteration[64], total[64], cancel_at;
    double last_seconds;
    int order_ok, losses_ok;
} seen;

static int record(void *user, const nst_iteration *it)
{
    seen *s = user;
    if (s->n < 64) {
        s->iteration[s->n] = it->iteration;
        s->total[s->n] = it->total;
    }
    s->n++;
    /* Seconds never go back; the loss is the weighted sum of its parts,
     * all finite and positive (the style loss of a photo against a
     * painting is never 0). */
    s->order_ok &= it->seconds >= s->last_seconds;
    s->last_seconds = it->seconds;
    s->losses_ok &= it->loss > 0 && it->style > 0 && it->tv > 0 &&
                    it->content >= 0 && it->loss < 1e30;
    return it->iteration == s->cancel_at;
}

START_TEST(callback_sees_every_iteration_and_cancels)
{
    if (!model)
        return;
    nst_options o;
    small_options(&o);
    seen s = {.cancel_at = -1, .order_ok = 1, .losses_ok = 1};
    nst_rgb8 styles[1] = {style};
    nst_request rq = {.content = &content, .styles = styles, .n_styles = 1,
                      .progress = record, .user = &s};
    nst_rgb8 full, cancelled, shorter;
    nst_error e = {0};
    ck_assert_msg(nst_transfer_rgb8(model, &o, &rq, &full, &e) == NST_OK,
                  "%s", e.reason);
    ck_assert_int_eq(s.n, iters + 1);
    for (int i = 0; i <= iters; i++) {
        ck_assert_int_eq(s.iteration[i], i);
        ck_assert_int_eq(s.total[i], iters);
    }
    ck_assert(s.order_ok && s.losses_ok);

    /* Cancelled at k: nothing after k, no picture unless asked. */
    const int k = 1;
    s = (seen){.cancel_at = k, .order_ok = 1, .losses_ok = 1};
    ck_assert_int_eq(nst_transfer_rgb8(model, &o, &rq, &cancelled, &e),
                     NST_CANCELLED);
    ck_assert_int_eq(s.n, k + 1);
    ck_assert_int_eq(s.iteration[k], k);
    ck_assert_ptr_null(cancelled.pixels);

    /* Asked for: the picture after iteration k's update, which is what a
     * run of k + 1 iterations ends with (Adam's state does not depend on
     * the run's length), byte for byte. */
    s = (seen){.cancel_at = k, .order_ok = 1, .losses_ok = 1};
    rq.keep_cancelled = 1;
    ck_assert_int_eq(nst_transfer_rgb8(model, &o, &rq, &cancelled, &e),
                     NST_CANCELLED);
    ck_assert_int_eq(s.n, k + 1);
    rq.progress = NULL;
    o.iters = k + 1;
    ck_assert_msg(nst_transfer_rgb8(model, &o, &rq, &shorter, &e) == NST_OK,
                  "%s", e.reason);
    assert_same_pictures(&cancelled, &shorter);
    if (k + 1 < iters) /* the whole run went further */
        ck_assert_int_ne(memcmp(cancelled.pixels, full.pixels,
                                (size_t)3 * full.width * full.height),
                         0);
    nst_rgb8_free(&full);
    nst_rgb8_free(&cancelled);
    nst_rgb8_free(&shorter);
}
END_TEST

#ifdef _OPENMP
/* The calling thread's OpenMP thread count at each iteration. */
static int threads_seen(void *user, const nst_iteration *it)
{
    (void)it;
    *(int *)user = omp_get_max_threads();
    return 0;
}

/* o->threads is the transfer's thread count while it runs, and the
 * caller's count comes back after it: set to 3 here (whatever the
 * machine's default), a transfer with threads 1 runs on 1 and leaves 3;
 * with threads 0 it runs on the caller's 3. Same bytes either way. */
START_TEST(threads_option_is_the_transfers)
{
    if (!model)
        return;
    nst_options o;
    small_options(&o);
    o.iters = 1;
    int seen = 0;
    nst_rgb8 styles[1] = {style};
    nst_request rq = {.content = &content, .styles = styles, .n_styles = 1,
                      .progress = threads_seen, .user = &seen};
    nst_rgb8 one, caller;
    nst_error e = {0};
    omp_set_num_threads(3);
    o.threads = 1;
    ck_assert_msg(nst_transfer_rgb8(model, &o, &rq, &one, &e) == NST_OK, "%s",
                  e.reason);
    ck_assert_int_eq(seen, 1);
    ck_assert_int_eq(omp_get_max_threads(), 3);
    o.threads = 0;
    ck_assert_msg(nst_transfer_rgb8(model, &o, &rq, &caller, &e) == NST_OK,
                  "%s", e.reason);
    ck_assert_int_eq(seen, 3);
    assert_same_pictures(&one, &caller);
    nst_rgb8_free(&one);
    nst_rgb8_free(&caller);
}
END_TEST
#endif

/* One transfer of a thread test: its settings and what it gave. */
typedef struct job {
    nst_options o;
    nst_rgb8 styles[1];
    nst_request rq;
    nst_rgb8 out;
    nst_status st;
    nst_error e;
    pthread_barrier_t *barrier; /* NULL: start at once */
} job;

static void *run_job(void *p)
{
    job *j = p;
    if (j->barrier)
        pthread_barrier_wait(j->barrier);
    j->st = nst_transfer_rgb8(model, &j->o, &j->rq, &j->out, &j->e);
    return NULL;
}

static void make_jobs(job jobs[2])
{
    for (int i = 0; i < 2; i++) {
        job *j = &jobs[i];
        *j = (job){0};
        small_options(&j->o);
        j->styles[0] = i ? style2 : style;
        j->o.colors = i ? NST_COLORS_HISTOGRAM : NST_COLORS_NONE;
        j->rq = (nst_request){.content = &content, .styles = j->styles,
                              .n_styles = 1};
    }
}

START_TEST(two_threads_share_a_model)
{
    if (!model)
        return;
    job alone[2], together[2];
    make_jobs(alone);
    make_jobs(together);
    for (int i = 0; i < 2; i++) {
        run_job(&alone[i]);
        ck_assert_msg(alone[i].st == NST_OK, "%s", alone[i].e.reason);
    }
    pthread_barrier_t barrier;
    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        together[i].barrier = &barrier;
        ck_assert_int_eq(pthread_create(&t[i], NULL, run_job, &together[i]),
                         0);
    }
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(together[i].st == NST_OK, "%s", together[i].e.reason);
        assert_same_pictures(&together[i].out, &alone[i].out);
        nst_rgb8_free(&alone[i].out);
        nst_rgb8_free(&together[i].out);
    }
}
END_TEST

/* Breaks one thing of a good request; the words the reason must hold. */
typedef struct breakage {
    const char *what, *reason;
} breakage;

static const breakage breakages[] = {
    {"no content", "content: NULL picture"},
    {"no content pixels", "content: no pixels"},
    {"0-wide content", "content: 0x"},
    {"no styles", "n_styles: 0"},
    {"no style pixels", "styles[0]: no pixels"},
    {"style of 0 rows", "styles[0]: "},
    {"mask not the content's size", "masks[0]: "},
    {"negative iters", "options: iters is -1"},
    {"size too small", "options: size is 8"},
    {"lr 0", "options: lr is 0"},
    {"negative style weight", "options: style_weight is -1"},
    {"colors out of range", "options: colors 7"},
    {"optimizer out of range", "options: optimizer 5"},
    {"blend weights for 2 styles", "options: n_blend is 2 for 1 styles"},
    {"style scale too big", "options: style_scale is 1000"},
    {"negative start size", "options: start_size is -1"},
    {"negative start iters", "options: start_iters is -2"},
    {"negative memory budget", "options: max_memory is -3"},
    {"tile too big", "options: tile is 20000"},
    {"no model", "model: NULL"},
    {"no options", "options: NULL"},
};
enum { N_BREAKAGES = sizeof breakages / sizeof *breakages };

/* Runs the request with breakage b (its pictures only described, never
 * run: every breakage is caught before any work). */
static nst_status broken_run(int b, nst_rgb8 *out, nst_error *e)
{
    static const unsigned char px[3 * 24 * 16];
    nst_rgb8 c = {24, 16, (unsigned char *)px}, s[1] = {c}, m[1] = {c};
    nst_options o;
    small_options(&o);
    o.size = 16;
    nst_request rq = {.content = &c, .styles = s, .n_styles = 1};
    const nst_model *mod = model;
    const nst_options *opt = &o;
    switch (b) {
    case 0: rq.content = NULL; break;
    case 1: c.pixels = NULL; break;
    case 2: c.width = 0; break;
    case 3: rq.n_styles = 0; break;
    case 4: s[0].pixels = NULL; break;
    case 5: s[0].height = 0; break;
    case 6: m[0].width = 23; rq.masks = m; break;
    case 7: o.iters = -1; break;
    case 8: o.size = 8; break;
    case 9: o.lr = 0; break;
    case 10: o.style_weight = -1; break;
    case 11: o.colors = (nst_colors)7; break;
    case 12: o.optimizer = (nst_optimizer)5; break;
    case 13: o.n_blend = 2; o.style_blend[0] = o.style_blend[1] = 1; break;
    case 14: o.style_scale = 1000; break;
    case 15: o.start_size = -1; break;
    case 16: o.start_iters = -2; break;
    case 17: o.max_memory = -3; break;
    case 18: o.tile = 20000; break;
    case 19: mod = NULL; break;
    case 20: opt = NULL; break;
    }
    return nst_transfer_rgb8(mod, opt, &rq, out, e);
}

START_TEST(bad_arguments_are_named)
{
    if (!model)
        return;
    nst_rgb8 out = {1, 1, NULL};
    nst_error e = {0};
    ck_assert_msg(broken_run(_i, &out, &e) == NST_FAILED, "%s: accepted",
                  breakages[_i].what);
    ck_assert_msg(strstr(e.reason, breakages[_i].reason) != NULL,
                  "%s: reason '%s' lacks '%s'", breakages[_i].what, e.reason,
                  breakages[_i].reason);
    ck_assert_ptr_null(out.pixels);
    nst_error_clear(&e);
    ck_assert_int_eq(out.width, 0);
}
END_TEST

START_TEST(bad_models_are_named)
{
    if (!model)
        return;
    nst_error e = {0};
    ck_assert_ptr_null(nst_model_load("/nonexistent.npz", NULL, NULL,
                                      NST_POOL_AVG, NULL, &e));
    ck_assert_msg(strstr(e.reason, "/nonexistent.npz"), "%s", e.reason);
    ck_assert_ptr_null(
        nst_model_load(weights, NULL, NULL, NST_POOL_AVG, "bogus", &e));
    ck_assert_msg(strstr(e.reason, "kernels 'bogus'"), "%s", e.reason);
    ck_assert_ptr_null(
        nst_model_load(weights, "relu9_1", NULL, NST_POOL_AVG, NULL, &e));
    ck_assert_msg(strstr(e.reason, "relu9_1"), "%s", e.reason);
    /* A NULL error is allowed. */
    ck_assert_ptr_null(nst_model_load(NULL, NULL, NULL, NST_POOL_AVG, NULL,
                                      NULL));
    nst_error_clear(&e);
}
END_TEST

/* A reason longer than a fixed buffer of PATH_MAX (4096) bytes held: a
 * content path of 5000 characters in folders that do not exist comes back
 * whole in the reason; the next call that succeeds frees it and leaves
 * NULL. */
START_TEST(long_reasons_are_whole)
{
    if (!model)
        return;
    char dir[4096], out[4200];
    tu_tmpdir("api_long_reason", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out.png", dir);
    enum { FOLDERS = 25, NAME = 199 };
    char *path = malloc(strlen(dir) + FOLDERS * (NAME + 1) + 16), *p = path;
    ck_assert_ptr_nonnull(path);
    p += sprintf(p, "%s", dir);
    for (int i = 0; i < FOLDERS; i++) {
        *p++ = '/';
        memset(p, 'a' + i, NAME);
        p += NAME;
    }
    strcpy(p, "/content.png");
    ck_assert_uint_gt(strlen(path), 5000);
    nst_options o;
    small_options(&o);
    o.content = path;
    o.style = style_path;
    o.weights = weights;
    o.out = out;
    o.quiet = 1;
    nst_error e = {0};
    ck_assert_int_eq(nst_run(&o, NULL, &e), -1);
    ck_assert_ptr_nonnull(e.reason);
    ck_assert_msg(strstr(e.reason, path) != NULL,
                  "the reason (%zu bytes) lacks the whole path",
                  strlen(e.reason));
    nst_model *m = nst_model_load(weights, NULL, NULL, NST_POOL_AVG, NULL, &e);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_null(e.reason);
    nst_model_free(m);
    free(path);
}
END_TEST

/* Each thread fails with its own breakage, again and again; its reason
 * must always be its own. */
typedef struct failer {
    int breakage, rounds, wrong;
    pthread_barrier_t *barrier;
} failer;

static void *fail_repeatedly(void *p)
{
    failer *f = p;
    pthread_barrier_wait(f->barrier);
    for (int r = 0; r < f->rounds; r++) {
        nst_rgb8 out;
        nst_error e = {0};
        if (broken_run(f->breakage, &out, &e) != NST_FAILED ||
            !strstr(e.reason, breakages[f->breakage].reason))
            f->wrong++;
        nst_error_clear(&e);
    }
    return NULL;
}

START_TEST(reasons_of_two_threads_do_not_mix)
{
    if (!model)
        return;
    pthread_barrier_t barrier;
    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
    failer f[2] = {{7, 2000, 0, &barrier}, {6, 2000, 0, &barrier}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, fail_repeatedly, &f[i]),
                         0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&barrier);
    ck_assert_int_eq(f[0].wrong, 0);
    ck_assert_int_eq(f[1].wrong, 0);
}
END_TEST

int main(void)
{
    if (find_data() && (decode(content_path, &content) != 0 ||
                        decode(style_path, &style) != 0 ||
                        decode(style2_path, &style2) != 0)) {
        fprintf(stderr, "api: %s\n", nst_failure_reason());
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("api");
    TCase *runs = tcase_create("runs");
    tcase_set_timeout(runs, 600);
    tcase_add_loop_test(runs, api_gives_the_bytes_of_the_program, 0, 2);
    tcase_add_test(runs, transfer_prints_nothing);
    tcase_add_test(runs, callback_sees_every_iteration_and_cancels);
#ifdef _OPENMP
    tcase_add_test(runs, threads_option_is_the_transfers);
#endif
    tcase_add_test(runs, two_threads_share_a_model);
    suite_add_tcase(s, runs);
    TCase *bad = tcase_create("bad arguments");
    tcase_add_loop_test(bad, bad_arguments_are_named, 0, N_BREAKAGES);
    tcase_add_test(bad, bad_models_are_named);
    tcase_add_test(bad, long_reasons_are_whole);
    tcase_add_test(bad, reasons_of_two_threads_do_not_mix);
    suite_add_tcase(s, bad);
    const int rc = tu_run_suite(s);
    nst_rgb8_free(&content);
    nst_rgb8_free(&style);
    nst_rgb8_free(&style2);
    nst_model_free(model);
    return rc;
}
