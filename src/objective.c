#include "objective.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../simd/kctx.h"
#include "error.h"
#include "loss.h"

struct nst_objective {
    const nst_vgg *net;
    nst_kctx *ctx; /* this objective's kernel workspace and threads */
    int h, w;
    int n_layers; /* forward and backward run through layers 0 .. n_layers-1 */
    double alpha, beta, gamma;
    /* Per layer: how often it is a content layer, its style weight (1/L per
     * listing), the content image's features and the style image's Gram
     * matrix (NULL where unused). */
    int content_count[NST_VGG_MAX_LAYERS];
    double style_w[NST_VGG_MAX_LAYERS];
    float *content_target[NST_VGG_MAX_LAYERS];
    float *gram_target[NST_VGG_MAX_LAYERS];
    float *gram; /* c x c scratch for the widest style layer */
    nst_vgg_acts acts;
};

void nst_objective_free(nst_objective *o)
{
    if (!o)
        return;
    for (int l = 0; l < NST_VGG_MAX_LAYERS; l++) {
        free(o->content_target[l]);
        free(o->gram_target[l]);
    }
    free(o->gram);
    nst_vgg_acts_free(&o->acts);
    nst_kctx_free(o->ctx);
    free(o);
}

static int check_layers(const nst_vgg *net, const int *layers, int n,
                        const char *what)
{
    if (n < 0 || (n > 0 && !layers))
        return nst_fail("objective: bad list of %s layers", what);
    for (int i = 0; i < n; i++)
        if (layers[i] < 0 || layers[i] >= net->n)
            return nst_fail("objective: %s layer index %d is not in the "
                            "loaded network (0 to %d)",
                            what, layers[i], net->n - 1);
    return 0;
}

/* The style image's Gram matrices, from activations that live only for
 * this call. */
static int make_gram_targets(nst_objective *o, const float *style, int sh,
                             int sw, int n_layers)
{
    const nst_vgg *net = o->net;
    nst_vgg_acts acts;
    int rc = nst_vgg_acts_alloc(net, sh, sw, &acts);
    if (rc == 0)
        rc = nst_vgg_forward(net, o->ctx, style, n_layers, &acts);
    for (int l = 0; rc == 0 && l < n_layers; l++) {
        if (o->style_w[l] == 0)
            continue;
        const int c = net->layer[l].conv.cout, m = acts.h[l] * acts.w[l];
        o->gram_target[l] = malloc((size_t)c * c * sizeof(float));
        rc = o->gram_target[l]
                 ? nst_gram(o->ctx, acts.f[l], c, m, o->gram_target[l])
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

nst_objective *nst_objective_create(const nst_vgg *net,
                                    const nst_objective_spec *spec,
                                    const float *content, int h, int w,
                                    const float *style, int sh, int sw)
{
    if (check_layers(net, spec->content_layers, spec->n_content, "content") ||
        check_layers(net, spec->style_layers, spec->n_style, "style"))
        return NULL;
    nst_objective *o = calloc(1, sizeof *o);
    if (!o) {
        nst_fail("objective: out of memory");
        return NULL;
    }
    o->net = net;
    if (!(o->ctx = nst_kctx_create(net->k, 0))) {
        nst_fail("objective: out of memory");
        goto fail;
    }
    o->h = h;
    o->w = w;
    o->alpha = spec->content_weight;
    o->beta = spec->style_weight;
    o->gamma = spec->tv_weight;
    int style_depth = 0;
    for (int i = 0; i < spec->n_content; i++) {
        const int l = spec->content_layers[i];
        o->content_count[l]++;
        o->n_layers = l + 1 > o->n_layers ? l + 1 : o->n_layers;
    }
    size_t gram_n = 0;
    for (int i = 0; i < spec->n_style; i++) {
        const int l = spec->style_layers[i];
        const size_t c = (size_t)net->layer[l].conv.cout;
        o->style_w[l] += 1.0 / spec->n_style;
        style_depth = l + 1 > style_depth ? l + 1 : style_depth;
        gram_n = c * c > gram_n ? c * c : gram_n;
    }
    o->n_layers = style_depth > o->n_layers ? style_depth : o->n_layers;

    /* The style pass first, so its activations are gone before the
     * generated image's are allocated. */
    if (style_depth && make_gram_targets(o, style, sh, sw, style_depth) != 0)
        goto fail;
    if (gram_n && !(o->gram = malloc(gram_n * sizeof(float)))) {
        nst_fail("objective: out of memory for the Gram scratch");
        goto fail;
    }
    if (nst_vgg_acts_alloc(net, h, w, &o->acts) != 0) {
        nst_fail("content image: %s", nst_failure_reason());
        goto fail;
    }
    if (spec->n_content) {
        if (nst_vgg_forward(net, o->ctx, content, o->n_layers, &o->acts) != 0)
            goto fail;
        for (int l = 0; l < o->n_layers; l++) {
            if (!o->content_count[l])
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

/* Adds layer l's content and style losses (unweighted) to out and, when g
 * is not NULL, their weighted gradients with respect to F_l to g. 0, or -1
 * with a failure reason. */
static int layer_losses(nst_objective *o, int l, nst_losses *out, float *g)
{
    const nst_vgg *net = o->net;
    const float *f = o->acts.f[l];
    const int c = net->layer[l].conv.cout, m = o->acts.h[l] * o->acts.w[l];
    if (o->content_count[l]) {
        const double scale = o->alpha * o->content_count[l];
        out->content += o->content_count[l] *
                        nst_content_loss(f, o->content_target[l],
                                         (size_t)c * m, scale, g);
    }
    if (o->style_w[l] != 0) {
        const double scale = o->beta * o->style_w[l];
        double loss;
        if (nst_style_loss(o->ctx, f, c, m, o->gram_target[l], o->gram, scale,
                           g, &loss) != 0)
            return -1;
        out->style += o->style_w[l] * loss;
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
