/* End-to-end runs of the nst program: single pair, batch, determinism and
 * every kind of bad input, on the real weights and images at small size. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "image.h"
#include "lbfgs.h"
#include "npz_writer.h"
#include "nst_runner.h"
#include "pixels.h"
#include "png_fixture.h"
#include "sheet.h"
#include "testutil.h"
#include "vgg.h"

static char weights[4096], content[4096], content2[4096], style[4096];
static int have_data;


static void find_data(void)
{
    have_data = tu_shared_transfer(weights, content, style, sizeof weights) &&
                tu_shared("images/content_golden_gate.jpg", content2,
                          sizeof content2);
}

/* The image at path loads and is w x h. */
static void assert_image_size(const char *path, int w, int h)
{
    nst_image img;
    ck_assert_msg(nst_image_load(path, &img) == 0, "%s", nst_failure_reason());
    ck_assert_int_eq(img.w, w);
    ck_assert_int_eq(img.h, h);
    nst_image_free(&img);
}

START_TEST(help_explains_every_option)
{
    char err[4096], out[16384], cmd[8192];
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
        "--help", "--version", "--preserve-colors", "--quality",
        "--style-blend", "--style-mask", "--optimizer", "--lbfgs-history",
        "--checkpoint", "--resume", "--keep-last-good", "--max-memory",
        "--tile", "--start-size", "--start-iters"};
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
        ck_assert_msg(strstr(out, opts[i]), "--help lacks %s", opts[i]);
    ck_assert_int_eq(tu_nst("--version", err, sizeof err), 0);
    ck_assert_int_eq(tu_nst("--iters abc --content a --style b --out c.png",
                         err, sizeof err),
                     2);
    tu_assert_one_line_naming(err, "--iters");
    ck_assert_int_eq(tu_nst("--bogus", err, sizeof err), 2);
    tu_assert_one_line_naming(err, "--bogus");
    ck_assert_int_eq(tu_nst("--content a.jpg --out c.png", err, sizeof err), 2);
}
END_TEST

/* A single-level run's log (tu_read_log): rows 0..N in order. */
static int read_log(const char *path, double rows[][TU_LOG_COLS], int max)
{
    const int n = tu_read_log(path, rows, max);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq((int)rows[i][0], i);
    return n;
}

/* Each row's total is content + 1e-2 style + 1 tv (the documented default
 * weights), each printed to 9 digits, and the seconds never go back. */
static void assert_default_totals(double rows[][TU_LOG_COLS], int n)
{
    for (int i = 0; i < n; i++) {
        double sum = rows[i][2] + 1e-2 * rows[i][3] + rows[i][4];
        ck_assert_double_eq_tol(rows[i][1], sum, 1e-6 * sum);
        ck_assert(i == 0 || rows[i][5] >= rows[i - 1][5]);
    }
}

START_TEST(single_pair_runs_and_logs)
{
    char dir[4096], args[40000], err[4096], out[4200], log[4200], snap[4200];
    tu_tmpdir("cli_single", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/result.png", dir);
    snprintf(log, sizeof log, "%s/loss.csv", dir);
    snprintf(snap, sizeof snap, "%s/result_iter_0002.png", dir);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' --size 48 "
             "--iters 4 --save-every 2 --log '%s' --quiet",
             content, style, weights, out, log);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(err, "");
    assert_image_size(out, 48, 36); /* 1024x768 fitted to 48 */
    nst_image img;
    ck_assert_int_eq(nst_image_load(snap, &img), 0);
    nst_image_free(&img);
    double rows[8][TU_LOG_COLS];
    ck_assert_int_eq(read_log(log, rows, 8), 5);
    assert_default_totals(rows, 5);
    ck_assert_double_eq(rows[0][2], 0.0); /* starts at the content image */
    ck_assert_msg(rows[4][1] < rows[0][1], "loss did not fall: %g -> %g",
                  rows[0][1], rows[4][1]);
}
END_TEST

START_TEST(size_700_from_a_1024_image)
{
    /* 1024 -> 700 is a ratio an earlier resampler aborted on. Only the
     * first layer and one level without iterations are run, so the
     * network's work stays small. */
    char dir[4096], args[16384], err[4096], out[4200];
    tu_tmpdir("cli_size_700", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/result.png", dir);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' --size 700 "
             "--iters 0 --start-size 0 --content-layers relu1_1 "
             "--style-layers relu1_1 --quiet",
             content, style, weights, out);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(err, "");
    assert_image_size(out, 700, 525); /* 1024x768 fitted to 700 */
}
END_TEST

/* For each optimizer (loop index: adam, lbfgs, whose dot products are
 * summed in a fixed order). */
START_TEST(same_seed_same_bytes_any_threads)
{
    static const char *const optimizer[] = {"adam", "lbfgs"};
    char dir[4096], args[40000], err[4096], a[4200], b[4200], c[4200];
    tu_tmpdir("cli_determinism", dir, sizeof dir);
    snprintf(a, sizeof a, "%s/a.png", dir);
    snprintf(b, sizeof b, "%s/b.png", dir);
    snprintf(c, sizeof c, "%s/c.png", dir);
    const char *fmt = "--content '%s' --style '%s' --weights '%s' --out '%s' "
                      "--size 40 --iters 3 --init noise --seed %d "
                      "--threads %d --quiet --optimizer %s";
    const char *opt = optimizer[_i];
    snprintf(args, sizeof args, fmt, content, style, weights, a, 5, 1, opt);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    snprintf(args, sizeof args, fmt, content, style, weights, b, 5, 2, opt);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    snprintf(args, sizeof args, fmt, content, style, weights, c, 6, 2, opt);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(tu_same_bytes(a, b), "1 and 2 threads differ");
    ck_assert_msg(!tu_same_bytes(a, c), "seeds 5 and 6 gave the same image");
}
END_TEST

START_TEST(batch_pairs_every_content_with_every_style)
{
    char data[4096], outdir[4200], args[40000], err[4096], cmd[40000];
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
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    static const char *const files[] = {"result.png", "iter_0001.png",
                                        "pair.txt", "loss.csv"};
    for (int i = 0; i < 2; i++)
        for (size_t j = 0; j < sizeof files / sizeof *files; j++) {
            char p[8192];
            snprintf(p, sizeof p, "%s/gen_%d/%s", outdir, i, files[j]);
            ck_assert_msg(tu_file_size(p) > 0, "missing %s", p);
        }
    static const char *const pair1[] = {"content_b.jpg", "style_x.jpg"};
    tu_assert_pair_txt(outdir, 1, pair1, 2);
    char p[8192];
    snprintf(p, sizeof p, "%s/gen_2", outdir);
    ck_assert_int_eq(tu_file_size(p), -1);
}
END_TEST

/* Each bad input: non-zero exit, one line naming the culprit, no output,
 * and an existing output file left as it was. */
START_TEST(bad_inputs_fail_cleanly)
{
    char dir[4096], args[40000], err[4096], out[4200], junk[4200],
        badnpz[4200], cmd[20000];
    tu_tmpdir("cli_errors", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/keep.png", dir);
    snprintf(junk, sizeof junk, "%s/junk.jpg", dir);
    snprintf(badnpz, sizeof badnpz, "%s/bad.npz", dir);
    snprintf(cmd, sizeof cmd,
             "echo precious > '%s' && head -c 3000 /dev/urandom > '%s' && "
             "head -c 100000 '%s' > '%s'",
             out, junk, weights, badnpz);
    ck_assert_int_eq(system(cmd), 0);
    const long kept = tu_file_size(out);
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
        ck_assert_msg(tu_nst(args, err, sizeof err) == 1, "case %zu: %s", i,
                      err);
        tu_assert_one_line_naming(err, cases[i].named);
        ck_assert_int_eq(tu_file_size(out), kept);
    }
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l | grep -qx 3", dir);
    ck_assert_msg(system(cmd) == 0, "files left behind in %s", dir);
}
END_TEST

/* Runs args (with the real weights and style, --size 32 --iters 2) and
 * checks the refusal: status 1, one line naming `named` and saying "same
 * file", guarded unchanged, and nothing new in dir (which holds `files`
 * entries). */
static void assert_refused(const char *dir, int files, const char *args,
                           const char *named, const char *guarded,
                           const char *original)
{
    char full[50000], err[8192], cmd[20000];
    snprintf(full, sizeof full,
             "--style '%s' --weights '%s' --size 32 --iters 2 --quiet %s",
             style, weights, args);
    ck_assert_msg(tu_nst(full, err, sizeof err) == 1, "%s: %s", args, err);
    tu_assert_one_line_naming(err, named);
    ck_assert_msg(strstr(err, "same file"), "%s", err);
    ck_assert_msg(tu_same_bytes(guarded, original), "%s changed", guarded);
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l | grep -qx %d", dir, files);
    ck_assert_msg(system(cmd) == 0, "files left behind in %s", dir);
}

/* --out or --log naming an input or each other: refused before any work,
 * whether directly, through a symbolic link (either way round) or a hard
 * link. */
