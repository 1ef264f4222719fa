#include "vgg.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../simd/kctx.h"
#include "error.h"
#include "finite.h"
#include "npz.h"

const float nst_vgg_mean[3] = {123.68f, 116.779f, 103.939f};

/* Convolutions per block; a file with a conv3_4 entry is VGG19. */
static const int vgg16_convs[5] = {2, 2, 3, 3, 3};
static const int vgg19_convs[5] = {2, 2, 4, 4, 4};

/* "reluB_I" or "convB_I" with B in 1..5 and I within VGG19's block B: 0 and
 * the block and convolution (from 1), else -1. */
static int parse_layer_name(const char *name, int *block, int *conv)
{
    if (strncmp(name, "relu", 4) != 0 && strncmp(name, "conv", 4) != 0)
        return -1;
    const char *s = name + 4;
    if (s[0] < '1' || s[0] > '5' || s[1] != '_' || s[2] < '1' || s[2] > '9' ||
        s[3] != '\0')
        return -1;
    *block = s[0] - '0';
    *conv = s[2] - '0';
    return *conv <= vgg19_convs[*block - 1] ? 0 : -1;
}

/* Index of convB_I in a network with convs[] per block, or -1 if block B has
 * fewer convolutions. */
static int layer_index(const int convs[5], int block, int conv)
{
    if (conv > convs[block - 1])
        return -1;
    int index = conv - 1;
    for (int b = 1; b < block; b++)
        index += convs[b - 1];
    return index;
}

static int fail_unknown_name(const char *name)
{
    return nst_fail("unknown layer name '%s' (expected reluB_I or convB_I, "
                    "e.g. relu3_3)",
                    name);
}

int nst_vgg_find(const nst_vgg *net, const char *name)
{
    int block, conv;
    if (parse_layer_name(name, &block, &conv) != 0)
        return fail_unknown_name(name);
    char want[8] = "convB_I";
    want[4] = (char)('0' + block);
    want[6] = (char)('0' + conv);
    for (int l = 0; l < net->n; l++)
        if (strcmp(net->layer[l].name, want) == 0)
            return l;
    return nst_fail("layer %s is not in the loaded network (conv1_1 to %s)",
                    name, net->n ? net->layer[net->n - 1].name : "none");
}

/* "(3,3,64,128)", or "(64,)" for one dimension, as NumPy prints shapes. */
static void format_shape(char *buf, size_t size, int ndim,
                         const int64_t *shape)
{
    size_t n = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ",%lld" : "%lld",
                              (long long)shape[i]);
    if (n < size)
        snprintf(buf + n, size - n, ndim == 1 ? ",)" : ")");
}

/* An entry's shape, from its header alone: nothing is read or inflated
 * before the shape is known to be one the network can use. */
static int entry_shape(nst_npz *z, const char *path, const char *key,
                       const char *needed_for, int *ndim, int64_t *shape)
{
    if (!nst_npz_has(z, key))
        return nst_fail("%s: no entry %s (needed for %s)", path, key,
                        needed_for);
    return nst_npz_shape(z, key, ndim, shape);
}

/* Reads n values of an entry whose shape was checked; NaN and infinities
 * are refused (they would turn the whole image black). */
static float *read_finite(nst_npz *z, const char *path, const char *key,
                          size_t n)
{
    int ndim;
    int64_t shape[NST_NPY_MAX_DIMS];
    float *a = nst_npz_read_f32(z, key, &ndim, shape);
    if (!a)
        return NULL;
    const size_t bad = nst_first_non_finite(a, n);
    if (bad < n) {
        nst_fail("%s: %s: element %zu is %s; weights must be finite", path,
                 key, bad, isnan(a[bad]) ? "NaN" : "infinite");
        free(a);
        return NULL;
    }
    return a;
}

/* Reads layer L->name's weights (HWIO) and bias, checks they take cin input
 * channels (the output of layer prev, or the image when prev is NULL),
 * stores the weights as OIHW and prepares the convolution. */
