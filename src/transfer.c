#include "transfer.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "checkpoint.h"
#include "error.h"
#include "interrupt.h"
#include "memory_plan.h"
#include "optimise.h"
#include "pixels.h"
#include "resample.h"
#include "scales.h"
#include "style_mask.h"

#define MAX_STYLE_SIDE 4096

/* Style i's longest side when the content's is size. */
static int style_side_at(const nst_options *o, int size, int i,
                         const char *name, int *side)
{
    const double scale = o->n_scales > 1 ? o->style_scales[i] : o->style_scale;
    const double s = round(size * scale);
    if (s < 1 || s > MAX_STYLE_SIDE)
        return nst_fail("%s: --style-scale %g makes it %.0f pixels on its "
                        "longest side (1 to %d allowed)",
                        name, scale, s, MAX_STYLE_SIDE);
    *side = (int)s;
    return 0;
}

int nst_transfer_style_side(const nst_options *o, int i, const char *name,
                            int *side)
{
    return style_side_at(o, o->size, i, name, side);
}

void nst_transfer_levels(const nst_options *o, nst_scales *sc)
{
    nst_scales_plan(o->size, o->start_size, o->iters, o->start_iters, sc);
}

int nst_transfer_snapshot_prefix(const char *stem, int level, int levels,
                                 char *buf, size_t size)
{
    const int len = levels > 1
                        ? snprintf(buf, size, "%slevel%d_iter_", stem, level)
                        : snprintf(buf, size, "%siter_", stem);
    if (len < 0 || (size_t)len >= size)
        return nst_fail("%s: path too long", stem);
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

/* The bytes of the caller's pictures, alive through the transfer. */
static uint64_t input_bytes(const nst_transfer_inputs *in)
{
    uint64_t n = nst_image_bytes(in->content);
    for (int i = 0; i < in->n_styles; i++)
        n += nst_image_bytes(in->style[i]) +
             (in->mask[i] ? nst_image_bytes(in->mask[i]) : 0);
    return n + (in->init ? nst_image_bytes(in->init) : 0);
}

/* The pictures sized for a level whose content's longest side is size,
 * coloured, and the objective on them. NULL with a failure reason (px
 * then empty). */
static nst_objective *objective_make(const nst_network *net,
                                     const nst_options *o,
                                     const nst_transfer_inputs *in,
                                     int size, const char *role,
                                     nst_pair_pixels *px)
{
    int sides[NST_MAX_STYLES];
    for (int i = 0; i < in->n_styles; i++)
        if (style_side_at(o, size, i, in->style_name[i], &sides[i]) != 0)
            return NULL;
    if (nst_pixels_prepare_pair(in->content, size, in->style, sides,
                                in->n_styles, o->colors, px) != 0)
        return NULL;
    styles s;
    if (nst_transfer_fits(net, in->content_name, role, &px->content) != 0 ||
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
                            input_bytes(in), &tile) != 0
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

/* One level: its pictures and objective, x in the content's buffer. */
typedef struct level {
    nst_pair_pixels px;
    nst_objective *obj;
} level;

static void level_free(level *l)
{
    nst_objective_free(l->obj);
    nst_pixels_free_pair(&l->px);
    *l = (level){0};
}

/* Makes level k of sc: the pictures sized for it from the caller's (never
 * from another level's), the objective, and the starting image: the run's
 * (start_image) on the first level, else prev's result resized up and
 * clamped into the pixel box. prev is freed once used. */
static int level_make(const nst_network *net, const nst_options *o,
                      const nst_transfer_inputs *in, const nst_scales *sc,
                      int k, level *prev, level *l)
{
    char role[64] = "content image";
    if (sc->n > 1)
        snprintf(role, sizeof role, "content image at %d px", sc->size[k]);
    *l = (level){0};
    if (!(l->obj = objective_make(net, o, in, sc->size[k], role, &l->px)))
        return -1;
    const int w = l->px.content.w, h = l->px.content.h;
    /* The generated image reuses the content's buffer. */
    float *x = l->px.content.data;
    if ((k == 0 ? start_image(o, in->init, x, w, h)
                : nst_resample(prev->px.content.data, prev->px.content.w,
                               prev->px.content.h, 3, x, w, h)) != 0) {
        level_free(l);
        return -1;
    }
    if (k > 0)
        nst_pixels_clamp(x, w, h);
    level_free(prev);
    return 0;
}

int nst_transfer(const nst_network *net, const nst_options *o,
                 const nst_transfer_inputs *in, const nst_transfer_hooks *hooks,
                 nst_image *result)
{
    *result = (nst_image){0};
    nst_scales sc;
    nst_transfer_levels(o, &sc);
    /* A checkpoint holds one level's optimisation and log rows. */
    if (sc.n > 1 && (o->checkpoint || o->resume))
        return nst_fail("%s: a checkpoint holds one level: give --start-size "
                        "0 (or equal to --size) with --checkpoint and "
                        "--resume",
                        o->checkpoint ? o->checkpoint : o->resume);
    char *settings = NULL;
    if ((o->checkpoint || o->resume) &&
        !(settings = nst_checkpoint_settings(o)))
        return -1;
    nst_progress_start(hooks->progress, hooks->label, sc.iters[0],
                       hooks->quiet);
    level prev = {0}, cur = {0};
    nst_picture picture = {0};
    int updates = 0, stopped = 0;
    for (int k = 0; k < sc.n && !stopped; k++) {
        char prefix[PATH_MAX];
        if ((hooks->snap_stem &&
             nst_transfer_snapshot_prefix(hooks->snap_stem, k + 1, sc.n,
                                          prefix, sizeof prefix) != 0) ||
            level_make(net, o, in, &sc, k, &prev, &cur) != 0) {
            level_free(&prev);
            free(settings);
            return -1;
        }
        const int w = cur.px.content.w, h = cur.px.content.h;
        picture = (nst_picture){
            .w = w, .h = h, .quality = o->quality,
            .chroma = cur.px.chroma.data ? &cur.px.chroma : NULL};
        nst_progress_level(hooks->progress, k + 1, sc.n, sc.size[k],
                           sc.iters[k]);
        const nst_optimise_job oj = {
            .obj = cur.obj, .k = net->vgg.k, .w = w, .h = h,
            .iters = sc.iters[k], .optimizer = o->optimizer, .lr = o->lr,
            .lbfgs_history = o->lbfgs_history, .save_every = o->save_every,
            .snap_prefix = hooks->snap_stem ? prefix : NULL,
            .snap_ext = hooks->snap_ext,
            .picture = &picture, .progress = hooks->progress, .log = hooks->log,
            .on_iter = hooks->on_iter, .on_iter_ctx = hooks->ctx,
            .checkpoint = o->checkpoint, .resume = o->resume,
            .settings = settings, .level = k,
            .keep_last_good = o->keep_last_good};
        if (hooks->sigint_stops)
            nst_interrupt_defer(1);
        int done = nst_optimise(&oj, cur.px.content.data);
        if (hooks->sigint_stops)
            nst_interrupt_defer(0);
        /* Only the image goes on to the next level. */
        nst_objective_free(cur.obj);
        cur.obj = NULL;
        prev = cur;
        cur = (level){0};
        if (done < 0) {
            /* With keep_last_good, x holds the last image whose loss was
             * finite. */
            picture.chroma = prev.px.chroma.data ? &prev.px.chroma : NULL;
            if (done != NST_OPTIMISE_LAST_GOOD ||
                nst_pixels_to_picture(&picture, prev.px.content.data,
                                      result) != 0)
                done = -1;
            level_free(&prev);
            free(settings);
            return done;
        }
        updates += done;
        stopped = done < sc.iters[k];
    }
    /* The picture's chroma moved with the level into prev. */
    picture.chroma = prev.px.chroma.data ? &prev.px.chroma : NULL;
    if (nst_pixels_to_picture(&picture, prev.px.content.data, result) != 0)
        updates = -1;
    level_free(&prev);
    free(settings);
    return updates;
}
