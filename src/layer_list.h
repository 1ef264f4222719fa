/* A list of layers with weights as the options give it:
 * "relu1_1:0.2,relu2_1,relu3_1:3" (commas or spaces between entries; a name
 * without ":w" has weight 1). */
#ifndef NST_LAYER_LIST_H
#define NST_LAYER_LIST_H

#include "vgg.h"

enum { NST_LAYER_NAME_MAX = 32 };

typedef struct nst_layer_list {
    int n;
    char name[NST_VGG_MAX_LAYERS][NST_LAYER_NAME_MAX];
    double weight[NST_VGG_MAX_LAYERS];
} nst_layer_list;

/* Parses s into out. 0, or -1 with a failure reason that starts with
 * option ("--style-layers"): no layer, too many, a name too long, a weight
 * that is not a finite number >= 0, or a name given twice. Whether the
 * names exist is for the network to say. */
int nst_layer_list_parse(const char *s, const char *option,
                         nst_layer_list *out);

#endif
