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

/* The objective the network and options describe. */
static nst_objective_spec objective_spec(const nst_network *net,
                                         const nst_options *o)
{
    return (nst_objective_spec){
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
}

/* Whether the last (largest) level of sc fits the memory budget, planned
 * from the pictures' sizes before the first level starts: a run that
 * cannot finish is refused up front, not after the levels below it. The
 * plan reads only sizes and whether a style has a mask. */
static int last_level_fits(const nst_network *net, const nst_options *o,
                           const nst_transfer_inputs *in,
                           const nst_scales *sc)
{
    const int size = sc->size[sc->n - 1];
    nst_style_target t[NST_MAX_STYLES];
    for (int i = 0; i < in->n_styles; i++) {
        int side, w, h;
        if (style_side_at(o, size, i, in->style_name[i], &side) != 0)
            return -1;
        nst_image_fit_size(in->style[i]->w, in->style[i]->h, side, &w, &h);
        t[i] = (nst_style_target){
            NULL, h, w, o->n_blend ? o->style_blend[i] : 1,
            in->mask[i] ? in->mask[i]->data : NULL};
    }
    int w, h;
    nst_image_fit_size(in->content->w, in->content->h, size, &w, &h);
    const nst_objective_spec spec = objective_spec(net, o);
    nst_memory_plan p;
    return nst_memory_plan_fits(o, &net->vgg, &spec, h, w, t, in->n_styles,
                                input_bytes(in), &p);
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
    const nst_objective_spec spec = objective_spec(net, o);
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
 * from another level's) and the objective; x, in the content's buffer,
 * still holds the content. */
static int level_make(const nst_network *net, const nst_options *o,
                      const nst_transfer_inputs *in, const nst_scales *sc,
                      int k, level *l)
{
    char role[64] = "content image";
    if (sc->n > 1)
        snprintf(role, sizeof role, "content image at %d px", sc->size[k]);
    *l = (level){0};
    return (l->obj = objective_make(net, o, in, sc->size[k], role, &l->px))
               ? 0
               : -1;
}

/* The starting image of level k in l's x: the run's (start_image) on the
 * first level, else prev's result (its float values, not rounded) resized
 * up and clamped into the pixel box. prev is freed once used. */
static int level_start(const nst_options *o, const nst_transfer_inputs *in,
                       int k, level *prev, level *l)
{
    const int w = l->px.content.w, h = l->px.content.h;
    /* The generated image reuses the content's buffer. */
    float *x = l->px.content.data;
    if ((k == 0 ? start_image(o, in->init, x, w, h)
                : nst_resample(prev->px.content.data, prev->px.content.w,
                               prev->px.content.h, 3, x, w, h)) != 0)
        return -1;
    if (k > 0)
        nst_pixels_clamp(x, w, h);
    level_free(prev);
    return 0;
}

/* What checkpoints carry from level to level: the header they record (the
 * settings, the schedule, the level), every level's log rows so far, and
 * the --resume file, loaded. */
typedef struct checkpoints {
    nst_checkpoint head;
    nst_ckpt_rows rows;
    nst_checkpoint resumed;
    double seconds0; /* the seconds of the resumed run's last row */
} checkpoints;

static void checkpoints_free(checkpoints *c)
{
    free(c->head.settings);
    nst_ckpt_rows_free(&c->rows);
    nst_checkpoint_free(&c->resumed);
}

/* Takes up o->resume: loads it, checks it is of this run and schedule,
 * writes its log rows (every level's) to the log and keeps them for the
 * checkpoints to come. The level to go on in, or -1 with a failure reason
 * naming the file. */
static int resume_load(const nst_options *o, nst_run_log *log,
                       checkpoints *c)
{
    nst_checkpoint *r = &c->resumed;
    if (nst_checkpoint_load(o->resume, r) != 0)
        return -1;
    if (nst_checkpoint_match(r, o->resume, c->head.settings) != 0 ||
        nst_checkpoint_match_levels(r, o->resume, &c->head.levels) != 0)
        return -1;
    for (size_t i = 0; i < r->rows.n; i++) {
        const nst_ckpt_row *row = &r->rows.row[i];
        if (log && nst_run_log_row(log, (int)row->iter, &row->l,
                                   row->seconds, (int)row->size) != 0)
            return -1;
        c->seconds0 = row->seconds;
    }
    if (o->checkpoint) {
        c->rows = r->rows;
        r->rows = (nst_ckpt_rows){0};
    }
    return (int)r->level;
}

/* The caller's on_iter, and whether it asked to stop. A stop asked at a
 * level's last iteration but one ends it before its last evaluation, and
 * one asked at the last comes once it is done: nst_optimise then returns
 * all the level's iterations, and the run must still end there. */
typedef struct relay {
    const nst_transfer_hooks *hooks;
    int asked;
} relay;

static int relay_iter(void *ctx, int iter, const nst_losses *l,
                      double seconds)
{
    relay *r = ctx;
    const nst_transfer_hooks *h = r->hooks;
    const int stop = h->on_iter && h->on_iter(h->ctx, iter, l, seconds);
    r->asked |= stop;
    return stop;
}

/* on_iter or, when it stops the run, SIGINT asked to stop. */
static int stop_asked(const relay *r)
{
    return r->asked || (r->hooks->sigint_stops && nst_interrupt_requested());
}

int nst_transfer(const nst_network *net, const nst_options *o,
                 const nst_transfer_inputs *in, const nst_transfer_hooks *hooks,
                 nst_image *result)
{
    *result = (nst_image){0};
    checkpoints ck = {0};
    nst_scales *sc = &ck.head.levels;
    nst_transfer_levels(o, sc);
    if (sc->n > 1 && last_level_fits(net, o, in, sc) != 0)
        return -1;
    int first = 0;
    if ((o->checkpoint || o->resume) &&
        (!(ck.head.settings = nst_checkpoint_settings(o)) ||
         (o->resume && (first = resume_load(o, hooks->log, &ck)) < 0))) {
        checkpoints_free(&ck);
        return -1;
    }
    nst_progress_start(hooks->progress, hooks->label, sc->iters[first],
                       hooks->quiet);
    level prev = {0}, cur = {0};
    nst_picture picture = {0};
    relay rl = {hooks, 0};
    /* The levels before a resumed one were done in full. */
    int updates = 0, rc = 0;
    for (int k = 0; k < first; k++)
        updates += sc->iters[k];
    for (int k = first; k < sc->n; k++) {
        char prefix[PATH_MAX];
        const int resumed = o->resume && k == first;
        if ((hooks->snap_stem &&
             nst_transfer_snapshot_prefix(hooks->snap_stem, k + 1, sc->n,
                                          prefix, sizeof prefix) != 0) ||
            level_make(net, o, in, sc, k, &cur) != 0) {
            rc = -1;
            break;
        }
        /* A stop asked while the level was made: the run ends with the
         * level before. */
        if (k > first && stop_asked(&rl))
            break;
        if (!resumed && level_start(o, in, k, &prev, &cur) != 0) {
            rc = -1;
            break;
        }
        const int w = cur.px.content.w, h = cur.px.content.h;
        picture = (nst_picture){
            .w = w, .h = h, .quality = o->quality,
            .chroma = cur.px.chroma.data ? &cur.px.chroma : NULL};
        nst_progress_level(hooks->progress, k + 1, sc->n, sc->size[k],
                           sc->iters[k]);
        ck.head.level = (uint32_t)k;
        const nst_optimise_job oj = {
            .obj = cur.obj, .k = net->vgg.k, .w = w, .h = h,
            .iters = sc->iters[k], .optimizer = o->optimizer, .lr = o->lr,
            .lbfgs_history = o->lbfgs_history, .save_every = o->save_every,
            .snap_prefix = hooks->snap_stem ? prefix : NULL,
            .snap_ext = hooks->snap_ext,
            .picture = &picture, .progress = hooks->progress, .log = hooks->log,
            .on_iter = relay_iter, .on_iter_ctx = &rl,
            .checkpoint = o->checkpoint, .head = &ck.head, .rows = &ck.rows,
            .resume = resumed ? &ck.resumed : NULL, .seconds0 = ck.seconds0,
            .keep_last_good = o->keep_last_good};
        /* From the first optimisation to the run's end, between levels
         * too, SIGINT asks to stop. */
        if (hooks->sigint_stops)
            nst_interrupt_defer(1);
        const int done = nst_optimise(&oj, cur.px.content.data);
        if (resumed)
            nst_checkpoint_free(&ck.resumed);
        /* Only the image goes on to the next level. */
        nst_objective_free(cur.obj);
        cur.obj = NULL;
        prev = cur;
        cur = (level){0};
        if (done < 0) {
            rc = done;
            break;
        }
        updates += done;
        if (done < sc->iters[k] || stop_asked(&rl))
            break;
    }
    if (hooks->sigint_stops)
        nst_interrupt_defer(0);
    level_free(&cur);
    /* The picture's chroma moved with the level into prev. With
     * keep_last_good, x holds the last image whose loss was finite. */
    picture.chroma = prev.px.chroma.data ? &prev.px.chroma : NULL;
    if ((rc == 0 || rc == NST_OPTIMISE_LAST_GOOD) &&
        nst_pixels_to_picture(&picture, prev.px.content.data, result) != 0)
        rc = -1;
    level_free(&prev);
    checkpoints_free(&ck);
    return rc == 0 ? updates : rc;
}
