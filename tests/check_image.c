/* Image loading, resizing and saving. */
#include "error.h"
#include "image.h"
#include "testutil.h"

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define PIX(img, c, x, y) \
    ((img)->data[(size_t)(c) * (img)->w * (img)->h + (size_t)(y) * (img)->w + (x)])

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static size_t read_bytes(const char *path, unsigned char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f, "cannot open %s", path);
    size_t n = fread(buf, 1, size, f);
    fclose(f);
    return n;
}

/* Fails the test if dir holds any hidden (temporary) file. */
static void assert_no_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)))
        ck_assert_msg(e->d_name[0] != '.' || !strcmp(e->d_name, ".") ||
                          !strcmp(e->d_name, ".."),
                      "temporary file left behind: %s/%s", dir, e->d_name);
    closedir(d);
}

static void assert_reason_has(const char *a, const char *b)
{
    const char *why = nst_failure_reason();
    ck_assert_msg(strstr(why, a) && (!b || strstr(why, b)),
                  "reason \"%s\" should mention \"%s\" and \"%s\"", why, a,
                  b ? b : "");
}

/* A random image with fractional values, some outside [0, 255]. */
static void random_image(nst_image *img, int w, int h, double lo, double hi,
                         uint64_t seed)
{
    tu_rng r = { seed };
    ck_assert_int_eq(nst_image_alloc(img, w, h), 0);
    tu_fill(&r, img->data, (size_t)3 * w * h, lo, hi);
}

static float expected_byte(float v)
{
    return v <= 0 ? 0 : v >= 255 ? 255 : floorf(v + 0.5f);
}

START_TEST(load_real_images)
{
    static const struct { const char *name; int w, h; } files[] = {
        { "images/content_tubingen.jpg", 1024, 768 },
        { "images/content_golden_gate.jpg", 979, 734 },
        { "images/style_starry_night.jpg", 1024, 640 },
        { "images/style_the_scream.jpg", 1200, 1528 },
    };
    char buf[4096];
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        const char *path = tu_shared(files[k].name, buf, sizeof buf);
        if (!path) {
            fprintf(stderr, "SKIP %s: NST_SHARED unset or file missing\n",
                    files[k].name);
            continue;
        }
        nst_image img;
        ck_assert_msg(nst_image_load(path, &img) == 0, "%s",
                      nst_failure_reason());
        ck_assert_msg(img.w == files[k].w && img.h == files[k].h,
                      "%s: expected %dx%d, got %dx%d", path, files[k].w,
                      files[k].h, img.w, img.h);
        /* Decoded 8-bit photographs: whole values in [0, 255], each
         * channel neither black nor flat. */
        size_t n = (size_t)img.w * img.h;
        for (int c = 0; c < 3; c++) {
            double sum = 0, sq = 0;
            size_t bad = n;
            for (size_t i = 0; i < n; i++) {
                float v = img.data[c * n + i];
                if (bad == n && !(v >= 0 && v <= 255 && v == floorf(v)))
                    bad = i;
                sum += v;
                sq += (double)v * v;
            }
            ck_assert_msg(bad == n, "%s: channel %d pixel %zu = %g", path, c,
                          bad, bad < n ? (double)img.data[c * n + bad] : 0.0);
            double mean = sum / n, sd = sqrt(sq / n - mean * mean);
            ck_assert_msg(mean > 20 && mean < 235 && sd > 10,
                          "%s: channel %d mean %g sd %g", path, c, mean, sd);
        }
        nst_image_free(&img);
    }
}
END_TEST

START_TEST(png_round_trip_is_exact)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_png", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.PNG", dir);
    nst_image img, back;
    random_image(&img, 37, 23, -20, 275, 1);
    ck_assert_msg(nst_image_save(path, &img) == 0, "%s", nst_failure_reason());
    ck_assert_msg(nst_image_load(path, &back) == 0, "%s", nst_failure_reason());
    ck_assert_int_eq(back.w, 37);
    ck_assert_int_eq(back.h, 23);
    /* PNG is lossless: exactly the rounded, clamped values come back. */
    for (size_t i = 0; i < (size_t)3 * 37 * 23; i++)
        ck_assert_msg(back.data[i] == expected_byte(img.data[i]),
                      "index %zu: wrote %g, expected %g, got %g", i,
                      (double)img.data[i], (double)expected_byte(img.data[i]),
                      (double)back.data[i]);
    nst_image_free(&img);
    nst_image_free(&back);
    assert_no_temp_files(dir);
}
END_TEST

