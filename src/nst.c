/* The options' defaults and names. */
#include "nst.h"

#include "color.h"
#include "image.h"
#include "lbfgs.h"

const char *nst_optimizer_name(nst_optimizer opt)
{
    return opt == NST_OPTIMIZER_LBFGS ? "lbfgs" : "adam";
}

void nst_options_default(nst_options *o)
{
    *o = (nst_options){
        .iters = 60,
        .optimizer = NST_OPTIMIZER_LBFGS,
        .lbfgs_history = NST_LBFGS_DEFAULT_HISTORY,
        .lr = 4.0,
        .content_weight = 1.0,
        .style_weight = 1e-2,
        .tv_weight = 1,
        .size = 512,
        .style_scale = 1.0,
        .seed = 0,
        .init_noise_ratio = 0.25,
        .colors = NST_COLORS_NONE,
        .quality = NST_IMAGE_JPEG_QUALITY,
        .pool = NST_POOL_AVG,
        .content_layers = "relu3_3",
        .style_layers =
            "relu1_1,relu1_2,relu2_1,relu2_2,relu3_1,relu3_2,relu3_3",
        .start_size = 256,
        .start_iters = 150,
    };
}
