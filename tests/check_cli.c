/* End-to-end runs of the nst program: single pair, batch, determinism and
 * every kind of bad input, on the real weights and images at small size. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "image.h"
#include "testutil.h"

static char weights[4096], content[4096], content2[4096], style[4096];
static int have_data;


static void find_data(void)
{
    have_data = tu_shared("vgg/vgg19_conv1_1-conv3_4.npz", weights,
                          sizeof weights) &&
                tu_shared("images/content_tubingen.jpg", content,
                          sizeof content) &&
                tu_shared("images/content_golden_gate.jpg", content2,
                          sizeof content2) &&
                tu_shared("images/style_starry_night.jpg", style,
                          sizeof style);
}

/* Runs `nst ARGS` (through $NST_RUN, e.g. an emulator, if set) with stderr
 * in err; returns the exit status. */
static int run(const char *args, char *err, size_t size)
{
    const char *bin = getenv("NST_BIN"), *pre = getenv("NST_RUN");
    char tmp[4096], cmd[16384];
    ck_assert_ptr_nonnull(bin);
    tu_tmpdir("cli_stderr", tmp, sizeof tmp);
    snprintf(cmd, sizeof cmd, "%s '%s' %s >'%s/out' 2>'%s/err'",
             pre ? pre : "", bin, args, tmp, tmp);
    int st = system(cmd);
    ck_assert(st != -1 && WIFEXITED(st));
    char path[4200];
    snprintf(path, sizeof path, "%s/err", tmp);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(err, 1, size - 1, f) : 0;
    err[n] = 0;
    if (f)
        fclose(f);
    return WEXITSTATUS(st);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int same_bytes(const char *a, const char *b)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

/* Exactly one line on stderr, naming `what`. */
static void assert_one_line_naming(const char *err, const char *what)
{
    ck_assert_msg(strstr(err, what), "error does not name %s: %s", what, err);
    const char *nl = strchr(err, '\n');
    ck_assert_msg(nl && nl[1] == 0, "not one line: %s", err);
}

START_TEST(help_explains_every_option)
{
    char err[4096], out[4096], cmd[8192];
    const char *bin = getenv("NST_BIN"), *pre = getenv("NST_RUN");
    snprintf(cmd, sizeof cmd, "%s '%s' --help", pre ? pre : "", bin);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    ck_assert_int_eq(pclose(p), 0);
    static const char *const opts[] = {
        "--content", "--style", "--out", "--data", "--weights", "--iters",
        "--lr", "--content-weight", "--style-weight", "--tv-weight", "--size",
        "--style-scale", "--init", "--seed", "--pool", "--content-layers",
        "--style-layers", "--threads", "--save-every", "--log", "--quiet",
        "--help", "--version"};
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
        ck_assert_msg(strstr(out, opts[i]), "--help lacks %s", opts[i]);
    ck_assert_int_eq(run("--version", err, sizeof err), 0);
    ck_assert_int_eq(run("--iters abc --content a --style b --out c.png",
                         err, sizeof err),
                     2);
    assert_one_line_naming(err, "--iters");
    ck_assert_int_eq(run("--bogus", err, sizeof err), 2);
    assert_one_line_naming(err, "--bogus");
    ck_assert_int_eq(run("--content a.jpg --out c.png", err, sizeof err), 2);
}
END_TEST

/* Loss log rows: iter,total,content,style,tv,seconds. */
static int read_log(const char *path, double rows[][6], int max)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "iter,total,content,style,tv,seconds\n");
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        double *r = rows[n];
        ck_assert_int_eq(sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf", &r[0], &r[1],
                                &r[2], &r[3], &r[4], &r[5]),
                         6);
        ck_assert_int_eq((int)r[0], n);
        n++;
    }
    fclose(f);
    return n;
}

