#include "finite.h"

#include <math.h>

size_t nst_first_non_finite(const float *a, size_t n)
{
    size_t i = 0;
    while (i < n && isfinite(a[i]))
        i++;
    return i;
}

int nst_all_finite(const float *a, size_t n)
{
    return nst_first_non_finite(a, n) == n;
}
