#include "transfer.h"

#include <math.h>
#include <stdlib.h>

#include "checkpoint.h"
#include "error.h"
#include "interrupt.h"
#include "memory_plan.h"
#include "optimise.h"
#include "pixels.h"
#include "style_mask.h"

#define MAX_STYLE_SIDE 4096

int nst_transfer_style_side(const nst_options *o, int i, const char *name,
                            int *side)
{
    const double scale = o->n_scales > 1 ? o->style_scales[i] : o->style_scale;
    const double s = round(o->size * scale);
    if (s < 1 || s > MAX_STYLE_SIDE)
        return nst_fail("%s: --style-scale %g makes it %.0f pixels on its "
                        "longest side (1 to %d allowed)",
                        name, scale, s, MAX_STYLE_SIDE);
    *side = (int)s;
    return 0;
}

int nst_transfer_fits(const nst_network *net, const char *name,
                      const char *role, const nst_image *img)
{
    if (nst_network_fits(net, img->w, img->h) != 0)
        return nst_fail("%s (%s): %s", name, role, nst_failure_reason());
    return 0;
}

/* The starting image x (w x h, mean subtracted, holding the content):
 * kept, seeded noise or init resized; grey when the transfer runs on
 * luminance. */
static int start_image(const nst_options *o, const nst_image *init, float *x,
                       int w, int h)
{
    if (init) {
        if (nst_pixels_from_picture(init, x, w, h) != 0)
            return -1;
    } else if (o->init_noise)
        nst_pixels_noise(x, w, h, o->seed, o->init_noise_ratio);
    if (o->colors == NST_COLORS_LUMINANCE)
        nst_pixels_to_luminance(x, w, h);
    return 0;
}

/* The styles as the objective takes them: each sized image with its
 * --style-blend weight and its mask at the content's size. */
typedef struct styles {
    int n;
    float *mask[NST_MAX_STYLES];
    nst_style_target target[NST_MAX_STYLES];
} styles;

static void styles_free(styles *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->mask[i]);
    s->n = 0;
}

/* The targets of px's styles, each checked against the network. -1 with a
 * failure reason naming the picture (s then holds nothing). */
static int styles_make(const nst_options *o, const nst_network *net,
                       const nst_transfer_inputs *in,
                       const nst_pair_pixels *px, styles *s)
{
    *s = (styles){0};
    for (int i = 0; i < in->n_styles; i++) {
        const nst_image *img = &px->style[i];
        s->n = i + 1;
        if (nst_transfer_fits(net, in->style_name[i], "style image", img) !=
                0 ||
            (in->mask[i] &&
             !(s->mask[i] =
                   nst_style_mask_make(in->mask[i], in->mask_name[i],
                                       px->content.w, px->content.h)))) {
            styles_free(s);
            return -1;
        }
        s->target[i] = (nst_style_target){
            img->data, img->h, img->w, o->n_blend ? o->style_blend[i] : 1,
            s->mask[i]};
    }
    return 0;
}

/* The sized, coloured pictures and the objective on them. NULL with a
 * failure reason (px then empty). */
static nst_objective *objective_make(const nst_network *net,
                                     const nst_options *o,
                                     const nst_transfer_inputs *in,
                                     nst_pair_pixels *px)
{
    int sides[NST_MAX_STYLES];
    for (int i = 0; i < in->n_styles; i++)
        if (nst_transfer_style_side(o, i, in->style_name[i], &sides[i]) != 0)
            return NULL;
    if (nst_pixels_prepare_pair(in->content, o->size, in->style, sides,
                                in->n_styles, o->colors, px) != 0)
        return NULL;
    styles s;
    if (nst_transfer_fits(net, in->content_name, "content image",
                          &px->content) != 0 ||
        styles_make(o, net, in, px, &s) != 0) {
        nst_pixels_free_pair(px);
        return NULL;
    }
    const nst_objective_spec spec = {
        .content_layers = net->content,
        .n_content = net->n_content,
        .style_layers = net->style,
        .n_style = net->n_style,
        .content_weight = o->content_weight,
        .style_weight = o->style_weight,
        .tv_weight = o->tv_weight,
        .content_layer_weights = net->content_w,
        .style_layer_weights = net->style_w,
    };
    const int h = px->content.h, w = px->content.w;
    int tile;
    nst_objective *obj =
        nst_memory_plan_run(o, &net->vgg, &spec, h, w, s.target, s.n,
                            &tile) != 0
            ? NULL
            : nst_objective_create_tiled(&net->vgg, &spec, tile,
                                         px->content.data, h, w, s.target,
                                         s.n);
    styles_free(&s);
    nst_pixels_free_styles(px);
    if (!obj)
        nst_pixels_free_pair(px);
    return obj;
}

int nst_transfer(const nst_network *net, const nst_options *o,
                 const nst_transfer_inputs *in, const nst_transfer_hooks *hooks,
                 nst_image *result)
{
    *result = (nst_image){0};
    nst_pair_pixels px;
    nst_objective *obj = objective_make(net, o, in, &px);
    if (!obj)
        return -1;
    const int w = px.content.w, h = px.content.h;
    /* The generated image reuses the content's buffer. */
    float *x = px.content.data;
    int done = -1;
    char *settings = NULL;
    if ((o->checkpoint || o->resume) &&
        !(settings = nst_checkpoint_settings(o)))
        goto end;
    if (start_image(o, in->init, x, w, h) == 0) {
        const nst_picture picture = {
            .w = w, .h = h, .quality = o->quality,
            .chroma = px.chroma.data ? &px.chroma : NULL};
        nst_progress_start(hooks->progress, hooks->label, o->iters,
                           hooks->quiet);
        const nst_optimise_job oj = {
            .obj = obj, .k = net->vgg.k, .w = w, .h = h, .iters = o->iters,
            .optimizer = o->optimizer, .lr = o->lr,
            .lbfgs_history = o->lbfgs_history, .save_every = o->save_every,
            .snap_prefix = hooks->snap_prefix, .snap_ext = hooks->snap_ext,
            .picture = &picture, .progress = hooks->progress,
            .log = hooks->log,
            .on_iter = hooks->on_iter, .on_iter_ctx = hooks->ctx,
            .checkpoint = o->checkpoint, .resume = o->resume,
            .settings = settings, .keep_last_good = o->keep_last_good};
        if (hooks->sigint_stops)
            nst_interrupt_defer(1);
        done = nst_optimise(&oj, x);
        if (hooks->sigint_stops)
            nst_interrupt_defer(0);
        if ((done >= 0 || done == NST_OPTIMISE_LAST_GOOD) &&
            nst_pixels_to_picture(&picture, x, result) != 0)
            done = -1;
    }
end:
    free(settings);
    nst_objective_free(obj);
    nst_pixels_free_pair(&px);
    return done;
}