START_TEST(outputs_that_are_inputs_are_refused)
{
    char dir[4096], cmd[40000], args[40000], photo[4200], orig[4200];
    tu_tmpdir("cli_refuse", dir, sizeof dir);
    snprintf(photo, sizeof photo, "%s/photo.jpg", dir);
    snprintf(orig, sizeof orig, "%s/original.jpg", dir);
    snprintf(cmd, sizeof cmd,
             "cp '%s' '%s' && cp '%s' '%s' && ln -s photo.jpg '%s/link.jpg' "
             "&& ln '%s' '%s/hard.jpg' && mkdir '%s/sub' && "
             "ln -s .. '%s/sub/up'",
             content, photo, content, orig, dir, photo, dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    const int n = 5; /* photo, original, link, hard, sub */
    static const char *const cases[][2] = {
        /* --content and the rest, the name the error must give */
        {"photo.jpg' --out '%s/photo.jpg", "photo.jpg"},
        {"photo.jpg' --out '%s/link.jpg", "link.jpg"},
        {"link.jpg' --out '%s/photo.jpg", "photo.jpg"},
        {"photo.jpg' --out '%s/hard.jpg", "hard.jpg"},
        {"photo.jpg' --out '%s/sub/up/photo.jpg", "sub/up/photo.jpg"},
        {"photo.jpg' --out '%s/new.png' --log '%s/photo.jpg", "photo.jpg"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char tail[16384];
        snprintf(tail, sizeof tail, cases[i][0], dir, dir);
        snprintf(args, sizeof args, "--content '%s/%s'", dir, tail);
        assert_refused(dir, n, args, cases[i][1], photo, orig);
    }
    /* The style image as the output. */
    snprintf(args, sizeof args, "--content '%s' --out '%s'", photo, style);
    assert_refused(dir, n, args, style, photo, orig);
}
END_TEST

/* An existing file at path with known bytes, and a copy to compare with. */
static void make_precious(const char *path, const char *copy)
{
    char cmd[20000];
    snprintf(cmd, sizeof cmd, "echo precious > '%s' && cp '%s' '%s'", path,
             path, copy);
    ck_assert_int_eq(system(cmd), 0);
}

/* --log equal to --out (directly or not yet existing) or to a snapshot:
 * the image would be replaced by the CSV. */
START_TEST(log_equal_to_an_output_is_refused)
{
    char dir[4096], args[40000], keep[4200], orig[4200];
    tu_tmpdir("cli_log_is_out", dir, sizeof dir);
    snprintf(keep, sizeof keep, "%s/keep.png", dir);
    snprintf(orig, sizeof orig, "%s/orig.png", dir);
    make_precious(keep, orig);
    snprintf(args, sizeof args, "--content '%s' --out '%s' --log '%s'",
             content, keep, keep);
    assert_refused(dir, 2, args, "keep.png", keep, orig);
    snprintf(args, sizeof args,
             "--content '%s' --out '%s/new.png' --log '%s/./new.png'", content,
             dir, dir);
    assert_refused(dir, 2, args, "new.png", keep, orig);
    snprintf(args, sizeof args,
             "--content '%s' --out '%s/new.png' --save-every 1 "
             "--log '%s/new_iter_0001.png'",
             content, dir, dir);
    assert_refused(dir, 2, args, "new_iter_0001.png", keep, orig);
}
END_TEST

static unsigned mode_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Rewriting an existing output keeps its permissions. */
START_TEST(existing_outputs_keep_their_mode)
{
    char dir[4096], args[40000], err[8192], out[4200], log[4200];
    tu_tmpdir("cli_mode", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/private.png", dir);
    snprintf(log, sizeof log, "%s/private.csv", dir);
    FILE *f = fopen(out, "w");
    fclose(f);
    f = fopen(log, "w");
    fclose(f);
    ck_assert_int_eq(chmod(out, 0600), 0);
    ck_assert_int_eq(chmod(log, 0640), 0);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' "
             "--log '%s' --size 32 --iters 1 --quiet",
             content, style, weights, out, log);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    ck_assert_int_gt(tu_file_size(out), 0);
    ck_assert_int_gt(tu_file_size(log), 0);
    ck_assert_uint_eq(mode_of(out), 0600);
    ck_assert_uint_eq(mode_of(log), 0640);
}
END_TEST

/* A file name of NAME_MAX (255) bytes works: the temporary name beside it
 * must not be longer. A longer one is refused up front. */
START_TEST(longest_file_name_is_written)
{
    char dir[4096], args[40000], err[8192], out[4600], log[4600], name[256];
    tu_tmpdir("cli_long_name", dir, sizeof dir);
    memset(name, 'n', 251);
    name[251] = 0;
    snprintf(out, sizeof out, "%s/%s.png", dir, name);
    snprintf(log, sizeof log, "%s/%s.csv", dir, name);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' "
             "--log '%s' --size 32 --iters 1 --quiet",
             content, style, weights, out, log);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    nst_image img;
    ck_assert_int_eq(nst_image_load(out, &img), 0);
    nst_image_free(&img);
    ck_assert_int_gt(tu_file_size(log), 0);
    /* Snapshots' names would be longer: refused before any work. */
    ck_assert_int_eq(unlink(out), 0);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' "
             "--save-every 1 --size 32 --iters 2 --quiet",
             content, style, weights, out);
    ck_assert_int_eq(tu_nst(args, err, sizeof err), 1);
    tu_assert_one_line_naming(err, "_iter_0001.png");
    ck_assert_msg(strstr(err, "longer than 255"), "%s", err);
    ck_assert_int_eq(tu_file_size(out), -1);
}
END_TEST

/* A reason longer than any fixed buffer reaches the user whole: a missing
 * content image under a path of more than 2048 bytes. */
START_TEST(long_path_error_is_whole)
{
    char dir[4096], path[8192], args[40000], err[16384];
    tu_tmpdir("cli_long_path", dir, sizeof dir);
    int n = snprintf(path, sizeof path, "%s", dir);
    for (int i = 0; i < 14; i++)
        n += snprintf(path + n, sizeof path - n, "/%0200d", i);
    snprintf(path + n, sizeof path - n, "/missing.jpg");
    ck_assert_int_gt((int)strlen(path), 2048);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s/o.png' "
             "--size 32 --iters 1 --quiet",
             path, style, weights, dir);
    ck_assert_int_eq(tu_nst(args, err, sizeof err), 1);
    tu_assert_one_line_naming(err, path);
    ck_assert_msg(strstr(err, "No such file or directory"), "%s", err);
}
END_TEST