START_TEST(jpeg_round_trip_is_close)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_jpeg", dir, sizeof dir);
    nst_image img, back;
    int w = 64, h = 48;
    ck_assert_int_eq(nst_image_alloc(&img, w, h), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            PIX(&img, 0, x, y) = 40 + 3 * x;
            PIX(&img, 1, x, y) = 30 + 4 * y;
            PIX(&img, 2, x, y) = 128 + 60 * sinf(0.2f * (x + y));
        }
    const char *names[] = { "out.jpg", "out.JPEG" };
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        ck_assert_msg(nst_image_save(path, &img) == 0, "%s",
                      nst_failure_reason());
        ck_assert_msg(nst_image_load(path, &back) == 0, "%s",
                      nst_failure_reason());
        ck_assert_int_eq(back.w, w);
        ck_assert_int_eq(back.h, h);
        /* Quality 95 on smooth content: the quantised DCT and the YCbCr
         * round trip cost a level or two per pixel on average; a gross
         * error (wrong channel order, transposed, clipped) costs tens. */
        double sum = 0, worst = 0;
        size_t n = (size_t)3 * w * h;
        for (size_t i = 0; i < n; i++) {
            double e = fabs((double)back.data[i] - expected_byte(img.data[i]));
            sum += e;
            worst = e > worst ? e : worst;
        }
        ck_assert_msg(sum / n < 1.5 && worst <= 8,
                      "%s: mean error %g, max error %g", path, sum / n, worst);
        nst_image_free(&back);
    }
    nst_image_free(&img);
    assert_no_temp_files(dir);
}
END_TEST

START_TEST(saved_file_mode_follows_umask)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_mode", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.png", dir);
    nst_image img;
    random_image(&img, 4, 4, 0, 255, 2);
    mode_t old = umask(027);
    int rc = nst_image_save(path, &img);
    umask(old);
    ck_assert_msg(rc == 0, "%s", nst_failure_reason());
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_msg((st.st_mode & 0777) == 0640, "mode %o, expected 640",
                  (unsigned)(st.st_mode & 0777));
    nst_image_free(&img);
}
END_TEST

START_TEST(resize_keeps_a_constant_image)
{
    static const int sizes[][2] = { { 10, 7 }, { 80, 50 }, { 1, 1 }, { 37, 23 },
                                    { 200, 3 } };
    nst_image img, out;
    ck_assert_int_eq(nst_image_alloc(&img, 37, 23), 0);
    size_t n = (size_t)37 * 23;
    for (size_t i = 0; i < n; i++) {
        img.data[i] = 100;
        img.data[n + i] = 150;
        img.data[2 * n + i] = 201;
    }
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        int w = sizes[k][0], h = sizes[k][1];
        ck_assert_msg(nst_image_resize(&img, w, h, &out) == 0, "%s",
                      nst_failure_reason());
        ck_assert_int_eq(out.w, w);
        ck_assert_int_eq(out.h, h);
        /* Normalised filter weights reproduce a constant; the float error
         * in the weights is far below the half level that rounding
         * absorbs, so the result is exact. */
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    ck_assert_msg(PIX(&out, c, x, y) == PIX(&img, c, 0, 0),
                                  "37x23 -> %dx%d: c %d (%d,%d) expected %g "
                                  "got %g", w, h, c, x, y,
                                  (double)PIX(&img, c, 0, 0),
                                  (double)PIX(&out, c, x, y));
        nst_image_free(&out);
    }
    nst_image_free(&img);
}
END_TEST

/* Resizes a ramp (channel 0 rises along x, channel 1 along y, channel 2
 * constant) of whole values and compares with the ramp's exact value at
 * each output pixel's centre mapped into the input, u = (j + 0.5) *
 * in / out - 0.5. Catmull-Rom returns a linear function's exact value when
 * enlarging; widened for shrinking, its weights sampled at whole pixels
 * are off-centre by under 0.01 pixel at these ratios. Only that and
 * rounding to a whole level (0.5) separate the two. Near the borders, edge
 * clamping bends the ramp, so only pixels whose filter support (radius
 * 2 max(1, in/out) input pixels) lies inside are compared. */
