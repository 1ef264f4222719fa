#include "network.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

/* Splits a comma-separated list of layer names into names[] (pointing
 * into buf). */
static int split_names(const char *list, const char *option, char *buf,
                       size_t size, const char **names, int *n)
{
    if (snprintf(buf, size, "%s", list) >= (int)size)
        return nst_fail("%s: list too long", option);
    *n = 0;
    for (char *save, *tok = strtok_r(buf, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        if (*n == NST_VGG_MAX_LAYERS)
            return nst_fail("%s: more than %d layers", option,
                            NST_VGG_MAX_LAYERS);
        names[(*n)++] = tok;
    }
    if (*n == 0)
        return nst_fail("%s: no layer named", option);
    return 0;
}

int nst_network_load(nst_network *net, const char *weights,
                     const char *content_layers, const char *style_layers,
                     nst_pool pool, const nst_kernels *k)
{
    char cbuf[512], sbuf[512];
    const char *names[2 * NST_VGG_MAX_LAYERS];
    if (split_names(content_layers, "--content-layers", cbuf, sizeof cbuf,
                    names, &net->n_content) != 0 ||
        split_names(style_layers, "--style-layers", sbuf, sizeof sbuf,
                    names + net->n_content, &net->n_style) != 0)
        return -1;
    const int n_names = net->n_content + net->n_style;
    if (nst_vgg_load(&net->vgg, weights, names, n_names, pool, k) != 0)
        return -1;
    for (int i = 0; i < n_names; i++) {
        int idx = nst_vgg_find(&net->vgg, names[i]);
        if (idx < 0) {
            nst_vgg_free(&net->vgg);
            return -1;
        }
        if (i < net->n_content)
            net->content[i] = idx;
        else
            net->style[i - net->n_content] = idx;
    }
    return 0;
}

void nst_network_free(nst_network *net)
{
    nst_vgg_free(&net->vgg);
}

/* The activations' plan makes exactly the size checks a run meets; the
 * block is allocated but never touched, so this costs no memory traffic. */
int nst_network_fits(const nst_network *net, int w, int h)
{
    nst_vgg_acts acts;
    if (nst_vgg_acts_alloc(&net->vgg, h, w, &acts) != 0)
        return -1;
    nst_vgg_acts_free(&acts);
    return 0;
}