/* Files in dir whose names start with a dot (temporary files). */
static int hidden_files(const char *dir)
{
    char pattern[4200];
    snprintf(pattern, sizeof pattern, "%s/.?*", dir);
    glob_t g;
    int n = 0;
    if (glob(pattern, 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *base = strrchr(g.gl_pathv[i], '/') + 1;
            n += strcmp(base, ".") && strcmp(base, "..");
        }
    globfree(&g);
    return n;
}

static int lines_in(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    while (f && (c = fgetc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

/* Waits (up to 10 minutes: emulators are slow) until pattern matches a
 * file with at least `lines` lines; kills nst and fails if it never does. */
static void wait_for_file(pid_t pid, const char *pattern, int lines)
{
    for (int tries = 0; tries < 12000; tries++) {
        glob_t g;
        int ok = glob(pattern, 0, NULL, &g) == 0 &&
                 lines_in(g.gl_pathv[0]) >= lines;
        globfree(&g);
        if (ok)
            return;
        nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
    }
    kill(pid, SIGKILL);
    tu_nst_wait(pid);
    ck_abort_msg("%s never appeared", pattern);
}

/* Ctrl-C while the optimisation runs: the image so far becomes the result
 * and the log holds the rows up to it; status 130; no temporary file. */
START_TEST(sigint_saves_the_image_so_far)
{
    char dir[4096], args[40000], out[4200], log[4200], errf[4200],
        pattern[4200], err[8192];
    tu_tmpdir("cli_sigint", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out.png", dir);
    snprintf(log, sizeof log, "%s/loss.csv", dir);
    snprintf(errf, sizeof errf, "%s.err", dir);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' "
             "--log '%s' --size 32 --iters 1000000 --quiet",
             content, style, weights, out, log);
    pid_t pid = tu_nst_start(args, errf);
    /* The log's temporary file has a header and two rows: running. */
    snprintf(pattern, sizeof pattern, "%s/.loss.csv.*", dir);
    wait_for_file(pid, pattern, 3);
    const int done = tu_nst_interrupt(pid, errf, err, sizeof err);
    tu_assert_one_line_naming(err, out);
    ck_assert_int_ge(done, 2);
    /* Rows 0 .. done-1: the losses before each update made. */
    ck_assert_int_eq(lines_in(log), 1 + done);
    nst_image img;
    ck_assert_int_eq(nst_image_load(out, &img), 0);
    ck_assert_int_eq(img.w, 32);
    ck_assert_int_eq(img.h, 24);
    nst_image_free(&img);
    ck_assert_int_eq(hidden_files(dir), 0);
}
END_TEST

/* kill while snapshots are being written: status 143, the existing result
 * untouched, no log, no temporary file. */
START_TEST(sigterm_leaves_nothing_behind)
{
    char dir[4096], args[40000], out[4200], orig[4200], errf[4200],
        snap[4200], log[4200];
    tu_tmpdir("cli_sigterm", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out.png", dir);
    snprintf(orig, sizeof orig, "%s.orig", dir);
    snprintf(errf, sizeof errf, "%s.err", dir);
    snprintf(snap, sizeof snap, "%s/out_iter_0002.png", dir);
    snprintf(log, sizeof log, "%s/loss.csv", dir);
    make_precious(out, orig);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' "
             "--log '%s' --save-every 1 --size 32 --iters 5000 --quiet",
             content, style, weights, out, log);
    pid_t pid = tu_nst_start(args, errf);
    wait_for_file(pid, snap, 0);
    ck_assert_int_eq(kill(pid, SIGTERM), 0);
    ck_assert_int_eq(tu_nst_wait(pid), 143);
    ck_assert_msg(tu_same_bytes(out, orig), "the old result changed");
    ck_assert_int_eq(tu_file_size(log), -1);
    ck_assert_int_eq(hidden_files(dir), 0);
}
END_TEST

/* The kernel table is picked in simd/, which reports by status only; the
 * program says what is wrong with NST_ISA. */
START_TEST(unavailable_isa_fails_cleanly)
{
    char err[4096];
    ck_assert_int_eq(setenv("NST_ISA", "bogus", 1), 0);
    const int rc = tu_nst("--version", err, sizeof err);
    unsetenv("NST_ISA");
    ck_assert_msg(rc == 1, "exit %d: %s", rc, err);
    tu_assert_one_line_naming(err, "NST_ISA=bogus");
}
END_TEST

/* ---- the parser on its own ---------------------------------------------- */

static nst_cli_status parse(const char *const *args, int n, nst_cli *cli,
                            char *msg, size_t size)
{
    char *argv[32];
    ck_assert_int_lt(n, 31);
    argv[0] = "nst";
    for (int i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    argv[n + 1] = NULL;
    return nst_cli_parse(n + 1, argv, cli, msg, size);
}

/* A command line the parser must refuse, and its message. */
typedef struct usage_case {
    const char *args[8];
    int n;
    const char *msg;
} usage_case;

/* Each case's arguments after the n_common ones of common must be refused
 * with the case's message. */
static void expect_usage_errors(const char *const *common, int n_common,
                                const usage_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *args[24];
        nst_cli cli;
        char msg[512];
        ck_assert_int_le(n_common + cases[i].n, 24);
        for (int j = 0; j < n_common; j++)
            args[j] = common[j];
        for (int j = 0; j < cases[i].n; j++)
            args[n_common + j] = cases[i].args[j];
        ck_assert_msg(parse(args, n_common + cases[i].n, &cli, msg,
                            sizeof msg) == NST_CLI_USAGE_ERROR,
                      "case %zu (%s ...) was not refused", i,
                      cases[i].args[0]);
        ck_assert_str_eq(msg, cases[i].msg);
    }
}

START_TEST(parser_fills_options)
{
    nst_cli cli;
    char msg[512];
    nst_options d;
    nst_options_default(&d);
    static const char *const pair[] = {"--content", "c.jpg", "--style",
                                       "s.jpg", "--out", "o.png"};
    ck_assert_int_eq(parse(pair, 6, &cli, msg, sizeof msg), NST_CLI_RUN);
    ck_assert_str_eq(cli.options.content, "c.jpg");
    ck_assert_str_eq(cli.options.style, "s.jpg");
    ck_assert_str_eq(cli.options.out, "o.png");
    ck_assert_int_eq(cli.options.iters, d.iters);
    ck_assert_int_eq(cli.options.size, d.size);
    ck_assert_int_eq(cli.options.threads, 0);

    static const char *const all[] = {
        "--data", "dir", "--out", "od", "--iters", "7", "--size", "33",
        "--seed", "99", "--threads", "3", "--save-every", "2", "--lr", "0.5",
        "--style-weight", "3", "--style-scale=0.25", "--pool", "max",
        "--init", "noise", "--quiet", "--weights", "w.npz"};
    /* Twice: the parser must start afresh each time (getopt's state). */
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(parse(all, 26, &cli, msg, sizeof msg), NST_CLI_RUN);
        ck_assert_str_eq(cli.options.data_dir, "dir");
        ck_assert_int_eq(cli.options.iters, 7);
        ck_assert_int_eq(cli.options.size, 33);
        ck_assert_uint_eq(cli.options.seed, 99);
        ck_assert_int_eq(cli.options.threads, 3);
        ck_assert_int_eq(cli.options.save_every, 2);
        ck_assert(cli.options.lr == 0.5);
        ck_assert(cli.options.style_weight == 3);
        ck_assert(cli.options.style_scale == 0.25);
        ck_assert_int_eq(cli.options.pool, NST_POOL_MAX);
        ck_assert_int_eq(cli.options.init_noise, 1);
        ck_assert_int_eq(cli.options.quiet, 1);
        ck_assert_str_eq(cli.options.weights, "w.npz");
    }
    static const char *const help[] = {"--iters", "3", "--help"};
    ck_assert_int_eq(parse(help, 3, &cli, msg, sizeof msg), NST_CLI_HELP);
    static const char *const version[] = {"--version"};
    ck_assert_int_eq(parse(version, 1, &cli, msg, sizeof msg),
                     NST_CLI_VERSION);
}
END_TEST

START_TEST(parser_reports_usage_errors)
{
    static const usage_case cases[] = {
        {{"--iters", "x"}, 2, "--iters: 'x' is not a whole number from 0 to 1000000"},
        {{"--it=5x"}, 1, "--iters: '5x' is not a whole number from 0 to 1000000"},
        {{"--size", "15"}, 2, "--size: '15' is not a whole number from 16 to 4096"},
        {{"--lr", "nan"}, 2, "--lr: 'nan' is not a number from 1e-09 to 1e+06"},
        {{"--pool", "min"}, 2, "--pool: 'min' is not avg or max (see nst --help)"},
        {{"--bogus"}, 1, "unknown option '--bogus' (see nst --help)"},
        {{"--out"}, 1, "--out needs a value (see nst --help)"},
        {{"--out", "o.png", "extra"}, 3, "unexpected argument 'extra' (see nst --help)"},
        {{"--out", "o.png"}, 2, "give --content and --style, or --data (see nst --help)"},
        {{"--data", "d", "--style", "s"}, 4, "--data cannot be combined with --content or --style (see nst --help)"},
    };
    expect_usage_errors(NULL, 0, cases, sizeof cases / sizeof *cases);
}
END_TEST

START_TEST(parser_reads_style_options)
{
    nst_cli cli;
    char msg[512];
    static const char *const many[] = {
        "--content", "c.jpg", "--style", "s1.jpg", "--style", "s2.jpg",
        "--style-blend", "3,1", "--style-scale", "0.5,2", "--style-mask",
        "m1.png", "--style-mask=m2.png", "--out", "o.png", "--style-layers",
        "relu1_1:0.2,relu2_1", "--content-layers", "relu2_2:0.5"};
    ck_assert_int_eq(parse(many, sizeof many / sizeof *many, &cli, msg, sizeof msg),
                     NST_CLI_RUN);
    const nst_options *o = &cli.options;
    ck_assert_int_eq(o->n_styles, 2);
    ck_assert_str_eq(o->style, "s1.jpg");
    ck_assert_str_eq(o->styles[1], "s2.jpg");
    ck_assert_int_eq(o->n_blend, 2);
    ck_assert(o->style_blend[0] == 3 && o->style_blend[1] == 1);
    ck_assert_int_eq(o->n_scales, 2);
    ck_assert(o->style_scales[0] == 0.5 && o->style_scales[1] == 2);
    ck_assert_int_eq(o->n_masks, 2);
    ck_assert_str_eq(o->style_masks[0], "m1.png");
    ck_assert_str_eq(o->style_masks[1], "m2.png");
    ck_assert_str_eq(o->style_layers, "relu1_1:0.2,relu2_1");
    ck_assert_str_eq(o->content_layers, "relu2_2:0.5");
    /* One --style-scale is for every style. */
    static const char *const one_scale[] = {
        "--content", "c.jpg", "--style", "s1.jpg", "--style", "s2.jpg",
        "--style-scale", "0.5", "--out", "o.png"};
    ck_assert_int_eq(parse(one_scale, 10, &cli, msg, sizeof msg),
                     NST_CLI_RUN);
    ck_assert_int_eq(o->n_scales, 1);
    ck_assert(o->style_scale == 0.5);
    ck_assert_int_eq(o->n_blend, 0);
    ck_assert_int_eq(o->n_masks, 0);

    static const usage_case cases[] = {
        {{"--style-blend", "1,0,1"}, 2, "--style-blend: 3 weights for 2 --style images"},
        {{"--style-blend", "1,x"}, 2, "--style-blend: 'x' is not a number from 0 to 1e+30"},
        {{"--style-blend", "1,-1"}, 2, "--style-blend: '-1' is not a number from 0 to 1e+30"},
        {{"--style-blend", "0,0"}, 2, "--style-blend: the weights sum to 0"},
        {{"--style-scale", "1,2,3"}, 2, "--style-scale: 3 values for 2 --style images (give one, or one each)"},
        {{"--style-scale", "1,"}, 2, "--style-scale: '' is not a number from 0.01 to 100"},
        {{"--style-mask", "m.png"}, 2, "--style-mask: 1 masks for 2 --style images (give one each, in order)"},
        {{"--style-layers", "relu1_1,relu2_1:1,relu1_1"}, 2, "--style-layers: layer relu1_1 is listed twice"},
        {{"--content-layers", "relu2_2:x"}, 2, "--content-layers: relu2_2's weight 'x' is not a number >= 0"},
        {{"--content-layers", "relu2_2:"}, 2, "--content-layers: 'relu2_2:' needs a weight after ':'"},
        {{"--style-layers", ":2"}, 2, "--style-layers: ':2' has no layer name"},
    };
    static const char *const two_styles[] = {"--content", "c", "--style",
                                             "s1", "--style", "s2", "--out",
                                             "o.png"};
    expect_usage_errors(two_styles, 8, cases, sizeof cases / sizeof *cases);
    static const usage_case batch = {
        {"--data", "d", "--out", "od", "--style-mask", "m.png"}, 6,
        "--data pairs one style at a time: --style-blend, --style-mask and "
        "a list of --style-scale need --style"};
    expect_usage_errors(NULL, 0, &batch, 1);
}
END_TEST

/* ---- hostile inputs, end to end (no shared data needed) ----------------- */

/* Two small PNGs (content w x h, style 24x24) and a one-layer weights file
 * in dir; the weights' conv1_1_W (3,3,3,cout) and bias, values small. */
typedef struct tiny {
    char content[4400], style[4400], weights[4400], out[4400];
} tiny;

static void write_png(const char *path, int w, int h)
{
    nst_image img;
    ck_assert_int_eq(nst_image_alloc(&img, w, h), 0);
    for (size_t i = 0; i < (size_t)3 * w * h; i++)
        img.data[i] = (float)(i * 37 % 256);
    ck_assert_msg(nst_image_save(path, &img) == 0, "%s", nst_failure_reason());
    nst_image_free(&img);
}

static void write_weights(const char *path, int cout, double w_value,
                          double b_value)
{
    size_t nw = (size_t)27 * cout;
    double *w = malloc(nw * sizeof *w), *b = malloc((size_t)cout * sizeof *b);
    ck_assert(w && b);
    for (size_t i = 0; i < nw; i++)
        w[i] = 0.001 * (double)(i % 7) - 0.003;
    for (int i = 0; i < cout; i++)
        b[i] = 0.01;
    w[nw / 2] = w_value;
    b[cout - 1] = b_value;
    npzw_array a[2] = {
        {.name = "conv1_1_W", .descr = "<f4", .ndim = 4,
         .shape = {3, 3, 3, cout}, .values = w},
        {.name = "conv1_1_b", .descr = "<f4", .ndim = 1, .shape = {cout},
         .values = b},
    };
    npzw_options o = {.method = 0};
    ck_assert_int_eq(npzw_write(path, a, 2, &o, NULL), 0);
    free(w);
    free(b);
}

static void tiny_files(tiny *t, const char *tag, int cw, int ch)
{
    char dir[4096];
    tu_tmpdir(tag, dir, sizeof dir);
    snprintf(t->content, sizeof t->content, "%s/content.png", dir);
    snprintf(t->style, sizeof t->style, "%s/style.png", dir);
    snprintf(t->weights, sizeof t->weights, "%s/w.npz", dir);
    snprintf(t->out, sizeof t->out, "%s/out.png", dir);
    write_png(t->content, cw, ch);
    write_png(t->style, 24, 24);
    write_weights(t->weights, 4, 0.001, 0.01);
}

/* Runs nst on t with the given weights and extra options; expects exit
 * status 1, one line on stderr naming every one of what[], and no output
 * file. */
static void expect_failure(const tiny *t, const char *weights,
                           const char *extra, const char *const *what, int n)
{
    char args[20000], err[4096];
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' "
             "--size 16 --iters 1 --quiet %s",
             t->content, t->style, weights, t->out, extra);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 1, "%s: %s", extra, err);
    for (int i = 0; i < n; i++)
        tu_assert_one_line_naming(err, what[i]);
    ck_assert_int_eq(tu_file_size(t->out), -1);
}

START_TEST(tiny_run_works)
{
    /* The fixtures are good: the failures below come from what each
     * changes. */
    tiny t;
    char args[20000], err[4096];
    tiny_files(&t, "cli_tiny", 24, 24);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' "
             "--size 16 --iters 2 --quiet --style-layers relu1_1 "
             "--content-layers relu1_1",
             t.content, t.style, t.weights, t.out);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    ck_assert_int_gt(tu_file_size(t.out), 0);
}
END_TEST

static const char one_layer[] =
    "--style-layers relu1_1 --content-layers relu1_1";

START_TEST(non_finite_weights_are_refused)
{
    tiny t;
    tiny_files(&t, "cli_nan", 24, 24);
    write_weights(t.weights, 4, NAN, 0.01);
    const char *nan_w[] = {"w.npz", "conv1_1_W", "is NaN"};
    expect_failure(&t, t.weights, one_layer, nan_w, 3);
    write_weights(t.weights, 4, 0.001, -INFINITY);
    const char *inf_b[] = {"w.npz", "conv1_1_b", "element 3 is infinite"};
    expect_failure(&t, t.weights, one_layer, inf_b, 3);
}
END_TEST

/* Legal-looking weights with 2000 channels ran for minutes in gigabytes;
 * a deflated entry of 972 MiB of zeros (a 1 MB file) was inflated before
 * its shape was looked at. Both are refused from the headers. */
START_TEST(oversized_weights_are_refused_up_front)
{
    tiny t;
    tiny_files(&t, "cli_big_weights", 24, 24);
    write_weights(t.weights, 2000, 0.001, 0.01);
    const char *wide[] = {"w.npz", "conv1_1_W", "(3,3,3,2000)",
                          "1 to 1024 output channels"};
    expect_failure(&t, t.weights, one_layer, wide, 4);

    ck_assert_int_eq(npzw_write_bomb(t.weights, 972), 0);
    const char *bomb[] = {"w.npz", "conv1_1_W", "1 to 1024 output channels"};
    expect_failure(&t, t.weights, one_layer, bomb, 3);
    /* The largest child so far (the runs above) stayed far below the
     * bomb's size; a sanitizer or an emulator adds a few hundred MiB at
     * most. */
    struct rusage u;
    ck_assert_int_eq(getrusage(RUSAGE_CHILDREN, &u), 0);
    ck_assert_msg(u.ru_maxrss < 600 * 1024, "a run peaked at %ld KiB",
                  u.ru_maxrss);
}
END_TEST

