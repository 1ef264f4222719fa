/* The image as the network sees it: planar RGB floats minus the VGG mean
 * (nst_vgg_mean), and the conversions to and from image files, with
 * --preserve-colors applied on the way in and out. */
#ifndef NST_PIXELS_H
#define NST_PIXELS_H

#include <stdint.h>

#include "color.h"
#include "image.h"
#include "nst.h"
#include "vgg.h"

/* Every input picture of a run is loaded here: path is read and its
 * header checked (nst_image_file_read), then decoded only if that fits
 * the memory of a run with options o (--max-memory) beside net's weights
 * and the `held` bytes of pictures already loaded
 * (nst_memory_plan_decode), and sized so its longer side is longest (0:
 * kept as it is); values in [0, 255] (no mean subtracted). -1 with a
 * failure reason naming the file (img then empty). */
int nst_pixels_load(const nst_options *o, const nst_vgg *net,
                    const char *path, int longest, uint64_t held,
                    nst_image *img);

/* The images of a transfer as the objective takes them (mean subtracted),
 * and what results are coloured with. */
typedef struct nst_pair_pixels {
    nst_image content;
    int n_styles;
    nst_image style[NST_MAX_STYLES];
    /* NST_COLORS_LUMINANCE: the content's own colours in [0, 255], which
     * results take their chroma from (nst_picture); else empty. */
    nst_image chroma;
} nst_pair_pixels;

/* The content (resized to longest side content_side) and the n_styles
 * styles (style i's longest side style_sides[i]), all in [0, 255], made
 * mean subtracted, with colors applied: histogram matches each style's
 * colours to the content's; luminance makes them all grey (each style's
 * luminance matched to the content's mean and spread) and keeps the
 * content's colours in p->chroma. -1 with a failure reason. */
int nst_pixels_prepare_pair(const nst_image *content, int content_side,
                            const nst_image *const *styles,
                            const int *style_sides, int n_styles,
                            nst_colors colors, nst_pair_pixels *p);

/* Frees the styles alone (the objective keeps what it needs of them). */
void nst_pixels_free_styles(nst_pair_pixels *p);

void nst_pixels_free_pair(nst_pair_pixels *p);

/* x (w x h, mean subtracted) = picture ([0, 255]) resized to w x h. */
int nst_pixels_from_picture(const nst_image *picture, float *x, int w, int h);

/* Makes x (mean subtracted) grey: each pixel its luminance. */
void nst_pixels_to_luminance(float *x, int w, int h);

/* How x becomes a picture file. */
typedef struct nst_picture {
    int w, h;    /* x is 3 x h x w, mean subtracted */
    int quality; /* JPEG quality, 1 to 100 */
    /* NULL, or a w x h image in [0, 255] whose chroma the picture takes,
     * keeping its own luminance (--preserve-colors luminance). */
    const nst_image *chroma;
} nst_picture;

/* img (allocated here) = x as a picture: values in [0, 255], not
 * rounded. */
int nst_pixels_to_picture(const nst_picture *pic, const float *x,
                          nst_image *img);

/* Writes x as a picture at path (PNG or JPEG by the extension). */
int nst_pixels_save(const nst_picture *pic, const char *path, const float *x);

/* Keeps x in the valid pixel range [0, 255] - mean. */
void nst_pixels_clamp(float *x, int w, int h);

/* --init noise: x (holding the content) becomes (1 - ratio) x + ratio u,
 * u uniform in [0, 255) - mean from a generator seeded by seed. */
void nst_pixels_noise(float *x, int w, int h, uint64_t seed, double ratio);

#endif
