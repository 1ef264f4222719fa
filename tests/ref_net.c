#include "ref_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "npz.h"
#include "ref.h"

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "ref_net: out of memory\n");
        exit(EXIT_FAILURE);
    }
    return p;
}

int ref_net_load(ref_net *r, const char *path, int n_layers, int max_pool)
{
    memset(r, 0, sizeof *r);
    r->max_pool = max_pool;
    nst_npz *z = nst_npz_open(path);
    if (!z)
        return -1;
    /* Walk convB_I while the file has it, moving to the next block at the
     * first missing I. */
    int block = 1, conv = 1, cin = 3;
    while (r->n < n_layers && block <= 5) {
        char key[32];
        snprintf(key, sizeof key, "conv%d_%d_W", block, conv);
        if (!nst_npz_has(z, key)) {
            block++;
            conv = 1;
            continue;
        }
        int ndim;
        int64_t shape[NST_NPY_MAX_DIMS];
        float *hwio = nst_npz_read_f32(z, key, &ndim, shape);
        snprintf(key, sizeof key, "conv%d_%d_b", block, conv);
        float *bias = hwio ? nst_npz_read_f32(z, key, &ndim, shape) : NULL;
        if (!bias) {
            free(hwio);
            nst_npz_close(z);
            ref_net_free(r);
            return -1;
        }
        const int l = r->n, cout = (int)shape[0];
        r->cin[l] = cin;
        r->cout[l] = cout;
        r->pool_before[l] = block > 1 && conv == 1;
        r->bias[l] = bias;
        r->weight[l] = xmalloc((size_t)cout * cin * 9 * sizeof(float));
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
                for (int i = 0; i < cin; i++)
                    for (int o = 0; o < cout; o++)
                        r->weight[l][(((size_t)o * cin + i) * 3 + ky) * 3 +
                                     kx] =
                            hwio[(((size_t)ky * 3 + kx) * cin + i) * cout + o];
        free(hwio);
        r->n++;
        cin = cout;
        conv++;
    }
    nst_npz_close(z);
    if (r->n < n_layers) {
        ref_net_free(r);
        return nst_fail("%s: fewer than %d layers", path, n_layers);
    }
    return 0;
}

void ref_net_free(ref_net *r)
{
    for (int l = 0; l < r->n; l++) {
        free(r->weight[l]);
        free(r->bias[l]);
    }
    memset(r, 0, sizeof *r);
}

void ref_net_forward(const ref_net *r, const double *x, int h, int w,
                     int n_layers, ref_acts *a)
{
    memset(a, 0, sizeof *a);
    a->n = n_layers;
    a->in_h = h;
    a->in_w = w;
    const double *in = x;
    double *pooled = NULL;
    for (int l = 0; l < n_layers; l++) {
        if (r->pool_before[l]) {
            free(pooled);
            pooled = xmalloc((size_t)r->cin[l] * (h / 2) * (w / 2) *
                             sizeof(double));
            if (r->max_pool)
                ref_maxpool2x2(in, r->cin[l], h, w, pooled);
            else
                ref_avgpool2x2(in, r->cin[l], h, w, pooled);
            in = pooled;
            h /= 2;
            w /= 2;
        }
        const size_t n = (size_t)r->cout[l] * h * w;
        a->h[l] = h;
        a->w[l] = w;
        a->z[l] = xmalloc(n * sizeof(double));
        a->f[l] = xmalloc(n * sizeof(double));
        a->mag[l] = xmalloc(n * sizeof(double));
        ref_conv3x3(in, r->cin[l], h, w, r->weight[l], r->bias[l], r->cout[l],
                    0, a->z[l], a->mag[l]);
        for (size_t i = 0; i < n; i++)
            a->f[l][i] = a->z[l][i] > 0 ? a->z[l][i] : 0;
        in = a->f[l];
    }
    free(pooled);
}

void ref_acts_free(ref_acts *a)
{
    for (int l = 0; l < a->n; l++) {
        free(a->z[l]);
        free(a->f[l]);
        free(a->mag[l]);
    }
    memset(a, 0, sizeof *a);
}