START_TEST(special_files_are_refused)
{
    tiny t;
    tiny_files(&t, "cli_fifo", 24, 24);
    char dir[4096], fifo[4200];
    tu_tmpdir("cli_fifo_made", dir, sizeof dir);
    snprintf(fifo, sizeof fifo, "%s/w.npz.fifo", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    const char *w[] = {"w.npz.fifo", "not a regular file (a FIFO)"};
    expect_failure(&t, fifo, one_layer, w, 2);
    tiny c = t;
    snprintf(c.content, sizeof c.content, "%s", fifo);
    const char *img[] = {"w.npz.fifo", "not a regular file (a FIFO)"};
    expect_failure(&c, t.weights, one_layer, img, 2);
}
END_TEST

/* The too-small message used to be formatted into its own buffer, which
 * garbled it. relu2_1 is behind one pool: each side must be at least 2
 * pixels. */
START_TEST(too_small_images_are_explained)
{
    tiny t;
    tiny_files(&t, "cli_small", 40, 1);
    /* conv1_2 and conv2_1 too, chained from conv1_1's 4 channels. */
    double v[4 * 4 * 9];
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        v[i] = 0.001;
    double b[4] = {0, 0, 0, 0};
    npzw_array a[6] = {
        {.name = "conv1_1_W", .descr = "<f4", .ndim = 4, .shape = {3, 3, 3, 4}, .values = v},
        {.name = "conv1_1_b", .descr = "<f4", .ndim = 1, .shape = {4}, .values = b},
        {.name = "conv1_2_W", .descr = "<f4", .ndim = 4, .shape = {3, 3, 4, 4}, .values = v},
        {.name = "conv1_2_b", .descr = "<f4", .ndim = 1, .shape = {4}, .values = b},
        {.name = "conv2_1_W", .descr = "<f4", .ndim = 4, .shape = {3, 3, 4, 4}, .values = v},
        {.name = "conv2_1_b", .descr = "<f4", .ndim = 1, .shape = {4}, .values = b},
    };
    npzw_options o = {.method = 0};
    ck_assert_int_eq(npzw_write(t.weights, a, 6, &o, NULL), 0);
    /* Content 40x1 at --size 16 becomes 16x1. */
    const char *content[] = {"content image", "16x1 is too small for conv2_1"};
    expect_failure(&t, t.weights,
                   "--style-layers relu2_1 --content-layers relu2_1", content,
                   2);
    /* Style at 0.05 of 16 pixels: 1x1. */
    write_png(t.content, 24, 24);
    const char *style[] = {"style image", "1x1 is too small for conv2_1"};
    expect_failure(&t, t.weights,
                   "--style-layers relu2_1 --content-layers relu2_1 "
                   "--style-scale 0.05",
                   style, 2);
}
END_TEST

/* ---- --preserve-colors, --init FILE, --quality ---------------------------- */

/* Mean |Cb - Cb'| + |Cr - Cr'| (BT.601 full range, as JPEG) over the
 * pixels of two images of one size: how far their colours differ. */
static double chroma_distance(const nst_image *a, const nst_image *b)
{
    ck_assert_int_eq(a->w, b->w);
    ck_assert_int_eq(a->h, b->h);
    const size_t n = (size_t)a->w * a->h;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        const float *p = a->data + i, *q = b->data + i;
        const double dr = (double)p[0] - q[0], dg = (double)p[n] - q[n],
                     db = (double)p[2 * n] - q[2 * n];
        sum += fabs(-0.168736 * dr - 0.331264 * dg + 0.5 * db) +
               fabs(0.5 * dr - 0.418688 * dg - 0.081312 * db);
    }
    return sum / (double)n;
}

/* The content image as a run at --size `side` sees it. */
static void load_fitted(const char *path, int side, nst_image *img)
{
    nst_image raw;
    ck_assert_int_eq(nst_image_load(path, &raw), 0);
    ck_assert_int_eq(nst_image_fit(&raw, side, img), 0);
    nst_image_free(&raw);
}

/* Mean |a - b| over every value. */
static double value_distance(const nst_image *a, const nst_image *b)
{
    const size_t n = (size_t)3 * a->w * a->h;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += fabs((double)a->data[i] - b->data[i]);
    return sum / (double)n;
}

/* The chroma distance of the image at path from ref; its value distance
 * in *moved. */
static double chroma_distance_to(const char *path, const nst_image *ref,
                                 double *moved)
{
    nst_image img;
    ck_assert_msg(nst_image_load(path, &img) == 0, "%s", nst_failure_reason());
    const double d = chroma_distance(&img, ref);
    *moved = value_distance(&img, ref);
    nst_image_free(&img);
    return d;
}

/* Starry Night on Tübingen, 10 iterations at 32 pixels, with each
 * --preserve-colors; out_<mode>.png and its snapshot in dir. */
static void run_colors(const char *dir, const char *mode)
{
    char args[40000], err[4096];
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --size 32 --iters 10 "
             "--save-every 5 --quiet --preserve-colors %s --out '%s/out_%s.png'",
             content, style, weights, mode, dir, mode);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s: %s", mode, err);
}

START_TEST(preserve_colors_end_to_end)
{
    char dir[4096], path[4400], path2[4400];
    tu_tmpdir("cli_colors", dir, sizeof dir);
    run_colors(dir, "none");
    run_colors(dir, "luminance");
    run_colors(dir, "histogram");
    nst_image c;
    load_fitted(content, 32, &c);
    snprintf(path, sizeof path, "%s/out_none.png", dir);
    double moved;
    const double plain = chroma_distance_to(path, &c, &moved);
    /* Luminance: the result is the content plus one luminance change,
     * the same in R, G and B, to which Cb and Cr are blind (their
     * coefficients sum to 0). The content's values are whole, so 8-bit
     * rounding keeps the change equal in the three channels; only the
     * clamp to [0, 255] where a pixel leaves the range moves the chroma
     * (measured 0 here; 0.5 allows a few clamped pixels). Without the
     * option the style paints Starry Night's blues over the photo (16). */
    snprintf(path, sizeof path, "%s/out_luminance.png", dir);
    snprintf(path2, sizeof path2, "%s/out_luminance_iter_0005.png", dir);
    const double kept = chroma_distance_to(path, &c, &moved);
    /* The luminance did change: 15 levels on average. */
    ck_assert_msg(moved > 5, "luminance: the result is the content");
    const double kept_snapshot = chroma_distance_to(path2, &c, &moved);
    ck_assert_msg(kept < 0.5, "luminance: chroma moved by %g", kept);
    ck_assert_msg(kept_snapshot < 0.5, "luminance snapshot: chroma moved by %g",
                  kept_snapshot);
    ck_assert_msg(plain > 5 * kept, "chroma moved by %g without and %g with",
                  plain, kept);
    /* Histogram: the run sees a recoloured style image. */
    snprintf(path2, sizeof path2, "%s/out_histogram.png", dir);
    ck_assert_msg(!tu_same_bytes(path, path2), "histogram made no difference");
    snprintf(path, sizeof path, "%s/out_none.png", dir);
    ck_assert_msg(!tu_same_bytes(path, path2), "histogram made no difference");
    nst_image_free(&c);
}
END_TEST

/* Mean of channel ch of a picture in [0, 255], or of a mean-subtracted
 * image when mean is the VGG mean of that channel. */
static double channel_mean(const nst_image *img, int ch, double mean)
{
    const size_t n = (size_t)img->w * img->h;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += img->data[ch * n + i];
    return s / (double)n + mean;
}

/* What the objective is given. Histogram: the style has the content's
 * colour mean (without it Starry Night's is far off). Luminance: both are
 * grey, the style's luminance has the content's mean, and the colours
 * kept for the result are the content's own. */
START_TEST(preserve_colors_prepares_the_objective_inputs)
{
    nst_image c, st;
    load_fitted(content, 64, &c);
    load_fitted(style, 64, &st);
    const int side = 64;
    const nst_image *const styles[1] = {&st};
    double far = 0;
    for (int mode = 0; mode < 2; mode++) {
        nst_pair_pixels px;
        ck_assert_msg(nst_pixels_prepare_pair(&c, 64, styles, &side, 1,
                                              mode ? NST_COLORS_HISTOGRAM
                                                   : NST_COLORS_NONE,
                                              &px) == 0,
                      "%s", nst_failure_reason());
        ck_assert_ptr_null(px.chroma.data);
        for (int ch = 0; ch < 3; ch++) {
            const double want = channel_mean(&c, ch, 0);
            /* The content is untouched: float sums of 64x48 whole values. */
            ck_assert_double_eq_tol(
                channel_mean(&px.content, ch, nst_vgg_mean[ch]), want, 1e-3);
            const double got = channel_mean(&px.style[0], ch, nst_vgg_mean[ch]);
            if (mode == 0)
                far = fmax(far, fabs(got - want));
            else
                /* The affine map gives the content's mean exactly (to
                 * double rounding); the clamp to [0, 255] of the few values
                 * it pushes out moves it by their mean overshoot, measured
                 * at 0.004 levels; 0.05 is ten times that. */
                ck_assert_msg(fabs(got - want) < 0.05,
                              "channel %d: style mean %g, content %g", ch, got,
                              want);
        }
        nst_pixels_free_pair(&px);
    }
    ck_assert_msg(far > 10, "Starry Night's mean is already the photo's");

    nst_pair_pixels px;
    ck_assert_int_eq(nst_pixels_prepare_pair(&c, 64, styles, &side, 1,
                                             NST_COLORS_LUMINANCE, &px),
                     0);
    ck_assert_int_eq(px.chroma.w, c.w);
    ck_assert_int_eq(px.chroma.h, c.h);
    ck_assert_mem_eq(px.chroma.data, c.data,
                     (size_t)3 * c.w * c.h * sizeof *c.data);
    const nst_image *grey[2] = {&px.content, &px.style[0]};
    for (int g = 0; g < 2; g++) {
        const size_t n = (size_t)grey[g]->w * grey[g]->h;
        const float *p = grey[g]->data;
        for (size_t i = 0; i < n; i++) {
            const float y = p[i] + nst_vgg_mean[0];
            /* Equal before the mean was subtracted: equal to float
             * rounding of values below 256 (2^-16 relative). */
            ck_assert_float_eq_tol(p[n + i] + nst_vgg_mean[1], y, 1e-3f);
            ck_assert_float_eq_tol(p[2 * n + i] + nst_vgg_mean[2], y, 1e-3f);
        }
    }
    /* The photo's luminance mean, from its colours (BT.601). */
    const double want = 0.299 * channel_mean(&c, 0, 0) +
                        0.587 * channel_mean(&c, 1, 0) +
                        0.114 * channel_mean(&c, 2, 0);
    ck_assert_double_eq_tol(channel_mean(&px.content, 0, nst_vgg_mean[0]),
                            want, 1e-3);
    /* The mean and spread match moves the style's mean to the content's
     * but for the clamp to [0, 255], as above. */
    ck_assert_double_eq_tol(channel_mean(&px.style[0], 0, nst_vgg_mean[0]), want,
                            0.05);
    nst_pixels_free_pair(&px);
    nst_image_free(&c);
    nst_image_free(&st);
}
END_TEST

/* A 32x24 or 50x20 picture with a pattern of every channel. */
static void write_pattern(const char *path, int w, int h, nst_image *img)
{
    ck_assert_int_eq(nst_image_alloc(img, w, h), 0);
    for (size_t i = 0; i < (size_t)3 * w * h; i++)
        img->data[i] = (float)((i * 53 + i / 7) % 256);
    ck_assert_msg(nst_image_save(path, img) == 0, "%s", nst_failure_reason());
}

/* Runs nst at --size 32 with --iters 0 --init init --out out; the exit
 * status, stderr in err. */
static int run_init(const char *init, const char *out, char *err,
                    size_t size)
{
    char args[40000];
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --size 32 "
             "--iters 0 --quiet --init '%s' --out '%s'",
             content, style, weights, init, out);
    return tu_nst(args, err, size);
}

