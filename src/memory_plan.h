/* The memory a run needs, planned before it starts: the weights, the
 * pictures, the optimiser's state, the objective (targets, masks, Gram
 * matrices and the activations of the whole image or of the largest
 * tile's window), the kernels' workspaces and a fixed allowance for the
 * program itself. When the whole image does not fit the budget, the
 * largest tiling that does is chosen (docs/architecture.md, "The memory
 * plan"). */
#ifndef NST_MEMORY_PLAN_H
#define NST_MEMORY_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "nst.h"
#include "objective.h"

/* What the plan is made for: the objective's network, spec, size and
 * styles (images may be NULL: only sizes, weights and masks' presence are
 * read), the optimiser, and the bytes of the caller's pictures that stay
 * alive through the run (the transfer's inputs as given). */
typedef struct nst_memory_job {
    const nst_vgg *net;
    const nst_objective_spec *spec;
    int h, w;
    const nst_style_target *styles;
    int n_styles;
    nst_optimizer optimizer;
    int lbfgs_history;
    uint64_t inputs;
} nst_memory_job;

typedef struct nst_memory_plan {
    size_t weights, pictures, optimiser, objective, workspace, program;
    size_t total;
    int tile; /* 0: the whole image at once */
} nst_memory_plan;

/* The default --max-memory: half the physical memory, at most 4096 MiB. */
int nst_memory_default_mib(void);

/* The plan of job within budget_mib, for the calling thread's OpenMP
 * thread count: whole image if it fits, else the
 * largest tiling that fits; forced_tile > 0 (--tile) takes tiles of at
 * most that many pixels. -1 with a failure reason saying how much the run
 * needs when nothing fits. */
int nst_memory_plan_make(const nst_memory_job *job, int budget_mib,
                         int forced_tile, nst_memory_plan *p);

/* The plan for a run with options o (--max-memory, --tile, the
 * optimiser) holding inputs bytes of given pictures, in *p. -1 with a
 * failure reason when the run cannot fit. */
int nst_memory_plan_fits(const nst_options *o, const nst_vgg *net,
                         const nst_objective_spec *spec, int h, int w,
                         const nst_style_target *styles, int n_styles,
                         uint64_t inputs, nst_memory_plan *p);

/* That plan, written as one line to stderr unless --quiet; its tile size
 * in *tile. */
int nst_memory_plan_run(const nst_options *o, const nst_vgg *net,
                        const nst_objective_spec *spec, int h, int w,
                        const nst_style_target *styles, int n_styles,
                        uint64_t inputs, int *tile);

/* The most memory loading an image file can hold, freed memory the
 * allocator keeps included: a w x h image in a file of file_bytes, decoded
 * (image.c) and, when longest > 0, sized so its longer side is longest
 * (nst_image_fit). */
uint64_t nst_memory_decode_bytes(int w, int h, uint64_t file_bytes,
                                 int longest);

/* Whether loading that image (path) fits the budget of a run with options
 * o beside net's weights, the program and `held` bytes of pictures the
 * run already holds: checked from the file's header, before it is
 * decoded. -1 with a one-line failure reason naming path, its size and
 * the MiB it needs against --max-memory. */
int nst_memory_plan_decode(const nst_options *o, const nst_vgg *net,
                           const char *path, int w, int h,
                           uint64_t file_bytes, int longest, uint64_t held);

#endif
