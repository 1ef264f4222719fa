#include "objective.h"
#include "objective_impl.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../simd/kctx.h"
#include "error.h"
#include "loss.h"

void nst_objective_free(nst_objective *o)
{
    if (!o)
        return;
    nst__tiled_free(o);
    for (int l = 0; l < NST_VGG_MAX_LAYERS; l++)
        free(o->content_target[l]);
    for (int s = 0; s < o->n_styles; s++)
        for (int l = 0; l < NST_VGG_MAX_LAYERS; l++) {
            free(o->styles[s].gram_target[l]);
            free(o->styles[s].mask[l]);
            free(o->styles[s].root[l]);
        }
    free(o->styles);
    free(o->gram);
    free(o->fm);
    nst_vgg_acts_free(&o->acts);
    nst_kctx_free(o->ctx);
    free(o);
}

/* Checks a list of layers and its weights and puts each weight in
 * per_layer at its layer. */
static int add_layers(const nst_vgg *net, const int *layers,
                      const double *weights, int n, const char *what,
                      double per_layer[])
{
    if (n < 0 || (n > 0 && !layers))
        return nst_fail("objective: bad list of %s layers", what);
    for (int i = 0; i < n; i++) {
        const int l = layers[i];
        if (l < 0 || l >= net->n)
            return nst_fail("objective: %s layer index %d is not in the "
                            "loaded network (0 to %d)",
                            what, l, net->n - 1);
        for (int j = 0; j < i; j++)
            if (layers[j] == l)
                return nst_fail("objective: %s layer %s is listed twice",
                                what, net->layer[l].name);
        const double v = weights ? weights[i] : 1;
        if (!(v >= 0 && isfinite(v)))
            return nst_fail("objective: %s layer %s has weight %g (not a "
                            "finite number >= 0)",
                            what, net->layer[l].name, v);
        per_layer[l] = v;
    }
    return 0;
}

/* Style s's Gram matrices, from activations that live only for this
 * call. */
static int make_gram_targets(nst_objective *o, style_term *t,
                             const nst_style_target *s, int n_layers)
{
    const nst_vgg *net = o->net;
    nst_vgg_acts acts;
    int rc = nst_vgg_acts_alloc(net, s->h, s->w, &acts);
    if (rc == 0)
        rc = nst_vgg_forward(net, o->ctx, s->image, n_layers, &acts);
    for (int l = 0; rc == 0 && l < n_layers; l++) {
        if (o->style_w[l] == 0)
            continue;
        const int c = net->layer[l].conv.cout, m = acts.h[l] * acts.w[l];
        t->gram_target[l] = malloc((size_t)c * c * sizeof(float));
        rc = t->gram_target[l]
                 ? nst_gram(o->ctx, acts.f[l], c, m, t->gram_target[l])
                 : nst_fail("out of memory for %s's Gram matrix",
                            net->layer[l].name);
    }
    nst_vgg_acts_free(&acts);
    if (rc != 0) {
        char why[1024];
        snprintf(why, sizeof why, "%s", nst_failure_reason());
        return nst_fail("style image: %s", why);
    }
    return 0;
}

/* The mask follows the features down the network: a 2x2 average pool
 * (floor sizes, as the network's pools) wherever a pool feeds a layer, so
 * each value stays the fraction of its window that is masked. Keeps the
 * mask, its square root and sum at every style layer; fm grows to the
 * largest masked layer. */