/* --iters 0 --init FILE: the result is FILE's pixels, resized to the
 * content's 32x24 when FILE is another size. */
START_TEST(init_file_is_the_starting_image)
{
    char dir[4096], err[4096], init[4200], out[4200], missing[4200];
    tu_tmpdir("cli_init_file", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out.png", dir);
    static const int sizes[2][2] = {{32, 24}, {50, 20}};
    for (int k = 0; k < 2; k++) {
        nst_image pattern, want, got;
        snprintf(init, sizeof init, "%s/init%d.png", dir, k);
        write_pattern(init, sizes[k][0], sizes[k][1], &pattern);
        ck_assert_msg(run_init(init, out, err, sizeof err) == 0, "%s", err);
        if (k == 0)
            want = pattern;
        else {
            ck_assert_int_eq(nst_image_resize(&pattern, 32, 24, &want), 0);
            nst_image_free(&pattern);
        }
        ck_assert_int_eq(nst_image_load(out, &got), 0);
        ck_assert_int_eq(got.w, 32);
        ck_assert_int_eq(got.h, 24);
        /* Whole values, minus the VGG mean and plus it again: exact after
         * rounding to 8 bits. */
        for (size_t i = 0; i < (size_t)3 * 32 * 24; i++)
            ck_assert_msg(got.data[i] == want.data[i],
                          "size %dx%d, value %zu: want %g, got %g",
                          sizes[k][0], sizes[k][1], i, want.data[i],
                          got.data[i]);
        nst_image_free(&want);
        nst_image_free(&got);
    }
    /* A missing or corrupt FILE, or FILE as the output: one line naming
     * it, nothing written. */
    ck_assert_int_eq(unlink(out), 0);
    snprintf(missing, sizeof missing, "%s/missing.png", dir);
    ck_assert_int_eq(run_init(missing, out, err, sizeof err), 1);
    tu_assert_one_line_naming(err, "missing.png");
    ck_assert_int_eq(run_init(init, init, err, sizeof err), 1);
    tu_assert_one_line_naming(err, "init1.png");
    ck_assert_msg(strstr(err, "same file"), "%s", err);
    ck_assert_int_eq(tu_file_size(out), -1);
}
END_TEST

/* --quality sets the JPEG quality: 20 gives a smaller file than 95 (the
 * default, whose file is byte-identical). */
START_TEST(quality_sets_jpeg_size)
{
    char dir[4096], args[40000], err[4096], out[3][4200];
    tu_tmpdir("cli_quality", dir, sizeof dir);
    static const char *const q[3] = {"", "--quality 95", "--quality 20"};
    for (int k = 0; k < 3; k++) {
        snprintf(out[k], sizeof out[k], "%s/out%d.jpg", dir, k);
        snprintf(args, sizeof args,
                 "--content '%s' --style '%s' --weights '%s' --size 64 "
                 "--iters 0 --quiet %s --out '%s'",
                 content, style, weights, q[k], out[k]);
        ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    }
    ck_assert_msg(tu_same_bytes(out[0], out[1]), "the default is not 95");
    ck_assert_msg(tu_file_size(out[2]) < tu_file_size(out[1]),
                  "quality 20: %ld bytes, 95: %ld", tu_file_size(out[2]),
                  tu_file_size(out[1]));
}
END_TEST

START_TEST(parser_reads_colors_init_and_quality)
{
    nst_cli cli;
    char msg[512];
    static const char *const some[] = {
        "--content", "c.jpg", "--style", "s.jpg", "--out", "o.jpg",
        "--preserve-colors", "luminance", "--init", "start.png",
        "--quality", "7"};
    ck_assert_int_eq(parse(some, 12, &cli, msg, sizeof msg), NST_CLI_RUN);
    ck_assert_int_eq(cli.options.colors, NST_COLORS_LUMINANCE);
    ck_assert_str_eq(cli.options.init_file, "start.png");
    ck_assert_int_eq(cli.options.init_noise, 0);
    ck_assert_int_eq(cli.options.quality, 7);
    static const char *const later[] = {"--data", "d", "--init", "start.png",
                                        "--init", "noise",
                                        "--preserve-colors", "histogram"};
    ck_assert_int_eq(parse(later, 8, &cli, msg, sizeof msg), NST_CLI_RUN);
    ck_assert_ptr_null(cli.options.init_file);
    ck_assert_ptr_null(cli.options.out); /* batch: into --data */
    ck_assert_int_eq(cli.options.init_noise, 1);
    ck_assert_int_eq(cli.options.colors, NST_COLORS_HISTOGRAM);
    ck_assert_int_eq(cli.options.quality, 95);
    static const usage_case bad[] = {
        {{"--quality", "0"}, 2, "--quality: '0' is not a whole number from 1 to 100"},
        {{"--quality", "101"}, 2, "--quality: '101' is not a whole number from 1 to 100"},
        {{"--preserve-colors", "lab"}, 2, "--preserve-colors: 'lab' is not none, luminance or histogram (see nst --help)"},
        {{"--init", ""}, 2, "--init: give content, noise or an image file (see nst --help)"},
    };
    expect_usage_errors(NULL, 0, bad, sizeof bad / sizeof *bad);
}
END_TEST

/* ---- --optimizer and --lbfgs-history ------------------------------------ */

START_TEST(optimizer_options_are_parsed_and_checked)
{
    nst_cli cli;
    char msg[512];
    static const char *const lbfgs[] = {"--content", "c", "--style", "s",
                                        "--out", "o.png", "--optimizer",
                                        "lbfgs", "--lbfgs-history", "3"};
    ck_assert_int_eq(parse(lbfgs, 10, &cli, msg, sizeof msg), NST_CLI_RUN);
    ck_assert_int_eq(cli.options.optimizer, NST_OPTIMIZER_LBFGS);
    ck_assert_int_eq(cli.options.lbfgs_history, 3);
    static const char *const adam[] = {"--content", "c", "--style", "s",
                                       "--out", "o.png", "--optimizer=adam"};
    ck_assert_int_eq(parse(adam, 7, &cli, msg, sizeof msg), NST_CLI_RUN);
    ck_assert_int_eq(cli.options.optimizer, NST_OPTIMIZER_ADAM);
    ck_assert_int_eq(cli.options.lbfgs_history, NST_LBFGS_DEFAULT_HISTORY);
    static const usage_case cases[] = {
        {{"--optimizer", "sgd"}, 2, "--optimizer: 'sgd' is not adam or lbfgs (see nst --help)"},
        {{"--optimizer", "LBFGS"}, 2, "--optimizer: 'LBFGS' is not adam or lbfgs (see nst --help)"},
        {{"--optimizer"}, 1, "--optimizer needs a value (see nst --help)"},
        {{"--lbfgs-history", "0"}, 2, "--lbfgs-history: '0' is not a whole number from 1 to 100"},
        {{"--lbfgs-history", "101"}, 2, "--lbfgs-history: '101' is not a whole number from 1 to 100"},
        {{"--lbfgs-history", "4x"}, 2, "--lbfgs-history: '4x' is not a whole number from 1 to 100"},
    };
    expect_usage_errors(NULL, 0, cases, sizeof cases / sizeof *cases);
}
END_TEST

/* ---- --max-memory and --tile ------------------------------------------ */

START_TEST(memory_options_are_parsed_and_checked)
{
    nst_cli cli;
    char msg[512];
    static const char *const set[] = {"--content", "c", "--style", "s",
                                      "--out", "o.png", "--max-memory",
                                      "300", "--tile", "24"};
    ck_assert_int_eq(parse(set, 10, &cli, msg, sizeof msg), NST_CLI_RUN);
    ck_assert_int_eq(cli.options.max_memory, 300);
    ck_assert_int_eq(cli.options.tile, 24);
    ck_assert_int_eq(parse(set, 6, &cli, msg, sizeof msg), NST_CLI_RUN);
    ck_assert_int_eq(cli.options.max_memory, 0);
    ck_assert_int_eq(cli.options.tile, 0);
    static const usage_case cases[] = {
        {{"--max-memory", "0"}, 2, "--max-memory: '0' is not a whole number from 1 to 1073741824"},
        {{"--max-memory", "2G"}, 2, "--max-memory: '2G' is not a whole number from 1 to 1073741824"},
        {{"--tile", "0"}, 2, "--tile: '0' is not a whole number from 1 to 16384"},
        {{"--tile", "-8"}, 2, "--tile: '-8' is not a whole number from 1 to 16384"},
    };
    expect_usage_errors(NULL, 0, cases, sizeof cases / sizeof *cases);
}
END_TEST

/* ---- several styles, masks and layer weights, end to end ------------ */

/* The log at path without its seconds column (the one before size): the
 * losses and sizes as text. */
static void log_losses(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "no log %s", path);
    char line[512];
    size_t at = 0;
    buf[0] = 0;
    while (fgets(line, sizeof line, f)) {
        char *last = strrchr(line, ',');
        ck_assert_ptr_nonnull(last);
        *last = 0;
        const char *seconds = strrchr(line, ',');
        *last = ',';
        ck_assert_ptr_nonnull(seconds);
        at += (size_t)snprintf(buf + at, size - at, "%.*s%s",
                               (int)(seconds - line), line, last);
        ck_assert_uint_lt(at, size);
    }
    fclose(f);
}

/* A w x h gray mask file: 255 left of column `edge`, 0 from it on. */
static void write_mask(const char *path, int w, int h, int edge)
{
    nst_image img;
    ck_assert_int_eq(nst_image_alloc(&img, w, h), 0);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                img.data[((size_t)c * h + y) * w + x] = x < edge ? 255 : 0;
    ck_assert_msg(nst_image_save(path, &img) == 0, "%s", nst_failure_reason());
    nst_image_free(&img);
}

typedef struct style_run {
    char dir[4096], style2[4096];
} style_run;

static void style_run_init(style_run *r, const char *tag)
{
    tu_tmpdir(tag, r->dir, sizeof r->dir);
    ck_assert(tu_shared("images/style_the_scream.jpg", r->style2,
                        sizeof r->style2) != NULL);
}

/* Runs nst on the shared content at 32 pixels for 1 iteration from noise
 * with the extra options, writing dir/tag.png and dir/tag.csv; the losses
 * text in buf. */
static void run_logged(const style_run *r, const char *tag, const char *extra,
                       char *buf, size_t size)
{
    char args[40000], err[4096], path[4200];
    snprintf(args, sizeof args,
             "--content '%s' --weights '%s' --size 32 --iters 1 --init noise "
             "--quiet --out '%s/%s.png' --log '%s/%s.csv' %s",
             content, weights, r->dir, tag, r->dir, tag, extra);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s: %s", extra, err);
    snprintf(path, sizeof path, "%s/%s.csv", r->dir, tag);
    log_losses(path, buf, size);
}

/* Row 0's column col (1 total, 2 content, 3 style) of a losses text. */
static double row0(const char *losses, int col)
{
    const char *p = strchr(losses, '\n') + 1;
    for (int i = 0; i < col; i++)
        p = strchr(p, ',') + 1;
    return strtod(p, NULL);
}

/* --style-blend 1,0 is the first style alone, to the last bit of every
 * loss and of the image; 0,1 with the styles swapped too, and then only if
 * --style-scale's list gives each style its own scale (the kept style has
 * the second value). Equal blending is something else. */
