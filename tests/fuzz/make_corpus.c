/* Writes the fuzzers' seed inputs into DIR/npz, DIR/image and DIR/cli:
 * small valid archives in several zip and .npy layouts, a small image in
 * every format and variant nst reads, and typical argument lists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image_write.h>

#include "adam.h"
#include "checkpoint.h"
#include "lbfgs.h"
#include "npz_writer.h"

static const char *dir;

static void made(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "make_corpus: cannot write %s\n", what);
        exit(1);
    }
}

static void folder(const char *sub)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    made(mkdir(path, 0777) == 0 || errno == EEXIST, path);
}

static void npz_seeds(void)
{
    static double w1[3 * 3 * 3 * 2], w2[3 * 3 * 2 * 2], b[2] = {0.5, -0.25};
    for (size_t i = 0; i < sizeof w1 / sizeof *w1; i++)
        w1[i] = (double)i / 64 - 0.2;
    for (size_t i = 0; i < sizeof w2 / sizeof *w2; i++)
        w2[i] = 0.1 - (double)i / 128;
    static const struct {
        const char *name, *descr;
        npzw_options o;
        int fortran;
    } layouts[] = {
        {"stored", "<f4", {.method = 0}, 0},
        {"deflated", "<f4", {.method = 8}, 0},
        {"zip64", "<f8", {.method = 8, .zip64 = 1}, 0},
        {"descriptor", "<f2", {.method = 0, .data_descriptor = 1}, 0},
        {"v2_big_endian", ">f4", {.method = 8, .npy_version = 2}, 0},
        {"fortran_comment", "<f4", {.method = 0, .comment = "seed"}, 1},
    };
    for (size_t i = 0; i < sizeof layouts / sizeof *layouts; i++) {
        npzw_array a[4] = {
            {.name = "conv1_1_W", .descr = layouts[i].descr, .ndim = 4,
             .shape = {3, 3, 3, 2}, .values = w1, .fortran = layouts[i].fortran},
            {.name = "conv1_1_b", .descr = layouts[i].descr, .ndim = 1,
             .shape = {2}, .values = b},
            {.name = "conv1_2_W", .descr = layouts[i].descr, .ndim = 4,
             .shape = {3, 3, 2, 2}, .values = w2},
            {.name = "conv1_2_b", .descr = layouts[i].descr, .ndim = 1,
             .shape = {2}, .values = b},
        };
        char path[4096];
        snprintf(path, sizeof path, "%s/npz/%s.npz", dir, layouts[i].name);
        made(npzw_write(path, a, 4, &layouts[i].o, NULL) == 0, path);
    }
}

static void to_file(void *ctx, void *data, int size)
{
    fwrite(data, 1, (size_t)size, ctx);
}

static void image_seeds(void)
{
    enum { W = 9, H = 7 };
    unsigned char rgb[W * H * 3], grey[W * H];
    for (int i = 0; i < W * H * 3; i++)
        rgb[i] = (unsigned char)(i * 29 + (i / 7) * 3);
    for (int i = 0; i < W * H; i++)
        grey[i] = (unsigned char)(i * 11);
    static const char *const names[] = {"rgb.png", "grey.png", "rgb.bmp",
                                        "rle.tga", "raw.tga", "q95.jpg",
                                        "q50.jpg", "grey.jpg"};
    for (int k = 0; k < 8; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/image/%s", dir, names[k]);
        FILE *f = fopen(path, "wb");
        made(f != NULL, path);
        stbi_write_tga_with_rle = k == 3;
        int ok = k == 0   ? stbi_write_png_to_func(to_file, f, W, H, 3, rgb, 0)
                 : k == 1 ? stbi_write_png_to_func(to_file, f, W, H, 1, grey, 0)
                 : k == 2 ? stbi_write_bmp_to_func(to_file, f, W, H, 3, rgb)
                 : k <= 4 ? stbi_write_tga_to_func(to_file, f, W, H, 3, rgb)
                 : k == 5 ? stbi_write_jpg_to_func(to_file, f, W, H, 3, rgb, 95)
                 : k == 6 ? stbi_write_jpg_to_func(to_file, f, W, H, 3, rgb, 50)
                          : stbi_write_jpg_to_func(to_file, f, W, H, 1, grey, 90);
        made(ok && fclose(f) == 0, path);
    }
}

static void cli_seeds(void)
{
    static const char *const lists[][24] = {
        {"--content", "c.jpg", "--style", "s.jpg", "--out", "o.png"},
        {"--data", "in", "--out", "out", "--iters", "10", "--size", "64",
         "--save-every", "5", "--log", "l.csv", "--threads", "2"},
        {"--content=c.png", "--style=s.png", "--out=o.jpg", "--lr", "2.5",
         "--content-weight", "1e-3", "--style-weight", "0.5", "--tv-weight",
         "0", "--style-scale", "0.5", "--init", "noise", "--seed", "7",
         "--pool", "max", "--content-layers", "relu2_2", "--style-layers",
         "relu1_1,relu2_1"},
        {"--quiet", "--weights", "w.npz", "--version"},
        {"--help"},
        {"--iters", "-1", "--bogus", "x"},
    };
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/cli/%zu.args", dir, i);
        FILE *f = fopen(path, "wb");
        made(f != NULL, path);
        for (int k = 0; k < 24 && lists[i][k]; k++)
            fwrite(lists[i][k], 1, strlen(lists[i][k]) + (k + 1 < 24 && lists[i][k + 1]), f);
        made(fclose(f) == 0, path);
    }
}

/* f(x) = sum x^2, for an L-BFGS state with pairs in its history. */
static int square(void *ctx, const float *x, double *loss, float *grad)
{
    (void)ctx;
    double f = 0;
    for (int i = 0; i < 12; i++) {
        f += (double)x[i] * x[i];
        grad[i] = 2 * x[i];
    }
    *loss = f;
    return 0;
}

