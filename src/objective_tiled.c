/* The objective evaluated in tiles (docs/math.md, "Tiled evaluation").
 * Pass 1 runs each tile's window (halo: the reach of the layers used)
 * forward and sums, over the tile's interior, each style layer's Gram
 * matrix and the content loss; from the sums come the losses and each
 * layer's G - A. Pass 2 runs each tile's window again with twice that halo,
 * adds the local loss gradients over the whole window, goes back to the
 * pixels and keeps the gradient at the interior only. Every buffer is
 * sized once, at creation, for the largest window. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../simd/kctx.h"
#include "error.h"
#include "loss.h"
#include "objective_impl.h"

static int rect_h(nst_rect r)
{
    return r.y1 - r.y0;
}

static int rect_w(nst_rect r)
{
    return r.x1 - r.x0;
}

/* Copies rows r of c planes of src (each sh x sw) to dst (planes of
 * dh x dw) with r's corner at (dy, dx). */
static void copy_block(int c, const float *src, int sh, int sw, nst_rect r,
                       float *dst, int dh, int dw, int dy, int dx)
{
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < rect_h(r); i++)
            memcpy(dst + ((size_t)ch * dh + dy + i) * dw + dx,
                   src + ((size_t)ch * sh + r.y0 + i) * sw + r.x0,
                   (size_t)rect_w(r) * sizeof(float));
}

/* A window's map at layer l: where it sits in the image's map there. */
typedef struct level_view {
    int c, fh, fw; /* the window's map, c x fh x fw */
    int gh, gw;    /* the image's map */
    int gy, gx;    /* the window's corner in the image's map */
} level_view;

static level_view view_at(const nst_objective *o, int l, nst_rect win)
{
    const int p = o->pools[l];
    return (level_view){o->net->layer[l].conv.cout, o->acts.h[l],
                        o->acts.w[l], o->h >> p, o->w >> p, win.y0 >> p,
                        win.x0 >> p};
}

/* An image rectangle r at layer l, relative to the window's corner. */
static nst_rect local_rect(const nst_objective *o, int l, nst_rect r,
                           nst_rect win)
{
    const int p = o->pools[l];
    const nst_rect a = nst_rect_at(r, p);
    const int y = win.y0 >> p, x = win.x0 >> p;
    return (nst_rect){a.y0 - y, a.x0 - x, a.y1 - y, a.x1 - x};
}

/* The whole window's map. */
static nst_rect whole(const level_view *v)
{
    return (nst_rect){0, 0, v->fh, v->fw};
}

/* The window's map f over r, each value times the image-wide map `mask`
 * (gh x gw) at the same place, into out (c x |r|). */
static void gather_masked(const float *f, const level_view *v, nst_rect r,
                          const float *mask, float *out)
{
    size_t at = 0;
    for (int ch = 0; ch < v->c; ch++)
        for (int i = r.y0; i < r.y1; i++) {
            const float *fi = f + ((size_t)ch * v->fh + i) * v->fw;
            const float *mi = mask + (size_t)(v->gy + i) * v->gw + v->gx;
            for (int j = r.x0; j < r.x1; j++)
                out[at++] = fi[j] * mi[j];
        }
}

/* sum over r of (F - P)^2, F the window's map and P the image-wide content
 * target; when g is not NULL, g += s (F - P) over r as well. */
static double content_terms(const float *f, const level_view *v, nst_rect r,
                            const float *p, double s, float *g)
{
    double sum = 0;
    for (int ch = 0; ch < v->c; ch++)
        for (int i = r.y0; i < r.y1; i++) {
            const size_t fi = ((size_t)ch * v->fh + i) * v->fw;
            const float *pi =
                p + ((size_t)ch * v->gh + v->gy + i) * v->gw + v->gx;
            for (int j = r.x0; j < r.x1; j++) {
                const double d = (double)f[fi + j] - (double)pi[j];
                sum += d * d;
                if (g)
                    g[fi + j] += (float)(s * d);
            }
        }
    return sum;
}

