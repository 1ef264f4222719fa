/* Colour fringing in a flat region of a picture: the mean magnitude of the
 * high-pass of the chroma channels.
 *
 * The picture is converted to BT.601 full-range YCbCr (as JPEG), in 8-bit
 * levels: Y = 0.299 R + 0.587 G + 0.114 B, Cb = (B - Y) / 1.772,
 * Cr = (R - Y) / 1.402. A channel's high-pass at a pixel is the pixel less
 * the mean of the 3x3 box around it (the pixel included). Over a rectangle
 * given in fractions of the picture's width and height, it prints
 *   fringe = mean |hp Cb| + mean |hp Cr|
 * (levels), each of the two, and mean |hp Y| for the luminance's own
 * texture. A smooth sky scores near 0 whatever its colour gradient (a
 * linear ramp has no high-pass); fine colour speckle or stripes score high.
 *
 * Usage: fringe IMAGE [LONGEST [X0 Y0 X1 Y1]]
 *   LONGEST  fit the picture to this longest side first (0: as it is)
 *   X0 .. Y1 the rectangle, fractions in [0, 1] (default: the clear sky of
 *            content_tubingen.jpg, 0.25 0.03 0.60 0.30)
 * Pixels on the picture's border are left out, so every box is whole. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "image.h"

/* The mean |pixel - 3x3 box mean| of plane p (w wide) over [x0, x1) x
 * [y0, y1), all boxes inside the plane. */
static double mean_highpass(const double *p, int w, int x0, int y0, int x1,
                            int y1)
{
    double sum = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            double box = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                    box += p[(size_t)(y + dy) * w + x + dx];
            sum += fabs(p[(size_t)y * w + x] - box / 9);
        }
    return sum / ((double)(x1 - x0) * (y1 - y0));
}

/* f of n in [0, 1] as a pixel index kept off the border: [1, n - 1]. */
static int inner(double f, int n)
{
    const int i = (int)lround(f * n);
    return i < 1 ? 1 : i > n - 1 ? n - 1 : i;
}

static int parse_fraction(const char *s, double *f)
{
    char *end;
    *f = strtod(s, &end);
    return end != s && !*end && *f >= 0 && *f <= 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    double r[4] = {0.25, 0.03, 0.60, 0.30};
    char *end = "";
    const long longest = argc > 2 ? strtol(argv[2], &end, 10) : 0;
    int bad = (argc != 2 && argc != 3 && argc != 7) || *end || longest < 0 ||
              longest > NST_IMAGE_MAX_SIDE;
    for (int i = 0; !bad && argc == 7 && i < 4; i++)
        bad = parse_fraction(argv[3 + i], &r[i]) != 0;
    if (bad || r[0] >= r[2] || r[1] >= r[3]) {
        fprintf(stderr, "usage: fringe IMAGE [LONGEST [X0 Y0 X1 Y1]], the "
                        "rectangle as fractions with X0 < X1 and Y0 < Y1\n");
        return 2;
    }
    nst_image raw, img;
    if (nst_image_load(argv[1], &raw) != 0) {
        fprintf(stderr, "fringe: %s\n", nst_failure_reason());
        return 1;
    }
    if (longest > 0) {
        const int rc = nst_image_fit(&raw, (int)longest, &img);
        nst_image_free(&raw);
        if (rc != 0) {
            fprintf(stderr, "fringe: %s: %s\n", argv[1],
                    nst_failure_reason());
            return 1;
        }
    } else {
        img = raw;
    }
    const int w = img.w, h = img.h;
    const int x0 = inner(r[0], w), y0 = inner(r[1], h);
    const int x1 = inner(r[2], w), y1 = inner(r[3], h);
    const size_t plane = (size_t)w * h;
    double *ycc = malloc(3 * plane * sizeof *ycc);
    if (!ycc || x0 >= x1 || y0 >= y1) {
        fprintf(stderr, "fringe: %s: %s\n", argv[1],
                ycc ? "the rectangle holds no inner pixel" : "out of memory");
        return 1;
    }
    for (size_t i = 0; i < plane; i++) {
        const double R = img.data[i], G = img.data[plane + i],
                     B = img.data[2 * plane + i];
        const double Y = 0.299 * R + 0.587 * G + 0.114 * B;
        ycc[i] = Y;
        ycc[plane + i] = (B - Y) / 1.772;
        ycc[2 * plane + i] = (R - Y) / 1.402;
    }
    double hp[3];
    for (int c = 0; c < 3; c++)
        hp[c] = mean_highpass(ycc + c * plane, w, x0, y0, x1, y1);
    printf("fringe %.3f  Cb %.3f  Cr %.3f  Y %.3f  over %dx%d at (%d, %d) "
           "of %dx%d\n",
           hp[1] + hp[2], hp[1], hp[2], hp[0], x1 - x0, y1 - y0, x0, y0, w,
           h);
    free(ycc);
    nst_image_free(&img);
    return 0;
}