START_TEST(style_blend_selects_and_mixes)
{
    style_run r;
    style_run_init(&r, "cli_blend");
    static char alone[8192], blend[8192], swapped[8192], mixed[8192];
    char args[20000], a[4200], b[4200];
    snprintf(args, sizeof args, "--style '%s' --style-scale 0.75", style);
    run_logged(&r, "alone", args, alone, sizeof alone);
    snprintf(args, sizeof args,
             "--style '%s' --style '%s' --style-blend 1,0 --style-scale 0.75",
             style, r.style2);
    run_logged(&r, "blend", args, blend, sizeof blend);
    ck_assert_str_eq(blend, alone);
    snprintf(a, sizeof a, "%s/alone.png", r.dir);
    snprintf(b, sizeof b, "%s/blend.png", r.dir);
    ck_assert_msg(tu_same_bytes(a, b), "--style-blend 1,0 changed the image");
    snprintf(args, sizeof args,
             "--style '%s' --style '%s' --style-blend 0,1 "
             "--style-scale 1.5,0.75",
             r.style2, style);
    run_logged(&r, "swapped", args, swapped, sizeof swapped);
    ck_assert_str_eq(swapped, alone);
    snprintf(args, sizeof args, "--style '%s' --style '%s' --style-scale 0.75",
             style, r.style2);
    run_logged(&r, "mixed", args, mixed, sizeof mixed);
    ck_assert_str_ne(mixed, alone);
}
END_TEST

/* A mask of ones is the unmasked style up to rounding (the masked path
 * multiplies F by sqrt(1) and divides by the mask's sum, the position
 * count, in float: 1e-5 relative is far above that and far below what a
 * half mask changes); a half mask changes the style loss; a black one is
 * refused, naming it, and nothing is written. */
START_TEST(style_mask_limits_the_region)
{
    style_run r;
    style_run_init(&r, "cli_mask");
    static char plain[8192], ones[8192], half[8192];
    char args[20000], err[4096], white[4200], left[4200], black[4200];
    snprintf(white, sizeof white, "%s/white.png", r.dir);
    snprintf(left, sizeof left, "%s/left.png", r.dir);
    snprintf(black, sizeof black, "%s/black.png", r.dir);
    write_mask(white, 40, 30, 40);
    write_mask(left, 40, 30, 20);
    write_mask(black, 40, 30, 0);
    snprintf(args, sizeof args, "--style '%s'", style);
    run_logged(&r, "plain", args, plain, sizeof plain);
    snprintf(args, sizeof args, "--style '%s' --style-mask '%s'", style,
             white);
    run_logged(&r, "ones", args, ones, sizeof ones);
    const double want = row0(plain, 3), got = row0(ones, 3);
    ck_assert_msg(fabs(got - want) <= 1e-5 * want,
                  "white mask: style %.9g, unmasked %.9g", got, want);
    snprintf(args, sizeof args, "--style '%s' --style-mask '%s'", style,
             left);
    run_logged(&r, "half", args, half, sizeof half);
    ck_assert_msg(fabs(row0(half, 3) - want) > 1e-3 * want,
                  "half mask: style %.9g, unmasked %.9g", row0(half, 3),
                  want);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --size 32 --iters 1 "
             "--quiet --out '%s/black_out.png' --style-mask '%s'",
             content, style, weights, r.dir, black);
    ck_assert_int_eq(tu_nst(args, err, sizeof err), 1);
    tu_assert_one_line_naming(err, black);
    snprintf(args, sizeof args, "%s/black_out.png", r.dir);
    ck_assert_int_eq(tu_file_size(args), -1);
}
END_TEST

/* Layer weights: a style layer of weight 0 is as if it were not listed (to
 * the bit: the remaining weight normalises to 1); a content layer of
 * weight 2 doubles row 0's content loss (from the same noise; 1e-8 covers
 * the log's 9 digits); the same layer under two names is refused. */
START_TEST(layer_weights_weight_the_layers)
{
    style_run r;
    style_run_init(&r, "cli_layers");
    static char one[8192], zero[8192], plain[8192], twice[8192];
    char args[20000], err[4096];
    snprintf(args, sizeof args, "--style '%s' --style-layers relu1_1", style);
    run_logged(&r, "one", args, one, sizeof one);
    snprintf(args, sizeof args,
             "--style '%s' --style-layers relu1_1:3,relu2_1:0", style);
    run_logged(&r, "zero", args, zero, sizeof zero);
    ck_assert_str_eq(zero, one);
    snprintf(args, sizeof args, "--style '%s'", style);
    run_logged(&r, "plain", args, plain, sizeof plain);
    snprintf(args, sizeof args, "--style '%s' --content-layers relu3_3:2",
             style);
    run_logged(&r, "twice", args, twice, sizeof twice);
    const double want = 2 * row0(plain, 2), got = row0(twice, 2);
    ck_assert_msg(want > 0 && fabs(got - want) <= 1e-8 * want,
                  "content relu3_3:2: %.9g, twice unweighted %.9g", got,
                  want);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --size 32 --iters 1 "
             "--quiet --out '%s/same.png' --style-layers relu1_1,conv1_1",
             content, style, weights, r.dir);
    ck_assert_int_eq(tu_nst(args, err, sizeof err), 1);
    tu_assert_one_line_naming(err, "relu1_1 and conv1_1 are the same layer");
}
END_TEST

/* Weights that are finite, so the reader takes them, but so large that
 * float arithmetic overflows: with 1e30 the features' squares, so the
 * first evaluation's loss is not finite; with 1e15 the loss stays finite
 * but the second evaluation's gradient is not (measured with the scalar
 * and AVX2 kernels; with AVX2 every power from 1e12 to 1e16 fails there).
 * Either optimizer stops at that iteration, writing neither a result nor a
 * log. */
START_TEST(overflowing_weights_stop_the_run)
{
    tiny t;
    tiny_files(&t, "cli_overflow", 24, 24);
    char log[4500], extra[5000];
    snprintf(log, sizeof log, "%s.csv", t.out);
    static const struct {
        double weight;
        const char *what[2];
    } cases[] = {
        {1e30, {"iteration 0", "the loss is not finite"}},
        {1e15, {"iteration 1", "the gradient is not finite"}},
    };
    static const char *const opts[] = {"adam", "lbfgs"};
    for (int c = 0; c < 2; c++) {
        write_weights(t.weights, 4, cases[c].weight, 0.01);
        for (int i = 0; i < 2; i++) {
            snprintf(extra, sizeof extra,
                     "%s --iters 2 --optimizer %s --log '%s'",
                     one_layer, opts[i], log);
            expect_failure(&t, t.weights, extra, cases[c].what, 2);
            ck_assert_int_eq(tu_file_size(log), -1);
        }
    }
}
END_TEST

/* --keep-last-good with the weights above: with 1e15 the loss of
 * iteration 1 is finite and its gradient is not, so the run still fails
 * but writes that image: Adam's after one update, the image a run of
 * --iters 1 ends with; L-BFGS's best accepted one, the start, the image a
 * run of --iters 0 ends with. With 1e30 no loss is finite: no result. */
START_TEST(keep_last_good_writes_the_last_finite_image)
{
    tiny t;
    tiny_files(&t, "cli_last_good", 24, 24);
    char args[20000], err[4096], want[4500];
    snprintf(want, sizeof want, "%s.want.png", t.out);
    static const char *const opts[] = {"adam", "lbfgs"};
    const char *fmt = "--content '%s' --style '%s' --weights '%s' --out '%s' "
                      "--size 16 --quiet %s --optimizer %s --iters %d %s";
    for (int i = 0; i < 2; i++) {
        write_weights(t.weights, 4, 1e15, 0.01);
        snprintf(args, sizeof args, fmt, t.content, t.style, t.weights,
                 want, one_layer, opts[i], 1 - i, "");
        ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
        snprintf(args, sizeof args, fmt, t.content, t.style, t.weights,
                 t.out, one_layer, opts[i], 2, "--keep-last-good");
        ck_assert_int_eq(tu_nst(args, err, sizeof err), 1);
        tu_assert_one_line_naming(err, "the gradient is not finite");
        tu_assert_one_line_naming(err, "wrote the last image whose loss was "
                                       "finite");
        ck_assert_msg(tu_same_bytes(t.out, want), "%s: not the last good "
                                                  "image", opts[i]);
        unlink(t.out);
        write_weights(t.weights, 4, 1e30, 0.01);
        snprintf(args, sizeof args, "%s --keep-last-good --optimizer %s",
                 one_layer, opts[i]);
        expect_failure(&t, t.weights, args,
                       (const char *const[]){"the loss is not finite"}, 1);
    }
}
END_TEST

/* ---- images checked against the memory plan before decoding ------------ */

/* The options of these runs: one layer, one thread. Under --max-memory 106
 * the one-layer weights, the program's 96 MiB and one thread's 4 MiB of
 * workspace fit, with a 24x24 picture's run; a decode holds at least the
 * 8-bit image and its float copy at once, 15 bytes a pixel: 15 MiB for
 * 1024x1024, which does not fit. */
static const char decode_budget[] =
    "--style-layers relu1_1 --content-layers relu1_1 --threads 1 "
    "--max-memory 106";
static const char decode_fits[] =
    "--style-layers relu1_1 --content-layers relu1_1 --threads 1 "
    "--max-memory 200";

/* A legal 8000x8000 PNG of 190 KB (2048x2048 under NST_TEST_QUICK) and a
 * 1024x1024 one are refused by the plan's message, before decoding: the
 * 8000x8000 run stays far below what its decode would hold (192 MB of
 * 8-bit pixels, 732 MiB of floats); sanitizers and emulators add too much
 * to measure. The 1024x1024 file runs under --max-memory 200. */
START_TEST(images_over_the_budget_are_refused_before_decoding)
{
    const char *q = getenv("NST_TEST_QUICK");
    const int quick = q && *q && strcmp(q, "0") != 0;
    const int big = quick ? 2048 : 8000;
    tiny t;
    tiny_files(&t, "cli_decode_budget", 24, 24);
    char size[32];
    tu_write_black_png(t.content, big, big, 3, 8);
    snprintf(size, sizeof size, "%dx%d pixels", big, big);
    const char *big_refused[] = {"content.png", size,
                                 "more than --max-memory 106"};
    expect_failure(&t, t.weights, decode_budget, big_refused, 3);
    struct rusage u;
    ck_assert_int_eq(getrusage(RUSAGE_CHILDREN, &u), 0);
    ck_assert_msg(quick || u.ru_maxrss < 256 * 1024,
                  "a refused run peaked at %ld KiB", u.ru_maxrss);

    tu_write_black_png(t.content, 1024, 1024, 3, 8);
    const char *refused[] = {"content.png", "1024x1024 pixels",
                             "more than --max-memory 106"};
    expect_failure(&t, t.weights, decode_budget, refused, 3);
    char args[20000], err[4096];
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' "
             "--size 16 --iters 1 --quiet %s",
             t.content, t.style, t.weights, t.out, decode_fits);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    assert_image_size(t.out, 16, 16);
}
END_TEST

/* In batch mode a content image refused by the plan skips its pairs,
 * reported, and the others run. */
