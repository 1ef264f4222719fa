/* A --style-mask file as the objective takes it: one weight in [0, 1] per
 * pixel of the generated image. */
#ifndef NST_STYLE_MASK_H
#define NST_STYLE_MASK_H

/* Loads path (any image nst reads; gray 0..255, or the mean of R, G and B,
 * read as 0..1), resized to w x h, into a malloc'd w*h array (row-major).
 * NULL with a failure reason naming the file. */
float *nst_style_mask_load(const char *path, int w, int h);

#endif
