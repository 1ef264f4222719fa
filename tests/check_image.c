/* Image loading, resizing and saving. */
#include "error.h"
#include "image.h"
#include "memory_plan.h"
#include "nst_runner.h"
#include "pixels.h"
#include "png_fixture.h"
#include "sheet.h"
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
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <stb_image_write.h>

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

/* Loads path into img, which must be w x h. */
static void load_sized(const char *path, int w, int h, nst_image *img)
{
    ck_assert_msg(nst_image_load(path, img) == 0, "%s", nst_failure_reason());
    ck_assert_msg(img->w == w && img->h == h, "%s: %dx%d, expected %dx%d",
                  path, img->w, img->h, w, h);
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
    load_sized(path, 37, 23, &back);
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

/* Rows that favour each PNG filter in turn (flat, left ramps, vertical
 * ramps, diagonal gradients, noise) come back exactly from the
 * independent decoder. */
START_TEST(png_every_filter_round_trips)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_png_filters", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/filters.png", dir);
    enum { W = 61, H = 50 };
    nst_image img, back;
    random_image(&img, W, H, 0, 255, 7);
    const size_t n = (size_t)W * H;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float *v = &img.data[c * n + (size_t)y * W + x];
                switch (y / 10) {
                case 0: *v = 40.0f * c; break;
                case 1: *v = (float)((3 * x + c) % 256); break;
                case 2: *v = (float)((5 * y + 7 * c) % 256); break;
                case 3: *v = (float)((2 * x + 3 * y + c) % 256); break;
                default: *v = floorf(*v); break;
                }
            }
    ck_assert_msg(nst_image_save(path, &img) == 0, "%s", nst_failure_reason());
    ck_assert_msg(nst_image_load(path, &back) == 0, "%s", nst_failure_reason());
    for (size_t i = 0; i < 3 * n; i++)
        ck_assert_msg(back.data[i] == img.data[i], "index %zu: wrote %g, got %g",
                      i, (double)img.data[i], (double)back.data[i]);
    nst_image_free(&img);
    nst_image_free(&back);
}
END_TEST

/* A photograph's PNG is deflated, not stored: Tuebingen at 1024x768 takes
 * about two thirds of its 2.36 MB of raw bytes with filtered rows at zlib
 * level 6, where an encoder with a weak deflate needs nearly 90%. */