/* Runs window win of image img (3 x t->h x t->w) through the network. */
static int forward_window(nst_objective *o, const float *img,
                          const nst_tiling *t, nst_rect win)
{
    const int wh = rect_h(win), ww = rect_w(win);
    copy_block(3, img, t->h, t->w, win, o->win, wh, ww, 0, 0);
    if (nst_vgg_acts_fit(o->net, wh, ww, &o->acts) != 0)
        return -1;
    return nst_vgg_forward(o->net, o->ctx, o->win, o->n_layers, &o->acts);
}

/* sum += the Gram matrix F F^T of layer l's map over r (local), F first
 * multiplied by the image-wide map `root` when it is not NULL. */
static int add_gram(nst_objective *o, int l, nst_rect win, nst_rect r,
                    const float *root, double *sum)
{
    const level_view v = view_at(o, l, win);
    const int m = rect_h(r) * rect_w(r);
    if (m == 0)
        return 0;
    if (root)
        gather_masked(o->acts.f[l], &v, r, root, o->fm);
    else
        copy_block(v.c, o->acts.f[l], v.fh, v.fw, r, o->fm, rect_h(r),
                   rect_w(r), 0, 0);
    if (nst_gram(o->ctx, o->fm, v.c, m, o->gram) != 0)
        return -1;
    /* nst_gram divides by m; the sums are of F F^T itself. */
    for (size_t i = 0; i < (size_t)v.c * v.c; i++)
        sum[i] += (double)m * o->gram[i];
    return 0;
}

/* Whether a style without a mask uses layer l. */
static int plain_style_at(const nst_objective *o, int l)
{
    for (int s = 0; s < o->n_styles; s++)
        if (!o->styles[s].mask[l])
            return 1;
    return 0;
}

static void clear_doubles(double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = 0;
}

static size_t cells(const nst_objective *o, int l, int h, int w)
{
    return (size_t)(h >> o->pools[l]) * (size_t)(w >> o->pools[l]);
}

int nst__tiled_gram_target(nst_objective *o, style_term *t,
                           const nst_style_target *s)
{
    const nst_vgg *net = o->net;
    nst_tiling ts;
    nst_tiling_make(net, net->n, s->h, s->w, o->tile, &ts);
    for (int l = 0; l < o->n_layers; l++)
        if (o->style_w[l] != 0)
            clear_doubles(o->gram_sum[l],
                          (size_t)net->layer[l].conv.cout *
                              net->layer[l].conv.cout);
    for (int i = 0; i < nst_tiling_count(&ts); i++) {
        nst_rect in, win;
        nst_tiling_tile(&ts, i, ts.reach, &in, &win);
        if (forward_window(o, s->image, &ts, win) != 0)
            goto fail;
        /* The window's corners are on the style image's grid, which has
         * the same alignment: its interior at layer l is found as for the
         * generated image's. */
        for (int l = 0; l < o->n_layers; l++)
            if (o->style_w[l] != 0 &&
                add_gram(o, l, win, local_rect(o, l, in, win), NULL,
                         o->gram_sum[l]) != 0)
                goto fail;
    }
    for (int l = 0; l < o->n_layers; l++) {
        if (o->style_w[l] == 0)
            continue;
        const size_t cc = (size_t)net->layer[l].conv.cout *
                          net->layer[l].conv.cout;
        const double m = (double)cells(o, l, s->h, s->w);
        t->gram_target[l] = malloc(cc * sizeof(float));
        if (s->mask) {
            t->gram_sum[l] = malloc(cc * sizeof(double));
            t->d[l] = malloc(cc * sizeof(float));
        }
        if (!t->gram_target[l] || (s->mask && (!t->gram_sum[l] || !t->d[l]))) {
            nst_fail("out of memory for %s's Gram matrix", net->layer[l].name);
            goto fail;
        }
        for (size_t i = 0; i < cc; i++)
            t->gram_target[l][i] = (float)(o->gram_sum[l][i] / m);
    }
    return 0;
fail:;
    char why[1024];
    snprintf(why, sizeof why, "%s", nst_failure_reason());
    return nst_fail("style image: %s", why);
}

