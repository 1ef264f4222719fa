/* --sheet: a contact sheet, images side by side in rows so a person can
 * compare a run's inputs and result at a glance. */
#ifndef NST_SHEET_H
#define NST_SHEET_H

#include "nst.h"
#include "vgg.h"

/* White pixels between panels and between rows. */
#define NST_SHEET_GAP 4

/* Writes o->sheet (PNG or JPEG at o->quality, atomically as
 * nst_image_save): rows of cols images, files[r * cols + k] being panel k
 * of row r. Every file is loaded as a run's inputs are (nst_pixels_load,
 * beside net's weights and the panels loaded before it, so a picture too
 * large for --max-memory is refused before it is decoded) and resized
 * (nst_image_resize) to a common height H, its width w * H / h rounded
 * (at least 1); panels left to right and rows top to bottom with
 * NST_SHEET_GAP white pixels between them, white filling the right of
 * rows narrower than the widest. H is the height of the first row's last
 * image (a run's result), lowered when needed so that all rows fit in
 * NST_IMAGE_MAX_SIDE. -1 with a failure reason naming the file (and no
 * sheet written). */
int nst_sheet_write(const nst_options *o, const nst_vgg *net,
                    const char *const *files, int rows, int cols);

/* The common height for rows of images whose first result is
 * result_h high (see nst_sheet_write). */
int nst_sheet_height(int result_h, int rows);

#endif