START_TEST(png_of_a_photo_is_compressed)
{
    char buf[4096], dir[4096], path[4200];
    const char *photo = tu_shared("images/content_tubingen.jpg", buf, sizeof buf);
    if (!photo) {
        fprintf(stderr, "SKIP png_of_a_photo_is_compressed: NST_SHARED unset "
                        "or file missing\n");
        return;
    }
    tu_tmpdir("image_png_photo", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/photo.png", dir);
    nst_image img, back;
    ck_assert_msg(nst_image_load(photo, &img) == 0, "%s", nst_failure_reason());
    ck_assert_msg(nst_image_save(path, &img) == 0, "%s", nst_failure_reason());
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    const double raw = 3.0 * img.w * img.h;
    ck_assert_msg(st.st_size <= 0.75 * raw, "%s: %lld bytes for %.0f raw",
                  path, (long long)st.st_size, raw);
    ck_assert_msg(nst_image_load(path, &back) == 0, "%s", nst_failure_reason());
    ck_assert_int_eq(memcmp(back.data, img.data, 3 * sizeof(float) * img.w * img.h), 0);
    nst_image_free(&img);
    nst_image_free(&back);
}
END_TEST

/* JPEGs of awkward content through our build of stb_image_write: sides
 * of 1, 7, 8, 9 and 67 (partial and single blocks), flat black and white,
 * a pixel checkerboard of 0 and 255 (every AC coefficient at its largest),
 * random bytes, at qualities 1, 50 and 100. The long runs of large
 * coefficients fill the writer's bit buffer the most: under the sanitizer
 * build (.ci/run) its shifts stop the test if they are undefined. Each
 * file must decode at its size, and a flat image at quality 100 to within
 * a level (one DC coefficient, quantised by 1, and the YCbCr round trip).
 */
START_TEST(jpeg_writer_takes_awkward_content)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_jpeg_awkward", dir, sizeof dir);
    static const int sides[][2] = {{1, 1}, {7, 9}, {8, 8}, {67, 9}, {9, 67}};
    static const int qualities[] = {1, 50, 100};
    tu_rng r = {5};
    for (size_t s = 0; s < sizeof sides / sizeof *sides; s++)
        for (int content = 0; content < 4; content++) {
            const int w = sides[s][0], h = sides[s][1];
            nst_image img, back;
            ck_assert_int_eq(nst_image_alloc(&img, w, h), 0);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        PIX(&img, c, x, y) =
                            content == 0   ? 0
                            : content == 1 ? 255
                            : content == 2 ? 255 * ((x + y) % 2)
                                           : (float)(tu_next(&r) % 256);
            for (int q = 0; q < 3; q++) {
                snprintf(path, sizeof path, "%s/%dx%d_%d_q%d.jpg", dir, w, h,
                         content, qualities[q]);
                ck_assert_msg(nst_image_save_quality(path, &img,
                                                     qualities[q]) == 0,
                              "%s", nst_failure_reason());
                load_sized(path, w, h, &back);
                for (size_t i = 0; content < 2 && qualities[q] == 100 &&
                                   i < (size_t)3 * w * h;
                     i++)
                    ck_assert_msg(fabsf(back.data[i] - img.data[i]) <= 1,
                                  "%s: value %zu is %g", path, i,
                                  (double)back.data[i]);
                nst_image_free(&back);
            }
            nst_image_free(&img);
        }
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
        load_sized(path, w, h, &back);
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
    assert_reason_has(path, "not a JPEG, PNG, BMP or TGA image");

    snprintf(path, sizeof path, "%s/empty.png", dir);
    write_bytes(path, "", 0);
    ck_assert_int_eq(nst_image_load(path, &img), -1);
    assert_reason_has(path, "not a JPEG, PNG, BMP or TGA image");

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
    assert_reason_has(path, "PNG is truncated");

    /* A folder is not an image either. */
    ck_assert_int_eq(nst_image_load(dir, &img), -1);
    assert_reason_has(dir, "not a regular file (a folder)");
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

    snprintf(path, sizeof path, "%s/huge.png", dir);
    write_png_header(path, 40000, 30000);
    ck_assert_int_eq(nst_image_load(path, &img), -1);
    ck_assert_ptr_null(img.data);
    assert_reason_has(path, "40000x30000 is larger than 16384");

    /* In range, but 33 bytes cannot encode 16384x16384 pixels. */
    snprintf(path, sizeof path, "%s/bomb.png", dir);
    write_png_header(path, 16384, 16384);
    ck_assert_int_eq(nst_image_load(path, &img), -1);
    assert_reason_has(path, "a PNG of 33 bytes cannot hold 16384x16384");
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


/* ---- hostile files ----------------------------------------------------- */

/* A growing byte buffer that stb_image_write's callbacks fill. */
typedef struct bytes {
    unsigned char *p;
    size_t n;
} bytes;

static void append(void *ctx, void *data, int size)
{
    bytes *b = ctx;
    b->p = realloc(b->p, b->n + (size_t)size);
    ck_assert_ptr_nonnull(b->p);
    memcpy(b->p + b->n, data, (size_t)size);
    b->n += (size_t)size;
}

/* w x h random 8-bit RGB pixels, interleaved. */
static unsigned char *random_rgb8(int w, int h, uint64_t seed)
{
    tu_rng r = { seed };
    unsigned char *rgb = malloc((size_t)3 * w * h);
    ck_assert_ptr_nonnull(rgb);
    for (size_t i = 0; i < (size_t)3 * w * h; i++)
        rgb[i] = (unsigned char)tu_next(&r);
    return rgb;
}

enum { ENC_PNG, ENC_BMP, ENC_TGA_RLE, ENC_TGA_RAW, ENC_JPEG };

static bytes encode(int format, const unsigned char *rgb, int w, int h)
{
    bytes b = { NULL, 0 };
    stbi_write_tga_with_rle = format == ENC_TGA_RLE;
    int ok = format == ENC_PNG ? stbi_write_png_to_func(append, &b, w, h, 3, rgb, 0)
           : format == ENC_BMP ? stbi_write_bmp_to_func(append, &b, w, h, 3, rgb)
           : format == ENC_JPEG ? stbi_write_jpg_to_func(append, &b, w, h, 3, rgb, 95)
                                : stbi_write_tga_to_func(append, &b, w, h, 3, rgb);
    ck_assert(ok);
    return b;
}

/* Loads path, which must fail with a reason naming it and saying what. */
static void expect_refused(const char *path, const char *what)
{
    nst_image img = { 1, 1, NULL };
    ck_assert_int_eq(nst_image_load(path, &img), -1);
    ck_assert_ptr_null(img.data);
    assert_reason_has(path, what);
}

START_TEST(every_format_decodes_exactly)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_formats", dir, sizeof dir);
    const int w = 13, h = 7;
    unsigned char *rgb = random_rgb8(w, h, 11);
    static const char *const names[] = { "a.png", "a.bmp", "rle.tga", "raw.tga" };
    for (int f = ENC_PNG; f <= ENC_TGA_RAW; f++) {
        bytes b = encode(f, rgb, w, h);
        snprintf(path, sizeof path, "%s/%s", dir, names[f]);
        write_bytes(path, b.p, b.n);
        free(b.p);
        nst_image img;
        ck_assert_msg(nst_image_load(path, &img) == 0, "%s", nst_failure_reason());
        ck_assert_int_eq(img.w, w);
        ck_assert_int_eq(img.h, h);
        /* Lossless formats: the very bytes come back. */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    ck_assert_msg(PIX(&img, c, x, y) == rgb[3 * (y * w + x) + c],
                                  "%s: (%d,%d,%d) = %g, wrote %d", names[f], x,
                                  y, c, (double)PIX(&img, c, x, y),
                                  rgb[3 * (y * w + x) + c]);
        nst_image_free(&img);
    }
    free(rgb);
}
END_TEST

