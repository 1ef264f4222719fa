#include "nst.h"

#include "interrupt.h"
#include "lbfgs.h"
#include "run.h"

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
        .tv_weight = 1e-1,
        .size = 512,
        .style_scale = 1.0,
        .seed = 0,
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

int nst_run(const nst_options *o, const nst_kernels *k)
{
    /* A caller that set only style runs that one style. */
    nst_options one;
    if (!o->data_dir && o->n_styles == 0 && o->style) {
        one = *o;
        one.styles[0] = o->style;
        one.n_styles = 1;
        o = &one;
    }
    nst_interrupt_install();
    int rc = o->data_dir ? nst_run_batch(o, k) : nst_run_single(o, k);
    nst_interrupt_restore();
    return rc;
}
