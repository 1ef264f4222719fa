#include "memory_plan.h"

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "error.h"

#define MIB ((size_t)1 << 20)

/* The program itself: code, libraries, thread stacks, the decoding of the
 * input files and the encoding of the result (measured:
 * docs/benchmarks.md). */
#define PROGRAM_BYTES (96 * MIB)

/* A kernel context's workspace per thread: the Winograd blocks
 * (simd/avx2/conv3x3.c, V_FLOATS plus its outputs) or the Gram slices
 * (simd/gram_driver.c, SLICE_FLOATS), whichever is larger, with room. */
#define WORKSPACE_BYTES_PER_THREAD (4 * MIB)

/* Tile sides tried, largest first, when the whole image does not fit. */
static const int tile_sides[] = {2048, 1024, 768, 512, 384, 256, 192, 128, 96,
                                 64};

int nst_memory_default_mib(void)
{
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
        return 4096;
    const double mib = (double)pages * (double)page / 2 / (double)MIB;
    return mib < 4096 ? (int)mib : 4096;
}

/* The weights and the kernels' packed copies of them: the Winograd
 * kernels keep two transformed copies of 36 values per 9 (8 times the
 * weights), the most any kernel set keeps. */
static size_t weight_bytes(const nst_vgg *net)
{
    size_t n = 0;
    for (int l = 0; l < net->n; l++) {
        const size_t cc = (size_t)net->layer[l].conv.cin *
                          (size_t)net->layer[l].conv.cout;
        n += cc * (9 + 72) + (size_t)net->layer[l].conv.cout;
    }
    return n * sizeof(float);
}

/* The images as floats: the content (the generated image takes its place)
 * and the styles, which live until the objective is made. */
static size_t picture_bytes(const nst_memory_job *job)
{
    size_t n = (size_t)3 * job->h * job->w;
    for (int s = 0; s < job->n_styles; s++)
        n += (size_t)3 * job->styles[s].h * job->styles[s].w;
    return n * sizeof(float);
}

/* Adam: the gradient and two moments per value. L-BFGS: M pairs of
 * vectors, the box bounds (twice), the gradient, the trial point and its
 * gradient and the direction, a double and a byte per value. */
static size_t optimiser_bytes(const nst_memory_job *job)
{
    const size_t n = (size_t)3 * job->h * job->w;
    if (job->optimizer == NST_OPTIMIZER_ADAM)
        return 3 * n * sizeof(float);
    return n * ((size_t)(2 * job->lbfgs_history + 8) * sizeof(float) +
                sizeof(double) + 1);
}

static void plan_with(const nst_memory_job *job, int tile, nst_memory_plan *p)
{
    p->tile = tile;
    p->weights = weight_bytes(job->net);
    p->pictures = picture_bytes(job);
    p->optimiser = optimiser_bytes(job);
    p->objective = nst_objective_bytes(job->net, job->spec, tile, job->h,
                                       job->w, job->styles, job->n_styles);
#ifdef _OPENMP
    p->workspace = (size_t)omp_get_max_threads() * WORKSPACE_BYTES_PER_THREAD;
#else
    p->workspace = WORKSPACE_BYTES_PER_THREAD;
#endif
    p->program = PROGRAM_BYTES;
    p->total = p->objective == SIZE_MAX
                   ? SIZE_MAX
                   : p->weights + p->pictures + p->optimiser + p->objective +
                         p->workspace + p->program;
}

static int mib_up(size_t bytes)
{
    return (int)((bytes + MIB - 1) / MIB);
}

int nst_memory_plan_make(const nst_memory_job *job, int budget_mib,
                         int forced_tile, nst_memory_plan *p)
{
    /* Where size_t has 32 bits, 4096 MiB is more than it counts. */
    const double want = (double)budget_mib * (double)MIB;
    const size_t budget = want < (double)SIZE_MAX ? (size_t)want : SIZE_MAX;
    plan_with(job, 0, p);
    if (p->weights + p->program > budget)
        return nst_fail("the network's weights alone need %d MiB, more than "
                        "--max-memory %d",
                        mib_up(p->weights + p->program), budget_mib);
    if (forced_tile > 0) {
        plan_with(job, forced_tile, p);
        if (p->total <= budget)
            return 0;
    } else {
        if (p->total <= budget)
            return 0;
        const int n = (int)(sizeof tile_sides / sizeof *tile_sides);
        for (int i = 0; i < n; i++) {
            plan_with(job, tile_sides[i], p);
            if (p->total <= budget)
                return 0;
        }
    }
    if (p->total == SIZE_MAX)
        return nst_fail("a %dx%d image is too large to address", job->w,
                        job->h);
    return nst_fail("a %dx%d run needs at least %d MiB (tiles of %d pixels), "
                    "more than --max-memory %d",
                    job->w, job->h, mib_up(p->total), p->tile, budget_mib);
}

int nst_memory_plan_run(const nst_options *o, const nst_vgg *net,
                        const nst_objective_spec *spec, int h, int w,
                        const nst_style_target *styles, int n_styles,
                        int *tile)
{
    const nst_memory_job job = {net, spec, h, w, styles, n_styles,
                                o->optimizer, o->lbfgs_history};
    const int budget = o->max_memory ? o->max_memory : nst_memory_default_mib();
    nst_memory_plan p;
    if (nst_memory_plan_make(&job, budget, o->tile, &p) != 0)
        return -1;
    *tile = p.tile;
    if (!o->quiet) {
        char how[64] = "whole image";
        if (p.tile)
            snprintf(how, sizeof how, "tiles of %d px", p.tile);
        fprintf(stderr, "memory: %d MiB planned of %d (%s)\n",
                mib_up(p.total), budget, how);
    }
    return 0;
}