static void check_ramp(int in_w, int in_h, float slope, int w, int h)
{
    nst_image img, out;
    ck_assert_int_eq(nst_image_alloc(&img, in_w, in_h), 0);
    for (int y = 0; y < in_h; y++)
        for (int x = 0; x < in_w; x++) {
            PIX(&img, 0, x, y) = slope * x;
            PIX(&img, 1, x, y) = slope * y;
            PIX(&img, 2, x, y) = 77;
        }
    ck_assert_msg(nst_image_resize(&img, w, h, &out) == 0, "%s",
                  nst_failure_reason());
    double sx = (double)in_w / w, sy = (double)in_h / h;
    double rx = 2 * (sx > 1 ? sx : 1), ry = 2 * (sy > 1 ? sy : 1);
    int compared = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double u = (x + 0.5) * sx - 0.5, v = (y + 0.5) * sy - 0.5;
            double want[3] = { slope * u, slope * v, 77 };
            int inside_x = u - rx >= 0 && u + rx <= in_w - 1;
            int inside_y = v - ry >= 0 && v + ry <= in_h - 1;
            int check[3] = { inside_x, inside_y, 1 };
            for (int c = 0; c < 3; c++) {
                if (!check[c])
                    continue;
                double got = PIX(&out, c, x, y);
                ck_assert_msg(fabs(got - want[c]) <= 0.51,
                              "%dx%d -> %dx%d: c %d (%d,%d) expected %.3f "
                              "got %g", in_w, in_h, w, h, c, x, y, want[c],
                              got);
                compared++;
            }
        }
    ck_assert_int_gt(compared, w * h * 2);
    nst_image_free(&img);
    nst_image_free(&out);
}

START_TEST(resize_follows_a_ramp)
{
    check_ramp(256, 200, 1, 64, 50);   /* shrink by 4 */
    check_ramp(240, 180, 1, 100, 77);  /* shrink by 2.4 / 2.34 */
    check_ramp(50, 40, 5, 130, 101);   /* enlarge by 2.6 / 2.525 */
}
END_TEST

START_TEST(shrinking_a_checkerboard_gives_grey)
{
    /* A 1-pixel checkerboard of 0 and 255 shrunk by 4: a filter that
     * averages its 4x4 (and wider) footprint gives 127.5 everywhere. Point
     * sampling would return 0 or 255, and a filter narrower than the
     * output spacing leaves a visible pattern. Away from the borders the
     * symmetric weights pair every black pixel with a white one, so the
     * result is 127.5 rounded, within a level; at the border clamping
     * repeats an edge pixel, so only the overall mean is checked there. */
    int n = 64, m = 16;
    nst_image img, out;
    ck_assert_int_eq(nst_image_alloc(&img, n, n), 0);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
                PIX(&img, c, x, y) = (x + y) % 2 ? 255 : 0;
    ck_assert_msg(nst_image_resize(&img, m, m, &out) == 0, "%s",
                  nst_failure_reason());
    double sum = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < m; y++)
            for (int x = 0; x < m; x++) {
                double got = PIX(&out, c, x, y);
                sum += got;
                int border = x == 0 || y == 0 || x == m - 1 || y == m - 1;
                ck_assert_msg(border || fabs(got - 127.5) <= 1,
                              "c %d (%d,%d): expected 127.5, got %g", c, x, y,
                              got);
            }
    double mean = sum / (3.0 * m * m);
    ck_assert_msg(fabs(mean - 127.5) <= 3, "mean %g, expected 127.5", mean);
    nst_image_free(&img);
    nst_image_free(&out);
}
END_TEST