START_TEST(single_pair_runs_and_logs)
{
    char dir[4096], args[16384], err[4096], out[4200], log[4200], snap[4200];
    tu_tmpdir("cli_single", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/result.png", dir);
    snprintf(log, sizeof log, "%s/loss.csv", dir);
    snprintf(snap, sizeof snap, "%s/result_iter_0002.png", dir);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' --size 48 "
             "--iters 4 --save-every 2 --log '%s' --quiet",
             content, style, weights, out, log);
    ck_assert_msg(run(args, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(err, "");
    nst_image img;
    ck_assert_int_eq(nst_image_load(out, &img), 0);
    ck_assert_int_eq(img.w, 48); /* 1024x768 fitted to 48 */
    ck_assert_int_eq(img.h, 36);
    nst_image_free(&img);
    ck_assert_int_eq(nst_image_load(snap, &img), 0);
    nst_image_free(&img);
    double rows[8][6];
    ck_assert_int_eq(read_log(log, rows, 8), 5);
    for (int i = 0; i < 5; i++) {
        /* total = content + 1e-2 style + 1e-1 tv with the defaults. */
        double sum = rows[i][2] + 1e-2 * rows[i][3] + 1e-1 * rows[i][4];
        ck_assert_double_eq_tol(rows[i][1], sum, 1e-6 * sum);
        ck_assert(i == 0 || rows[i][5] >= rows[i - 1][5]);
    }
    ck_assert_double_eq(rows[0][2], 0.0); /* starts at the content image */
    ck_assert_msg(rows[4][1] < rows[0][1], "loss did not fall: %g -> %g",
                  rows[0][1], rows[4][1]);
}
END_TEST

START_TEST(same_seed_same_bytes_any_threads)
{
    char dir[4096], args[16384], err[4096], a[4200], b[4200], c[4200];
    tu_tmpdir("cli_determinism", dir, sizeof dir);
    snprintf(a, sizeof a, "%s/a.png", dir);
    snprintf(b, sizeof b, "%s/b.png", dir);
    snprintf(c, sizeof c, "%s/c.png", dir);
    const char *fmt = "--content '%s' --style '%s' --weights '%s' --out '%s' "
                      "--size 40 --iters 3 --init noise --seed %d "
                      "--threads %d --quiet";
    snprintf(args, sizeof args, fmt, content, style, weights, a, 5, 1);
    ck_assert_msg(run(args, err, sizeof err) == 0, "%s", err);
    snprintf(args, sizeof args, fmt, content, style, weights, b, 5, 2);
    ck_assert_msg(run(args, err, sizeof err) == 0, "%s", err);
    snprintf(args, sizeof args, fmt, content, style, weights, c, 6, 2);
    ck_assert_msg(run(args, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(same_bytes(a, b), "1 and 2 threads differ");
    ck_assert_msg(!same_bytes(a, c), "seeds 5 and 6 gave the same image");
}
END_TEST

START_TEST(batch_pairs_every_content_with_every_style)
{
    char data[4096], outdir[4200], args[16384], err[4096], cmd[16384];
    tu_tmpdir("cli_batch", data, sizeof data);
    snprintf(cmd, sizeof cmd,
             "ln -s '%s' '%s/content_a.jpg' && ln -s '%s' '%s/content_b.jpg' "
             "&& ln -s '%s' '%s/style_x.jpg' && touch '%s/notes.txt'",
             content2, data, content, data, style, data, data);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(outdir, sizeof outdir, "%s/out", data);
    snprintf(args, sizeof args,
             "--data '%s' --out '%s' --weights '%s' --size 32 --iters 2 "
             "--save-every 1 --log loss.csv --quiet",
             data, outdir, weights);
    ck_assert_msg(run(args, err, sizeof err) == 0, "%s", err);
    static const char *const files[] = {"result.png", "iter_0001.png",
                                        "pair.txt", "loss.csv"};
    for (int i = 0; i < 2; i++)
        for (size_t j = 0; j < sizeof files / sizeof *files; j++) {
            char p[8192];
            snprintf(p, sizeof p, "%s/gen_%d/%s", outdir, i, files[j]);
            ck_assert_msg(file_size(p) > 0, "missing %s", p);
        }
    char p[8192], text[2048];
    snprintf(p, sizeof p, "%s/gen_1/pair.txt", outdir);
    FILE *f = fopen(p, "r");
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    ck_assert_msg(strstr(text, "content_b.jpg") && strstr(text, "style_x.jpg"),
                  "gen_1 is not content_b x style_x: %s", text);
    snprintf(p, sizeof p, "%s/gen_2", outdir);
    ck_assert_int_eq(file_size(p), -1);
}
END_TEST

/* Each bad input: non-zero exit, one line naming the culprit, no output,
 * and an existing output file left as it was. */
START_TEST(bad_inputs_fail_cleanly)
{
    char dir[4096], args[16384], err[4096], out[4200], junk[4200],
        badnpz[4200], cmd[9000];
    tu_tmpdir("cli_errors", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/keep.png", dir);
    snprintf(junk, sizeof junk, "%s/junk.jpg", dir);
    snprintf(badnpz, sizeof badnpz, "%s/bad.npz", dir);
    snprintf(cmd, sizeof cmd,
             "echo precious > '%s' && head -c 3000 /dev/urandom > '%s' && "
             "head -c 100000 '%s' > '%s'",
             out, junk, weights, badnpz);
    ck_assert_int_eq(system(cmd), 0);
    const long kept = file_size(out);
    struct {
        const char *c, *s, *w, *o, *extra, *named;
    } cases[] = {
        {"/nonexistent/c.jpg", style, weights, out, "", "/nonexistent/c.jpg"},
        {content, junk, weights, out, "", "junk.jpg"},
        {content, style, badnpz, out, "", "bad.npz"},
        {content, style, "/nonexistent/w.npz", out, "", "w.npz"},
        {content, style, weights, "/nonexistent/dir/o.png", "", "o.png"},
        {content, style, weights, "/tmp/o.gif", "", "o.gif"},
        {content, style, weights, out, "--style-layers relu9_9", "relu9_9"},
        {content, style, weights, out, "--content-layers relu4_1", "conv4_1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(args, sizeof args,
                 "--content '%s' --style '%s' --weights '%s' --out '%s' "
                 "--size 32 --iters 1 --quiet %s",
                 cases[i].c, cases[i].s, cases[i].w, cases[i].o,
                 cases[i].extra);
        ck_assert_msg(run(args, err, sizeof err) == 1, "case %zu: %s", i,
                      err);
        assert_one_line_naming(err, cases[i].named);
        ck_assert_int_eq(file_size(out), kept);
    }
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l | grep -qx 3", dir);
    ck_assert_msg(system(cmd) == 0, "files left behind in %s", dir);
}
END_TEST

/* The kernel table is picked in simd/, which reports by status only; the
 * program says what is wrong with NST_ISA. */
START_TEST(unavailable_isa_fails_cleanly)
{
    char err[4096];
    ck_assert_int_eq(setenv("NST_ISA", "bogus", 1), 0);
    const int rc = run("--version", err, sizeof err);
    unsetenv("NST_ISA");
    ck_assert_msg(rc == 1, "exit %d: %s", rc, err);
    assert_one_line_naming(err, "NST_ISA=bogus");
}
END_TEST

int main(void)
{
    find_data();
    if (!have_data) {
        /* 77: automake's "skipped" */
        fprintf(stderr, "SKIP: no weights/images under $NST_SHARED\n");
        return 77;
    }
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, help_explains_every_option);
    tcase_add_test(tc, single_pair_runs_and_logs);
    tcase_add_test(tc, same_seed_same_bytes_any_threads);
    tcase_add_test(tc, batch_pairs_every_content_with_every_style);
    tcase_add_test(tc, bad_inputs_fail_cleanly);
    tcase_add_test(tc, unavailable_isa_fails_cleanly);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