int nst__tiled_content_target(nst_objective *o, const float *content)
{
    const nst_vgg *net = o->net;
    int any = 0;
    for (int l = 0; l < o->n_layers; l++) {
        if (o->content_w[l] == 0)
            continue;
        any = 1;
        const size_t n =
            (size_t)net->layer[l].conv.cout * cells(o, l, o->h, o->w);
        if (!(o->content_target[l] = malloc(n * sizeof(float))))
            return nst_fail("content image: out of memory for %s's features",
                            net->layer[l].name);
    }
    for (int i = 0; any && i < nst_tiling_count(&o->tiling); i++) {
        nst_rect in, win;
        nst_tiling_tile(&o->tiling, i, o->tiling.reach, &in, &win);
        if (forward_window(o, content, &o->tiling, win) != 0)
            return -1;
        for (int l = 0; l < o->n_layers; l++) {
            if (o->content_w[l] == 0)
                continue;
            const level_view v = view_at(o, l, win);
            const nst_rect r = local_rect(o, l, in, win);
            copy_block(v.c, o->acts.f[l], v.fh, v.fw, r, o->content_target[l],
                       v.gh, v.gw, v.gy + r.y0, v.gx + r.x0);
        }
    }
    return 0;
}

/* Pass 1 over one tile: adds its interior's content sums to csum and its
 * Gram matrices to the running sums. */
static int sum_tile(nst_objective *o, nst_rect in, nst_rect win,
                    double csum[])
{
    for (int l = 0; l < o->n_layers; l++) {
        const nst_rect r = local_rect(o, l, in, win);
        if (o->content_w[l] != 0) {
            const level_view v = view_at(o, l, win);
            csum[l] += content_terms(o->acts.f[l], &v, r,
                                     o->content_target[l], 0, NULL);
        }
        if (o->style_w[l] == 0)
            continue;
        if (plain_style_at(o, l) &&
            add_gram(o, l, win, r, NULL, o->gram_sum[l]) != 0)
            return -1;
        for (int s = 0; s < o->n_styles; s++) {
            const style_term *t = &o->styles[s];
            if (t->mask[l] &&
                add_gram(o, l, win, r, t->root[l], t->gram_sum[l]) != 0)
                return -1;
        }
    }
    return 0;
}

/* mean((G - A)^2) for G = sum / norm; when d is not NULL, d += coef (G - A)
 * (overwrite when `overwrite`). */
static double gram_terms(const double *sum, double norm, const float *a,
                         size_t cc, double coef, float *d, int overwrite)
{
    double loss = 0;
    for (size_t i = 0; i < cc; i++) {
        const double diff = sum[i] / norm - (double)a[i];
        loss += diff * diff;
        if (d)
            d[i] = (float)(coef * diff) + (overwrite ? 0.0f : d[i]);
    }
    return loss / (double)cc;
}

/* The losses from pass 1's sums, in the whole-image pass's order (top
 * layer down, content before style); with_grad: each style layer's
 * scaled G - A for pass 2, the gradient of the weighted style loss being
 * d F (docs/math.md). */
static void losses_from_sums(nst_objective *o, const double csum[],
                             nst_losses *out, int with_grad)
{
    const nst_vgg *net = o->net;
    for (int l = o->n_layers - 1; l >= 0; l--) {
        const int c = net->layer[l].conv.cout;
        const double m = (double)cells(o, l, o->h, o->w);
        if (o->content_w[l] != 0)
            out->content += o->content_w[l] * csum[l] / ((double)c * m);
        if (o->style_w[l] == 0)
            continue;
        const size_t cc = (size_t)c * c;
        int first_plain = 1;
        for (int s = 0; s < o->n_styles; s++) {
            style_term *t = &o->styles[s];
            const double v = o->style_w[l] * t->weight;
            const double norm = t->mask[l] ? t->mask_sum[l] : m;
            const double coef = 4 * o->beta * v / ((double)cc * norm);
            float *d = !with_grad ? NULL : t->mask[l] ? t->d[l] : o->d[l];
            out->style += v * gram_terms(t->mask[l] ? t->gram_sum[l]
                                                    : o->gram_sum[l],
                                         norm, t->gram_target[l], cc, coef, d,
                                         t->mask[l] || first_plain);
            first_plain &= t->mask[l] != NULL;
        }
    }
}

