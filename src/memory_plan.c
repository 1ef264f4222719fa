#include "memory_plan.h"

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "error.h"
#include "image.h"

#define MIB ((size_t)1 << 20)

/* The program itself: code, libraries, thread stacks, the decoding of
 * input files of common sizes and the encoding of the result (measured:
 * docs/benchmarks.md). */
#define PROGRAM_BYTES (96 * MIB)

/* A kernel context's workspace per thread: the Winograd blocks
 * (simd/avx2/conv3x3.c, V_FLOATS plus its outputs) or the Gram slices
 * (simd/gram_driver.c, SLICE_FLOATS), whichever is larger, with room. */
#define WORKSPACE_BYTES_PER_THREAD (4 * MIB)

/* stb_image's working memory while it decodes, at most this many bytes a
 * pixel besides the file: a 16-bit RGBA PNG holds its inflated rows and
 * the decoded image at once (8 bytes a pixel each), a progressive JPEG of
 * 4 components a byte and a 2-byte coefficient per sample and 3 bytes of
 * output (15), a BMP or TGA its 4-byte pixels and their 3-byte
 * conversion (7). */
#define DECODE_BYTES_PER_PIXEL 16

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

/* bytes as a size_t, SIZE_MAX when it does not fit (32-bit size_t). */
static size_t saturate(uint64_t bytes)
{
    return bytes < SIZE_MAX ? (size_t)bytes : SIZE_MAX;
}

/* The caller's pictures as given, and the images as floats: the content
 * (the generated image takes its place) and the styles, which live until
 * the objective is made. */
static size_t picture_bytes(const nst_memory_job *job)
{
    uint64_t n = (uint64_t)3 * job->h * job->w;
    for (int s = 0; s < job->n_styles; s++)
        n += (uint64_t)3 * job->styles[s].h * job->styles[s].w;
    return saturate(job->inputs + n * sizeof(float));
}

/* Adam: the gradient and two moments per value. L-BFGS: M pairs of
 * vectors, the box bounds (twice), the gradient, the trial point and its
 * gradient and the direction, a double and a byte per value. */
static size_t optimiser_bytes(const nst_memory_job *job)
{
    const uint64_t n = (uint64_t)3 * job->h * job->w;
    if (job->optimizer == NST_OPTIMIZER_ADAM)
        return saturate(3 * n * sizeof(float));
    return saturate(n * ((uint64_t)(2 * job->lbfgs_history + 8) *
                             sizeof(float) +
                         sizeof(double) + 1));
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
                   : saturate((uint64_t)p->weights + p->pictures +
                              p->optimiser + p->objective + p->workspace +
                              p->program);
}

static int mib_up(uint64_t bytes)
{
    return (int)((bytes + MIB - 1) / MIB);
}

/* budget_mib in bytes; where size_t has 32 bits, 4096 MiB is more than it
 * counts. */
static size_t budget_bytes(int budget_mib)
{
    return saturate((uint64_t)budget_mib * MIB);
}

/* -1 with a failure reason when the weights and the program alone exceed
 * the budget. */
static int weights_fit(const nst_vgg *net, int budget_mib)
{
    const uint64_t need = (uint64_t)weight_bytes(net) + PROGRAM_BYTES;
    if (need > budget_bytes(budget_mib))
        return nst_fail("the network's weights alone need %d MiB, more than "
                        "--max-memory %d",
                        mib_up(need), budget_mib);
    return 0;
}

/* Whether job fits budget bytes, whole or in the largest tiles that fit
 * (forced_tile > 0: in tiles of that side); p is the last plan tried. */
static int plan_fits(const nst_memory_job *job, size_t budget,
                     int forced_tile, nst_memory_plan *p)
{
    plan_with(job, forced_tile > 0 ? forced_tile : 0, p);
    if (p->total <= budget || forced_tile > 0)
        return p->total <= budget;
    const int n = (int)(sizeof tile_sides / sizeof *tile_sides);
    for (int i = 0; i < n; i++) {
        plan_with(job, tile_sides[i], p);
        if (p->total <= budget)
            return 1;
    }
    return 0;
}

/* What would let an L-BFGS run that does not fit: into hint, the largest
 * shorter history that fits, else Adam if it fits, else nothing. */
static void optimiser_hint(const nst_memory_job *job, size_t budget,
                           int forced_tile, char *hint, size_t size)
{
    hint[0] = 0;
    if (job->optimizer != NST_OPTIMIZER_LBFGS)
        return;
    nst_memory_job other = *job;
    nst_memory_plan q;
    const int pairs_mib = mib_up((uint64_t)2 * job->lbfgs_history * 3 *
                                 job->h * job->w * sizeof(float));
    for (int m = job->lbfgs_history - 1; m >= 1; m--) {
        other.lbfgs_history = m;
        if (plan_fits(&other, budget, forced_tile, &q)) {
            snprintf(hint, size,
                     "; L-BFGS's %d pairs take %d MiB of it: "
                     "--lbfgs-history %d fits, or --optimizer adam",
                     job->lbfgs_history, pairs_mib, m);
            return;
        }
    }
    other.optimizer = NST_OPTIMIZER_ADAM;
    if (plan_fits(&other, budget, forced_tile, &q))
        snprintf(hint, size,
                 "; L-BFGS's %d pairs take %d MiB of it: "
                 "--optimizer adam fits",
                 job->lbfgs_history, pairs_mib);
}