START_TEST(batch_skips_a_pair_whose_image_does_not_fit)
{
    char dir[4096], data[4200], outs[4200], a[4400], b[4400], s[4400],
        w[4400], r0[4400], r1[4400], args[20000], err[8192];
    tu_tmpdir("cli_decode_budget_batch", dir, sizeof dir);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(outs, sizeof outs, "%s/outs", dir);
    ck_assert_int_eq(mkdir(data, 0777), 0);
    snprintf(a, sizeof a, "%s/content_a.png", data);
    snprintf(b, sizeof b, "%s/content_b.png", data);
    snprintf(s, sizeof s, "%s/style_s.png", data);
    snprintf(w, sizeof w, "%s/w.npz", dir);
    tu_write_black_png(a, 1024, 1024, 3, 8);
    write_png(b, 24, 24);
    write_png(s, 24, 24);
    write_weights(w, 4, 0.001, 0.01);
    snprintf(args, sizeof args,
             "--data '%s' --out '%s' --weights '%s' --size 16 --iters 1 "
             "--quiet %s",
             data, outs, w, decode_budget);
    ck_assert_int_eq(tu_nst(args, err, sizeof err), 1);
    ck_assert_msg(strstr(err, "gen_0") && strstr(err, "skipped") &&
                      strstr(err, "content_a.png: its 1024x1024 pixels"),
                  "%s", err);
    snprintf(r0, sizeof r0, "%s/gen_0/result.png", outs);
    snprintf(r1, sizeof r1, "%s/gen_1/result.png", outs);
    ck_assert_int_eq(tu_file_size(r0), -1);
    assert_image_size(r1, 16, 16);
}
END_TEST

/* `--optimizer lbfgs` is the default: the same image and the same losses
 * (the seconds column aside) as a run without it. */
START_TEST(lbfgs_is_the_default_optimizer)
{
    char dir[4096], args[40000], err[4096], a[4200], b[4200], la[4200],
        lb[4200];
    tu_tmpdir("cli_adam_default", dir, sizeof dir);
    snprintf(a, sizeof a, "%s/a.png", dir);
    snprintf(b, sizeof b, "%s/b.png", dir);
    snprintf(la, sizeof la, "%s/a.csv", dir);
    snprintf(lb, sizeof lb, "%s/b.csv", dir);
    const char *fmt = "--content '%s' --style '%s' --weights '%s' --out '%s' "
                      "--log '%s' --size 32 --iters 3 --quiet %s";
    snprintf(args, sizeof args, fmt, content, style, weights, a, la, "");
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    snprintf(args, sizeof args, fmt, content, style, weights, b, lb,
             "--optimizer lbfgs");
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(tu_same_bytes(a, b), "--optimizer lbfgs changed the image");
    double ra[8][TU_LOG_COLS], rb[8][TU_LOG_COLS];
    ck_assert_int_eq(read_log(la, ra, 8), 4);
    ck_assert_int_eq(read_log(lb, rb, 8), 4);
    for (int i = 0; i < 4; i++)
        for (int c = 0; c < 5; c++)
            ck_assert_msg(ra[i][c] == rb[i][c], "row %d column %d: %g, %g",
                          i, c, ra[i][c], rb[i][c]);
}
END_TEST

/* L-BFGS: one log row per evaluation (iters + 1), each total the weighted
 * sum of its parts; the loss falls below the start's; the history size
 * changes the path. */
START_TEST(lbfgs_run_logs_every_evaluation)
{
    char dir[4096], args[40000], err[4096], out[4200], log[4200],
        out1[4200];
    tu_tmpdir("cli_lbfgs", dir, sizeof dir);
    snprintf(out, sizeof out, "%s/result.png", dir);
    snprintf(out1, sizeof out1, "%s/history1.png", dir);
    snprintf(log, sizeof log, "%s/loss.csv", dir);
    const char *fmt = "--content '%s' --style '%s' --weights '%s' --out '%s' "
                      "--size 32 --iters 5 --optimizer lbfgs --log '%s' "
                      "--quiet %s";
    snprintf(args, sizeof args, fmt, content, style, weights, out, log, "");
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(err, "");
    double rows[8][TU_LOG_COLS];
    ck_assert_int_eq(read_log(log, rows, 8), 6);
    assert_default_totals(rows, 6);
    double best = rows[0][1];
    for (int i = 1; i < 6; i++)
        best = fmin(best, rows[i][1]);
    ck_assert_double_eq(rows[0][2], 0.0); /* starts at the content image */
    /* Measured: the fifth trial is about 0.24 of the start's loss; 0.9
     * leaves room for other kernels' rounding but not for no descent. */
    ck_assert_msg(best < 0.9 * rows[0][1], "loss did not fall: %g -> %g",
                  rows[0][1], best);
    snprintf(args, sizeof args, fmt, content, style, weights, out1, log,
             "--lbfgs-history 1");
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(!tu_same_bytes(out, out1),
                  "--lbfgs-history 1 gave the default's image");
}
END_TEST

/* A batch pair's pair.txt names the optimizer and its history. */
START_TEST(batch_records_the_optimizer)
{
    char data[4096], outdir[4200], args[40000], err[4096], cmd[20000];
    tu_tmpdir("cli_batch_lbfgs", data, sizeof data);
    snprintf(cmd, sizeof cmd,
             "ln -s '%s' '%s/content_a.jpg' && ln -s '%s' '%s/style_x.jpg'",
             content, data, style, data);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(outdir, sizeof outdir, "%s/out", data);
    snprintf(args, sizeof args,
             "--data '%s' --out '%s' --weights '%s' --size 24 --iters 1 "
             "--optimizer lbfgs --lbfgs-history 7 --quiet",
             data, outdir, weights);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    static const char *const lines[] = {"\noptimizer lbfgs\n",
                                        "\nlbfgs-history 7\n"};
    tu_assert_pair_txt(outdir, 0, lines, 2);
}
END_TEST

/* ---- --sheet and --shard ------------------------------------------------ */

START_TEST(parser_reads_sheet_and_shard)
{
    nst_cli cli;
    char msg[512];
    static const char *const both[] = {"--data", "d", "--shard", "2/3"};
    ck_assert_int_eq(parse(both, 4, &cli, msg, sizeof msg), NST_CLI_RUN);
    ck_assert_int_eq(cli.options.shard, 2);
    ck_assert_int_eq(cli.options.n_shards, 3);
    ck_assert_ptr_null(cli.options.sheet);
    static const char *const sheet[] = {"--data", "d", "--sheet", "s.png"};
    ck_assert_int_eq(parse(sheet, 4, &cli, msg, sizeof msg), NST_CLI_RUN);
    ck_assert_str_eq(cli.options.sheet, "s.png");
    ck_assert_int_eq(cli.options.n_shards, 0);
    static const usage_case bad[] = {
        {{"--data", "d", "--shard", "3/3"}, 4,
         "--shard: '3/3' is not I/N with 0 <= I < N (see nst --help)"},
        {{"--data", "d", "--shard", "1"}, 4,
         "--shard: '1' is not I/N with 0 <= I < N (see nst --help)"},
        {{"--data", "d", "--shard", "0/0"}, 4,
         "--shard: '0/0' is not I/N with 0 <= I < N (see nst --help)"},
        {{"--data", "d", "--shard", "-1/2"}, 4,
         "--shard: '-1/2' is not I/N with 0 <= I < N (see nst --help)"},
        {{"--data", "d", "--shard", "0/2", "--sheet", "s.png"}, 6,
         "--sheet: one sheet of the whole batch cannot be written by --shard "
         "processes; run without --shard for a sheet"},
        {{"--content", "c", "--style", "s", "--out", "o.png", "--shard",
          "0/2"},
         8,
         "--shard needs --data (see nst --help)"},
    };
    expect_usage_errors(NULL, 0, bad, sizeof bad / sizeof *bad);
}
END_TEST

/* The w x h panel at (x, y) of sheet equals file resized to w x h: exactly,
 * as both are whole values written losslessly to PNG. */
static void assert_panel(const nst_image *sheet, int x, int y, int w, int h,
                         const char *file)
{
    nst_image raw, want;
    ck_assert_msg(nst_image_load(file, &raw) == 0, "%s", nst_failure_reason());
    ck_assert_int_eq(nst_image_resize(&raw, w, h, &want), 0);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                const float got = sheet->data[((size_t)c * sheet->h + y + i) *
                                                  sheet->w + x + j];
                const float exp = want.data[((size_t)c * h + i) * w + j];
                ck_assert_msg(got == exp, "%s: channel %d at (%d, %d): want "
                              "%g, got %g", file, c, j, i, exp, got);
            }
    nst_image_free(&raw);
    nst_image_free(&want);
}

/* Every pixel of the sheet outside the panels is white (the gaps). */
static void assert_white_between(const nst_image *sheet, const int *xs,
                                 const int *ws, int n, int y, int h)
{
    for (int c = 0; c < 3; c++)
        for (int i = y; i < y + h; i++)
            for (int j = 0; j < sheet->w; j++) {
                int inside = 0;
                for (int k = 0; k < n; k++)
                    inside |= j >= xs[k] && j < xs[k] + ws[k];
                if (!inside)
                    ck_assert_msg(sheet->data[((size_t)c * sheet->h + i) *
                                                  sheet->w + j] == 255,
                                  "gap at (%d, %d) is not white", j, i);
            }
}

/* Single pair: content 32x24 at --size 16 gives a 16x12 result; the sheet
 * is content (16x12) | style 24x24 at height 12 (12x12) | result (16x12),
 * 4 white pixels apart. */
START_TEST(sheet_shows_content_style_result)
{
    tiny t;
    char args[40000], err[4096], sheet[4500];
    tiny_files(&t, "cli_sheet", 32, 24);
    snprintf(sheet, sizeof sheet, "%s.sheet.png", t.out);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' "
             "--size 16 --iters 2 --quiet %s --sheet '%s'",
             t.content, t.style, t.weights, t.out, one_layer, sheet);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    nst_image s;
    ck_assert_msg(nst_image_load(sheet, &s) == 0, "%s", nst_failure_reason());
    ck_assert_int_eq(s.w, 16 + 12 + 16 + 2 * NST_SHEET_GAP);
    ck_assert_int_eq(s.h, 12);
    const int xs[3] = {0, 16 + NST_SHEET_GAP, 28 + 2 * NST_SHEET_GAP};
    const int ws[3] = {16, 12, 16};
    assert_panel(&s, xs[0], 0, 16, 12, t.content);
    assert_panel(&s, xs[1], 0, 12, 12, t.style);
    assert_panel(&s, xs[2], 0, 16, 12, t.out);
    assert_white_between(&s, xs, ws, 3, 0, 12);
    nst_image_free(&s);

    /* --sheet naming an input is refused before any work. */
    ck_assert_int_eq(unlink(t.out), 0);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --out '%s' "
             "--size 16 --iters 2 --quiet %s --sheet '%s'",
             t.content, t.style, t.weights, t.out, one_layer, t.style);
    ck_assert_int_eq(tu_nst(args, err, sizeof err), 1);
    tu_assert_one_line_naming(err, "--sheet");
    ck_assert_int_eq(tu_file_size(t.out), -1);
}
END_TEST

/* Batch: content_a 32x24 and content_b 24x24 with style_x 24x24 give two
 * rows at the first result's height, 12: a is 16 | 12 | 16 wide, b
 * 12 | 12 | 12, white to the right of b's row. */
