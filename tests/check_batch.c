/* The content_* / style_* folder scan. */
#include "batch.h"
#include "error.h"
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

static Suite *batch_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("scan");
    tcase_add_test(tc, scan_sorts_and_filters);
    tcase_add_test(tc, scan_joins_a_folder_given_with_a_slash);
    tcase_add_test(tc, scan_many_files);
    tcase_add_test(tc, scan_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(batch_suite());
}