int ref_acts_same_branches(const ref_net *r, const ref_acts *a,
                           const ref_acts *b)
{
    for (int l = 0; l < a->n; l++) {
        const int h = a->h[l], w = a->w[l];
        const size_t n = (size_t)r->cout[l] * h * w;
        for (size_t i = 0; i < n; i++)
            if ((a->z[l][i] > 0) != (b->z[l][i] > 0))
                return 0;
        if (!r->max_pool || l + 1 >= a->n || !r->pool_before[l + 1])
            continue;
        for (int c = 0; c < r->cout[l]; c++)
            for (int i = 0; i + 1 < h; i += 2)
                for (int j = 0; j + 1 < w; j += 2) {
                    const size_t p = ((size_t)c * h + i) * w + j;
                    if (ref_window_argmax(a->f[l], p, w) !=
                        ref_window_argmax(b->f[l], p, w))
                        return 0;
                }
    }
    return 1;
}

double ref_content_loss(const double *f, const double *p, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (f[i] - p[i]) * (f[i] - p[i]);
    return sum / (double)n;
}

double ref_style_loss(const double *f, int c, int m, const double *a)
{
    double sum = 0;
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            double g = 0;
            for (int k = 0; k < m; k++)
                g += f[(size_t)i * m + k] * f[(size_t)j * m + k];
            const double d = g / m - a[(size_t)i * c + j];
            sum += d * d;
        }
    return sum / ((double)c * c);
}

double ref_masked_style_loss(const double *f, int c, int m,
                             const double *mask, const double *a)
{
    double area = 0, sum = 0;
    for (int k = 0; k < m; k++)
        area += mask[k];
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            double g = 0;
            for (int k = 0; k < m; k++)
                g += f[(size_t)i * m + k] * f[(size_t)j * m + k] * mask[k];
            const double d = g / area - a[(size_t)i * c + j];
            sum += d * d;
        }
    return sum / ((double)c * c);
}

double ref_tv_loss(const double *x, int c, int h, int w)
{
    double sum = 0;
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                const double *p = x + ((size_t)ch * h + i) * w + j;
                if (i + 1 < h)
                    sum += (p[w] - p[0]) * (p[w] - p[0]);
                if (j + 1 < w)
                    sum += (p[1] - p[0]) * (p[1] - p[0]);
            }
    return 10 * sum / ((double)c * h * w); /* docs/math.md's scale of 10 */
}

static double *widen(const float *a, size_t n)
{
    double *d = xmalloc(n * sizeof *d);
    ref_widen(a, n, d);
    return d;
}

static int copy_layers(const ref_net *net, const int *from, int n, int *to)
{
    if (n < 0 || n > NST_VGG_MAX_LAYERS)
        return -1;
    for (int i = 0; i < n; i++) {
        if (from[i] < 0 || from[i] >= net->n)
            return -1;
        to[i] = from[i];
    }
    return 0;
}

/* The mask (h x w) at each listed style layer's size: average-pooled
 * where the network pools. */
static void masks_at_layers(const ref_objective *o, const float *mask,
                            double **out)
{
    const ref_net *net = o->net;
    int h = o->h, w = o->w;
    double *cur = widen(mask, (size_t)h * w);
    for (int l = 0; l < o->n_layers; l++) {
        if (net->pool_before[l]) {
            double *next = xmalloc((size_t)(h / 2) * (w / 2) * sizeof *next);
            ref_avgpool2x2(cur, 1, h, w, next);
            free(cur);
            cur = next;
            h /= 2;
            w /= 2;
        }
        for (int i = 0; i < o->n_style; i++)
            if (o->style[i] == l) {
                out[i] = xmalloc((size_t)h * w * sizeof(double));
                memcpy(out[i], cur, (size_t)h * w * sizeof(double));
            }
    }
    free(cur);
}

