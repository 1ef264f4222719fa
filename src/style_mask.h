/* A --style-mask file as the objective takes it: one weight in [0, 1] per
 * pixel of the generated image. */
#ifndef NST_STYLE_MASK_H
#define NST_STYLE_MASK_H

#include "image.h"

/* img (values in [0, 255]; the mean of R, G and B, read as 0..1), resized
 * to w x h, into a malloc'd w*h array (row-major). NULL with a failure
 * reason naming it by path. */
float *nst_style_mask_make(const nst_image *img, const char *path, int w,
                          int h);

#endif