static int make_masks(nst_objective *o, style_term *t, const float *mask,
                      int index, size_t *fm_n)
{
    const nst_vgg *net = o->net;
    int h = o->h, w = o->w;
    float *cur = malloc((size_t)h * w * sizeof(float));
    if (!cur)
        return nst_fail("objective: out of memory for style %d's mask",
                        index + 1);
    for (size_t i = 0; i < (size_t)h * w; i++) {
        if (!(mask[i] >= 0 && mask[i] <= 1)) {
            free(cur);
            return nst_fail("objective: style %d's mask has value %g, not in "
                            "[0, 1]",
                            index + 1, (double)mask[i]);
        }
        cur[i] = mask[i];
    }
    int rc = 0;
    for (int l = 0; rc == 0 && l < o->n_layers; l++) {
        if (net->layer[l].pool_before) {
            const int ph = h / 2, pw = w / 2;
            for (int i = 0; i < ph; i++)
                for (int j = 0; j < pw; j++) {
                    const float *p = cur + (size_t)2 * i * w + 2 * j;
                    cur[(size_t)i * pw + j] =
                        0.25f * (p[0] + p[1] + p[w] + p[w + 1]);
                }
            h = ph;
            w = pw;
        }
        if (o->style_w[l] == 0)
            continue;
        const size_t m = (size_t)h * w;
        double sum = 0;
        for (size_t i = 0; i < m; i++)
            sum += cur[i];
        if (!(sum > 0)) {
            rc = nst_fail("objective: style %d's mask covers nothing at %s",
                          index + 1, net->layer[l].name);
            break;
        }
        t->mask_sum[l] = sum;
        t->mask[l] = malloc(m * sizeof(float));
        t->root[l] = malloc(m * sizeof(float));
        if (!t->mask[l] || !t->root[l]) {
            rc = nst_fail("objective: out of memory for style %d's mask",
                          index + 1);
            break;
        }
        for (size_t i = 0; i < m; i++) {
            t->mask[l][i] = cur[i];
            t->root[l][i] = sqrtf(cur[i]);
        }
        const size_t n = (size_t)net->layer[l].conv.cout * m;
        *fm_n = n > *fm_n ? n : *fm_n;
    }
    free(cur);
    return rc;
}

/* Reads the spec's layers and weights into o. */
static int set_layers(nst_objective *o, const nst_objective_spec *spec)
{
    const nst_vgg *net = o->net;
    if (add_layers(net, spec->content_layers, spec->content_layer_weights,
                   spec->n_content, "content", o->content_w) != 0 ||
        add_layers(net, spec->style_layers, spec->style_layer_weights,
                   spec->n_style, "style", o->style_w) != 0)
        return -1;
    /* In list order, so n equal weights give exactly 1/n each. */
    double style_sum = 0;
    for (int i = 0; i < spec->n_style; i++)
        style_sum += o->style_w[spec->style_layers[i]];
    if (spec->n_style > 0 && !(style_sum > 0 && isfinite(style_sum)))
        return nst_fail("objective: the style layer weights sum to %g, not a "
                        "positive number",
                        style_sum);
    for (int l = 0; l < net->n; l++) {
        o->style_w[l] = spec->n_style > 0 ? o->style_w[l] / style_sum : 0;
        if (o->content_w[l] != 0 || o->style_w[l] != 0)
            o->n_layers = l + 1;
    }
    return 0;
}

