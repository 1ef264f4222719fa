/* The allowed values of the numeric settings, shared by the command line
 * (cli.c) and the library's check of nst_options (options_check.c). */
#ifndef NST_OPTION_LIMITS_H
#define NST_OPTION_LIMITS_H

#define NST_ITERS_MAX 1000000
#define NST_SIZE_MIN 16
#define NST_SIZE_MAX 4096
#define NST_LR_MIN 1e-9
#define NST_LR_MAX 1e6
#define NST_LOSS_WEIGHT_MAX 1e30 /* content, style and tv weights */
#define NST_STYLE_BLEND_MAX 1e30
#define NST_STYLE_SCALE_MIN 0.01
#define NST_STYLE_SCALE_MAX 100
#define NST_MAX_MEMORY_MAX (1 << 30) /* MiB */
#define NST_TILE_MAX 16384

#endif
