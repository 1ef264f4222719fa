#include "kctx.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"

struct nst_kctx {
    const nst_kernels *k;
    int nthreads;
    float *scratch;
    size_t floats;
    size_t l2; /* bytes */
};

/* bytes held within the range the kernels block for; 0 is the CPU's L2
 * size, or the default. */
static size_t l2_size(size_t bytes)
{
    const size_t n = bytes ? bytes : nst_cpu_l2_bytes();
    return !n                    ? NST_KCTX_L2_DEFAULT
           : n < NST_KCTX_L2_MIN ? NST_KCTX_L2_MIN
           : n > NST_KCTX_L2_MAX ? NST_KCTX_L2_MAX
                                 : n;
}

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
        ctx->l2 = l2_size(0);
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

size_t nst_kctx_l2_bytes(const nst_kctx *ctx)
{
    return ctx->l2;
}

void nst_kctx_set_l2_bytes(nst_kctx *ctx, size_t bytes)
{
    ctx->l2 = l2_size(bytes);
}