nst_objective *nst_objective_create_tiled(const nst_vgg *net,
                                          const nst_objective_spec *spec,
                                          int tile, const float *content,
                                          int h, int w,
                                          const nst_style_target *styles,
                                          int n_styles)
{
    if (n_styles < 1 || !styles) {
        nst_fail("objective: no style image");
        return NULL;
    }
    nst_objective *o = calloc(1, sizeof *o);
    if (!o || !(o->styles = calloc((size_t)n_styles, sizeof *o->styles))) {
        free(o);
        nst_fail("objective: out of memory");
        return NULL;
    }
    o->net = net;
    o->h = h;
    o->w = w;
    o->alpha = spec->content_weight;
    o->beta = spec->style_weight;
    o->gamma = spec->tv_weight;
    o->tile = tile > 0 ? tile : 0;
    if (!(o->ctx = nst_kctx_create(net->k, 0))) {
        nst_fail("objective: out of memory");
        goto fail;
    }
    if (set_layers(o, spec) != 0)
        goto fail;
    double blend_sum = 0;
    for (int s = 0; s < n_styles; s++) {
        const double v = styles[s].weight;
        if (!(v >= 0 && isfinite(v))) {
            nst_fail("objective: style %d has blend weight %g (not a finite "
                     "number >= 0)",
                     s + 1, v);
            goto fail;
        }
        blend_sum += v;
    }
    if (!(blend_sum > 0 && isfinite(blend_sum))) {
        nst_fail("objective: the style blend weights sum to %g, not a "
                 "positive number",
                 blend_sum);
        goto fail;
    }

    size_t gram_n = 0, fm_n = 0;
    for (int l = 0; l < o->n_layers; l++) {
        const size_t c = (size_t)net->layer[l].conv.cout;
        if (o->style_w[l] != 0 && c * c > gram_n)
            gram_n = c * c;
    }
    if (o->tile && nst__tiled_alloc(o, styles, n_styles) != 0)
        goto fail;
    /* The style passes first, so their activations are gone before the
     * generated image's are allocated. */
    for (int s = 0; s < n_styles; s++) {
        if (styles[s].weight == 0)
            continue;
        style_term *t = &o->styles[o->n_styles++];
        t->weight = styles[s].weight / blend_sum;
        if (gram_n && (o->tile ? nst__tiled_gram_target(o, t, &styles[s])
                               : make_gram_targets(o, t, &styles[s],
                                                   o->n_layers)) != 0)
            goto fail;
        if (gram_n && styles[s].mask &&
            make_masks(o, t, styles[s].mask, s, &fm_n) != 0)
            goto fail;
    }
    if (o->tile) {
        if (nst__tiled_content_target(o, content) != 0)
            goto fail;
        return o;
    }
    if ((gram_n && !(o->gram = malloc(gram_n * sizeof(float)))) ||
        (fm_n && !(o->fm = malloc(fm_n * sizeof(float))))) {
        nst_fail("objective: out of memory for the Gram scratch");
        goto fail;
    }
    if (nst_vgg_acts_alloc(net, h, w, &o->acts) != 0) {
        nst_fail("content image: %s", nst_failure_reason());
        goto fail;
    }
    int any_content = 0;
    for (int l = 0; l < o->n_layers; l++)
        any_content |= o->content_w[l] != 0;
    if (any_content) {
        if (nst_vgg_forward(net, o->ctx, content, o->n_layers, &o->acts) != 0)
            goto fail;
        for (int l = 0; l < o->n_layers; l++) {
            if (o->content_w[l] == 0)
                continue;
            const size_t n = (size_t)net->layer[l].conv.cout * o->acts.h[l] *
                             o->acts.w[l];
            o->content_target[l] = malloc(n * sizeof(float));
            if (!o->content_target[l]) {
                nst_fail("content image: out of memory for %s's features",
                         net->layer[l].name);
                goto fail;
            }
            memcpy(o->content_target[l], o->acts.f[l], n * sizeof(float));
        }
    }
    return o;

fail:
    nst_objective_free(o);
    return NULL;
}

nst_objective *nst_objective_create_styles(const nst_vgg *net,
                                           const nst_objective_spec *spec,
                                           const float *content, int h, int w,
                                           const nst_style_target *styles,
                                           int n_styles)
{
    return nst_objective_create_tiled(net, spec, 0, content, h, w, styles,
                                      n_styles);
}

size_t nst_objective_bytes(const nst_vgg *net, const nst_objective_spec *spec,
                           int tile, int h, int w,
                           const nst_style_target *styles, int n_styles)
{
    nst_objective o = {.net = net, .h = h, .w = w, .tile = tile > 0 ? tile : 0};
    if (set_layers(&o, spec) != 0)
        return SIZE_MAX;
    size_t used = 0, masked = 0;
    for (int s = 0; s < n_styles; s++) {
        used += styles[s].weight != 0;
        masked += styles[s].weight != 0 && styles[s].mask;
    }
    /* Floats: targets, masks (with their roots, and the image-sized map
     * they are made from), Gram scratch and (tiled) sums. */
    size_t floats = masked ? (size_t)h * w : 0, gram_n = 0, fm_n = 0;
    for (int l = 0, pools = 0; l < o.n_layers; l++) {
        pools += net->layer[l].pool_before;
        const size_t c = (size_t)net->layer[l].conv.cout;
        const size_t m = (size_t)(h >> pools) * (size_t)(w >> pools);
        if (o.content_w[l] != 0)
            floats += c * m;
        if (o.style_w[l] == 0)
            continue;
        floats += used * c * c + masked * 2 * m;
        gram_n = c * c > gram_n ? c * c : gram_n;
        fm_n = masked && c * m > fm_n ? c * m : fm_n;
        if (o.tile) /* a double sum and a float G - A each */
            floats += (1 + masked) * c * c * 3;
    }
    floats += gram_n;
    if (o.tile)
        return floats * sizeof(float) +
               nst__tiled_bytes(&o, styles, n_styles);
    /* Whole: each style's activations, then the generated image's. */
    size_t acts = nst_vgg_acts_bytes(net, h, w);
    for (int s = 0; s < n_styles; s++) {
        const size_t a = nst_vgg_acts_bytes(net, styles[s].h, styles[s].w);
        acts = a > acts ? a : acts;
    }
    return (floats + fm_n) * sizeof(float) + acts;
}