static int load_layer(nst_vgg_layer *L, nst_npz *z, const char *path,
                      const char *needed_for, int cin, const char *prev,
                      const nst_kernels *k)
{
    char wkey[32], bkey[32], s[200];
    int ndim;
    int64_t shape[NST_NPY_MAX_DIMS];

    snprintf(wkey, sizeof wkey, "%s_W", L->name);
    snprintf(bkey, sizeof bkey, "%s_b", L->name);
    if (entry_shape(z, path, wkey, needed_for, &ndim, shape) != 0)
        return -1;
    format_shape(s, sizeof s, ndim, shape);
    if (ndim != 4 || shape[0] != 3 || shape[1] != 3 || shape[3] < 1 ||
        shape[3] > NST_VGG_MAX_CHANNELS)
        return nst_fail("%s: %s: shape %s is not a 3x3 kernel (3,3,cin,cout) "
                        "with 1 to %d output channels",
                        path, wkey, s, NST_VGG_MAX_CHANNELS);
    if (shape[2] != cin) {
        if (prev)
            return nst_fail("%s: %s: shape %s does not follow %s's %d output "
                            "channels",
                            path, wkey, s, prev, cin);
        return nst_fail("%s: %s: shape %s does not take the 3 channels of an "
                        "RGB image",
                        path, wkey, s);
    }
    const int cout = (int)shape[3];
    if (entry_shape(z, path, bkey, needed_for, &ndim, shape) != 0)
        return -1;
    if (ndim != 1 || shape[0] != cout) {
        format_shape(s, sizeof s, ndim, shape);
        return nst_fail("%s: %s: shape %s does not match %s's %d output "
                        "channels",
                        path, bkey, s, wkey, cout);
    }

    float *hwio = read_finite(z, path, wkey, (size_t)cout * cin * 9);
    float *bias = hwio ? read_finite(z, path, bkey, (size_t)cout) : NULL;
    if (!bias) {
        free(hwio);
        return -1;
    }
    float *oihw = malloc((size_t)cout * (size_t)cin * 9 * sizeof *oihw);
    if (!oihw) {
        free(hwio);
        free(bias);
        return nst_fail("%s: %s: out of memory", path, L->name);
    }
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < cin; i++)
            for (int t = 0; t < 9; t++) /* t = ky*3 + kx */
                oihw[((size_t)o * cin + i) * 9 + t] =
                    hwio[((size_t)t * cin + i) * cout + o];
    free(hwio);

    L->weight = oihw;
    L->bias = bias;
    L->conv = (nst_conv){.cin = cin, .cout = cout, .weight = oihw,
                         .bias = bias, .packed = NULL};
    if (k->conv_prepare(&L->conv) != 0) {
        free(oihw);
        free(bias);
        L->weight = L->bias = NULL;
        return nst_fail("%s: %s: out of memory for the %s kernels' packed "
                        "weights",
                        path, L->name, k->name);
    }
    return 0;
}

