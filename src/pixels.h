/* The image as the network sees it: planar RGB floats minus the VGG mean
 * (nst_vgg_mean), and the conversions to and from image files. */
#ifndef NST_PIXELS_H
#define NST_PIXELS_H

#include <stdint.h>

#include "image.h"

/* Loads path, resizes it so its longer side is `longest` and subtracts
 * the mean. -1 with a failure reason naming the file. */
int nst_pixels_load(const char *path, int longest, nst_image *img);

/* Writes the mean-subtracted w x h image x as a picture at path. */
int nst_pixels_save(const char *path, const float *x, int w, int h);

/* Keeps x in the valid pixel range [0, 255] - mean. */
void nst_pixels_clamp(float *x, int w, int h);

/* Uniform pixels in [0, 255) - mean from a seeded generator. */
void nst_pixels_noise(float *x, int w, int h, uint64_t seed);

#endif