nst_objective *nst_objective_create(const nst_vgg *net,
                                    const nst_objective_spec *spec,
                                    const float *content, int h, int w,
                                    const float *style, int sh, int sw)
{
    const nst_style_target one = {style, sh, sw, 1, NULL};
    return nst_objective_create_styles(net, spec, content, h, w, &one, 1);
}

/* Adds layer l's content and style losses (unweighted) to out and, when g
 * is not NULL, their weighted gradients with respect to F_l to g. 0, or -1
 * with a failure reason. */
static int layer_losses(nst_objective *o, int l, nst_losses *out, float *g)
{
    const nst_vgg *net = o->net;
    const float *f = o->acts.f[l];
    const int c = net->layer[l].conv.cout, m = o->acts.h[l] * o->acts.w[l];
    if (o->content_w[l] != 0) {
        const double scale = o->alpha * o->content_w[l];
        out->content += o->content_w[l] *
                        nst_content_loss(f, o->content_target[l],
                                         (size_t)c * m, scale, g);
    }
    if (o->style_w[l] == 0)
        return 0;
    for (int s = 0; s < o->n_styles; s++) {
        const style_term *t = &o->styles[s];
        const double v = o->style_w[l] * t->weight;
        double loss;
        const int rc =
            t->mask[l]
                ? nst_masked_style_loss(o->ctx, f, c, m, t->mask[l],
                                        t->root[l], t->mask_sum[l],
                                        t->gram_target[l], o->gram, o->fm,
                                        o->beta * v, g, &loss)
                : nst_style_loss(o->ctx, f, c, m, t->gram_target[l], o->gram,
                                 o->beta * v, g, &loss);
        if (rc != 0)
            return -1;
        out->style += v * loss;
    }
    return 0;
}

/* The backward pass's callback: layer l's terms, losses into out. */
typedef struct eval_state {
    nst_objective *o;
    nst_losses *out;
} eval_state;

static int add_terms(void *arg, int l, float *g)
{
    eval_state *e = arg;
    return layer_losses(e->o, l, e->out, g);
}

int nst_objective_eval(nst_objective *o, const float *x, nst_losses *out,
                       float *grad)
{
    const nst_vgg *net = o->net;
    if (o->tile)
        return nst__tiled_eval(o, x, out, grad);
    *out = (nst_losses){0, 0, 0, 0};
    if (nst_vgg_forward(net, o->ctx, x, o->n_layers, &o->acts) != 0)
        return -1;

    if (grad && o->n_layers == 0) {
        memset(grad, 0, (size_t)3 * o->h * o->w * sizeof *grad);
    } else if (grad) {
        eval_state e = {o, out};
        if (nst_vgg_backward(net, o->ctx, &o->acts, o->n_layers, add_terms,
                             &e, grad) != 0)
            return -1;
    } else {
        /* The same order as the backward pass, so both give the same
         * sums. */
        for (int l = o->n_layers - 1; l >= 0; l--)
            if (layer_losses(o, l, out, NULL) != 0)
                return -1;
    }
    out->tv = nst_tv_loss(x, 3, o->h, o->w, o->gamma, grad);
    out->total = o->alpha * out->content + o->beta * out->style +
                 o->gamma * out->tv;
    return 0;
}
