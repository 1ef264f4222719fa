#include "vgg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "npz.h"

const float nst_vgg_mean[3] = {123.68f, 116.779f, 103.939f};

/* Convolutions per block; a file with a conv3_4 entry is VGG19. */
static const int vgg16_convs[5] = {2, 2, 3, 3, 3};
static const int vgg19_convs[5] = {2, 2, 4, 4, 4};

/* Bounds the channel counts read from a file, so sizes stay far from int
 * overflow. */
#define MAX_CHANNELS 65536

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

static float *read_entry(nst_npz *z, const char *path, const char *key,
                         const char *needed_for, int *ndim, int64_t *shape)
{
    if (!nst_npz_has(z, key)) {
        nst_fail("%s: no entry %s (needed for %s)", path, key, needed_for);
        return NULL;
    }
    return nst_npz_read_f32(z, key, ndim, shape);
}

/* Reads layer L->name's weights (HWIO) and bias, checks they take cin input
 * channels (the output of layer prev, or the image when prev is NULL),
 * stores the weights as OIHW and prepares the convolution. */
static int load_layer(nst_vgg_layer *L, nst_npz *z, const char *path,
                      const char *needed_for, int cin, const char *prev,
                      const nst_kernels *k)
{
    char key[32], s[200];
    int ndim;
    int64_t shape[NST_NPY_MAX_DIMS];

    snprintf(key, sizeof key, "%s_W", L->name);
    float *hwio = read_entry(z, path, key, needed_for, &ndim, shape);
    if (!hwio)
        return -1;
    format_shape(s, sizeof s, ndim, shape);
    if (ndim != 4 || shape[0] != 3 || shape[1] != 3 || shape[3] < 1 ||
        shape[3] > MAX_CHANNELS) {
        free(hwio);
        return nst_fail("%s: %s: shape %s is not a 3x3 kernel (3,3,cin,cout) "
                        "with 1 to %d output channels",
                        path, key, s, MAX_CHANNELS);
    }
    if (shape[2] != cin) {
        free(hwio);
        if (prev)
            return nst_fail("%s: %s: shape %s does not follow %s's %d output "
                            "channels",
                            path, key, s, prev, cin);
        return nst_fail("%s: %s: shape %s does not take the 3 channels of an "
                        "RGB image",
                        path, key, s);
    }
    const int cout = (int)shape[3];

    snprintf(key, sizeof key, "%s_b", L->name);
    float *bias = read_entry(z, path, key, needed_for, &ndim, shape);
    if (!bias) {
        free(hwio);
        return -1;
    }
    if (ndim != 1 || shape[0] != cout) {
        format_shape(s, sizeof s, ndim, shape);
        free(hwio);
        free(bias);
        return nst_fail("%s: %s: shape %s does not match %s_W's %d output "
                        "channels",
                        path, key, s, L->name, cout);
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
        return -1;
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

/* c*h*w floats, or 0 if their byte size overflows size_t. */
static size_t map_floats(int c, int h, int w)
{
    if ((size_t)w > SIZE_MAX / sizeof(float) / (size_t)c / (size_t)h)
        return 0;
    return (size_t)c * (size_t)h * (size_t)w;
}

int nst_vgg_acts_alloc(const nst_vgg *net, int h, int w, nst_vgg_acts *a)
{
    memset(a, 0, sizeof *a);
    if (h < 1 || w < 1)
        return nst_fail("image %dx%d: sides must be at least 1 pixel", w, h);
    a->in_h = h;
    a->in_w = w;

    size_t grad_n = map_floats(3, h, w), pooled_n = 0;
    int lh = h, lw = w, pools = 0;
    for (int l = 0; l < net->n && grad_n; l++) {
        const nst_vgg_layer *L = &net->layer[l];
        if (L->pool_before) {
            pools++;
            if (lh < 2 || lw < 2) {
                nst_vgg_acts_free(a);
                return nst_fail("image %dx%d is too small for %s: it follows "
                                "%d 2x2 pools, so each side must be at least "
                                "%d pixels",
                                w, h, L->name, pools, 1 << pools);
            }
            lh /= 2;
            lw /= 2;
            size_t n = map_floats(L->conv.cin, lh, lw);
            pooled_n = n > pooled_n ? n : pooled_n;
        }
        a->h[l] = lh;
        a->w[l] = lw;
        size_t n = map_floats(L->conv.cout, lh, lw);
        if (!n) {
            grad_n = 0;
            break;
        }
        grad_n = n > grad_n ? n : grad_n;
        a->f[l] = malloc(n * sizeof(float));
        if (!a->f[l]) {
            nst_vgg_acts_free(a);
            return nst_fail("image %dx%d: out of memory for %s's activations",
                            w, h, L->name);
        }
    }
    if (!grad_n) {
        nst_vgg_acts_free(a);
        return nst_fail("image %dx%d: activations too large to address", w,
                        h);
    }
    a->pooled = pooled_n ? malloc(pooled_n * sizeof(float)) : NULL;
    a->grad[0] = malloc(grad_n * sizeof(float));
    a->grad[1] = malloc(grad_n * sizeof(float));
    if ((pooled_n && !a->pooled) || !a->grad[0] || !a->grad[1]) {
        nst_vgg_acts_free(a);
        return nst_fail("image %dx%d: out of memory for gradient buffers", w,
                        h);
    }
    return 0;
}

void nst_vgg_acts_free(nst_vgg_acts *a)
{
    for (int l = 0; l < NST_VGG_MAX_LAYERS; l++)
        free(a->f[l]);
    free(a->pooled);
    free(a->grad[0]);
    free(a->grad[1]);
    memset(a, 0, sizeof *a);
}

void nst_vgg_forward(const nst_vgg *net, const float *x, int n_layers,
                     nst_vgg_acts *a)
{
    const nst_kernels *k = net->k;
    const float *in = x;
    int ih = a->in_h, iw = a->in_w;
    for (int l = 0; l < n_layers; l++) {
        const nst_vgg_layer *L = &net->layer[l];
        if (L->pool_before) {
            if (net->pool == NST_POOL_MAX)
                k->maxpool2x2(in, L->conv.cin, ih, iw, a->pooled);
            else
                k->avgpool2x2(in, L->conv.cin, ih, iw, a->pooled);
            in = a->pooled;
        }
        k->conv3x3_bias_relu(&L->conv, in, a->h[l], a->w[l], a->f[l]);
        in = a->f[l];
        ih = a->h[l];
        iw = a->w[l];
    }
}

void nst_vgg_backward_layer(const nst_vgg *net, nst_vgg_acts *a, int l,
                            float *g, float *out)
{
    const nst_kernels *k = net->k;
    const nst_vgg_layer *L = &net->layer[l];
    const int h = a->h[l], w = a->w[l];
    k->relu_backward(a->f[l], g, (size_t)L->conv.cout * h * w);
    if (!L->pool_before) {
        k->conv3x3_backward_data(&L->conv, g, h, w, out);
        return;
    }
    /* The pooled input is not needed any more: its buffer takes dL/d(pooled)
     * (a max pool finds its winners again in F_{l-1}). Layer 0 never has a
     * pool before it. */
    k->conv3x3_backward_data(&L->conv, g, h, w, a->pooled);
    if (net->pool == NST_POOL_MAX)
        k->maxpool2x2_backward(a->f[l - 1], a->pooled, L->conv.cin,
                               a->h[l - 1], a->w[l - 1], out);
    else
        k->avgpool2x2_backward(a->pooled, L->conv.cin, a->h[l - 1],
                               a->w[l - 1], out);
}
