/* Keeping the photo's colours (Gatys, Bethge, Hertzmann and Shechtman,
 * "Preserving Color in Neural Artistic Style Transfer", 2016), on images of
 * values in [0, 255] (see image.h).
 *
 * - Histogram: before the run, the style image's colours are moved by an
 *   affine map so their mean and covariance are the content's.
 * - Luminance: the transfer runs on luminance alone (both images made
 *   grey, the style's luminance matched to the content's mean and spread),
 *   and the result's luminance is then joined to the content's chroma. */
#ifndef NST_COLOR_H
#define NST_COLOR_H

#include "image.h"
#include "nst.h" /* nst_colors: --preserve-colors, which way if any */

#define NST_COLORS_COUNT 3

/* Its name on the command line: "none", "luminance", "histogram". */
const char *nst_colors_name(nst_colors c);

/* style's pixels p become C^1/2 S^-1/2 (p - mu_s) + mu_c, with mu and S, C
 * the mean and covariance of the style's and the content's RGB values, and
 * clamped to [0, 255]. */
void nst_color_match_histogram(nst_image *style, const nst_image *content);

/* Every pixel becomes its luminance Y (BT.601) in all three channels. */
void nst_color_to_luminance(nst_image *img);

/* Luminance images: y's values become sd_ref / sd_y (y - mean_y) +
 * mean_ref, clamped to [0, 255] (ref's and y's mean and standard deviation
 * over all values). */
void nst_color_match_luminance(nst_image *y, const nst_image *ref);

/* result keeps its own luminance and takes the chroma (YCbCr Cb, Cr) of
 * chroma_from, which has the same size; clamped to [0, 255]. */
void nst_color_join_chroma(nst_image *result, const nst_image *chroma_from);

#endif
