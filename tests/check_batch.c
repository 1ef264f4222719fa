/* The content_* / style_* folder scan, and batch runs of the real nst
 * program: refused outputs, and pairs that cannot run while the others
 * do. */
#include "batch.h"
#include "error.h"
#include "image.h"
#include "nst_runner.h"
#include "testutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void touch(const char *dir, const char *name)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f, "cannot create %s", path);
    fclose(f);
}

static void assert_path(const char *got, const char *dir, const char *name)
{
    char want[4400];
    snprintf(want, sizeof want, "%s/%s", dir, name);
    ck_assert_msg(got && !strcmp(got, want), "expected %s, got %s", want,
                  got ? got : "(null)");
}

static void assert_reason_has(const char *a, const char *b)
{
    const char *why = nst_failure_reason();
    ck_assert_msg(strstr(why, a) && strstr(why, b) && !strchr(why, '\n'),
                  "reason \"%s\" should be one line mentioning \"%s\" and "
                  "\"%s\"", why, a, b);
}

START_TEST(scan_sorts_and_filters)
{
    char dir[4096], path[4400], target[4400];
    tu_tmpdir("batch_scan", dir, sizeof dir);
    touch(dir, "content_b.jpg");
    touch(dir, "content_a.png");
    touch(dir, "content_B.png"); /* 'B' sorts before 'a' by strcmp */
    touch(dir, "style_x.jpg");
    touch(dir, "notes.txt");
    touch(dir, "my_content_c.jpg");
    touch(dir, "Style_upper.jpg"); /* the prefix is case-sensitive */
    snprintf(path, sizeof path, "%s/content_dir", dir);
    ck_assert_int_eq(mkdir(path, 0777), 0);
    touch(path, "content_inner.jpg");
    /* A link to a regular file counts; a dangling link does not. */
    snprintf(target, sizeof target, "%s/notes.txt", dir);
    snprintf(path, sizeof path, "%s/style_link.png", dir);
    ck_assert_int_eq(symlink(target, path), 0);
    snprintf(path, sizeof path, "%s/style_dangling.png", dir);
    ck_assert_int_eq(symlink("/nonexistent/nowhere.png", path), 0);

    nst_batch b;
    ck_assert_msg(nst_batch_scan(dir, &b) == 0, "%s", nst_failure_reason());
    ck_assert_int_eq(b.n_content, 3);
    ck_assert_int_eq(b.n_style, 2);
    assert_path(b.content[0], dir, "content_B.png");
    assert_path(b.content[1], dir, "content_a.png");
    assert_path(b.content[2], dir, "content_b.jpg");
    assert_path(b.style[0], dir, "style_link.png");
    assert_path(b.style[1], dir, "style_x.jpg");
    ck_assert_int_eq(nst_batch_pairs(&b), 6);
    nst_batch_free(&b);
    ck_assert_ptr_null(b.content);
    ck_assert_ptr_null(b.style);
    ck_assert_int_eq(b.n_content, 0);
    ck_assert_int_eq(b.n_style, 0);
}
END_TEST

START_TEST(scan_joins_a_folder_given_with_a_slash)
{
    char dir[4096], slashed[4200];
    tu_tmpdir("batch_slash", dir, sizeof dir);
    touch(dir, "content_1.png");
    touch(dir, "style_1.png");
    snprintf(slashed, sizeof slashed, "%s/", dir);
    nst_batch b;
    ck_assert_msg(nst_batch_scan(slashed, &b) == 0, "%s", nst_failure_reason());
    ck_assert_int_eq(nst_batch_pairs(&b), 1);
    assert_path(b.content[0], dir, "content_1.png");
    assert_path(b.style[0], dir, "style_1.png");
    nst_batch_free(&b);
}
END_TEST

