#include "options_check.h"

#include <stdio.h>

#include "error.h"
#include "lbfgs.h"
#include "option_limits.h"

/* -1 with a reason naming the field (with index i when i >= 0) if v is
 * not a number in [lo, hi]. */
static int in_range_at(const char *field, int i, double v, double lo,
                       double hi)
{
    if (v >= lo && v <= hi)
        return 0;
    char at[16] = "";
    if (i >= 0)
        snprintf(at, sizeof at, "[%d]", i);
    return nst_fail("options: %s%s is %g (%g to %g allowed)", field, at, v,
                    lo, hi);
}

static int in_range(const char *field, double v, double lo, double hi)
{
    return in_range_at(field, -1, v, lo, hi);
}

/* The per-style lists: none, or one per style (scales: also one for
 * all), each value in its range; blend weights with a positive sum. */
static int check_lists(const nst_options *o, int n_styles)
{
    if (o->n_blend != 0 && o->n_blend != n_styles)
        return nst_fail("options: n_blend is %d for %d styles (0, or one "
                        "each)", o->n_blend, n_styles);
    if (o->n_scales < 0 || o->n_scales > NST_MAX_STYLES ||
        (o->n_scales > 1 && o->n_scales != n_styles))
        return nst_fail("options: n_scales is %d for %d styles (0 or 1, or "
                        "one each)", o->n_scales, n_styles);
    double sum = 0;
    for (int i = 0; i < o->n_blend; i++) {
        if (in_range_at("style_blend", i, o->style_blend[i], 0,
                     NST_STYLE_BLEND_MAX) != 0)
            return -1;
        sum += o->style_blend[i];
    }
    if (o->n_blend && !(sum > 0))
        return nst_fail("options: the style_blend weights sum to 0");
    for (int i = 0; i < o->n_scales; i++)
        if (in_range_at("style_scales", i, o->style_scales[i],
                     NST_STYLE_SCALE_MIN, NST_STYLE_SCALE_MAX) != 0)
            return -1;
    return 0;
}

int nst_options_check(const nst_options *o, int n_styles)
{
    if (o->optimizer != NST_OPTIMIZER_ADAM &&
        o->optimizer != NST_OPTIMIZER_LBFGS)
        return nst_fail("options: optimizer %d is not NST_OPTIMIZER_ADAM or "
                        "NST_OPTIMIZER_LBFGS", (int)o->optimizer);
    if (o->colors != NST_COLORS_NONE && o->colors != NST_COLORS_LUMINANCE &&
        o->colors != NST_COLORS_HISTOGRAM)
        return nst_fail("options: colors %d is not one of NST_COLORS_*",
                        (int)o->colors);
    if (in_range("iters", o->iters, 0, NST_ITERS_MAX) != 0 ||
        in_range("size", o->size, NST_SIZE_MIN, NST_SIZE_MAX) != 0 ||
        in_range("lbfgs_history", o->lbfgs_history, 1,
                 NST_LBFGS_MAX_HISTORY) != 0 ||
        in_range("lr", o->lr, NST_LR_MIN, NST_LR_MAX) != 0 ||
        in_range("content_weight", o->content_weight, 0,
                 NST_LOSS_WEIGHT_MAX) != 0 ||
        in_range("style_weight", o->style_weight, 0, NST_LOSS_WEIGHT_MAX) !=
            0 ||
        in_range("tv_weight", o->tv_weight, 0, NST_LOSS_WEIGHT_MAX) != 0 ||
        in_range("init_noise_ratio", o->init_noise_ratio, 0, 1) != 0 ||
        in_range("style_scale", o->style_scale, NST_STYLE_SCALE_MIN,
                 NST_STYLE_SCALE_MAX) != 0 ||
        in_range("start_size", o->start_size, 0, NST_SIZE_MAX) != 0 ||
        in_range("start_iters", o->start_iters, 0, NST_ITERS_MAX) != 0 ||
        in_range("max_memory", o->max_memory, 0, NST_MAX_MEMORY_MAX) != 0 ||
        in_range("tile", o->tile, 0, NST_TILE_MAX) != 0)
        return -1;
    return check_lists(o, n_styles);
}