START_TEST(resize_rings_little_at_an_edge)
{
    /* A vertical edge from 50 to 200, enlarged and shrunk: Catmull-Rom's
     * negative lobes ring on either side by at most 2/27 of the step
     * (docs/math.md), 11.1 levels here, plus 0.5 for rounding. An edge
     * from 0 to 255 rings past the 8-bit range, and is clamped to it. */
    static const int widths[] = { 50, 7, 13 };
    nst_image img, out;
    ck_assert_int_eq(nst_image_alloc(&img, 20, 6), 0);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 20; x++)
                PIX(&img, c, x, y) = x < 10 ? (c ? 50 : 0) : (c ? 200 : 255);
    for (size_t k = 0; k < sizeof widths / sizeof *widths; k++) {
        int w = widths[k];
        ck_assert_int_eq(nst_image_resize(&img, w, 6, &out), 0);
        for (int x = 0; x < w; x++) {
            float v = PIX(&out, 1, x, 3), full = PIX(&out, 0, x, 3);
            ck_assert_msg(v >= 50 - 150.0 * 2 / 27 - 0.5 &&
                              v <= 200 + 150.0 * 2 / 27 + 0.5,
                          "20x6 -> %dx6: x %d got %g", w, x, (double)v);
            ck_assert_msg(full >= 0 && full <= 255,
                          "20x6 -> %dx6: x %d got %g for the 0-255 edge", w,
                          x, (double)full);
        }
        nst_image_free(&out);
    }
    nst_image_free(&img);
}
END_TEST

START_TEST(fit_sizes)
{
    static const int cases[][5] = {
        /* w, h, longest, expected w, h */
        { 1024, 768, 512, 512, 384 },
        { 768, 1024, 512, 384, 512 },
        { 300, 300, 256, 256, 256 },
        { 1000, 1, 512, 512, 1 },   /* 0.512 rounds to 1 */
        { 1, 1000, 10, 1, 10 },     /* 0.01 is raised to 1 */
        { 3, 2, 4, 4, 3 },          /* 2.67 rounds to 3 */
        { 4, 1, 2, 2, 1 },          /* 0.5 rounds up */
        { 4, 3, 2, 2, 2 },          /* 1.5 rounds up */
        { 100, 50, 512, 512, 256 }, /* enlarging */
        { 1, 1, 1, 1, 1 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int fw, fh;
        nst_image_fit_size(cases[k][0], cases[k][1], cases[k][2], &fw, &fh);
        ck_assert_msg(fw == cases[k][3] && fh == cases[k][4],
                      "%dx%d longest %d: expected %dx%d, got %dx%d",
                      cases[k][0], cases[k][1], cases[k][2], cases[k][3],
                      cases[k][4], fw, fh);
    }
}
END_TEST

START_TEST(fit_copies_an_image_of_the_right_size)
{
    nst_image img, out;
    random_image(&img, 40, 30, -10.25, 300.75, 3);
    ck_assert_int_eq(nst_image_fit(&img, 40, &out), 0);
    ck_assert_int_eq(out.w, 40);
    ck_assert_int_eq(out.h, 30);
    ck_assert_ptr_ne(out.data, img.data);
    ck_assert_int_eq(memcmp(out.data, img.data, sizeof(float) * 3 * 40 * 30), 0);
    nst_image_free(&out);

    ck_assert_int_eq(nst_image_fit(&img, 20, &out), 0);
    ck_assert_int_eq(out.w, 20);
    ck_assert_int_eq(out.h, 15);
    nst_image_free(&out);
    nst_image_free(&img);
}
END_TEST

START_TEST(load_errors)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_load_errors", dir, sizeof dir);
    nst_image img = { 1, 1, NULL };

    snprintf(path, sizeof path, "%s/missing.png", dir);
    ck_assert_int_eq(nst_image_load(path, &img), -1);
    ck_assert_ptr_null(img.data);
    assert_reason_has(path, "cannot open: No such file or directory");

    unsigned char junk[4096];
    tu_rng r = { 4 };
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)tu_next(&r);
    snprintf(path, sizeof path, "%s/junk.jpg", dir);
    write_bytes(path, junk, sizeof junk);
    ck_assert_int_eq(nst_image_load(path, &img), -1);
    ck_assert_ptr_null(img.data);
    assert_reason_has(path, "not an image stb_image can read");

    snprintf(path, sizeof path, "%s/empty.png", dir);
    write_bytes(path, "", 0);
    ck_assert_int_eq(nst_image_load(path, &img), -1);
    assert_reason_has(path, "not an image");

    /* A valid PNG cut in half: the header reads, the pixels do not. */
    nst_image src;
    random_image(&src, 32, 32, 0, 255, 5);
    snprintf(path, sizeof path, "%s/cut.png", dir);
    ck_assert_int_eq(nst_image_save(path, &src), 0);
    nst_image_free(&src);
    static unsigned char whole[65536];
    size_t n = read_bytes(path, whole, sizeof whole);
    ck_assert_uint_gt(n, 100);
    write_bytes(path, whole, n / 2);
    ck_assert_int_eq(nst_image_load(path, &img), -1);
    ck_assert_ptr_null(img.data);
    assert_reason_has(path, "not an image");

    /* A folder is not an image either. */
    ck_assert_int_eq(nst_image_load(dir, &img), -1);
    assert_reason_has(dir, NULL);
}
END_TEST

