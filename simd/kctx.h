/* The kernel context: what the kernels of one caller keep between calls.
 * It holds the kernel table, the thread count the kernels run with and one
 * scratch area (Winograd tiles, packed Gram slices) that a kernel borrows
 * for the length of a call. The caller owns it: one context per thread of
 * work (e.g. per style transfer), used by one thread at a time, so two
 * contexts never share a buffer and their kernels can run side by side. */
#ifndef NST_KCTX_H
#define NST_KCTX_H

#include <stddef.h>

#include "simd.h"

/* For the kernel table k and nthreads threads (0: the calling thread's
 * OpenMP thread count, omp_get_max_threads()). NULL if memory runs out. */
nst_kctx *nst_kctx_create(const nst_kernels *k, int nthreads);

void nst_kctx_free(nst_kctx *ctx);

const nst_kernels *nst_kctx_kernels(const nst_kctx *ctx);

/* The team size of every parallel region of the context's kernels (1 in a
 * build without OpenMP). */
int nst_kctx_threads(const nst_kctx *ctx);

/* The scratch area, 64-byte aligned, grown to at least `floats` floats if
 * it is smaller (the old contents are then lost); NULL if memory runs out,
 * the area being unchanged. Kernels only: valid until the next call. */
float *nst_kctx_scratch(nst_kctx *ctx, size_t floats);

#endif