static void put_le16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put_le32(unsigned char *p, uint32_t v)
{
    put_le16(p, v & 0xffff);
    put_le16(p + 2, v >> 16);
}

/* A BMP or TGA whose header claims more pixels than the file holds used to
 * be decoded from zeros past the end: gigabytes for a header alone. */
START_TEST(truncated_bmp_and_tga_are_refused)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_truncated", dir, sizeof dir);
    const int w = 64, h = 48;
    unsigned char *rgb = random_rgb8(w, h, 12);
    struct { int format; const char *name; size_t header; } cases[] = {
        { ENC_BMP, "cut.bmp", 54 },
        { ENC_TGA_RAW, "cut.tga", 18 },
    };
    for (int i = 0; i < 2; i++) {
        bytes b = encode(cases[i].format, rgb, w, h);
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].name);
        /* One byte short, and the header alone. */
        write_bytes(path, b.p, b.n - 1);
        expect_refused(path, "is truncated");
        write_bytes(path, b.p, cases[i].header);
        expect_refused(path, "is truncated");
        /* The header alone, claiming the largest size accepted. */
        if (cases[i].format == ENC_BMP) {
            put_le32(b.p + 18, NST_IMAGE_MAX_SIDE);
            put_le32(b.p + 22, NST_IMAGE_MAX_SIDE);
        } else {
            put_le16(b.p + 12, NST_IMAGE_MAX_SIDE);
            put_le16(b.p + 14, NST_IMAGE_MAX_SIDE);
        }
        write_bytes(path, b.p, cases[i].header);
        expect_refused(path, "is truncated");
        free(b.p);
    }
    /* Run-length TGA: the header alone cannot encode the pixels either. */
    bytes b = encode(ENC_TGA_RLE, rgb, w, h);
    put_le16(b.p + 12, NST_IMAGE_MAX_SIDE);
    put_le16(b.p + 14, NST_IMAGE_MAX_SIDE);
    snprintf(path, sizeof path, "%s/rle.tga", dir);
    write_bytes(path, b.p, 18);
    expect_refused(path, "cannot hold 16384x16384");
    free(b.p);
    free(rgb);
}
END_TEST

/* Offset of the first segment with the given marker (at its FF), walking
 * the segment lengths from the start of a JPEG. */
static size_t jpeg_segment(const bytes *b, int marker)
{
    size_t at = 2;
    while (at + 4 <= b->n && b->p[at] == 0xFF) {
        if (b->p[at + 1] == marker)
            return at;
        at += 2 + ((size_t)b->p[at + 2] << 8 | b->p[at + 3]);
    }
    ck_abort_msg("no marker 0x%02X", marker);
    return 0;
}