/* A PNG header claiming width x height, with a valid IHDR chunk and no
 * pixel data: enough for stbi_info. */
static void write_png_header(const char *path, unsigned width, unsigned height)
{
    unsigned char png[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                              0, 0, 0, 13, 'I', 'H', 'D', 'R' };
    for (int i = 0; i < 4; i++) {
        png[16 + i] = (unsigned char)(width >> (24 - 8 * i));
        png[20 + i] = (unsigned char)(height >> (24 - 8 * i));
    }
    png[24] = 8; /* bit depth */
    png[25] = 2; /* RGB */
    /* CRC of "IHDR" + data, bytes 12..28 */
    uint32_t crc = 0xffffffffu;
    for (int i = 12; i < 29; i++) {
        crc ^= png[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1u));
    }
    crc ^= 0xffffffffu;
    for (int i = 0; i < 4; i++)
        png[29 + i] = (unsigned char)(crc >> (24 - 8 * i));
    write_bytes(path, png, sizeof png);
}

START_TEST(load_rejects_absurd_sizes)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_absurd", dir, sizeof dir);
    nst_image img;

    snprintf(path, sizeof path, "%s/wide.png", dir);
    write_png_header(path, 20000, 1);
    ck_assert_int_eq(nst_image_load(path, &img), -1);
    ck_assert_ptr_null(img.data);
    assert_reason_has(path, "20000x1 is larger than 16384 pixels on a side");

    snprintf(path, sizeof path, "%s/tall.png", dir);
    write_png_header(path, 1, NST_IMAGE_MAX_SIDE + 1);
    ck_assert_int_eq(nst_image_load(path, &img), -1);
    assert_reason_has(path, "1x16385 is larger than 16384");

    /* stb_image itself refuses this one (more than 2^30 bytes). */
    snprintf(path, sizeof path, "%s/huge.png", dir);
    write_png_header(path, 40000, 30000);
    ck_assert_int_eq(nst_image_load(path, &img), -1);
    ck_assert_ptr_null(img.data);
    assert_reason_has(path, NULL);
}
END_TEST

START_TEST(save_errors)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_save_errors", dir, sizeof dir);
    nst_image img;
    random_image(&img, 8, 8, 0, 255, 6);

    static const char *unsupported[] = { "out.bmp", "out", "out.png.txt",
                                         "a.png/out", "out.gif" };
    for (size_t k = 0; k < sizeof unsupported / sizeof *unsupported; k++) {
        ck_assert_msg(!nst_image_save_supported(unsupported[k]), "%s",
                      unsupported[k]);
        snprintf(path, sizeof path, "%s/%s", dir, unsupported[k]);
        ck_assert_int_eq(nst_image_save(path, &img), -1);
        assert_reason_has(path, ".png, .jpg or .jpeg");
    }
    static const char *supported[] = { "a.png", "a.PNG", "a.jpg", "b.Jpg",
                                       "c.jpeg", "dir.x/c.JPEG" };
    for (size_t k = 0; k < sizeof supported / sizeof *supported; k++)
        ck_assert_msg(nst_image_save_supported(supported[k]), "%s",
                      supported[k]);

    snprintf(path, sizeof path, "%s/no/such/dir/out.png", dir);
    ck_assert_int_eq(nst_image_save(path, &img), -1);
    assert_reason_has(path, "cannot write: No such file or directory");

    /* The parent is a regular file (tests may run as root, so a read-only
     * folder would not stop them). */
    char file[4200];
    snprintf(file, sizeof file, "%s/plain", dir);
    write_bytes(file, "x", 1);
    snprintf(path, sizeof path, "%s/plain/out.jpg", dir);
    ck_assert_int_eq(nst_image_save(path, &img), -1);
    assert_reason_has(path, "cannot write: Not a directory");

    /* The target is a non-empty folder: the image is written, the rename
     * fails, and the temporary file must go. */
    snprintf(path, sizeof path, "%s/taken.png", dir);
    ck_assert_int_eq(mkdir(path, 0777), 0);
    snprintf(file, sizeof file, "%s/taken.png/keep", dir);
    write_bytes(file, "x", 1);
    ck_assert_int_eq(nst_image_save(path, &img), -1);
    assert_reason_has(path, "cannot write");
    struct stat st;
    ck_assert_int_eq(stat(file, &st), 0);

    nst_image bad = { 0, 5, img.data };
    snprintf(path, sizeof path, "%s/bad.png", dir);
    ck_assert_int_eq(nst_image_save(path, &bad), -1);
    assert_reason_has(path, NULL);

    nst_image_free(&img);
    assert_no_temp_files(dir);
}
END_TEST

