#include "scales.h"

#include <assert.h>
#include <math.h>

void nst_scales_plan(int size, int start, int iters, int start_iters,
                     nst_scales *s)
{
    assert(size > 0 && start >= 0 && iters >= 0 && start_iters >= 0);
    if (start == 0 || start >= size) {
        *s = (nst_scales){.n = 1, .size = {size}, .iters = {iters}};
        return;
    }
    /* Steps: the least n with start * 2^n >= size, counted exactly. */
    int steps = 0;
    while ((long long)start << steps < size)
        steps++;
    assert(steps < NST_MAX_LEVELS);
    /* Level k is start * r^k with r = (size / start)^(1/steps) <= 2; the
     * rounding makes r = 2 give start * 2^k exactly. */
    const double log_ratio = log((double)size / start);
    s->n = steps + 1;
    for (int k = 0; k <= steps; k++) {
        s->size[k] = k == steps ? size
                                : (int)lround(start * exp(log_ratio * k /
                                                          steps));
        s->iters[k] = k == 0 ? start_iters : iters;
    }
}

long nst_scales_total_iters(const nst_scales *s)
{
    long total = 0;
    for (int k = 0; k < s->n; k++)
        total += s->iters[k];
    return total;
}
