/* The ISA-neutral drivers of the SIMD Gram kernels: the blocking, the
 * packing loops, the thread split and the use of the kernel context's
 * workspace, around an ISA's micro-kernels, which are called per panel and
 * per tile (each tile does kn * mr * nr FMAs, so the indirect call costs
 * nothing measurable).
 *
 * Gram, G = scale * F F^T (a SYRK): each thread packs, into its own part
 * of the context's workspace, a slice of F's columns (the rows it reads,
 * kc columns, a multiple of kk filling half the context's L2 size) into
 * panels of `panel` rows,
 * column-major inside a panel:
 * panel[k][r] = F[panel p + r][k0 + k]. G's upper triangle is cut into
 * column blocks of nr columns, each needing the tiles of mr rows that reach
 * the triangle, and each thread takes consecutive blocks holding an even
 * share of those tiles. The tiles sum at most kk columns in float per call,
 * then add that to G; the lower triangle is mirrored from the upper one at
 * the end, so G is exactly symmetric. Only the columns of G are split
 * between threads, never the sum over k, so G is byte-identical for any
 * thread count.
 *
 * Backward, dF += scale * D F (a GEMM): threads split F's columns into
 * chunks of nc; a chunk's rows [k0, k0 + kc) are packed into panels of nr
 * columns (B). The A operand, mr rows of D, needs no packing: D is
 * symmetric, so D[i0 + r][k] is D[k][i0 + r], mr consecutive floats of
 * D's row k (only the last rows, fewer than mr, are copied and padded).
 * The micro-kernel sums D[i][k] F[k][n] over the kc rows in float before
 * adding scale times that sum to dF. The order of every sum is fixed by
 * the blocking alone. */
#ifndef NST_GRAM_DRIVER_H
#define NST_GRAM_DRIVER_H

#include <stddef.h>

#include "simd.h"

typedef struct nst__gram_ukernel {
    int mr;    /* rows of a G tile */
    int nr;    /* columns of a G tile */
    int panel; /* rows of F per packed panel; mr is a multiple of it or it
                  of mr */
    int vw;    /* columns of G per column vector of a tile */
    int kk;    /* columns of F per micro-kernel call */
    /* Packs rows [r0, r0 + panel) of F, columns [k0, k0 + kc), into
     * dst[k][panel] (aligned to 64 bytes); rows at or past c are zeros. */
    void (*pack)(const float *f, int c, size_t m, int r0, size_t k0, int kc,
                 float *dst);
    /* t[r][x] = sum over kn columns of F[i + r] F[j + x] for r < mr and
     * x < vw nv, where a and b point at rows i and j (j a multiple of vw)
     * of the packed slice, whose panels lie ps floats apart, at the first
     * of those columns; t is overwritten when first, otherwise added to. */
    void (*kernel)(const float *a, const float *b, size_t ps, int kn,
                   float *t, size_t ldt, int first, int nv);
} nst__gram_ukernel;

typedef struct nst__gemm_ukernel {
    int mr; /* rows of dF per tile */
    int nr; /* columns of dF per tile */
    int kc; /* rows of F per packed block, at most NST__GEMM_MAX_KC */
    int nc; /* columns of F per chunk, at most NST__GEMM_MAX_NC */
    /* t[r][0..nr) += scale * sum over k < kn of a[k lda + r] b[k nr ..],
     * for r < mr; b is aligned to 64 bytes, t has row stride ldt. */
    void (*gemm)(const float *a, size_t lda, const float *b, int kn,
                 float scale, float *t, size_t ldt);
} nst__gemm_ukernel;

enum {
    NST__GRAM_MAX_TILE = 96, /* mr * nr */
    NST__GEMM_MAX_MR = 8,
    NST__GEMM_MAX_NR = 16,
    NST__GEMM_MAX_KC = 256,
    NST__GEMM_MAX_NC = 64,
};

/* G = scale * F F^T for F c x m, with the micro-kernels of uk and the
 * workspace and threads of ctx. 0, or -1 (G untouched) if the workspace
 * cannot grow. */
int nst__gram_run(nst_kctx *ctx, const nst__gram_ukernel *uk, const float *f,
                  int c, int m, float scale, float *g);

/* dF += scale * D F for D c x c and F, dF c x m, with the micro-kernel of
 * uk and the threads of ctx (the packed blocks are on each thread's
 * stack). */
void nst__gram_backward_run(nst_kctx *ctx, const nst__gemm_ukernel *uk,
                            const float *d, const float *f, int c, int m,
                            float scale, float *df);

#endif