START_TEST(jpeg_segments_are_checked)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_jpeg_hostile", dir, sizeof dir);

    /* Nine bytes: a Huffman table segment claiming 510 codes, cut off.
     * stb_image 2.27 filled its 257-entry size table from it. */
    static const unsigned char nine[] = { 0xFF, 0xD8, 0xFF, 0xC4, 0x00,
                                          0xFF, 0x00, 0xFF, 0xFF };
    snprintf(path, sizeof path, "%s/nine.jpg", dir);
    write_bytes(path, nine, sizeof nine);
    expect_refused(path, "segment runs past the end of the file");

    /* The same table complete: 255 codes of 15 bits and 255 of 16 fit
     * their lengths, but there are more than 256. */
    static unsigned char dht[4 + 2 + 17 + 510 + 2];
    size_t n = 0;
    dht[n++] = 0xFF; dht[n++] = 0xD8; dht[n++] = 0xFF; dht[n++] = 0xC4;
    dht[n++] = (2 + 17 + 510) >> 8; dht[n++] = (2 + 17 + 510) & 0xFF;
    dht[n++] = 0x00;
    for (int l = 1; l <= 16; l++)
        dht[n++] = l >= 15 ? 255 : 0;
    n += 510;
    dht[n++] = 0xFF; dht[n++] = 0xD9;
    snprintf(path, sizeof path, "%s/codes.jpg", dir);
    write_bytes(path, dht, n);
    expect_refused(path, "more than 256 codes");

    /* Three codes of one bit. */
    memset(dht + 7, 0, 16);
    dht[7] = 3;
    write_bytes(path, dht, n);
    expect_refused(path, "do not fit their lengths");

    /* Mutations of a valid file. */
    unsigned char *rgb = random_rgb8(32, 16, 13);
    bytes good = encode(ENC_JPEG, rgb, 32, 16);
    free(rgb);
    bytes b = { malloc(good.n), good.n };
    ck_assert_ptr_nonnull(b.p);
    snprintf(path, sizeof path, "%s/good.jpg", dir);
    write_bytes(path, good.p, good.n);
    nst_image img;
    ck_assert_msg(nst_image_load(path, &img) == 0, "%s", nst_failure_reason());
    nst_image_free(&img);

    snprintf(path, sizeof path, "%s/bad.jpg", dir);
    /* The scan's first component asks for Huffman tables 3, never defined. */
    memcpy(b.p, good.p, b.n);
    b.p[jpeg_segment(&b, 0xDA) + 6] = 0x33;
    write_bytes(path, b.p, b.n);
    expect_refused(path, "undefined Huffman table");

    /* Sampling factors 3 and 2: the second does not divide the first. */
    memcpy(b.p, good.p, b.n);
    size_t sof = jpeg_segment(&b, 0xC0);
    b.p[sof + 11] = 0x31;
    b.p[sof + 14] = 0x21;
    write_bytes(path, b.p, b.n);
    expect_refused(path, "do not divide");

    /* A few hundred bytes claiming 16000x16000 pixels. */
    memcpy(b.p, good.p, b.n);
    b.p[sof + 5] = 16000 >> 8; b.p[sof + 6] = 16000 & 0xFF;
    b.p[sof + 7] = 16000 >> 8; b.p[sof + 8] = 16000 & 0xFF;
    write_bytes(path, b.p, b.n);
    expect_refused(path, "cannot hold 16000x16000");

    /* Cut inside the scan. */
    write_bytes(path, good.p, good.n - 40);
    expect_refused(path, "truncated");
    free(good.p);
    free(b.p);
}
END_TEST

/* PNM is not compiled in: stb_image 2.27 overflowed an int reading these
 * sizes. */
START_TEST(pnm_is_refused)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_pnm", dir, sizeof dir);
    static const char *const files[] = {
        "P6\n2147483647 2147483647\n255\n\x01\x02\x03",
        "P5 65536 65536 255 \x01",
    };
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%d.ppm", dir, i);
        write_bytes(path, files[i], strlen(files[i]));
        expect_refused(path, "not a JPEG, PNG, BMP or TGA image");
    }
}
END_TEST

static void png_chunk(bytes *b, const char *type, const unsigned char *data,
                      uint32_t len)
{
    unsigned char head[8] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                              (unsigned char)(len >> 8), (unsigned char)len };
    memcpy(head + 4, type, 4);
    append(b, head, 8);
    if (len)
        append(b, (void *)data, (int)len);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)type, 4);
    crc = crc32(crc, data, len);
    unsigned char tail[4] = { (unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
                              (unsigned char)(crc >> 8), (unsigned char)crc };
    append(b, tail, 4);
}