int nst_memory_plan_make(const nst_memory_job *job, int budget_mib,
                         int forced_tile, nst_memory_plan *p)
{
    const size_t budget = budget_bytes(budget_mib);
    plan_with(job, 0, p);
    if (weights_fit(job->net, budget_mib) != 0)
        return -1;
    if (plan_fits(job, budget, forced_tile, p))
        return 0;
    if (p->total == SIZE_MAX)
        return nst_fail("a %dx%d image is too large to address", job->w,
                        job->h);
    char hint[160];
    optimiser_hint(job, budget, forced_tile, hint, sizeof hint);
    return nst_fail("a %dx%d run needs at least %d MiB (tiles of %d pixels), "
                    "more than --max-memory %d%s",
                    job->w, job->h, mib_up(p->total), p->tile, budget_mib,
                    hint);
}

/* The run's --max-memory in MiB. */
static int run_budget_mib(const nst_options *o)
{
    return o->max_memory ? o->max_memory : nst_memory_default_mib();
}

int nst_memory_plan_fits(const nst_options *o, const nst_vgg *net,
                         const nst_objective_spec *spec, int h, int w,
                         const nst_style_target *styles, int n_styles,
                         uint64_t inputs, nst_memory_plan *p)
{
    const nst_memory_job job = {net, spec, h, w, styles, n_styles,
                                o->optimizer, o->lbfgs_history, inputs};
    return nst_memory_plan_make(&job, run_budget_mib(o), o->tile, p);
}

int nst_memory_plan_run(const nst_options *o, const nst_vgg *net,
                        const nst_objective_spec *spec, int h, int w,
                        const nst_style_target *styles, int n_styles,
                        uint64_t inputs, int *tile)
{
    nst_memory_plan p;
    if (nst_memory_plan_fits(o, net, spec, h, w, styles, n_styles, inputs,
                             &p) != 0)
        return -1;
    *tile = p.tile;
    if (!o->quiet) {
        char how[64] = "whole image";
        if (p.tile)
            snprintf(how, sizeof how, "tiles of %d px", p.tile);
        fprintf(stderr, "memory: %d MiB planned of %d (%s)\n",
                mib_up(p.total), run_budget_mib(o), how);
    }
    return 0;
}

uint64_t nst_memory_decode_bytes(int w, int h, uint64_t file_bytes,
                                 int longest)
{
    /* Every allocation of a load is counted as if none were given back:
     * the allocator may keep what stb_image freed (measured: a 16-bit RGBA
     * PNG's load peaks at 21 bytes a pixel, where no more than 16 are ever
     * in use at once). The file, and stb_image's peak (which holds a copy
     * of a PNG's compressed stream, at most the file); the float picture;
     * sized (nst_image_fit), the sized picture and, unless the size is
     * kept (a copy), resample.c's intermediate image, at most the larger
     * of w x fh and fw x h. */
    const uint64_t px = (uint64_t)w * (uint64_t)h;
    const uint64_t decode =
        2 * file_bytes + (DECODE_BYTES_PER_PIXEL + 3 * sizeof(float)) * px;
    if (longest <= 0)
        return decode;
    int fw, fh;
    nst_image_fit_size(w, h, longest, &fw, &fh);
    const uint64_t wide = (uint64_t)w * (uint64_t)fh,
                   tall = (uint64_t)fw * (uint64_t)h,
                   mid = fw == w && fh == h ? 0 : wide > tall ? wide : tall;
    return decode + 3 * sizeof(float) * ((uint64_t)fw * (uint64_t)fh + mid);
}

int nst_memory_plan_decode(const nst_options *o, const nst_vgg *net,
                           const char *path, int w, int h,
                           uint64_t file_bytes, int longest, uint64_t held)
{
    const int budget = run_budget_mib(o);
    if (weights_fit(net, budget) != 0)
        return -1;
    const uint64_t need = (uint64_t)weight_bytes(net) + PROGRAM_BYTES + held +
                          nst_memory_decode_bytes(w, h, file_bytes, longest);
    if (need <= budget_bytes(budget))
        return 0;
    return nst_fail("%s: its %dx%d pixels need %d MiB to decode beside the "
                    "weights%s, more than --max-memory %d",
                    path, w, h, mib_up(need),
                    held ? " and the pictures loaded before it" : "", budget);
}