START_TEST(scan_many_files)
{
    /* More files than the list's first allocation, created in reverse. */
    char dir[4096], name[64];
    tu_tmpdir("batch_many", dir, sizeof dir);
    for (int i = 29; i >= 0; i--) {
        snprintf(name, sizeof name, "content_%02d.jpg", i);
        touch(dir, name);
        if (i % 3 == 0) {
            snprintf(name, sizeof name, "style_%02d.jpg", i);
            touch(dir, name);
        }
    }
    nst_batch b;
    ck_assert_msg(nst_batch_scan(dir, &b) == 0, "%s", nst_failure_reason());
    ck_assert_int_eq(b.n_content, 30);
    ck_assert_int_eq(b.n_style, 10);
    ck_assert_int_eq(nst_batch_pairs(&b), 300);
    for (int i = 0; i < 30; i++) {
        snprintf(name, sizeof name, "content_%02d.jpg", i);
        assert_path(b.content[i], dir, name);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "style_%02d.jpg", 3 * i);
        assert_path(b.style[i], dir, name);
    }
    nst_batch_free(&b);
}
END_TEST

START_TEST(scan_errors)
{
    char dir[4096], path[4400];
    nst_batch b;
    tu_tmpdir("batch_errors", dir, sizeof dir);

    snprintf(path, sizeof path, "%s/missing", dir);
    ck_assert_int_eq(nst_batch_scan(path, &b), -1);
    assert_reason_has(path, "No such file or directory");
    ck_assert_ptr_null(b.content);
    ck_assert_ptr_null(b.style);

    touch(dir, "content_a.jpg");
    snprintf(path, sizeof path, "%s/content_a.jpg", dir);
    ck_assert_int_eq(nst_batch_scan(path, &b), -1);
    assert_reason_has(path, "Not a directory");

    ck_assert_int_eq(nst_batch_scan(dir, &b), -1);
    assert_reason_has(dir, "no style_*");
    ck_assert_ptr_null(b.content);

    snprintf(path, sizeof path, "%s/only_style", dir);
    ck_assert_int_eq(mkdir(path, 0777), 0);
    touch(path, "style_a.jpg");
    ck_assert_int_eq(nst_batch_scan(path, &b), -1);
    assert_reason_has(path, "no content_*");
    ck_assert_ptr_null(b.style);

    snprintf(path, sizeof path, "%s/empty", dir);
    ck_assert_int_eq(mkdir(path, 0777), 0);
    ck_assert_int_eq(nst_batch_scan(path, &b), -1);
    assert_reason_has(path, "no content_*");
}
END_TEST

static char weights[4096], content[4096], content2[4096], style[4096];

static int find_data(void)
{
    return tu_shared_transfer(weights, content, style, sizeof weights) &&
           tu_shared("images/content_golden_gate.jpg", content2,
                     sizeof content2);
}

/* A data folder: content_a (a photo), content_b if thin (200x4: 32x1 at
 * --size 32, too small for the first pool), content_c (another photo),
 * style_x. */
static void make_data(const char *data, int thin)
{
    char cmd[20000], path[4400];
    snprintf(cmd, sizeof cmd,
             "ln -s '%s' '%s/content_a.jpg' && ln -s '%s' '%s/content_c.jpg' "
             "&& ln -s '%s' '%s/style_x.jpg'",
             content, data, content2, data, style, data);
    ck_assert_int_eq(system(cmd), 0);
    if (!thin)
        return;
    nst_image img;
    ck_assert_int_eq(nst_image_alloc(&img, 200, 4), 0);
    snprintf(path, sizeof path, "%s/content_b.png", data);
    ck_assert_int_eq(nst_image_save(path, &img), 0);
    nst_image_free(&img);
}

/* Runs nst on the batch in data, to data/out (written to out[4200]), with
 * real weights at --size 32 and the extra options; the exit status. */
static int run_batch(const char *data, const char *extra, char out[4200],
                     char *err, size_t size)
{
    char args[40000];
    snprintf(out, 4200, "%s/out", data);
    snprintf(args, sizeof args,
             "--data '%s' --out '%s' --weights '%s' --size 32 %s", data, out,
             weights, extra);
    return tu_nst(args, err, size);
}

