/* A program that uses the installed libnst on pictures in memory: it
 * decodes two images itself (stb_image), loads the network once, runs a
 * transfer that its progress callback cancels, then a whole one, and
 * writes the result as a binary PPM.
 *
 *   cc embed.c $(pkg-config --cflags --libs nst) -o embed
 *   ./embed CONTENT STYLE OUT.ppm [WEIGHTS.npz]
 *
 * Without WEIGHTS the library looks where nst does ($NST_WEIGHTS, vgg/,
 * ../shared/vgg/). The transfers are deliberately tiny: 64 pixels, 5
 * iterations. */
#include <stdio.h>

#include <nst/nst.h>

/* stb_image (libstb-dev), compiled into this program alone (static, so
 * its names cannot meet a library's). Static stb_image declares functions
 * that a program need not call, and some versions one they never define:
 * GCC and clang would warn about those at the end of the file. */
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_HDR    /* no floating-point formats: no libm */
#define STBI_NO_LINEAR
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb/stb_image.h>

/* Decodes path into an RGB8 picture; 0, or -1 having said why. */
static int decode(const char *path, nst_rgb8 *img)
{
    int n;
    img->pixels = stbi_load(path, &img->width, &img->height, &n, 3);
    if (!img->pixels) {
        fprintf(stderr, "%s: %s\n", path, stbi_failure_reason());
        return -1;
    }
    return 0;
}

static int write_ppm(const char *path, const nst_rgb8 *img)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    const size_t n = (size_t)3 * img->width * img->height;
    fprintf(f, "P6\n%d %d\n255\n", img->width, img->height);
    const int ok = fwrite(img->pixels, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* The progress callback: prints each iteration and asks to stop once
 * `stop_at` is reached (-1: never). */
static int show(void *user, const nst_iteration *it)
{
    const int stop_at = *(const int *)user;
    printf("  %d/%d  loss %.4e (content %.4e, style %.4e, tv %.4e)  %.2f s\n",
           it->iteration, it->total, it->loss, it->content, it->style, it->tv,
           it->seconds);
    return it->iteration == stop_at;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s CONTENT STYLE OUT.ppm [WEIGHTS.npz]\n",
                argv[0]);
        return 2;
    }
    char buf[4096];
    const char *weights =
        nst_find_weights(argc == 5 ? argv[4] : NULL, buf, sizeof buf);
    if (!weights) {
        fprintf(stderr, "%s: no VGG weights found\n", argv[0]);
        return 1;
    }
    nst_error err = {0}; /* each failed call leaves its reason here */
    nst_model *m =
        nst_model_load(weights, NULL, NULL, NST_POOL_AVG, NULL, &err);
    if (!m) {
        fprintf(stderr, "%s: %s\n", argv[0], err.reason);
        nst_error_clear(&err);
        return 1;
    }
    nst_rgb8 content = {0}, style = {0}, out = {0};
    int rc = 1;
    if (decode(argv[1], &content) != 0 || decode(argv[2], &style) != 0)
        goto end;

    nst_options o;
    nst_options_default(&o);
    o.size = 64;
    o.iters = 5;
    int stop_at = 2;
    nst_request rq = {.content = &content,
                      .styles = &style,
                      .n_styles = 1,
                      .progress = show,
                      .user = &stop_at,
                      .keep_cancelled = 1};

    printf("%s: a run cancelled at iteration %d (%s kernels)\n", argv[0],
           stop_at, nst_model_kernels(m));
    nst_status st = nst_transfer_rgb8(m, &o, &rq, &out, &err);
    if (st != NST_CANCELLED) {
        fprintf(stderr, "%s: expected a cancel: %s\n", argv[0],
                st == NST_FAILED ? err.reason : "the run went on");
        goto end;
    }
    printf("%s: cancelled; the picture so far is %dx%d\n", argv[0],
           out.width, out.height);
    nst_rgb8_free(&out);

    printf("%s: a whole run\n", argv[0]);
    stop_at = -1;
    if (nst_transfer_rgb8(m, &o, &rq, &out, &err) != NST_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], err.reason);
        goto end;
    }
    if (write_ppm(argv[3], &out) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", argv[0], argv[3]);
        goto end;
    }
    printf("%s: wrote %s (%dx%d)\n", argv[0], argv[3], out.width, out.height);
    rc = 0;
end:
    nst_rgb8_free(&out);
    stbi_image_free(content.pixels);
    stbi_image_free(style.pixels);
    nst_model_free(m);
    nst_error_clear(&err);
    return rc;
}