/* Checkpoints of a 2 x 2 image in level 2 of 2, with three log rows of
 * level 1 and two of level 2, one per optimizer (the L-BFGS one with
 * history 2, as the harness makes it). */
static void checkpoint_seeds(void)
{
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i - 5.5f;
    nst_adam a;
    made(nst_adam_init(&a, 12, 1) == 0, "Adam");
    const nst_lbfgs_params p = {2, 1};
    nst_lbfgs *l = nst_lbfgs_create(12, NULL, NULL, &p, square, NULL);
    nst_lbfgs_report r;
    for (int i = 0; l && i < 4; i++)
        made(nst_lbfgs_step(l, x, &r) == 0, "L-BFGS");
    nst_ckpt_row rows[5] = {{0, 1, {4, 2, 2, 0.5}, 0.125},
                            {1, 1, {3, 1, 2, 0.5}, 0.25},
                            {2, 1, {3, 1, 2, 0.25}, 0.5},
                            {0, 2, {3, 1, 2, 0.5}, 0.75},
                            {1, 2, {2, 1, 1, 0}, 1}};
    char settings[] = "--size 16\n--optimizer adam\n";
    for (int k = 0; k < 2; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/checkpoint/%s.ckpt", dir,
                 k ? "lbfgs" : "adam");
        const nst_checkpoint c = {
            .levels = {2, {1, 2}, {2, 3}}, .level = 1, .next = 2,
            .optimizer = k ? NST_OPTIMIZER_LBFGS : NST_OPTIMIZER_ADAM,
            .w = 2, .h = 2, .settings = settings, .rows = {rows, 5, 5}};
        nst_ckw w;
        made(l && nst_checkpoint_begin(&w, path, &c) == 0, path);
        nst_ckw_f32s(&w, x, 12);
        if (k)
            nst_lbfgs_save(l, &w);
        else
            nst_adam_save(&a, &w);
        made(nst_checkpoint_commit(&w) == 0, path);
    }
    nst_adam_free(&a);
    nst_lbfgs_free(l);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    dir = argv[1];
    mkdir(dir, 0777);
    folder("npz");
    folder("image");
    folder("cli");
    folder("checkpoint");
    npz_seeds();
    image_seeds();
    cli_seeds();
    checkpoint_seeds();
    return 0;
}