/* --log named like another file of gen_i would replace it: refused before
 * any folder is made. */
START_TEST(log_named_like_a_result_is_refused)
{
    char data[4096], extra[512], err[8192], out[4200];
    tu_tmpdir("batch_log_is_result", data, sizeof data);
    make_data(data, 1);
    static const char *const names[] = {"result.png", "pair.txt",
                                        "iter_0001.png"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(extra, sizeof extra,
                 "--iters 2 --save-every 1 --log '%s' --quiet", names[i]);
        ck_assert_msg(run_batch(data, extra, out, err, sizeof err) == 1, "%s",
                      err);
        tu_assert_one_line_naming(err, names[i]);
        ck_assert_msg(strstr(err, "--log") && strstr(err, "same file"), "%s",
                      err);
        ck_assert_int_eq(tu_file_size(out), -1);
    }
}
END_TEST

static const char *line_with(const char *text, const char *a, const char *b)
{
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[8192];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        if (strstr(buf, a) && strstr(buf, b))
            return line;
        line += len + (end != NULL);
    }
    return NULL;
}

/* gen_1's content image is too small: reported (pair and file named)
 * before any pair runs, and skipped. gen_2 fails while running (its folder
 * is taken by a file): reported. gen_0 completes; the status says some
 * failed. */
START_TEST(failing_pairs_are_skipped_and_the_rest_run)
{
    char data[4096], err[16384], out[4200], path[4400];
    tu_tmpdir("batch_failing_pairs", data, sizeof data);
    make_data(data, 1);
    snprintf(path, sizeof path, "%s/out", data);
    ck_assert_int_eq(mkdir(path, 0777), 0);
    touch(path, "gen_2");
    ck_assert_int_eq(
        run_batch(data, "--iters 1 --log loss.csv --quiet", out, err,
                  sizeof err),
        1);
    const char *skipped = line_with(err, "gen_1", "content_b.png");
    ck_assert_msg(skipped && strstr(skipped, "skipped") &&
                      strstr(skipped, "too small"),
                  "%s", err);
    const char *failed = line_with(err, "gen_2", "content_c.jpg");
    ck_assert_msg(failed && strstr(failed, "not a folder"), "%s", err);
    ck_assert_msg(skipped < failed, "gen_1 reported after a pair ran: %s",
                  err);
    ck_assert_msg(line_with(err, "2 of 3 pairs failed", data), "%s", err);
    static const char *const files[] = {"result.png", "pair.txt",
                                        "loss.csv"};
    for (size_t j = 0; j < sizeof files / sizeof *files; j++) {
        snprintf(path, sizeof path, "%s/gen_0/%s", out, files[j]);
        ck_assert_msg(tu_file_size(path) > 0, "missing %s", path);
    }
    snprintf(path, sizeof path, "%s/gen_1", out);
    ck_assert_int_eq(tu_file_size(path), -1);
}
END_TEST

/* The result cannot be put in place (a folder holds its name): the pair
 * is reported as failed, nothing claims it was written, and neither its
 * log nor pair.txt nor a temporary file is left. */
START_TEST(failed_write_is_not_reported_as_written)
{
    char data[4096], err[16384], out[4200], cmd[40000];
    tu_tmpdir("batch_failed_write", data, sizeof data);
    snprintf(cmd, sizeof cmd,
             "ln -s '%s' '%s/content_a.jpg' && ln -s '%s' '%s/style_x.jpg' && "
             "mkdir -p '%s/out/gen_0/result.png/taken'",
             content, data, style, data, data);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(
        run_batch(data, "--iters 1 --log loss.csv", out, err, sizeof err), 1);
    const char *failed = line_with(err, "gen_0", "failed");
    ck_assert_msg(failed && strstr(failed, "result.png"), "%s", err);
    ck_assert_msg(!strstr(err, "wrote"), "claims a write: %s", err);
    snprintf(cmd, sizeof cmd,
             "test \"$(ls -A '%s/gen_0')\" = result.png", out);
    ck_assert_msg(system(cmd) == 0, "files left in %s/gen_0", out);
}
END_TEST

