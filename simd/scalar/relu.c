/* The ReLU backward pass, in plain C: the gradient passes where the
 * output is positive. */
#include <assert.h>

#include "scalar.h"

void nst_f32_relu_backward__scalar(const float *y, float *dy, size_t n)
{
    assert(y && dy);
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++)
        dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