int nst_vgg_load(nst_vgg *net, const char *path, const char *const *names,
                 int n_names, nst_pool pool, const nst_kernels *k)
{
    memset(net, 0, sizeof *net);
    net->pool = pool;
    net->k = k;
    if (n_names < 1)
        return nst_fail("%s: no layer asked for", path);
    for (int i = 0; i < n_names; i++) {
        int block, conv;
        if (parse_layer_name(names[i], &block, &conv) != 0)
            return fail_unknown_name(names[i]);
    }

    nst_npz *z = nst_npz_open(path);
    if (!z)
        return -1;
    const int *convs = nst_npz_has(z, "conv3_4_W") ? vgg19_convs : vgg16_convs;

    /* The deepest layer asked for; a name the file's architecture lacks is
     * reported as the missing entry it would need. */
    int deepest = -1;
    const char *deepest_name = NULL;
    for (int i = 0; i < n_names; i++) {
        int block, conv;
        parse_layer_name(names[i], &block, &conv);
        int l = layer_index(convs, block, conv);
        if (l < 0) {
            nst_npz_close(z);
            return nst_fail("%s: no entry conv%d_%d_W (needed for %s)", path,
                            block, conv, names[i]);
        }
        if (l > deepest) {
            deepest = l;
            deepest_name = names[i];
        }
    }

    int cin = 3;
    for (int block = 1, l = 0; block <= 5 && l <= deepest; block++) {
        for (int conv = 1; conv <= convs[block - 1] && l <= deepest;
             conv++, l++) {
            nst_vgg_layer *L = &net->layer[l];
            memcpy(L->name, "convB_I", 8);
            L->name[4] = (char)('0' + block);
            L->name[6] = (char)('0' + conv);
            L->pool_before = block > 1 && conv == 1;
            if (load_layer(L, z, path, deepest_name, cin,
                           l ? net->layer[l - 1].name : NULL, k) != 0) {
                nst_npz_close(z);
                nst_vgg_free(net);
                return -1;
            }
            net->n = l + 1;
            cin = L->conv.cout;
        }
    }
    nst_npz_close(z);
    return 0;
}

void nst_vgg_free(nst_vgg *net)
{
    for (int l = 0; l < net->n; l++) {
        nst_vgg_layer *L = &net->layer[l];
        net->k->conv_release(&L->conv);
        free(L->weight);
        free(L->bias);
        L->weight = L->bias = NULL;
    }
    net->n = 0;
}

/* The block below never reaches past twice the sum of every layer's output
 * and input map (each backward buffer sits below or right after the one it
 * is computed from), so that sum is kept under half of what a byte count
 * can address. */
static const size_t max_sum_floats = SIZE_MAX / sizeof(float) / 2;

/* Adds c*h*w floats and a slot's rounding to *sum; 0 if the sum would pass
 * max_sum_floats. */
static int add_map(size_t *sum, int c, int h, int w)
{
    if (*sum > max_sum_floats - 16)
        return 0;
    const size_t room = max_sum_floats - 16 - *sum;
    if ((size_t)w > room / (size_t)c / (size_t)h)
        return 0;
    *sum += (size_t)c * (size_t)h * (size_t)w + 16;
    return 1;
}

/* Places in the block are kept 64-byte aligned. */
static size_t slot(size_t floats)
{
    return (floats + 15) / 16 * 16;
}

static size_t out_floats(const nst_vgg *net, const nst_vgg_acts *a, int l)
{
    return (size_t)net->layer[l].conv.cout * a->h[l] * a->w[l];
}

/* The input of layer l at its own size: the pooled map if it has a pool. */
static size_t in_floats(const nst_vgg *net, const nst_vgg_acts *a, int l)
{
    return (size_t)net->layer[l].conv.cin * a->h[l] * a->w[l];
}

/* Offsets in floats from the start of the block: the ReLU outputs one after
 * the other, layer 0 first. */
static void layer_offsets(const nst_vgg *net, const nst_vgg_acts *a,
                          size_t off[])
{
    size_t at = 0;
    for (int l = 0; l < a->n; l++) {
        off[l] = at;
        at += slot(out_floats(net, a, l));
    }
}

/* A new buffer of n floats computed from the one at busy (busy_n floats),
 * in free room starting at lo: at lo if it fits before busy, else right
 * after it. Raises *end to the new buffer's end. */
static size_t place(size_t lo, size_t busy, size_t busy_n, size_t n,
                    size_t *end)
{
    const size_t at = lo + slot(n) <= busy ? lo : busy + slot(busy_n);
    if (at + slot(n) > *end)
        *end = at + slot(n);
    return at;
}

/* Where the backward pass from layer top keeps its gradients: g[l] the
 * offset of dL/dF_l and, for a layer with a pool before it, dp[l] that of
 * dL/d(its pooled input). Once layer l's terms are added and its ReLU mask
 * applied, F_l is dead, so all from off[l] on is free but for g[l]; the
 * ReLU outputs below stay intact (their masks, a max pool's winners).
 * Returns the end of the highest buffer. */
