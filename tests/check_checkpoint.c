/* Checkpoints: the optimizers' state saved and loaded continues them bit
 * for bit; a corrupt, torn, foreign or mismatched file is refused with a
 * one-line reason; and end to end, a run stopped (by Ctrl-C, or by fewer
 * --iters) and resumed writes the same result, log and snapshots as one
 * never stopped, for Adam and L-BFGS at 1 and 2 threads. */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "adam.h"
#include "checkpoint.h"
#include "cli.h"
#include "error.h"
#include "lbfgs.h"
#include "nst_runner.h"
#include "testutil.h"

/* ---- the optimizers' state ---- */

/* f(x) = sum_i c_i (x_i - t_i)^2 + x_i^4 / 4: smooth, not quadratic, so
 * L-BFGS's history and line search all take part. */
enum { N = 300 };

static int quartic(void *ctx, const float *x, double *loss, float *grad)
{
    (void)ctx;
    double f = 0;
    for (int i = 0; i < N; i++) {
        const double c = 1 + i % 7, d = x[i] - 0.01 * (i % 13);
        f += c * d * d + (double)x[i] * x[i] * x[i] * x[i] / 4;
        grad[i] = (float)(2 * c * d + (double)x[i] * x[i] * x[i]);
    }
    *loss = f;
    return 0;
}

static void start_point(float *x)
{
    tu_rng r = {7};
    tu_fill(&r, x, N, -2, 2);
}

/* Writes the image x and the state of one optimizer (save) to path. */
static void write_state(const char *path, const float *x,
                        void (*save)(const void *, nst_ckw *),
                        const void *state, nst_optimizer opt)
{
    const nst_checkpoint c = {.next = 0, .optimizer = opt, .w = N / 3,
                              .h = 1};
    nst_ckw w;
    ck_assert_msg(nst_checkpoint_begin(&w, path, &c, "--size 16\n") == 0,
                  "%s", nst_failure_reason());
    nst_ckw_f32s(&w, x, N);
    save(state, &w);
    ck_assert_msg(nst_checkpoint_commit(&w) == 0, "%s", nst_failure_reason());
}

/* Loads path, checks its image is x, and leaves c->state at the
 * optimizer's part. */
static void read_state(const char *path, nst_checkpoint *c, const float *x)
{
    ck_assert_msg(nst_checkpoint_load(path, c) == 0, "%s",
                  nst_failure_reason());
    float got[N];
    ck_assert_int_eq(nst_ckr_f32s(&c->state, got, N), 0);
    ck_assert(memcmp(got, x, sizeof got) == 0);
}

static void save_lbfgs(const void *o, nst_ckw *w) { nst_lbfgs_save(o, w); }
static void save_adam(const void *a, nst_ckw *w) { nst_adam_save(a, w); }

/* L-BFGS stopped after k evaluations, saved and loaded into a new
 * optimizer, makes the same evaluations and iterates, bit for bit, as the
 * one that went on; k sweeps the history filling, full and line-search
 * states. */
