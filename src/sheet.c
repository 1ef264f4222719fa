#include "sheet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "image.h"
#include "pixels.h"

int nst_sheet_height(int result_h, int rows)
{
    const int fit = (NST_IMAGE_MAX_SIDE - (rows - 1) * NST_SHEET_GAP) / rows;
    const int h = result_h < fit ? result_h : fit;
    return h > 1 ? h : 1;
}

/* Copies panel p into sheet s with its top left corner at (x, y). */
static void paste(nst_image *s, const nst_image *p, int x, int y)
{
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < p->h; i++)
            memcpy(s->data + ((size_t)c * s->h + (size_t)(y + i)) * s->w + x,
                   p->data + ((size_t)c * p->h + (size_t)i) * p->w,
                   (size_t)p->w * sizeof *p->data);
}

/* Every file loaded beside the `held` bytes of the result and the panels
 * before it, and resized to height h, into panels. */
static int load_panels(const nst_options *o, const nst_vgg *net,
                       const char *const *files, int n, int h, uint64_t held,
                       nst_image *panels)
{
    for (int i = 0; i < n; i++) {
        nst_image raw;
        if (nst_pixels_load(o, net, files[i], 0, held, &raw) != 0)
            return -1;
        const double w = round((double)raw.w * h / raw.h);
        const int pw = w < 1 ? 1 : w > NST_IMAGE_MAX_SIDE ? NST_IMAGE_MAX_SIDE
                                                           : (int)w;
        const int rc = nst_image_resize(&raw, pw, h, &panels[i]);
        nst_image_free(&raw);
        if (rc != 0)
            return nst_fail("%s: out of memory resizing it for the sheet",
                            files[i]);
        held += nst_image_bytes(&panels[i]);
    }
    return 0;
}

/* The sheet's width: its widest row. */
static long sheet_width(const nst_image *panels, int rows, int cols)
{
    long widest = 0;
    for (int r = 0; r < rows; r++) {
        long w = (long)(cols - 1) * NST_SHEET_GAP;
        for (int k = 0; k < cols; k++)
            w += panels[r * cols + k].w;
        if (w > widest)
            widest = w;
    }
    return widest;
}

int nst_sheet_write(const nst_options *o, const nst_vgg *net,
                    const char *const *files, int rows, int cols)
{
    const char *path = o->sheet;
    const int n = rows * cols;
    nst_image *panels = calloc((size_t)n, sizeof *panels);
    nst_image result = {0}, sheet = {0};
    int rc = -1;
    if (!panels) {
        nst_fail("%s: out of memory for the sheet", path);
        goto end;
    }
    if (nst_pixels_load(o, net, files[cols - 1], 0, 0, &result) != 0)
        goto end;
    const int h = nst_sheet_height(result.h, rows);
    if (load_panels(o, net, files, n, h, nst_image_bytes(&result), panels) !=
        0)
        goto end;
    const long w = sheet_width(panels, rows, cols);
    const long sh = (long)rows * h + (long)(rows - 1) * NST_SHEET_GAP;
    if (w > NST_IMAGE_MAX_SIDE) {
        nst_fail("%s: the sheet would be %ld pixels wide (at most %d)", path,
                 w, NST_IMAGE_MAX_SIDE);
        goto end;
    }
    if (nst_image_alloc(&sheet, (int)w, (int)sh) != 0) {
        nst_fail("%s: out of memory for a %ldx%ld sheet", path, w, sh);
        goto end;
    }
    for (size_t i = 0; i < (size_t)3 * sheet.w * sheet.h; i++)
        sheet.data[i] = 255;
    for (int r = 0; r < rows; r++)
        for (int k = 0, x = 0; k < cols; k++) {
            paste(&sheet, &panels[r * cols + k], x, r * (h + NST_SHEET_GAP));
            x += panels[r * cols + k].w + NST_SHEET_GAP;
        }
    rc = nst_image_save_quality(path, &sheet, o->quality);
end:
    for (int i = 0; panels && i < n; i++)
        nst_image_free(&panels[i]);
    free(panels);
    nst_image_free(&result);
    nst_image_free(&sheet);
    return rc;
}