static size_t plan_backward(const nst_vgg *net, const nst_vgg_acts *a,
                            int top, const size_t off[], size_t g[],
                            size_t dp[])
{
    size_t end = 0;
    /* dL/dF_top is made while F_top is alive. */
    g[top] = place(off[top], off[top], out_floats(net, a, top),
                   out_floats(net, a, top), &end);
    for (int l = top; l > 0; l--) {
        size_t from = g[l], from_n = out_floats(net, a, l);
        if (net->layer[l].pool_before) {
            dp[l] = place(off[l], from, from_n, in_floats(net, a, l), &end);
            from = dp[l];
            from_n = in_floats(net, a, l);
        }
        g[l - 1] = place(off[l], from, from_n, out_floats(net, a, l - 1),
                         &end);
    }
    return end;
}

/* Lays a out for an h x w input: sizes, and the offsets of the ReLU
 * outputs in a block of *floats floats (not allocated here). -1 with a
 * failure reason if the image is too small for the pools or its
 * activations cannot be addressed. */
static int layout(const nst_vgg *net, int h, int w, nst_vgg_acts *a,
                  size_t *floats)
{
    if (h < 1 || w < 1)
        return nst_fail("image %dx%d: sides must be at least 1 pixel", w, h);
    a->in_h = h;
    a->in_w = w;
    a->n = net->n;

    int lh = h, lw = w, pools = 0;
    size_t sum = 0;
    for (int l = 0; l < net->n; l++) {
        const nst_vgg_layer *L = &net->layer[l];
        if (L->pool_before) {
            pools++;
            if (lh < 2 || lw < 2)
                return nst_fail("image %dx%d is too small for %s: it follows "
                                "%d 2x2 pools, so each side must be at least "
                                "%d pixels",
                                w, h, L->name, pools, 1 << pools);
            lh /= 2;
            lw /= 2;
        }
        a->h[l] = lh;
        a->w[l] = lw;
        if (!add_map(&sum, L->conv.cout, lh, lw) ||
            !add_map(&sum, L->conv.cin, lh, lw))
            return nst_fail("image %dx%d: activations too large to address",
                            w, h);
    }

    /* The block ends after the last ReLU output, a pooled map (put right
     * after the output of the layer it feeds) or the gradients of a
     * backward pass from any layer, whichever reaches furthest. */
    size_t off[NST_VGG_MAX_LAYERS], g[NST_VGG_MAX_LAYERS],
        dp[NST_VGG_MAX_LAYERS], end = 0;
    layer_offsets(net, a, off);
    for (int l = 0; l < net->n; l++) {
        const size_t f_end = off[l] + slot(out_floats(net, a, l));
        const size_t pooled_end =
            net->layer[l].pool_before ? f_end + slot(in_floats(net, a, l)) : 0;
        const size_t g_end = plan_backward(net, a, l, off, g, dp);
        end = f_end > end ? f_end : end;
        end = pooled_end > end ? pooled_end : end;
        end = g_end > end ? g_end : end;
    }
    *floats = end;
    return 0;
}

size_t nst_vgg_acts_bytes(const nst_vgg *net, int h, int w)
{
    nst_vgg_acts a;
    size_t floats;
    if (layout(net, h, w, &a, &floats) != 0)
        return 0;
    return floats * sizeof(float);
}

int nst_vgg_acts_alloc(const nst_vgg *net, int h, int w, nst_vgg_acts *a)
{
    memset(a, 0, sizeof *a);
    size_t end;
    if (layout(net, h, w, a, &end) != 0) {
        nst_vgg_acts_free(a);
        return -1;
    }
    a->block = aligned_alloc(64, end * sizeof(float));
    if (!a->block) {
        nst_vgg_acts_free(a);
        return nst_fail("image %dx%d: out of memory for the activations", w,
                        h);
    }
    a->floats = end;
    size_t off[NST_VGG_MAX_LAYERS];
    layer_offsets(net, a, off);
    for (int l = 0; l < net->n; l++)
        a->f[l] = a->block + off[l];
    return 0;
}

