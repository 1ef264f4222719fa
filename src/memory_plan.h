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

#include "nst.h"
#include "objective.h"

/* What the plan is made for: the objective's network, spec, size and
 * styles (images may be NULL: only sizes, weights and masks' presence are
 * read) and the optimiser. */
typedef struct nst_memory_job {
    const nst_vgg *net;
    const nst_objective_spec *spec;
    int h, w;
    const nst_style_target *styles;
    int n_styles;
    nst_optimizer optimizer;
    int lbfgs_history;
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

/* The plan for a run with options o (--max-memory, --tile,
 * the optimiser), written as one line to stderr unless --quiet; its tile
 * size in *tile. -1 with a failure reason when the run cannot fit. */
int nst_memory_plan_run(const nst_options *o, const nst_vgg *net,
                        const nst_objective_spec *spec, int h, int w,
                        const nst_style_target *styles, int n_styles,
                        int *tile);

#endif
