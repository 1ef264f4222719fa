#include "kctx.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

struct nst_kctx {
    const nst_kernels *k;
    int nthreads;
    float *scratch;
    size_t floats;
};

nst_kctx *nst_kctx_create(const nst_kernels *k, int nthreads)
{
    assert(k && nthreads >= 0);
#ifdef _OPENMP
    if (nthreads == 0)
        nthreads = omp_get_max_threads();
#else
    nthreads = 1;
#endif
    nst_kctx *ctx = calloc(1, sizeof *ctx);
    if (ctx) {
        ctx->k = k;
        ctx->nthreads = nthreads;
    }
    return ctx;
}

void nst_kctx_free(nst_kctx *ctx)
{
    if (ctx)
        free(ctx->scratch);
    free(ctx);
}

const nst_kernels *nst_kctx_kernels(const nst_kctx *ctx)
{
    return ctx->k;
}

int nst_kctx_threads(const nst_kctx *ctx)
{
    return ctx->nthreads;
}

float *nst_kctx_scratch(nst_kctx *ctx, size_t floats)
{
    if (floats > ctx->floats) {
        if (floats > (SIZE_MAX - 63) / sizeof(float))
            return NULL;
        /* aligned_alloc wants a multiple of the alignment. */
        float *p = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
        if (!p)
            return NULL;
        free(ctx->scratch);
        ctx->scratch = p;
        ctx->floats = floats;
    }
    return ctx->scratch;
}
