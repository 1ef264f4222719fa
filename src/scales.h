/* The coarse-to-fine schedule: the sizes (longest side, in pixels) at
 * which a transfer runs, from --start-size up to --size, and the
 * iterations at each. docs/math.md#coarse-to-fine-scales says why. */
#ifndef NST_SCALES_H
#define NST_SCALES_H

/* Most levels of a schedule: --start-size 1 up to the largest --size
 * doubles fewer times than this. */
enum { NST_MAX_LEVELS = 16 };

typedef struct nst_scales {
    int n;                      /* levels, 1 to NST_MAX_LEVELS */
    int size[NST_MAX_LEVELS];   /* longest side, increasing; the last is
                                   --size */
    int iters[NST_MAX_LEVELS];  /* evaluations after each level's start */
} nst_scales;

/* The levels from start to size: one level (size, iters) when start is 0
 * or at least size; else the fewest levels whose sizes grow by equal
 * ratios of at most 2 from start to size (start * 2^k when size is that,
 * e.g. 256, 512, 1024; 256, 423, 700 for 700), each rounded to whole
 * pixels. The first level runs start_iters iterations, the others iters.
 * Sizes and iterations must be positive, start >= 0. */
void nst_scales_plan(int size, int start, int iters, int start_iters,
                     nst_scales *s);

/* The iterations of every level together. */
long nst_scales_total_iters(const nst_scales *s);

#endif
