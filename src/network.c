#include "network.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "layer_list.h"

/* The layers of list as indices into net, with their weights. */
static int find_layers(const nst_vgg *net, const nst_layer_list *list,
                       const char *option, int *idx, double *weight)
{
    for (int i = 0; i < list->n; i++) {
        if ((idx[i] = nst_vgg_find(net, list->name[i])) < 0)
            return -1;
        for (int j = 0; j < i; j++)
            if (idx[j] == idx[i])
                return nst_fail("%s: %s and %s are the same layer", option,
                                list->name[j], list->name[i]);
        weight[i] = list->weight[i];
    }
    return 0;
}

int nst_network_load(nst_network *net, const char *weights,
                     const char *content_layers, const char *style_layers,
                     nst_pool pool, const nst_kernels *k)
{
    nst_layer_list c, s;
    const char *names[2 * NST_VGG_MAX_LAYERS];
    if (nst_layer_list_parse(content_layers, "--content-layers", &c) != 0 ||
        nst_layer_list_parse(style_layers, "--style-layers", &s) != 0)
        return -1;
    for (int i = 0; i < c.n; i++)
        names[i] = c.name[i];
    for (int i = 0; i < s.n; i++)
        names[c.n + i] = s.name[i];
    if (nst_vgg_load(&net->vgg, weights, names, c.n + s.n, pool, k) != 0)
        return -1;
    net->n_content = c.n;
    net->n_style = s.n;
    if (find_layers(&net->vgg, &c, "--content-layers", net->content,
                    net->content_w) != 0 ||
        find_layers(&net->vgg, &s, "--style-layers", net->style,
                    net->style_w) != 0) {
        nst_vgg_free(&net->vgg);
        return -1;
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