START_TEST(failed_save_leaves_the_target_untouched)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_untouched", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/keep.png", dir);
    static const char old[] = "the previous result";
    write_bytes(path, old, sizeof old);

    /* A file size limit makes the write fail part way, as a full disk
     * would. */
    nst_image img;
    random_image(&img, 64, 64, 0, 255, 7);
    struct rlimit saved, small = { 1000, 0 };
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    small.rlim_max = saved.rlim_max;
    void (*handler)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = nst_image_save(path, &img);
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, handler);
    ck_assert_int_eq(rc, -1);
    assert_reason_has(path, "cannot write: File too large");

    unsigned char buf[256];
    ck_assert_uint_eq(read_bytes(path, buf, sizeof buf), sizeof old);
    ck_assert_int_eq(memcmp(buf, old, sizeof old), 0);
    assert_no_temp_files(dir);

    /* Without the limit the same save replaces the file. */
    ck_assert_int_eq(nst_image_save(path, &img), 0);
    nst_image back;
    ck_assert_int_eq(nst_image_load(path, &back), 0);
    ck_assert_int_eq(back.w, 64);
    nst_image_free(&back);
    nst_image_free(&img);
    assert_no_temp_files(dir);
}
END_TEST

START_TEST(save_in_the_current_folder)
{
    char dir[4096], cwd[4096];
    tu_tmpdir("image_cwd", dir, sizeof dir);
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    nst_image img, back;
    random_image(&img, 5, 3, 0, 255, 8);
    int saved = nst_image_save("here.png", &img);
    int loaded = saved == 0 ? nst_image_load("here.png", &back) : -1;
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_msg(saved == 0 && loaded == 0, "%s", nst_failure_reason());
    ck_assert_int_eq(back.w, 5);
    nst_image_free(&img);
    nst_image_free(&back);
    assert_no_temp_files(dir);
}
END_TEST

static Suite *image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *load = tcase_create("load");
    tcase_add_test(load, load_real_images);
    tcase_add_test(load, load_errors);
    tcase_add_test(load, load_rejects_absurd_sizes);
    suite_add_tcase(s, load);
    TCase *save = tcase_create("save");
    tcase_add_test(save, png_round_trip_is_exact);
    tcase_add_test(save, jpeg_round_trip_is_close);
    tcase_add_test(save, saved_file_mode_follows_umask);
    tcase_add_test(save, save_errors);
    tcase_add_test(save, failed_save_leaves_the_target_untouched);
    tcase_add_test(save, save_in_the_current_folder);
    suite_add_tcase(s, save);
    TCase *resize = tcase_create("resize");
    tcase_add_test(resize, resize_keeps_a_constant_image);
    tcase_add_test(resize, resize_follows_a_ramp);
    tcase_add_test(resize, shrinking_a_checkerboard_gives_grey);
    tcase_add_test(resize, resize_rings_little_at_an_edge);
    tcase_add_test(resize, fit_sizes);
    tcase_add_test(resize, fit_copies_an_image_of_the_right_size);
    suite_add_tcase(s, resize);
    return s;
}

int main(void)
{
    return tu_run_suite(image_suite());
}