/* Without --out the pairs go into the data folder itself, gen_0, gen_1,
 * ... beside the images, and pair.txt records the colour, start and
 * quality settings. A second run finds only the images again. */
START_TEST(without_out_pairs_go_into_the_data_folder)
{
    char data[4096], args[40000], err[8192], path[4400];
    tu_tmpdir("batch_into_data", data, sizeof data);
    make_data(data, 0);
    snprintf(args, sizeof args, "cp '%s' '%s/start.jpg'", content2, data);
    ck_assert_int_eq(system(args), 0);
    for (int run = 0; run < 2; run++) {
        snprintf(args, sizeof args,
                 "--data '%s' --weights '%s' --size 32 --iters 1 --quiet "
                 "--preserve-colors histogram --quality 80 --init '%s/start.jpg'",
                 data, weights, data);
        ck_assert_msg(tu_nst(args, err, sizeof err) == 0, "%s", err);
        snprintf(args, sizeof args,
                 "test \"$(ls '%s' | tr '\\n' ' ')\" = "
                 "'content_a.jpg content_c.jpg gen_0 gen_1 start.jpg "
                 "style_x.jpg '",
                 data);
        ck_assert_msg(system(args) == 0, "unexpected files in %s", data);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/gen_%d/result.png", data, i);
        nst_image img;
        ck_assert_msg(nst_image_load(path, &img) == 0, "%s",
                      nst_failure_reason());
        ck_assert_int_eq(img.w, 32);
        nst_image_free(&img);
    }
    snprintf(args, sizeof args, "init %s/start.jpg\n", data);
    const char *const lines[] = {
        "content_c.jpg\n", "style_x.jpg\n", "preserve-colors histogram\n",
        "quality 80\n", "start.jpg\n", args};
    tu_assert_pair_txt(data, 1, lines, sizeof lines / sizeof *lines);
}
END_TEST

/* pair.txt records a noise start's seed and ratio, which with the other
 * settings make the pair's picture again. */
START_TEST(pair_txt_records_the_noise_start)
{
    char data[4096], out[4200], err[8192];
    tu_tmpdir("batch_noise_start", data, sizeof data);
    make_data(data, 0);
    ck_assert_msg(run_batch(data,
                            "--iters 0 --init noise --init-noise-ratio 0.625 "
                            "--seed 3 --quiet",
                            out, err, sizeof err) == 0,
                  "%s", err);
    static const char *const lines[] = {"\ninit noise\n", "\nseed 3\n",
                                        "\ninit-noise-ratio 0.625\n"};
    tu_assert_pair_txt(out, 1, lines, sizeof lines / sizeof *lines);
}
END_TEST

static Suite *batch_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("scan");
    tcase_add_test(tc, scan_sorts_and_filters);
    tcase_add_test(tc, scan_joins_a_folder_given_with_a_slash);
    tcase_add_test(tc, scan_many_files);
    tcase_add_test(tc, scan_errors);
    suite_add_tcase(s, tc);
    if (find_data()) {
        TCase *runs = tcase_create("runs");
        tcase_set_timeout(runs, 600);
        tcase_add_test(runs, log_named_like_a_result_is_refused);
        tcase_add_test(runs, failing_pairs_are_skipped_and_the_rest_run);
        tcase_add_test(runs, failed_write_is_not_reported_as_written);
        tcase_add_test(runs, without_out_pairs_go_into_the_data_folder);
        tcase_add_test(runs, pair_txt_records_the_noise_start);
        suite_add_tcase(s, runs);
    } else {
        printf("SKIP batch runs: no weights/images under $NST_SHARED\n");
    }
    return s;
}

int main(void)
{
    return tu_run_suite(batch_suite());
}