START_TEST(batch_sheet_has_a_row_per_pair)
{
    tiny t;
    char dir[4096], data[4200], out[4200], sheet[4200], a[4300], b[4300],
        x[4300], ra[4400], rb[4400], args[40000], err[4096];
    tiny_files(&t, "cli_batch_sheet", 32, 24);
    tu_tmpdir("cli_batch_sheet_data", dir, sizeof dir);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(sheet, sizeof sheet, "%s/sheet.png", dir);
    ck_assert_int_eq(mkdir(data, 0777), 0);
    snprintf(a, sizeof a, "%s/content_a.png", data);
    snprintf(b, sizeof b, "%s/content_b.png", data);
    snprintf(x, sizeof x, "%s/style_x.png", data);
    ck_assert_int_eq(rename(t.content, a), 0);
    write_png(b, 24, 24);
    ck_assert_int_eq(rename(t.style, x), 0);
    snprintf(args, sizeof args,
             "--data '%s' --out '%s' --weights '%s' --size 16 --iters 1 "
             "--quiet %s --sheet '%s'",
             data, out, t.weights, one_layer, sheet);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
    snprintf(ra, sizeof ra, "%s/gen_0/result.png", out);
    snprintf(rb, sizeof rb, "%s/gen_1/result.png", out);
    nst_image s;
    ck_assert_msg(nst_image_load(sheet, &s) == 0, "%s", nst_failure_reason());
    ck_assert_int_eq(s.w, 44 + 2 * NST_SHEET_GAP);
    ck_assert_int_eq(s.h, 24 + NST_SHEET_GAP);
    const int xa[3] = {0, 16 + NST_SHEET_GAP, 28 + 2 * NST_SHEET_GAP};
    const int wa[3] = {16, 12, 16};
    const int xb[3] = {0, 12 + NST_SHEET_GAP, 24 + 2 * NST_SHEET_GAP};
    const int wb[3] = {12, 12, 12};
    const int y = 12 + NST_SHEET_GAP;
    assert_panel(&s, xa[0], 0, 16, 12, a);
    assert_panel(&s, xa[1], 0, 12, 12, x);
    assert_panel(&s, xa[2], 0, 16, 12, ra);
    assert_panel(&s, xb[0], y, 12, 12, b);
    assert_panel(&s, xb[1], y, 12, 12, x);
    assert_panel(&s, xb[2], y, 12, 12, rb);
    assert_white_between(&s, xa, wa, 3, 0, 12 + NST_SHEET_GAP);
    assert_white_between(&s, xb, wb, 3, y, 12);
    nst_image_free(&s);
}
END_TEST

/* ---- --init noise --------------------------------------------------------- */

/* --init noise with ratio r starts from (1 - r) x + r u, u uniform in
 * [0, 255) - the VGG mean, seeded. Recovering u from the start, every
 * value must lie in that range; per channel its mean must be 127.5 and its
 * standard deviation 255 / sqrt(12) = 73.6 within 4 standard errors
 * (73.6 / sqrt(n) for the mean, about 0.45 x 73.6 / sqrt(n) for the
 * standard deviation of a uniform variable): n = 48 x 40 gives 6.7 and
 * 3.0, far below what a wrong recipe (no blend: u is then off by the
 * content; a Gaussian: a different range) would give. */
START_TEST(noise_start_follows_the_recipe)
{
    enum { W = 48, H = 40, PLANE = W * H };
    static float content[3 * PLANE], x[3 * PLANE], y[3 * PLANE];
    for (int i = 0; i < 3 * PLANE; i++)
        content[i] = (float)((i * 37) % 200) - 100.0f;
    static const double ratios[] = {1, 0.5, 0.1};
    for (size_t k = 0; k < sizeof ratios / sizeof *ratios; k++) {
        const double r = ratios[k];
        memcpy(x, content, sizeof x);
        nst_pixels_noise(x, W, H, 42, r);
        for (int c = 0; c < 3; c++) {
            double sum = 0, sum2 = 0;
            for (int i = 0; i < PLANE; i++) {
                const int at = c * PLANE + i;
                const double u = (x[at] - (1 - r) * content[at]) / r +
                                 nst_vgg_mean[c];
                ck_assert_msg(u > -1e-3 && u < 255 + 1e-3,
                              "ratio %g, channel %d, pixel %d: noise %g", r,
                              c, i, u);
                sum += u;
                sum2 += u * u;
            }
            const double mean = sum / PLANE;
            const double sd = sqrt(sum2 / PLANE - mean * mean);
            const double sd_u = 255 / sqrt(12);
            ck_assert_msg(fabs(mean - 127.5) < 4 * sd_u / sqrt(PLANE),
                          "ratio %g, channel %d: mean %g", r, c, mean);
            ck_assert_msg(fabs(sd - sd_u) < 4 * 0.45 * sd_u / sqrt(PLANE),
                          "ratio %g, channel %d: sd %g", r, c, sd);
        }
        /* The same seed gives the same start, another seed another. */
        memcpy(y, content, sizeof y);
        nst_pixels_noise(y, W, H, 42, r);
        ck_assert(memcmp(x, y, sizeof x) == 0);
        memcpy(y, content, sizeof y);
        nst_pixels_noise(y, W, H, 43, r);
        ck_assert(memcmp(x, y, sizeof x) != 0);
    }
    /* Ratio 0 is the content itself. */
    memcpy(x, content, sizeof x);
    nst_pixels_noise(x, W, H, 42, 0);
    ck_assert(memcmp(x, content, sizeof x) == 0);
}
END_TEST

/* Content loss (log column 2) of row 0 and of the last row of a 10-iteration
 * run at 32 pixels from --init noise with the extra options. */
static void noise_run(const char *dir, const char *tag, const char *extra,
                      double *first, double *last)
{
    char args[40000], err[4096], path[4200];
    double rows[16][TU_LOG_COLS];
    snprintf(path, sizeof path, "%s/%s.csv", dir, tag);
    snprintf(args, sizeof args,
             "--content '%s' --style '%s' --weights '%s' --size 32 "
             "--iters 10 --optimizer adam --init noise --quiet "
             "--out '%s/%s.png' --log '%s' %s",
             content, style, weights, dir, tag, path, extra);
    ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s: %s", extra, err);
    const int n = read_log(path, rows, 16);
    ck_assert_int_eq(n, 11);
    *first = rows[0][2];
    *last = rows[n - 1][2];
}

/* The default recipe starts a quarter of the way from the content to the
 * noise. Were the network linear, the start's content loss would be r^2 =
 * 1/16 of noise alone's; ReLUs that switch on the way make it larger
 * (0.18 measured), so the bound is r = 1/4. 10 Adam steps of typically
 * at most --lr = 4 levels (math.md) move a pixel about 40 levels, less
 * than the starts' mean distance (3/4 of |noise - content|, about 60
 * levels), so the default run stays the closer to the content: we require
 * under half of noise alone's content loss (0.42 measured). */
START_TEST(noise_start_keeps_the_content)
{
    char dir[4096];
    double mixed0, mixed, noise0, noise;
    tu_tmpdir("cli_noise_content", dir, sizeof dir);
    noise_run(dir, "mixed", "", &mixed0, &mixed);
    noise_run(dir, "noise", "--init-noise-ratio 1", &noise0, &noise);
    ck_assert_msg(mixed0 < 0.25 * noise0, "start: %g, noise alone %g", mixed0,
                  noise0);
    ck_assert_msg(mixed < 0.5 * noise, "after 10: %g, noise alone %g", mixed,
                  noise);
}
END_TEST

START_TEST(parser_reads_init_noise_ratio)
{
    nst_cli cli;
    char msg[512];
    nst_options d;
    nst_options_default(&d);
    static const char *const pair[] = {"--data", "d"};
    ck_assert_int_eq(parse(pair, 2, &cli, msg, sizeof msg), NST_CLI_RUN);
    ck_assert(cli.options.init_noise_ratio == d.init_noise_ratio);
    static const char *const some[] = {"--data", "d", "--init", "noise",
                                       "--init-noise-ratio", "0.25"};
    ck_assert_int_eq(parse(some, 6, &cli, msg, sizeof msg), NST_CLI_RUN);
    ck_assert(cli.options.init_noise_ratio == 0.25);
    static const usage_case bad = {
        {"--data", "d", "--init-noise-ratio", "1.5"}, 4,
        "--init-noise-ratio: '1.5' is not a number from 0 to 1"};
    expect_usage_errors(NULL, 0, &bad, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *parser = tcase_create("parser");
    tcase_add_test(parser, parser_fills_options);
    tcase_add_test(parser, parser_reports_usage_errors);
    tcase_add_test(parser, parser_reads_colors_init_and_quality);
    tcase_add_test(parser, parser_reads_style_options);
    tcase_add_test(parser, optimizer_options_are_parsed_and_checked);
    tcase_add_test(parser, memory_options_are_parsed_and_checked);
    suite_add_tcase(s, parser);
    TCase *hostile = tcase_create("hostile");
    tcase_set_timeout(hostile, 600);
    tcase_add_test(hostile, tiny_run_works);
    tcase_add_test(hostile, non_finite_weights_are_refused);
    tcase_add_test(hostile, oversized_weights_are_refused_up_front);
    tcase_add_test(hostile, special_files_are_refused);
    tcase_add_test(hostile, too_small_images_are_explained);
    tcase_add_test(hostile, unavailable_isa_fails_cleanly);
    tcase_add_test(hostile, overflowing_weights_stop_the_run);
    tcase_add_test(hostile, keep_last_good_writes_the_last_finite_image);
    tcase_add_test(hostile, images_over_the_budget_are_refused_before_decoding);
    tcase_add_test(hostile, batch_skips_a_pair_whose_image_does_not_fit);
    suite_add_tcase(s, hostile);
    TCase *controls = tcase_create("controls");
    tcase_set_timeout(controls, 600);
    tcase_add_test(controls, parser_reads_sheet_and_shard);
    tcase_add_test(controls, sheet_shows_content_style_result);
    tcase_add_test(controls, batch_sheet_has_a_row_per_pair);
    tcase_add_test(controls, noise_start_follows_the_recipe);
    tcase_add_test(controls, parser_reads_init_noise_ratio);
    suite_add_tcase(s, controls);
    find_data();
    if (have_data) {
        TCase *tc = tcase_create("cli");
        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, help_explains_every_option);
        tcase_add_test(tc, single_pair_runs_and_logs);
        tcase_add_test(tc, size_700_from_a_1024_image);
        tcase_add_loop_test(tc, same_seed_same_bytes_any_threads, 0, 2);
        tcase_add_test(tc, batch_pairs_every_content_with_every_style);
        tcase_add_test(tc, bad_inputs_fail_cleanly);
        tcase_add_test(tc, outputs_that_are_inputs_are_refused);
        tcase_add_test(tc, log_equal_to_an_output_is_refused);
        tcase_add_test(tc, existing_outputs_keep_their_mode);
        tcase_add_test(tc, longest_file_name_is_written);
        tcase_add_test(tc, long_path_error_is_whole);
        tcase_add_test(tc, sigint_saves_the_image_so_far);
        tcase_add_test(tc, sigterm_leaves_nothing_behind);
        tcase_add_test(tc, preserve_colors_end_to_end);
        tcase_add_test(tc, preserve_colors_prepares_the_objective_inputs);
        tcase_add_test(tc, init_file_is_the_starting_image);
        tcase_add_test(tc, quality_sets_jpeg_size);
        tcase_add_test(tc, style_blend_selects_and_mixes);
        tcase_add_test(tc, style_mask_limits_the_region);
        tcase_add_test(tc, layer_weights_weight_the_layers);
        tcase_add_test(tc, lbfgs_is_the_default_optimizer);
        tcase_add_test(tc, lbfgs_run_logs_every_evaluation);
        tcase_add_test(tc, batch_records_the_optimizer);
        tcase_add_test(tc, noise_start_keeps_the_content);
        suite_add_tcase(s, tc);
    } else {
        printf("SKIP: end-to-end runs on the real weights and images: not "
               "found (set NST_SHARED)\n");
    }
    return tu_run_suite(s);
}