START_TEST(lbfgs_state_continues_bit_for_bit)
{
    char dir[4096], path[4200];
    tu_tmpdir("ckpt_lbfgs", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/state", dir);
    const nst_lbfgs_params p = {3, 0.5};
    const int k = _i;
    float x[N], y[N];
    start_point(x);
    nst_lbfgs *a = nst_lbfgs_create(N, NULL, NULL, &p, quartic, NULL);
    ck_assert_ptr_nonnull(a);
    nst_lbfgs_report r, s;
    for (int i = 0; i < k; i++)
        ck_assert_int_eq(nst_lbfgs_step(a, x, &r), 0);
    write_state(path, x, save_lbfgs, a, NST_OPTIMIZER_LBFGS);
    nst_lbfgs *b = nst_lbfgs_create(N, NULL, NULL, &p, quartic, NULL);
    nst_checkpoint c;
    read_state(path, &c, x);
    ck_assert_msg(nst_lbfgs_load(b, &c.state) == 0, "%s",
                  nst_failure_reason());
    ck_assert_int_eq(nst_checkpoint_end(&c), 0);
    nst_checkpoint_free(&c);
    memcpy(y, x, sizeof x);
    ck_assert_int_eq(nst_lbfgs_evaluations(b), nst_lbfgs_evaluations(a));
    for (int i = 0; i < 12; i++) {
        ck_assert_int_eq(nst_lbfgs_step(a, x, &r), 0);
        ck_assert_int_eq(nst_lbfgs_step(b, y, &s), 0);
        ck_assert_msg(r.loss == s.loss && r.accepted == s.accepted &&
                          r.done == s.done,
                      "stopped at %d, step %d: loss %.17g vs %.17g", k, i,
                      r.loss, s.loss);
        ck_assert_msg(memcmp(x, y, sizeof x) == 0, "stopped at %d, step %d",
                      k, i);
    }
    nst_lbfgs_free(a);
    nst_lbfgs_free(b);
}
END_TEST

/* Adam saved after some steps and loaded continues bit for bit. */
START_TEST(adam_state_continues_bit_for_bit)
{
    char dir[4096], path[4200];
    tu_tmpdir("ckpt_adam", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/state", dir);
    float x[N], y[N], g[N];
    double f;
    start_point(x);
    nst_adam a, b;
    ck_assert_int_eq(nst_adam_init(&a, N, 0.05), 0);
    ck_assert_int_eq(nst_adam_init(&b, N, 0.05), 0);
    for (int i = 0; i < 5; i++) {
        quartic(NULL, x, &f, g);
        nst_adam_step(&a, &nst_kernels_scalar, x, g);
    }
    write_state(path, x, save_adam, &a, NST_OPTIMIZER_ADAM);
    nst_checkpoint c;
    read_state(path, &c, x);
    ck_assert_int_eq(nst_adam_load(&b, &c.state), 0);
    ck_assert_int_eq(nst_checkpoint_end(&c), 0);
    nst_checkpoint_free(&c);
    ck_assert_int_eq(b.t, 5);
    memcpy(y, x, sizeof x);
    for (int i = 0; i < 5; i++) {
        quartic(NULL, x, &f, g);
        nst_adam_step(&a, &nst_kernels_scalar, x, g);
        quartic(NULL, y, &f, g);
        nst_adam_step(&b, &nst_kernels_scalar, y, g);
    }
    ck_assert(memcmp(x, y, sizeof x) == 0);
    nst_adam_free(&a);
    nst_adam_free(&b);
}
END_TEST

/* ---- hostile files ---- */

typedef struct blob {
    unsigned char *p;
    size_t n;
} blob;

static blob read_blob(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    blob b = {malloc(1 << 20), 0};
    ck_assert_ptr_nonnull(b.p);
    b.n = fread(b.p, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static void write_blob(const char *path, const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> 8 * i);
}

/* The CRC made right again after an edit, so the parser meets it. */
static void fix_crc(blob *b)
{
    put32(b->p + b->n - 4, (uint32_t)crc32(0, b->p, (uInt)(b->n - 4)));
}

/* path must fail to load, one line naming path and saying what. */
static void expect_refused(const char *path, const char *what)
{
    nst_checkpoint c;
    ck_assert_int_eq(nst_checkpoint_load(path, &c), -1);
    const char *why = nst_failure_reason();
    ck_assert_msg(strstr(why, path) && strstr(why, what) && !strchr(why, '\n'),
                  "wanted '%s': %s", what, why);
}

/* Header offsets: magic 0, version 8, level 12, next 16, finished 20,
 * optimizer 24, width 28, height 32, settings length 36, settings 40. */
START_TEST(hostile_checkpoints_are_refused)
{
    char dir[4096], good[4200], bad[4200];
    tu_tmpdir("ckpt_hostile", dir, sizeof dir);
    snprintf(good, sizeof good, "%s/good", dir);
    snprintf(bad, sizeof bad, "%s/bad", dir);
    float x[N];
    start_point(x);
    nst_adam a;
    ck_assert_int_eq(nst_adam_init(&a, N, 0.05), 0);
    write_state(good, x, save_adam, &a, NST_OPTIMIZER_ADAM);
    nst_adam_free(&a);
    blob b = read_blob(good);
    /* Torn: every shorter length is refused. */
    for (size_t n = 0; n < b.n; n += n < 64 ? 1 : 97) {
        write_blob(bad, b.p, n);
        expect_refused(bad, n < 12 ? "not an nst checkpoint" : "CRC-32");
    }
    /* A flipped bit anywhere after the magic. */
    for (size_t i = 8; i < b.n; i += 13) {
        b.p[i] ^= 0x10;
        write_blob(bad, b.p, b.n);
        expect_refused(bad, "CRC-32");
        b.p[i] ^= 0x10;
    }
    static const struct {
        size_t at;
        uint32_t v;
        const char *what;
    } edits[] = {
        {0, 0x4b43534e, "not an nst checkpoint"}, /* another magic */
        {8, 2, "checkpoint version 2"},
        {8, 0x01000000, "checkpoint version 16777216"}, /* big-endian 1 */
        {16, 0xffffffff, "iteration 4294967295"},
        {16, 1000001, "a field needs"},  /* rows past the end: no malloc */
        {24, 7, "optimizer 7"},
        {28, 0, "width 0"},
        {32, 1 << 20, "height 1048576"},
        {36, 0x7fffffff, "a field needs"},
    };
    for (size_t e = 0; e < sizeof edits / sizeof *edits; e++) {
        blob c = {malloc(b.n), b.n};
        memcpy(c.p, b.p, b.n);
        put32(c.p + edits[e].at, edits[e].v);
        fix_crc(&c);
        write_blob(bad, c.p, c.n);
        expect_refused(bad, edits[e].what);
        free(c.p);
    }
    /* The parser stops at its end: trailing bytes are refused. */
    unsigned char *longer = malloc(b.n + 8);
    memcpy(longer, b.p, b.n - 4);
    memset(longer + b.n - 4, 0, 8);
    blob c = {longer, b.n + 4};
    fix_crc(&c);
    write_blob(bad, c.p, c.n);
    nst_checkpoint k;
    ck_assert_int_eq(nst_checkpoint_load(bad, &k), 0);
    ck_assert_int_eq(nst_ckr_f32s(&k.state, x, N), 0);
    ck_assert_int_eq(nst_adam_init(&a, N, 0.05), 0);
    ck_assert_int_eq(nst_adam_load(&a, &k.state), 0);
    ck_assert_int_eq(nst_checkpoint_end(&k), -1);
    ck_assert(strstr(nst_failure_reason(), "4 bytes after"));
    /* A history of another size does not fit an L-BFGS of M = 3. */
    const nst_lbfgs_params p = {3, 1};
    nst_lbfgs *l = nst_lbfgs_create(N, NULL, NULL, &p, quartic, NULL);
    const unsigned char four[4] = {4, 0, 0, 0};
    nst_ckr r = {four, 4, "ck"};
    ck_assert_int_eq(nst_lbfgs_load(l, &r), -1);
    ck_assert_str_eq(nst_failure_reason(), "ck: checkpoint corrupt (L-BFGS "
                                           "history 4, not 3 to 3)");
    nst_lbfgs_free(l);
    nst_adam_free(&a);
    nst_checkpoint_free(&k);
    free(longer);
    free(b.p);
}
END_TEST

/* The settings name the first option that differs, old and new value. */
START_TEST(other_settings_are_named)
{
    nst_cli cli;
    char msg[512];
    char *argv[] = {"nst", "--content", "c.jpg", "--style", "s.jpg", "--out",
                    "o.png", "--style-weight", "0.1", NULL};
    ck_assert_int_eq(nst_cli_parse(9, argv, &cli, msg, sizeof msg),
                     NST_CLI_RUN);
    char *was = nst_checkpoint_settings(&cli.options);
    argv[8] = "0.25";
    ck_assert_int_eq(nst_cli_parse(9, argv, &cli, msg, sizeof msg),
                     NST_CLI_RUN);
    char *is = nst_checkpoint_settings(&cli.options);
    nst_checkpoint c = {.settings = was};
    ck_assert_int_eq(nst_checkpoint_match(&c, "ck", was), 0);
    ck_assert_int_eq(nst_checkpoint_match(&c, "ck", is), -1);
    ck_assert_str_eq(nst_failure_reason(), "ck: the checkpoint is of another "
                                           "run: --style-weight was 0.1, is "
                                           "0.25");
    free(was);
    free(is);
}
END_TEST

/* The options reach nst_options, and --data refuses them. */
START_TEST(options_are_parsed)
{
    nst_cli cli;
    char msg[512];
    char *argv[] = {"nst",           "--content",    "c.jpg", "--style",
                    "s.jpg",         "--out",        "o.png", "--checkpoint",
                    "ck",            "--resume",     "old",   "--keep-last-good",
                    NULL};
    ck_assert_int_eq(nst_cli_parse(12, argv, &cli, msg, sizeof msg),
                     NST_CLI_RUN);
    ck_assert_str_eq(cli.options.checkpoint, "ck");
    ck_assert_str_eq(cli.options.resume, "old");
    ck_assert_int_eq(cli.options.keep_last_good, 1);
    char *batch[] = {"nst", "--data", "d", "--resume", "ck", NULL};
    ck_assert_int_eq(nst_cli_parse(5, batch, &cli, msg, sizeof msg),
                     NST_CLI_USAGE_ERROR);
    ck_assert(strstr(msg, "--resume") && strstr(msg, "--data"));
}
END_TEST

/* ---- end to end ---- */

static char weights[4096], content[4096], style[4096];

static int have_data(void)
{
    return tu_shared_transfer(weights, content, style, sizeof weights);
}

/* Loop index i: optimizer i / 2 (Adam, L-BFGS), threads 1 + i % 2. Two
 * blocks of the network at 24 pixels: the checkpoint's work is the same
 * as for a big run, at a fraction of the time. */
static void run_args(int i, const char *dir, const char *name, int iters,
                     const char *extra, char *args, size_t size)
{
    snprintf(args, size,
             "--content '%s' --style '%s' --weights '%s' --size 24 --quiet "
             "--content-layers relu2_1 --style-layers relu1_1,relu2_1 "
             "--optimizer %s --threads %d --save-every 2 --iters %d "
             "--out '%s/%s.png' --log '%s/%s.csv' %s",
             content, style, weights, i / 2 ? "lbfgs" : "adam", 1 + i % 2,
             iters, dir, name, dir, name, extra);
}

/* NST_TEST_QUICK (sanitizer and emulated runs): Adam at 1 thread and
 * L-BFGS at 2 only. */
static int skipped(int i)
{
    const char *q = getenv("NST_TEST_QUICK");
    return q && strcmp(q, "0") != 0 && (i == 1 || i == 2);
}

static void run_ok(const char *args)
{
    char err[4096];
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
}

/* The log without its seconds column, the sixth (a resumed run's seconds
 * go on from the checkpoint's, so they differ): the losses as text. */
static void losses(const char *path, char *buf, size_t size)
{
    char text[16384];
    tu_read_text(path, text, sizeof text);
    size_t at = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *from = line;
        for (int i = 0; i < 5 && from; i++)
            from = strchr(from, ',') ? strchr(from, ',') + 1 : NULL;
        ck_assert_ptr_nonnull(from);
        const char *to = strchr(from, ',');
        at += (size_t)snprintf(buf + at, size - at, "%.*s%s\n",
                               (int)(from - line), line, to ? to + 1 : "");
        ck_assert_uint_lt(at, size);
    }
}

/* dir/a (never stopped) and dir/b (stopped and resumed) wrote the same
 * result, log and snapshots. */
static void assert_same_runs(const char *dir, int iters)
{
    char a[4200], b[4200], la[16384], lb[16384];
    snprintf(a, sizeof a, "%s/a.png", dir);
    snprintf(b, sizeof b, "%s/b.png", dir);
    ck_assert_msg(tu_same_bytes(a, b), "the results differ");
    snprintf(a, sizeof a, "%s/a.csv", dir);
    snprintf(b, sizeof b, "%s/b.csv", dir);
    losses(a, la, sizeof la);
    losses(b, lb, sizeof lb);
    ck_assert_str_eq(la, lb);
    for (int it = 2; it < iters; it += 2) {
        snprintf(a, sizeof a, "%s/a_iter_%04d.png", dir, it);
        snprintf(b, sizeof b, "%s/b_iter_%04d.png", dir, it);
        ck_assert_msg(tu_file_size(a) > 0 && tu_same_bytes(a, b),
                      "snapshot %d differs", it);
    }
}

/* A run of 3 iterations (checkpoint at its end) resumed to 7. */
START_TEST(resumed_with_more_iters_is_the_same)
{
    char dir[4096], args[40000], extra[9000];
    if (skipped(_i))
        return;
    tu_tmpdir("ckpt_more", dir, sizeof dir);
    snprintf(extra, sizeof extra, "--checkpoint '%s/ck'", dir);
    run_args(_i, dir, "b", 3, extra, args, sizeof args);
    run_ok(args);
    snprintf(extra, sizeof extra, "--checkpoint '%s/ck' --resume '%s/ck'",
             dir, dir);
    run_args(_i, dir, "b", 7, extra, args, sizeof args);
    run_ok(args);
    run_args(_i, dir, "a", 7, "", args, sizeof args);
    run_ok(args);
    assert_same_runs(dir, 7);
}
END_TEST

/* Ctrl-C once the first checkpoint is there, then resumed. */
START_TEST(resumed_after_ctrl_c_is_the_same)
{
    char dir[4096], args[40000], extra[9000], ck[4200], errf[4200],
        err[4096];
    if (skipped(_i))
        return;
    tu_tmpdir("ckpt_sigint", dir, sizeof dir);
    snprintf(ck, sizeof ck, "%s/ck", dir);
    snprintf(errf, sizeof errf, "%s/err", dir);
    snprintf(extra, sizeof extra, "--checkpoint '%s'", ck);
    run_args(_i, dir, "b", 1000000, extra, args, sizeof args);
    pid_t pid = tu_nst_start(args, errf);
    /* Up to 10 minutes: emulators are slow. */
    for (int tries = 0; tries < 12000 && tu_file_size(ck) <= 0; tries++)
        nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
    const int iters = tu_nst_interrupt(pid, errf, err, sizeof err) + 3;
    snprintf(extra, sizeof extra, "--checkpoint '%s' --resume '%s'", ck, ck);
    run_args(_i, dir, "b", iters, extra, args, sizeof args);
    run_ok(args);
    run_args(_i, dir, "a", iters, "", args, sizeof args);
    run_ok(args);
    assert_same_runs(dir, iters);
}
END_TEST

/* --resume with another setting, a smaller --iters or no file at all:
 * exit 1, one line saying what, no result. */
START_TEST(mismatched_resume_is_refused)
{
    char dir[4096], args[40000], extra[9000], err[4096], out[4200];
    tu_tmpdir("ckpt_mismatch", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/b.png", dir);
    snprintf(extra, sizeof extra, "--checkpoint '%s/ck'", dir);
    run_args(0, dir, "a", 4, extra, args, sizeof args);
    run_ok(args);
    static const struct {
        const char *extra, *what;
        int iters;
    } cases[] = {
        {"--tv-weight 0.5", "--tv-weight was 1, is 0.5", 9},
        {"--size 40", "--size was 24, is 40", 9},
        {"", "at iteration 4; give --iters 4 or more", 3},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        snprintf(extra, sizeof extra, "--resume '%s/ck' %s", dir,
                 cases[c].extra);
        run_args(0, dir, "b", cases[c].iters, extra, args, sizeof args);
        ck_assert_int_eq(tu_nst(args, err, sizeof err), 1);
        tu_assert_one_line_naming(err, cases[c].what);
        ck_assert_int_eq(tu_file_size(out), -1);
    }
    snprintf(extra, sizeof extra, "--resume '%s/none'", dir);
    run_args(0, dir, "b", 4, extra, args, sizeof args);
    ck_assert_int_eq(tu_nst(args, err, sizeof err), 1);
    tu_assert_one_line_naming(err, "none");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *unit = tcase_create("state");
    tcase_add_loop_test(unit, lbfgs_state_continues_bit_for_bit, 1, 9);
    tcase_add_test(unit, adam_state_continues_bit_for_bit);
    tcase_add_test(unit, hostile_checkpoints_are_refused);
    tcase_add_test(unit, other_settings_are_named);
    tcase_add_test(unit, options_are_parsed);
    suite_add_tcase(s, unit);
    if (have_data()) {
        TCase *tc = tcase_create("resume");
        tcase_set_timeout(tc, 600);
        tcase_add_loop_test(tc, resumed_with_more_iters_is_the_same, 0, 4);
        tcase_add_loop_test(tc, resumed_after_ctrl_c_is_the_same, 0, 4);
        tcase_add_test(tc, mismatched_resume_is_refused);
        suite_add_tcase(s, tc);
    } else {
        printf("SKIP: resumed runs on the real weights and images: not "
               "found (set NST_SHARED)\n");
    }
    return tu_run_suite(s);
}
