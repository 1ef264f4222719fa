/* Whether numbers are usable: a NaN or infinity in weights, a loss or a
 * gradient would otherwise run on silently and give a black image. */
#ifndef NST_FINITE_H
#define NST_FINITE_H

#include <stddef.h>

/* n if a[0..n) are all finite, else the index of the first NaN or
 * infinity. */
size_t nst_first_non_finite(const float *a, size_t n);

/* 1 if a[0..n) are all finite, else 0. */
int nst_all_finite(const float *a, size_t n);

#endif
