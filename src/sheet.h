/* --sheet: a contact sheet, images side by side in rows so a person can
 * compare a run's inputs and result at a glance. */
#ifndef NST_SHEET_H
#define NST_SHEET_H

/* White pixels between panels and between rows. */
#define NST_SHEET_GAP 4

/* Writes path (PNG or JPEG at quality, atomically as nst_image_save): rows
 * of cols images, files[r * cols + k] being panel k of row r. Every panel
 * is its file resized (nst_image_resize) to a common height H, its width
 * w * H / h rounded (at least 1), panels left to right and rows top to
 * bottom with NST_SHEET_GAP white pixels between them, white filling the
 * right of rows narrower than the widest. H is the height of the first
 * row's last image (a run's result), lowered when needed so that all rows
 * fit in NST_IMAGE_MAX_SIDE. -1 with a failure reason naming the file. */
int nst_sheet_write(const char *path, const char *const *files, int rows,
                    int cols, int quality);

/* The common height for rows of images whose first result is
 * result_h high (see nst_sheet_write). */
int nst_sheet_height(int result_h, int rows);

#endif