/* Pass 2's terms at layer l of a window: dL/dF over the whole window. */
typedef struct window_state {
    nst_objective *o;
    nst_rect win;
} window_state;

static int add_window_terms(void *arg, int l, float *g)
{
    const window_state *ws = arg;
    nst_objective *o = ws->o;
    const nst_kernels *k = nst_kctx_kernels(o->ctx);
    const level_view v = view_at(o, l, ws->win);
    const float *f = o->acts.f[l];
    const int m = v.fh * v.fw;
    if (o->content_w[l] != 0) {
        const double n = (double)v.c * v.gh * v.gw;
        content_terms(f, &v, whole(&v), o->content_target[l],
                      2 * o->alpha * o->content_w[l] / n, g);
    }
    if (o->style_w[l] == 0)
        return 0;
    if (plain_style_at(o, l))
        k->gram_backward(o->ctx, o->d[l], f, v.c, m, 1.0f, g);
    for (int s = 0; s < o->n_styles; s++) {
        const style_term *t = &o->styles[s];
        if (!t->mask[l])
            continue;
        gather_masked(f, &v, whole(&v), t->mask[l], o->fm);
        k->gram_backward(o->ctx, t->d[l], o->fm, v.c, m, 1.0f, g);
    }
    return 0;
}

int nst__tiled_eval(nst_objective *o, const float *x, nst_losses *out,
                    float *grad)
{
    const nst_vgg *net = o->net;
    const nst_tiling *t = &o->tiling;
    *out = (nst_losses){0, 0, 0, 0};
    double csum[NST_VGG_MAX_LAYERS] = {0};
    for (int l = 0; l < o->n_layers; l++) {
        const size_t cc =
            (size_t)net->layer[l].conv.cout * net->layer[l].conv.cout;
        if (o->style_w[l] == 0)
            continue;
        clear_doubles(o->gram_sum[l], cc);
        for (int s = 0; s < o->n_styles; s++)
            if (o->styles[s].mask[l])
                clear_doubles(o->styles[s].gram_sum[l], cc);
    }
    for (int i = 0; o->n_layers > 0 && i < nst_tiling_count(t); i++) {
        nst_rect in, win;
        nst_tiling_tile(t, i, t->reach, &in, &win);
        if (forward_window(o, x, t, win) != 0 ||
            sum_tile(o, in, win, csum) != 0)
            return -1;
    }
    losses_from_sums(o, csum, out, grad != NULL);

    if (grad && o->n_layers == 0)
        memset(grad, 0, (size_t)3 * o->h * o->w * sizeof *grad);
    for (int i = 0; grad && o->n_layers > 0 && i < nst_tiling_count(t); i++) {
        nst_rect in, win;
        nst_tiling_tile(t, i, 2 * t->reach, &in, &win);
        window_state ws = {o, win};
        if (forward_window(o, x, t, win) != 0 ||
            nst_vgg_backward(net, o->ctx, &o->acts, o->n_layers,
                             add_window_terms, &ws, o->dwin) != 0)
            return -1;
        const nst_rect r = {in.y0 - win.y0, in.x0 - win.x0, in.y1 - win.y0,
                            in.x1 - win.x0};
        copy_block(3, o->dwin, rect_h(win), rect_w(win), r, grad, o->h, o->w,
                   in.y0, in.x0);
    }
    out->tv = nst_tv_loss(x, 3, o->h, o->w, o->gamma, grad);
    out->total = o->alpha * out->content + o->beta * out->style +
                 o->gamma * out->tv;
    return 0;
}

/* The largest window of an image's tiling (halo pixels around each
 * interior): the one whose activations take the most room, the most pixels
 * and the most cells at any layer used times its channels. */
typedef struct window_sizes {
    size_t acts_bytes, pixels, layer_floats;
    int acts_h, acts_w;
} window_sizes;