/* A 16x16 8-bit grey PNG whose IDAT is raw[0..n) compressed. */
static bytes grey_png(const unsigned char *raw, size_t n)
{
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    static const unsigned char ihdr[13] = { 0, 0, 0, 16, 0, 0, 0, 16, 8, 0, 0, 0, 0 };
    bytes b = { NULL, 0 };
    append(&b, (void *)sig, 8);
    png_chunk(&b, "IHDR", ihdr, 13);
    uLongf zn = compressBound(n);
    unsigned char *z = malloc(zn);
    ck_assert_ptr_nonnull(z);
    ck_assert_int_eq(compress(z, &zn, raw, n), Z_OK);
    png_chunk(&b, "IDAT", z, (uint32_t)zn);
    png_chunk(&b, "IEND", NULL, 0);
    free(z);
    return b;
}

START_TEST(png_pixel_data_is_checked)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_png_hostile", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/grey.png", dir);
    /* 16 rows of a filter byte (0, none) and 16 grey values 10y + x. */
    enum { RAW = 16 * 17, BOMB = 4 << 20 };
    unsigned char *raw = calloc(BOMB, 1);
    ck_assert_ptr_nonnull(raw);
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++)
            raw[y * 17 + 1 + x] = (unsigned char)(10 * y + x);
    bytes b = grey_png(raw, RAW);
    write_bytes(path, b.p, b.n);
    free(b.p);
    nst_image img;
    ck_assert_msg(nst_image_load(path, &img) == 0, "%s", nst_failure_reason());
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++)
            for (int c = 0; c < 3; c++)
                ck_assert_msg(PIX(&img, c, x, y) == 10 * y + x, "(%d,%d,%d) = %g",
                              x, y, c, (double)PIX(&img, c, x, y));
    nst_image_free(&img);

    /* 4 MiB of zeros deflate to 4 KiB: far more than 16x16 pixels need. */
    memset(raw, 0, BOMB);
    b = grey_png(raw, BOMB);
    write_bytes(path, b.p, b.n);
    free(b.p);
    expect_refused(path, "inflate to more than the image needs");

    b = grey_png(raw, RAW - 1);
    write_bytes(path, b.p, b.n);
    free(b.p);
    expect_refused(path, "pixel data is truncated");
    free(raw);
}
END_TEST

/* Opening a FIFO for reading waits for a writer: it must be refused
 * without opening it that way. The alarm turns a hang into a failure. */
START_TEST(fifo_is_refused_without_blocking)
{
    char dir[4096], path[4200];
    tu_tmpdir("image_fifo", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/fifo.png", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    alarm(20);
    expect_refused(path, "not a regular file (a FIFO)");
    alarm(0);
}
END_TEST

/* ---- what loading holds, against the memory plan's count -------------- */

/* No network: a budget holds the program and the pictures alone. */
static const nst_vgg no_weights;

/* The growth of this process's peak resident memory, in KiB, while it
 * loads path sized to longest (0: as it is) as a run loads its pictures,
 * under a budget of 1024 MiB; -1 if the load failed. */
static long load_growth_kib(const char *path, int longest)
{
    struct rusage before, after;
    nst_options o;
    nst_options_default(&o);
    o.max_memory = 1024;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &before), 0);
    nst_image img;
    if (nst_pixels_load(&o, &no_weights, path, longest, 0, &img) != 0)
        return -1;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &after), 0);
    nst_image_free(&img);
    return after.ru_maxrss - before.ru_maxrss;
}

/* nst_memory_decode_bytes bounds what loading really holds. A child
 * process (its peak starts at its size when forked) loads a 1024x1024
 * 16-bit RGBA PNG, stb_image's costliest case (inflated rows and decoded
 * image, 8 bytes a pixel each, at once), as it is and sized to 700
 * (the float image, the sized one and the resampler's intermediate at
 * once). Its peak grows by at least the float image (12 MiB: the measure
 * sees the load) and at most the count plus 1 MiB (row buffers, filter
 * tables and malloc's own, which the plan's program allowance holds).
 * Resident memory is the process's own only natively: sanitizers' shadow
 * and an emulator's code cache grow it too, so NST_TEST_QUICK skips it. */