int nst_vgg_acts_fit(const nst_vgg *net, int h, int w, nst_vgg_acts *a)
{
    nst_vgg_acts b = *a;
    size_t end;
    if (layout(net, h, w, &b, &end) != 0)
        return -1;
    if (end > a->floats)
        return nst_fail("image %dx%d: its activations need %zu floats, more "
                        "than the %zu allocated",
                        w, h, end, a->floats);
    size_t off[NST_VGG_MAX_LAYERS];
    layer_offsets(net, &b, off);
    for (int l = 0; l < net->n; l++)
        b.f[l] = b.block + off[l];
    *a = b;
    return 0;
}

void nst_vgg_acts_free(nst_vgg_acts *a)
{
    free(a->block);
    memset(a, 0, sizeof *a);
}

/* A convolution of layer l could not grow the context's workspace. */
static int workspace_failed(const nst_vgg *net, int l)
{
    return nst_fail("%s: out of memory for the %s kernels' workspace",
                    net->layer[l].name, net->k->name);
}

int nst_vgg_forward(const nst_vgg *net, nst_kctx *ctx, const float *x,
                    int n_layers, nst_vgg_acts *a)
{
    assert(nst_kctx_kernels(ctx) == net->k);
    const nst_kernels *k = net->k;
    const float *in = x;
    int ih = a->in_h, iw = a->in_w;
    for (int l = 0; l < n_layers; l++) {
        const nst_vgg_layer *L = &net->layer[l];
        if (L->pool_before) {
            /* Right after F_l, which is not written yet. */
            float *pooled = a->f[l] + slot(out_floats(net, a, l));
            if (net->pool == NST_POOL_MAX)
                k->maxpool2x2(in, L->conv.cin, ih, iw, pooled);
            else
                k->avgpool2x2(in, L->conv.cin, ih, iw, pooled);
            in = pooled;
        }
        if (k->conv3x3_bias_relu(ctx, &L->conv, in, a->h[l], a->w[l],
                                 a->f[l]) != 0)
            return workspace_failed(net, l);
        in = a->f[l];
        ih = a->h[l];
        iw = a->w[l];
    }
    return 0;
}

int nst_vgg_backward(const nst_vgg *net, nst_kctx *ctx, nst_vgg_acts *a,
                     int n_layers, nst_vgg_terms_fn add_terms, void *arg,
                     float *dx)
{
    assert(nst_kctx_kernels(ctx) == net->k);
    const nst_kernels *k = net->k;
    const int top = n_layers - 1;
    size_t off[NST_VGG_MAX_LAYERS], g[NST_VGG_MAX_LAYERS],
        dp[NST_VGG_MAX_LAYERS];
    layer_offsets(net, a, off);
    plan_backward(net, a, top, off, g, dp);
    memset(a->block + g[top], 0, out_floats(net, a, top) * sizeof(float));
    for (int l = top; l >= 0; l--) {
        const nst_vgg_layer *L = &net->layer[l];
        const int h = a->h[l], w = a->w[l];
        float *gl = a->block + g[l];
        if (add_terms(arg, l, gl) != 0)
            return -1;
        k->relu_backward(a->f[l], gl, out_floats(net, a, l));
        /* Layer 0 never has a pool before it. */
        float *out = l ? a->block + g[l - 1] : dx;
        float *dconv = L->pool_before ? a->block + dp[l] : out;
        if (k->conv3x3_backward_data(ctx, &L->conv, gl, h, w, dconv) != 0)
            return workspace_failed(net, l);
        if (!L->pool_before)
            continue;
        if (net->pool == NST_POOL_MAX)
            k->maxpool2x2_backward(a->f[l - 1], dconv, L->conv.cin,
                                   a->h[l - 1], a->w[l - 1], out);
        else
            k->avgpool2x2_backward(dconv, L->conv.cin, a->h[l - 1],
                                   a->w[l - 1], out);
    }
    return 0;
}