static void largest_window(const nst_objective *o, int h, int w, int halo,
                           window_sizes *z)
{
    nst_tiling t;
    nst_tiling_make(o->net, o->net->n, h, w, o->tile, &t);
    if (halo < 0)
        halo = t.reach;
    for (int i = 0; i < nst_tiling_count(&t); i++) {
        nst_rect in, win;
        nst_tiling_tile(&t, i, halo, &in, &win);
        const int wh = rect_h(win), ww = rect_w(win);
        const size_t bytes = nst_vgg_acts_bytes(o->net, wh, ww);
        if (bytes > z->acts_bytes) {
            z->acts_bytes = bytes;
            z->acts_h = wh;
            z->acts_w = ww;
        }
        if ((size_t)wh * ww > z->pixels)
            z->pixels = (size_t)wh * ww;
        for (int l = 0; l < o->n_layers; l++) {
            const size_t n =
                (size_t)o->net->layer[l].conv.cout * cells(o, l, wh, ww);
            z->layer_floats = n > z->layer_floats ? n : z->layer_floats;
        }
    }
}

/* Sets o's pools and tiling and finds its largest windows: the
 * generated image's with pass 2's halo, the styles' with pass 1's. */
static void plan_windows(nst_objective *o, const nst_style_target *styles,
                         int n_styles, window_sizes *z)
{
    const nst_vgg *net = o->net;
    for (int l = 0, p = 0; l < net->n; l++) {
        p += net->layer[l].pool_before;
        o->pools[l] = p;
    }
    /* The tiling of every layer loaded, so that a window is never too
     * small for a pool. */
    nst_tiling_make(net, net->n, o->h, o->w, o->tile, &o->tiling);
    *z = (window_sizes){0};
    largest_window(o, o->h, o->w, 2 * o->tiling.reach, z);
    for (int s = 0; s < n_styles; s++)
        if (styles[s].weight != 0)
            largest_window(o, styles[s].h, styles[s].w, -1, z);
}

size_t nst__tiled_bytes(nst_objective *o, const nst_style_target *styles,
                        int n_styles)
{
    window_sizes z;
    plan_windows(o, styles, n_styles, &z);
    return z.acts_bytes + (6 * z.pixels + z.layer_floats) * sizeof(float);
}

int nst__tiled_alloc(nst_objective *o, const nst_style_target *styles,
                     int n_styles)
{
    const nst_vgg *net = o->net;
    window_sizes z;
    plan_windows(o, styles, n_styles, &z);
    size_t gram_n = 0;
    for (int l = 0; l < o->n_layers; l++) {
        const size_t cc =
            (size_t)net->layer[l].conv.cout * net->layer[l].conv.cout;
        if (o->style_w[l] == 0)
            continue;
        gram_n = cc > gram_n ? cc : gram_n;
        if (!(o->gram_sum[l] = malloc(cc * sizeof(double))) ||
            !(o->d[l] = malloc(cc * sizeof(float))))
            return nst_fail("objective: out of memory for %s's Gram sums",
                            net->layer[l].name);
    }
    if (nst_vgg_acts_alloc(net, z.acts_h, z.acts_w, &o->acts) != 0)
        return nst_fail("tiles of %d pixels: %s", o->tiling.tile,
                        nst_failure_reason());
    if (!(o->win = malloc(3 * z.pixels * sizeof(float))) ||
        !(o->dwin = malloc(3 * z.pixels * sizeof(float))) ||
        (z.layer_floats && !(o->fm = malloc(z.layer_floats * sizeof(float)))) ||
        (gram_n && !(o->gram = malloc(gram_n * sizeof(float)))))
        return nst_fail("objective: out of memory for tiles of %d pixels",
                        o->tiling.tile);
    return 0;
}

void nst__tiled_free(nst_objective *o)
{
    free(o->win);
    free(o->dwin);
    for (int l = 0; l < NST_VGG_MAX_LAYERS; l++) {
        free(o->gram_sum[l]);
        free(o->d[l]);
        for (int s = 0; s < o->n_styles; s++) {
            free(o->styles[s].gram_sum[l]);
            free(o->styles[s].d[l]);
        }
    }
}
