#include "layer_list.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* The entry at s (up to the next separator) into out->name and
 * out->weight at index out->n; returns its length, or -1. */
static int parse_entry(const char *s, const char *option, nst_layer_list *out)
{
    const size_t len = strcspn(s, ", ");
    const size_t name_len = strcspn(s, ":, ");
    if (name_len == 0)
        return nst_fail("%s: '%.*s' has no layer name", option, (int)len, s);
    if (name_len >= NST_LAYER_NAME_MAX)
        return nst_fail("%s: layer name '%.*s' is too long", option,
                        (int)name_len, s);
    char *name = out->name[out->n];
    memcpy(name, s, name_len);
    name[name_len] = '\0';
    double w = 1;
    if (name_len < len) { /* ":weight" */
        char num[64], *end;
        const size_t num_len = len - name_len - 1;
        if (num_len == 0 || num_len >= sizeof num)
            return nst_fail("%s: '%.*s' needs a weight after ':'", option,
                            (int)len, s);
        memcpy(num, s + name_len + 1, num_len);
        num[num_len] = '\0';
        errno = 0;
        w = strtod(num, &end);
        if (errno || *end || !isfinite(w) || w < 0)
            return nst_fail("%s: %s's weight '%s' is not a number >= 0",
                            option, name, num);
    }
    for (int i = 0; i < out->n; i++)
        if (strcmp(out->name[i], name) == 0)
            return nst_fail("%s: layer %s is listed twice", option, name);
    out->weight[out->n++] = w;
    return (int)len;
}

int nst_layer_list_parse(const char *s, const char *option,
                         nst_layer_list *out)
{
    out->n = 0;
    for (;;) {
        s += strspn(s, ", ");
        if (!*s)
            break;
        if (out->n == NST_VGG_MAX_LAYERS)
            return nst_fail("%s: more than %d layers", option,
                            NST_VGG_MAX_LAYERS);
        const int len = parse_entry(s, option, out);
        if (len < 0)
            return -1;
        s += len;
    }
    if (out->n == 0)
        return nst_fail("%s: no layer named", option);
    return 0;
}
