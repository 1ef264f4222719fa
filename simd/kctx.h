/* The kernel context: what the kernels of one caller keep between calls.
 * It holds the kernel table, the thread count the kernels run with and one
 * scratch area (Winograd tiles, packed Gram slices) that a kernel borrows
 * for the length of a call, and the L2 cache size that the kernels' blocks
 * are sized for. The caller owns it: one context per thread of
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

/* The bytes of one core's L2 cache that the kernels size their blocks
 * for: what the CPU reports (nst_cpu_l2_bytes), or NST_KCTX_L2_DEFAULT if
 * it reports nothing, held within [NST_KCTX_L2_MIN, NST_KCTX_L2_MAX] (the
 * workspace grows with it). Block sizes never change results: the kernels
 * give the same bytes for any L2 size. */
enum {
    NST_KCTX_L2_DEFAULT = 1 << 20,
    NST_KCTX_L2_MIN = 1 << 15,
    NST_KCTX_L2_MAX = 1 << 24,
};
size_t nst_kctx_l2_bytes(const nst_kctx *ctx);

/* Makes the kernels block for an L2 cache of `bytes` (0: the CPU's again);
 * for tests and measurements. */
void nst_kctx_set_l2_bytes(nst_kctx *ctx, size_t bytes);

#endif
