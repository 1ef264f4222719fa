/* nst_run's two modes. Each first checks its outputs (output_guard.c:
 * none may be an input or another output; single mode also probes that
 * they can be written), then loads the network and the images, then
 * works. Both return as nst_run does. */
#ifndef NST_RUN_H
#define NST_RUN_H

#include "nst.h"
#include "simd.h"

/* --content and --style to --out. */
int nst_run_single(const nst_options *o, const nst_kernels *k);

/* Every content_* with every style_* image of --data, pair i to
 * --out/gen_i/. Every image is loaded and sized before any pair runs; a
 * pair with an image that fails is reported and skipped, and a pair that
 * fails while running is reported; the others still run. -1 if any pair
 * failed, with a reason counting them. */
int nst_run_batch(const nst_options *o, const nst_kernels *k);

#endif
