/* Finding the VGG weights file when --weights is not given. */
#ifndef NST_WEIGHTS_PATH_H
#define NST_WEIGHTS_PATH_H

#include <stddef.h>

/* Where the weights are: given (from --weights) if not NULL, else
 * $NST_WEIGHTS, else the first .npz in vgg/, else the first in
 * ../shared/vgg/ (folders relative to the current one). The path is given,
 * the environment's, or written to buf; NULL if none is found. */
const char *nst_find_weights(const char *given, char *buf, size_t size);

#endif
