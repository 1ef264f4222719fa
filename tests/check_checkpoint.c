/* Checkpoints: the optimizers' state saved and loaded continues them bit
 * for bit; a corrupt, torn, foreign, old or mismatched file is refused
 * with a one-line reason; a coarse-to-fine run stopped in its first
 * level, at the boundary or in its second and resumed gives the result,
 * log and snapshots of one never stopped, bit for bit (in process, on a
 * small network of its own); and end to end, a run stopped (by Ctrl-C,
 * or by fewer --iters) and resumed writes the same files as one never
 * stopped, for Adam and L-BFGS at 1 and 2 threads. */
#include <check.h>
#include <glob.h>
#include <math.h>
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
#include "network.h"
#include "npz_writer.h"
#include "nst_runner.h"
#include "testutil.h"
#include "transfer.h"

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

/* Writes the image x and the state of one optimizer (save) to path: a
 * run of one level of 16 pixels and 100 iterations, with no log rows. */
static void write_state(const char *path, const float *x,
                        void (*save)(const void *, nst_ckw *),
                        const void *state, nst_optimizer opt)
{
    char settings[] = "--size 16\n";
    const nst_checkpoint c = {.levels = {1, {16}, {100}}, .next = 0,
                              .optimizer = opt, .w = N / 3, .h = 1,
                              .settings = settings};
    nst_ckw w;
    ck_assert_msg(nst_checkpoint_begin(&w, path, &c) == 0, "%s",
                  nst_failure_reason());
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

/* Header offsets: magic 0, version 8, levels 12, level 16, next 20,
 * finished 24, optimizer 28, width 32, height 36, the one level's size 40
 * and iterations 44, settings length 48, settings 52 (10 bytes), log rows
 * 62. */
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
        /* The format before levels, and one to come. */
        {8, 1, "checkpoint version 1; this nst reads version 2 only"},
        {8, 3, "checkpoint version 3"},
        {8, 0x02000000, "checkpoint version 33554432"}, /* big-endian 2 */
        {12, 0, "levels 0, not 1 to 16"},
        {12, 17, "levels 17"},
        {16, 1, "level 1, not 0 to 0"},
        {20, 0xffffffff, "iteration 4294967295"},
        {20, 1, "log rows 0, not 1 to"}, /* fewer rows than iterations */
        {28, 7, "optimizer 7"},
        {32, 0, "width 0"},
        {36, 1 << 20, "height 1048576"},
        {40, 0, "level size 0"},
        {44, 1000001, "level iterations 1000001"},
        {48, 0x7fffffff, "a field needs"},
        {62, 1000000, "a field needs"}, /* rows past the end: no malloc */
        {62, 0xffffffff, "log rows 4294967295"},
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

/* The settings of a run of c.jpg and s.jpg with the n options `more`. */
static char *settings_with(const char *const *more, int n)
{
    nst_cli cli;
    char msg[512];
    char *argv[16] = {"nst", "--content", "c.jpg", "--style", "s.jpg",
                      "--out", "o.png"};
    for (int i = 0; i < n; i++)
        argv[7 + i] = (char *)more[i];
    ck_assert_int_eq(nst_cli_parse(7 + n, argv, &cli, msg, sizeof msg),
                     NST_CLI_RUN);
    char *s = nst_checkpoint_settings(&cli.options);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* A checkpoint of settings `was` continues a run of them, and refuses
 * one of settings `is` with the reason why. */
static void assert_refused(char *was, const char *is, const char *why)
{
    const nst_checkpoint c = {.settings = was};
    ck_assert_int_eq(nst_checkpoint_match(&c, "ck", was), 0);
    ck_assert_int_eq(nst_checkpoint_match(&c, "ck", is), -1);
    ck_assert_str_eq(nst_failure_reason(), why);
}

/* The settings name the first option that differs, old and new value. */
START_TEST(other_settings_are_named)
{
    char *was = settings_with((const char *[]){"--style-weight", "0.1"}, 2),
         *is = settings_with((const char *[]){"--style-weight", "0.25"}, 2);
    assert_refused(was, is, "ck: the checkpoint is of another run: "
                            "--style-weight was 0.1, is 0.25");
    free(was);
    free(is);
}
END_TEST

/* The settings of a run started from `init` with --init-noise-ratio
 * `ratio`. */
static char *settings_of_start(const char *init, const char *ratio)
{
    return settings_with(
        (const char *[]){"--init", init, "--init-noise-ratio", ratio}, 4);
}

/* --init-noise-ratio is a setting of a run from noise, named when it
 * differs, and not of a run from the content, which it does not change.
 * A checkpoint of a run from noise without it (an older nst recorded no
 * ratio) is refused naming it. */
START_TEST(noise_ratio_is_a_setting_of_noise_runs)
{
    char *was = settings_of_start("noise", "0.5"),
         *is = settings_of_start("noise", "0.75");
    assert_refused(was, is, "ck: the checkpoint is of another run: "
                            "--init-noise-ratio was 0.5, is 0.75");
    /* The ratio is the last line: without it, an older nst's settings. */
    char *ratio = strstr(was, "\n--init-noise-ratio 0.5\n");
    ck_assert_ptr_nonnull(ratio);
    ratio[1] = 0;
    assert_refused(was, is, "ck: the checkpoint does not record "
                            "'--init-noise-ratio 0.75': it is of another "
                            "run, or an older nst wrote it");
    free(was);
    free(is);
    was = settings_of_start("content", "0.5");
    is = settings_of_start("content", "0.75");
    ck_assert_str_eq(was, is);
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

/* The settings hold the levels: --start-size 0 for one level, whatever
 * made it one (0, --size, the default 256 above --size); the start and
 * its iterations for several. */
START_TEST(levels_are_settings)
{
    static const struct {
        const char *start, *want;
    } cases[] = {
        {"0", "--size 32\n--start-size 0\n--content-weight"},
        {"32", "--size 32\n--start-size 0\n--content-weight"},
        {NULL, "--size 32\n--start-size 0\n--content-weight"},
        {"16", "--size 32\n--start-size 16\n--start-iters 7\n"
               "--content-weight"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *more[] = {"--size", "32", "--start-iters", "7",
                              "--start-size", cases[i].start};
        char *set = settings_with(more, cases[i].start ? 6 : 4);
        ck_assert_msg(strstr(set, cases[i].want), "--start-size %s: %s",
                      cases[i].start ? cases[i].start : "default", set);
        free(set);
    }
}
END_TEST

/* A checkpoint of levels 16, 32 (4 then 5 iterations) in level le at
 * iteration next, checked against a run of another schedule. */
static const char *levels_refusal(int le, uint32_t next, const nst_scales *sc)
{
    const nst_checkpoint c = {.levels = {2, {16, 32}, {4, 5}},
                              .level = (uint32_t)le, .next = next};
    if (nst_checkpoint_match_levels(&c, "ck", sc) == 0)
        return NULL;
    return nst_failure_reason();
}

/* Levels that are not the run's, a level done with other --iters, or
 * fewer iterations than the checkpoint has done are named; more
 * iterations on the checkpoint's level or on the levels after it are
 * not. */
START_TEST(other_levels_are_named)
{
    const nst_scales same = {2, {16, 32}, {4, 5}}, more = {2, {16, 32}, {4, 9}},
                     fewer = {2, {16, 32}, {4, 2}},
                     three = {3, {16, 23, 32}, {4, 5, 5}};
    ck_assert_ptr_null(levels_refusal(1, 5, &same));
    ck_assert_ptr_null(levels_refusal(1, 5, &more));
    ck_assert_ptr_null(levels_refusal(0, 4, &fewer));
    ck_assert_str_eq(levels_refusal(1, 3, &fewer),
                     "ck: the checkpoint is at iteration 3 of level 2 of 2; "
                     "give --iters 3 or more");
    ck_assert_str_eq(levels_refusal(0, 0, &three),
                     "ck: the checkpoint's levels are 16, 32 px, this run's "
                     "are 16, 23, 32 px");
    /* Levels 16, 32, 64 with 4, 5, 5 iterations, in the third. */
    const nst_checkpoint c = {.levels = {3, {16, 32, 64}, {4, 5, 5}},
                              .level = 2, .next = 1};
    const nst_scales other = {3, {16, 32, 64}, {4, 6, 6}};
    ck_assert_int_eq(nst_checkpoint_match_levels(&c, "ck", &other), -1);
    ck_assert_str_eq(nst_failure_reason(),
                     "ck: the checkpoint's run did level 2 of 3 with --iters "
                     "5; give --iters 5 to continue it");
    /* One level: --iters alone. */
    const nst_checkpoint one = {.levels = {1, {32}, {9}}, .next = 9};
    const nst_scales less = {1, {32}, {8}};
    ck_assert_int_eq(nst_checkpoint_match_levels(&one, "ck", &less), -1);
    ck_assert_str_eq(nst_failure_reason(), "ck: the checkpoint is at "
                                           "iteration 9; give --iters 9 or "
                                           "more");
}
END_TEST

/* ---- several levels, in process ---- */

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

/* A network of three narrow layers (conv1_1, conv1_2 and conv2_1, 3 -> 4
 * -> 4 -> 4 channels, seeded He-scaled weights) and seeded pictures of
 * 24x20 and 20x20: a whole coarse-to-fine run at 16 and 32 pixels takes
 * milliseconds, and every level goes through a pool. */
typedef struct fixture {
    char dir[4096];
    nst_network net;
    nst_image content, style;
} fixture;

static void fixture_make(fixture *f, const char *tag)
{
    char weights[4200];
    tu_tmpdir(tag, f->dir, sizeof f->dir);
    snprintf(weights, sizeof weights, "%s/w.npz", f->dir);
    static const char *const names[] = {"conv1_1_W", "conv1_1_b",
                                        "conv1_2_W", "conv1_2_b",
                                        "conv2_1_W", "conv2_1_b"};
    double v[3][9 * 4 * 4], b[3][4];
    npzw_array a[6];
    tu_rng r = {11};
    for (int l = 0; l < 3; l++) {
        const int cin = l ? 4 : 3;
        const double bound = sqrt(6.0 / (9.0 * cin));
        for (int i = 0; i < 9 * cin * 4; i++)
            v[l][i] = tu_uniform(&r, -bound, bound);
        for (int i = 0; i < 4; i++)
            b[l][i] = tu_uniform(&r, -0.5, 0.5);
        a[2 * l] = (npzw_array){.name = names[2 * l], .descr = "<f4",
                                .ndim = 4, .shape = {3, 3, cin, 4},
                                .values = v[l]};
        a[2 * l + 1] = (npzw_array){.name = names[2 * l + 1],
                                    .descr = "<f4", .ndim = 1, .shape = {4},
                                    .values = b[l]};
    }
    const npzw_options o = {0};
    ck_assert_int_eq(npzw_write(weights, a, 6, &o, NULL), 0);
    ck_assert_msg(nst_network_load(&f->net, weights, "relu2_1",
                                   "relu1_1,relu2_1", NST_POOL_AVG,
                                   nst_kernels_best()) == 0,
                  "%s", nst_failure_reason());
    ck_assert_int_eq(nst_image_alloc(&f->content, 24, 20), 0);
    ck_assert_int_eq(nst_image_alloc(&f->style, 20, 20), 0);
    tu_fill(&r, f->content.data, 3 * 24 * 20, 0, 255);
    tu_fill(&r, f->style.data, 3 * 20 * 20, 0, 255);
}

static void fixture_free(fixture *f)
{
    nst_network_free(&f->net);
    nst_image_free(&f->content);
    nst_image_free(&f->style);
}

/* on_iter: asks to stop at its call `at` (counted over every level from
 * 0; -1: never). */
typedef struct stopper {
    int at, calls;
} stopper;

static int stop_at(void *ctx, int iter, const nst_losses *l, double seconds)
{
    (void)iter, (void)l, (void)seconds;
    stopper *s = ctx;
    return s->calls++ == s->at;
}

/* A run of the fixture's pictures with the options `opts` (words split at
 * spaces, no paths) after the common ones: 32 pixels from 16, the log in
 * dir/<name>.csv, snapshots every 2 iterations as dir/<name>_..., the
 * checkpoint `ck` (NULL: none) written, and resumed if `resume`; stopped
 * at on_iter call stop (-1: never). The updates made (or -1, the log then
 * dropped), the result in img. */
static int run_levels(fixture *f, const char *name, const char *opts,
                      const char *ck, int resume, int stop, nst_image *img)
{
    char words[512], log_path[4300], stem[4300];
    char *argv[64] = {"nst", "--content", "c.png", "--style", "s.png",
                      "--out", "o.png", "--weights", "w.npz", "--size", "32",
                      "--start-size", "16", "--save-every", "2",
                      "--content-layers", "relu2_1", "--style-layers",
                      "relu1_1,relu2_1", "--quiet"};
    int argc = 20;
    snprintf(words, sizeof words, "%s", opts);
    for (char *w = strtok(words, " "); w; w = strtok(NULL, " "))
        argv[argc++] = w;
    if (ck) {
        argv[argc++] = "--checkpoint";
        argv[argc++] = (char *)ck;
    }
    if (ck && resume) {
        argv[argc++] = "--resume";
        argv[argc++] = (char *)ck;
    }
    argv[argc] = NULL;
    nst_cli cli;
    char msg[512];
    ck_assert_msg(nst_cli_parse(argc, argv, &cli, msg, sizeof msg) ==
                      NST_CLI_RUN,
                  "%s", msg);
    snprintf(log_path, sizeof log_path, "%s/%s.csv", f->dir, name);
    snprintf(stem, sizeof stem, "%s/%s_", f->dir, name);
    nst_run_log log;
    ck_assert_int_eq(nst_run_log_open(&log, log_path), 0);
    nst_progress progress;
    stopper st = {stop, 0};
    const nst_transfer_hooks hooks = {
        .progress = &progress, .label = "", .quiet = 1, .log = &log,
        .snap_stem = stem, .snap_ext = ".png", .on_iter = stop_at,
        .ctx = &st};
    const nst_transfer_inputs in = {
        .content = &f->content, .content_name = "c.png", .n_styles = 1,
        .style = {&f->style}, .style_name = {"s.png"}};
    const int done = nst_transfer(&f->net, &cli.options, &in, &hooks, img);
    if (done >= 0)
        ck_assert_int_eq(nst_run_log_commit(&log), 0);
    else
        nst_run_log_abort(&log);
    return done;
}

/* Where a run of levels 16 (4 iterations) and 32 stops, by on_iter call:
 * calls 0 .. 4 are level 1's iterations, 5 on level 2's. */
static const struct {
    int stop;     /* the call that asks to stop */
    int level;    /* the level (from 0) the checkpoint is then in */
    uint32_t next; /* and its iteration */
    int side;     /* the longest side of the result so far */
    int iters;    /* --iters of the resumed run and the one never stopped */
} stops[] = {
    {1, 0, 2, 16, 5}, /* in level 1 */
    /* At the boundary: before level 1's last evaluation, or at it (the
     * checkpoint before it stands). */
    {3, 0, 4, 16, 5},
    {4, 0, 4, 16, 5},
    {7, 1, 3, 32, 5}, /* in level 2 */
    {7, 1, 3, 32, 8}, /* in level 2, resumed with more iterations */
};
enum { N_STOPS = sizeof stops / sizeof *stops };

/* dir/a_... and dir/b_... are the same snapshots, each there: after 2 on
 * level 1 of 4 iterations, after 2, 4, ... below iters on level 2. */
static void same_level_snapshots(const char *dir, int iters)
{
    for (int level = 1; level <= 2; level++)
        for (int it = 2; it < (level == 1 ? 4 : iters); it += 2) {
            char a[4300], b[4300];
            snprintf(a, sizeof a, "%s/a_level%d_iter_%04d.png", dir, level,
                     it);
            snprintf(b, sizeof b, "%s/b_level%d_iter_%04d.png", dir, level,
                     it);
            ck_assert_msg(tu_file_size(a) > 0 && tu_same_bytes(a, b),
                          "snapshot %d of level %d differs", it, level);
        }
}

/* Loop index i: optimizer i / N_STOPS (Adam, L-BFGS), stop i % N_STOPS.
 * Stopped there (the checkpoint then in the level and at the iteration
 * the stop implies, the result so far at that level's size) and resumed,
 * a run gives the very floats, log losses and snapshots of a run never
 * stopped. */
START_TEST(levels_resume_bit_for_bit)
{
    const int s = _i % N_STOPS;
    const char *opt = _i / N_STOPS ? "lbfgs" : "adam";
    char first[128], opts[128], ck[4300], path[2][4300], log[2][16384];
    fixture f;
    fixture_make(&f, "ckpt_levels");
    snprintf(ck, sizeof ck, "%s/ck", f.dir);
    /* The stopped run has --iters 5, the others the case's. */
    snprintf(first, sizeof first, "--start-iters 4 --iters 5 --optimizer %s",
             opt);
    snprintf(opts, sizeof opts, "--start-iters 4 --iters %d --optimizer %s",
             stops[s].iters, opt);
    nst_image a, b;
    ck_assert_msg(run_levels(&f, "a", opts, NULL, 0, -1, &a) ==
                      4 + stops[s].iters,
                  "%s", nst_failure_reason());
    const int done = run_levels(&f, "b", first, ck, 0, stops[s].stop, &b);
    ck_assert_int_eq(done, 4 * stops[s].level + (int)stops[s].next);
    ck_assert_int_eq(b.w > b.h ? b.w : b.h, stops[s].side);
    nst_image_free(&b);
    nst_checkpoint c;
    ck_assert_msg(nst_checkpoint_load(ck, &c) == 0, "%s",
                  nst_failure_reason());
    ck_assert_int_eq(c.level, stops[s].level);
    ck_assert_uint_eq(c.next, stops[s].next);
    nst_checkpoint_free(&c);
    ck_assert_msg(run_levels(&f, "b", opts, ck, 1, -1, &b) ==
                      4 + stops[s].iters,
                  "%s", nst_failure_reason());
    ck_assert(a.w == b.w && a.h == b.h);
    ck_assert_msg(memcmp(a.data, b.data, 3 * sizeof(float) * a.w * a.h) ==
                      0,
                  "the results differ");
    for (int i = 0; i < 2; i++) {
        snprintf(path[i], sizeof path[i], "%s/%c.csv", f.dir, "ab"[i]);
        losses(path[i], log[i], sizeof log[i]);
    }
    ck_assert_str_eq(log[0], log[1]);
    same_level_snapshots(f.dir, stops[s].iters);
    nst_image_free(&a);
    nst_image_free(&b);
    fixture_free(&f);
}
END_TEST

/* The levels of the stopped runs: 8, 16, 32. */
#define LEVELS "--start-size 8 --start-iters 2 --iters 3"
#define NOISE " --init noise --init-noise-ratio "

/* A resume with other levels, or another --iters on a level the
 * checkpoint has done (stopped in the third level), or fewer on its own
 * level (stopped in the second), or of a run from noise with another
 * --init-noise-ratio, fails naming the file and the difference; no
 * result. */
START_TEST(other_levels_and_settings_are_refused)
{
    static const struct {
        int stop;
        const char *first, *opts, *what;
    } cases[] = {
        {8, LEVELS, "--start-size 8 --start-iters 2 --iters 4",
         "the checkpoint's run did level 2 of 3 with --iters 3; give --iters "
         "3 to continue it"},
        {8, LEVELS, "--start-size 16 --start-iters 2 --iters 3",
         "--start-size was 8, is 16"},
        {8, LEVELS, "--start-size 0 --start-iters 2 --iters 3",
         "--start-size was 8, is 0"},
        {8, LEVELS, "--start-size 8 --start-iters 3 --iters 3",
         "--start-iters was 2, is 3"},
        {4, LEVELS, "--start-size 8 --start-iters 2 --iters 1",
         "at iteration 2 of level 2 of 3; give --iters 2 or more"},
        {8, LEVELS NOISE "0.5", LEVELS NOISE "0.75",
         "--init-noise-ratio was 0.5, is 0.75"},
    };
    fixture f;
    fixture_make(&f, "ckpt_other_levels");
    char ck[4300];
    snprintf(ck, sizeof ck, "%s/ck", f.dir);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        /* Level 1 is calls 0 .. 2, level 2 3 .. 6, level 3 7 on. */
        nst_image img;
        ck_assert_int_ge(
            run_levels(&f, "b", cases[i].first, ck, 0, cases[i].stop, &img),
            0);
        nst_image_free(&img);
        ck_assert_int_eq(run_levels(&f, "b", cases[i].opts, ck, 1, -1, &img),
                         -1);
        const char *why = nst_failure_reason();
        ck_assert_msg(strstr(why, ck) && strstr(why, cases[i].what) &&
                          !strchr(why, '\n'),
                      "wanted '%s': %s", cases[i].what, why);
        ck_assert_ptr_null(img.data);
    }
    fixture_free(&f);
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

/* dir/a (never stopped) and dir/b (stopped and resumed) wrote the same
 * result, log and snapshots: of one level of iters iterations, or with
 * start_iters > 0 of two levels of start_iters and iters. */
static void assert_same_runs(const char *dir, int start_iters, int iters)
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
    for (int level = start_iters ? 1 : 2; level <= 2; level++) {
        char name[32] = "";
        if (start_iters)
            snprintf(name, sizeof name, "level%d_", level);
        for (int it = 2; it < (level == 1 ? start_iters : iters); it += 2) {
            snprintf(a, sizeof a, "%s/a_%siter_%04d.png", dir, name, it);
            snprintf(b, sizeof b, "%s/b_%siter_%04d.png", dir, name, it);
            ck_assert_msg(tu_file_size(a) > 0 && tu_same_bytes(a, b),
                          "snapshot %s%d differs", name, it);
        }
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
    assert_same_runs(dir, 0, 7);
}
END_TEST

/* Ctrl-C once the first checkpoint is there, in a run of levels 12 (20
 * iterations) and 24: the result so far is of the level it stopped in;
 * then resumed with 3 iterations past the stop (or 3 on level 2). */
START_TEST(resumed_after_ctrl_c_is_the_same)
{
    char dir[4096], args[40000], extra[9000], ck[4200], errf[4200],
        err[4096], out[4200];
    if (skipped(_i))
        return;
    tu_tmpdir("ckpt_sigint", dir, sizeof dir);
    snprintf(ck, sizeof ck, "%s/ck", dir);
    snprintf(errf, sizeof errf, "%s/err", dir);
    snprintf(out, sizeof out, "%s/b.png", dir);
    enum { START_ITERS = 20 };
    static const char levels[] = "--start-size 12 --start-iters 20";
    snprintf(extra, sizeof extra, "%s --checkpoint '%s'", levels, ck);
    run_args(_i, dir, "b", 1000000, extra, args, sizeof args);
    pid_t pid = tu_nst_start(args, errf);
    /* Up to 10 minutes: emulators are slow. */
    for (int tries = 0; tries < 12000 && tu_file_size(ck) <= 0; tries++)
        nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
    const int stopped = tu_nst_interrupt(pid, errf, err, sizeof err);
    /* Tübingen, 1024x768: 12x9 on level 1, 24x18 on level 2. */
    nst_image so_far;
    ck_assert_msg(nst_image_load(out, &so_far) == 0, "%s",
                  nst_failure_reason());
    ck_assert_int_eq(so_far.w, stopped <= START_ITERS ? 12 : 24);
    nst_image_free(&so_far);
    const int iters = (stopped > START_ITERS ? stopped - START_ITERS : 0) + 3;
    snprintf(extra, sizeof extra, "%s --checkpoint '%s' --resume '%s'",
             levels, ck, ck);
    run_args(_i, dir, "b", iters, extra, args, sizeof args);
    run_ok(args);
    run_args(_i, dir, "a", iters, levels, args, sizeof args);
    run_ok(args);
    assert_same_runs(dir, START_ITERS, iters);
}
END_TEST

/* --resume with another setting (one level, whatever --start-size made
 * it so, is --start-size 0), a smaller --iters or no file at all:
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
        {"--start-size 12", "--start-size was 0, is 12", 9},
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
    tcase_add_test(unit, noise_ratio_is_a_setting_of_noise_runs);
    tcase_add_test(unit, options_are_parsed);
    tcase_add_test(unit, levels_are_settings);
    tcase_add_test(unit, other_levels_are_named);
    suite_add_tcase(s, unit);
    TCase *levels = tcase_create("levels");
    tcase_set_timeout(levels, 600);
    tcase_add_loop_test(levels, levels_resume_bit_for_bit, 0, 2 * N_STOPS);
    tcase_add_test(levels, other_levels_and_settings_are_refused);
    suite_add_tcase(s, levels);
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