int ref_objective_init_styles(ref_objective *o, const ref_net *net,
                              const nst_objective_spec *spec,
                              const float *content, int h, int w,
                              const nst_style_target *styles, int n_styles)
{
    memset(o, 0, sizeof *o);
    if (n_styles < 1 || n_styles > REF_MAX_STYLES ||
        copy_layers(net, spec->content_layers, spec->n_content, o->content) ||
        copy_layers(net, spec->style_layers, spec->n_style, o->style))
        return -1;
    o->net = net;
    o->h = h;
    o->w = w;
    o->n_content = spec->n_content;
    o->n_style = spec->n_style;
    o->n_styles = n_styles;
    o->alpha = spec->content_weight;
    o->beta = spec->style_weight;
    o->gamma = spec->tv_weight;
    for (int i = 0; i < o->n_content; i++) {
        o->content_w[i] =
            spec->content_layer_weights ? spec->content_layer_weights[i] : 1;
        if (o->content[i] + 1 > o->n_layers)
            o->n_layers = o->content[i] + 1;
    }
    for (int i = 0; i < o->n_style; i++) {
        o->style_w[i] =
            spec->style_layer_weights ? spec->style_layer_weights[i] : 1;
        if (o->style[i] + 1 > o->n_layers)
            o->n_layers = o->style[i] + 1;
    }

    ref_acts a;
    double *x = widen(content, (size_t)3 * h * w);
    ref_net_forward(net, x, h, w, o->n_layers, &a);
    for (int i = 0; i < o->n_content; i++) {
        const int l = o->content[i];
        const size_t n = (size_t)net->cout[l] * a.h[l] * a.w[l];
        o->content_target[i] = xmalloc(n * sizeof(double));
        memcpy(o->content_target[i], a.f[l], n * sizeof(double));
    }
    ref_acts_free(&a);
    free(x);

    for (int k = 0; k < n_styles; k++) {
        const nst_style_target *s = &styles[k];
        o->blend[k] = s->weight;
        x = widen(s->image, (size_t)3 * s->h * s->w);
        ref_net_forward(net, x, s->h, s->w, o->n_layers, &a);
        for (int i = 0; i < o->n_style; i++) {
            const int l = o->style[i], c = net->cout[l], m = a.h[l] * a.w[l];
            o->gram_target[k][i] = xmalloc((size_t)c * c * sizeof(double));
            ref_gram(a.f[l], c, m, 1.0 / m, o->gram_target[k][i], NULL);
        }
        ref_acts_free(&a);
        free(x);
        if (s->mask)
            masks_at_layers(o, s->mask, o->mask[k]);
    }
    return 0;
}

int ref_objective_init(ref_objective *o, const ref_net *net,
                       const nst_objective_spec *spec, const float *content,
                       int h, int w, const float *style, int sh, int sw)
{
    const nst_style_target one = {style, sh, sw, 1, NULL};
    return ref_objective_init_styles(o, net, spec, content, h, w, &one, 1);
}

void ref_objective_free(ref_objective *o)
{
    for (int i = 0; i < NST_VGG_MAX_LAYERS; i++) {
        free(o->content_target[i]);
        for (int k = 0; k < REF_MAX_STYLES; k++) {
            free(o->gram_target[k][i]);
            free(o->mask[k][i]);
        }
    }
    memset(o, 0, sizeof *o);
}

void ref_objective_eval(const ref_objective *o, const double *x,
                        nst_losses *out, ref_acts *acts)
{
    const ref_net *net = o->net;
    ref_acts a;
    ref_net_forward(net, x, o->h, o->w, o->n_layers, &a);
    out->content = out->style = 0;
    for (int i = 0; i < o->n_content; i++) {
        const int l = o->content[i];
        out->content += o->content_w[i] *
                        ref_content_loss(a.f[l], o->content_target[i],
                                         (size_t)net->cout[l] * a.h[l] *
                                             a.w[l]);
    }
    double blend_sum = 0, layer_sum = 0;
    for (int k = 0; k < o->n_styles; k++)
        blend_sum += o->blend[k];
    for (int i = 0; i < o->n_style; i++)
        layer_sum += o->style_w[i];
    for (int k = 0; k < o->n_styles; k++)
        for (int i = 0; i < o->n_style; i++) {
            const int l = o->style[i], c = net->cout[l], m = a.h[l] * a.w[l];
            const double ls =
                o->mask[k][i]
                    ? ref_masked_style_loss(a.f[l], c, m, o->mask[k][i],
                                            o->gram_target[k][i])
                    : ref_style_loss(a.f[l], c, m, o->gram_target[k][i]);
            out->style += o->blend[k] / blend_sum * o->style_w[i] /
                          layer_sum * ls;
        }
    out->tv = ref_tv_loss(x, 3, o->h, o->w);
    out->total =
        o->alpha * out->content + o->beta * out->style + o->gamma * out->tv;
    if (acts)
        *acts = a;
    else
        ref_acts_free(&a);
}
