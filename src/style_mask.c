#include "style_mask.h"

#include <stdlib.h>

#include "error.h"
#include "image.h"

float *nst_style_mask_make(const nst_image *img, const char *path, int w,
                          int h)
{
    nst_image sized;
    if (nst_image_resize(img, w, h, &sized) != 0) {
        nst_fail("%s (style mask): %s", path, nst_failure_reason());
        return NULL;
    }
    const size_t plane = (size_t)w * h;
    float *mask = malloc(plane * sizeof *mask);
    if (!mask) {
        nst_image_free(&sized);
        nst_fail("%s (style mask): out of memory", path);
        return NULL;
    }
    /* The resize gives whole values in [0, 255]; so is their mean / 255 in
     * [0, 1]. */
    float most = 0;
    for (size_t i = 0; i < plane; i++) {
        mask[i] = (sized.data[i] + sized.data[plane + i] +
                   sized.data[2 * plane + i]) /
                  (3 * 255.0f);
        most = mask[i] > most ? mask[i] : most;
    }
    nst_image_free(&sized);
    if (most == 0) {
        free(mask);
        nst_fail("%s (style mask): black everywhere, so it selects nothing",
                 path);
        return NULL;
    }
    return mask;
}