START_TEST(decode_count_covers_what_loading_holds)
{
    const char *q = getenv("NST_TEST_QUICK");
    if (q && *q && strcmp(q, "0") != 0) {
        printf("SKIP decode_count_covers_what_loading_holds: resident "
               "memory under NST_TEST_QUICK is not the program's\n");
        return;
    }
    static const int longest[] = {0, 700};
    const int side = 1024;
    char dir[4096], path[4200];
    tu_tmpdir("image_decode_count", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/rgba16.png", dir);
    tu_write_black_png(path, side, side, 4, 16);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    for (int i = 0; i < 2; i++) {
        const long count_kib =
            (long)(nst_memory_decode_bytes(side, side, (uint64_t)st.st_size,
                                           longest[i]) >> 10);
        fflush(NULL);
        const pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            const long grew = load_growth_kib(path, longest[i]);
            const int ok = grew >= 12 * 1024 && grew <= count_kib + 1024;
            if (!ok)
                fprintf(stderr, "longest %d: the peak grew by %ld KiB, the "
                                "count is %ld KiB\n",
                        longest[i], grew, count_kib);
            _exit(ok ? 0 : 1);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "longest %d: loading held more than the count of %ld "
                      "KiB, or nothing (see above)",
                      longest[i], count_kib);
    }
}
END_TEST

/* --sheet loads its pictures as a run does: under --max-memory 100 (the
 * program's allowance of 96 MiB and 4 more), a 1000x1000 PNG beside an
 * 8x6 result, whose decode alone is counted at 27 MiB, is refused before
 * it is decoded with the run's one line naming it, and no sheet is
 * written; a 40x30 one fits, in a sheet of two 8x6 panels. */
START_TEST(sheet_refuses_a_picture_over_the_budget)
{
    char dir[4096], result[4200], big[4200], small[4200], sheet[4200],
        want[4300];
    tu_tmpdir("image_sheet_budget", dir, sizeof dir);
    snprintf(result, sizeof result, "%s/result.png", dir);
    snprintf(big, sizeof big, "%s/big.png", dir);
    snprintf(small, sizeof small, "%s/small.png", dir);
    snprintf(sheet, sizeof sheet, "%s/sheet.png", dir);
    nst_image img;
    random_image(&img, 8, 6, 0, 255, 3);
    ck_assert_msg(nst_image_save(result, &img) == 0, "%s",
                  nst_failure_reason());
    nst_image_free(&img);
    tu_write_black_png(big, 1000, 1000, 3, 8);
    tu_write_black_png(small, 40, 30, 3, 8);
    nst_options o;
    nst_options_default(&o);
    o.sheet = sheet;
    o.max_memory = 100;
    const char *files[] = {big, result};
    ck_assert_int_eq(nst_sheet_write(&o, &no_weights, files, 1, 2), -1);
    const char *why = nst_failure_reason();
    snprintf(want, sizeof want, "%s: its 1000x1000 pixels need ", big);
    ck_assert_msg(strncmp(why, want, strlen(want)) == 0 &&
                      strstr(why, ", more than --max-memory 100") &&
                      !strchr(why, '\n'),
                  "%s", why);
    ck_assert_int_eq(tu_file_size(sheet), -1);
    assert_no_temp_files(dir);
    files[0] = small;
    ck_assert_msg(nst_sheet_write(&o, &no_weights, files, 1, 2) == 0, "%s",
                  nst_failure_reason());
    load_sized(sheet, 8 + NST_SHEET_GAP + 8, 6, &img);
    nst_image_free(&img);
}
END_TEST

static Suite *image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *load = tcase_create("load");
    tcase_add_test(load, load_real_images);
    tcase_add_test(load, load_errors);
    tcase_add_test(load, load_rejects_absurd_sizes);
    tcase_add_test(load, decode_count_covers_what_loading_holds);
    tcase_add_test(load, sheet_refuses_a_picture_over_the_budget);
    suite_add_tcase(s, load);
    TCase *hostile = tcase_create("hostile");
    tcase_add_test(hostile, every_format_decodes_exactly);
    tcase_add_test(hostile, truncated_bmp_and_tga_are_refused);
    tcase_add_test(hostile, jpeg_segments_are_checked);
    tcase_add_test(hostile, pnm_is_refused);
    tcase_add_test(hostile, png_pixel_data_is_checked);
    tcase_add_test(hostile, fifo_is_refused_without_blocking);
    suite_add_tcase(s, hostile);
    TCase *save = tcase_create("save");
    tcase_add_test(save, png_round_trip_is_exact);
    tcase_add_test(save, png_every_filter_round_trips);
    tcase_add_test(save, png_of_a_photo_is_compressed);
    tcase_add_test(save, jpeg_round_trip_is_close);
    tcase_add_test(save, jpeg_writer_takes_awkward_content);
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
