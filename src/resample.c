/* Separable resampling. Each axis gets, once per call, a list of weights
 * per output sample (computed in double, stored as float); then one pass
 * filters every row along x and another every column along y, through one
 * intermediate image. The column pass works on whole rows at a time and
 * vectorises, so it takes the taller image: when the height shrinks,
 * columns go first (intermediate in_w x out_h, smaller than the input);
 * otherwise rows go first (intermediate out_w x in_h, no larger than the
 * output). Every output value is a sum taken in the same order whatever
 * the thread count; threads split rows, never a sum. */
#include "resample.h"

#include "error.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Multiply-adds below which a pass stays on one thread: waking threads
 * costs more than a small image takes. */
#define PARALLEL_MIN_WORK 65536

/* Output sample j of an axis is sum_{k < count[j]} w[j*stride + k] *
 * in[first[j] + k]: the input samples a list covers are consecutive. */
typedef struct {
    int *first, *count;
    float *w;
    int stride;
} axis_filter;

/* The Catmull-Rom cubic: Keys' cubic convolution kernel with a = -1/2. */
static double catmull_rom(double x)
{
    x = fabs(x);
    if (x < 1)
        return (1.5 * x - 2.5) * x * x + 1;
    if (x < 2)
        return ((-0.5 * x + 2.5) * x - 4) * x + 2;
    return 0;
}

static void axis_free(axis_filter *f)
{
    free(f->first);
    free(f->count);
    free(f->w);
}

static int clamp_index(int i, int n)
{
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Weights taking n samples to m. Output j sits at u = (j + 0.5) n/m - 0.5;
 * input i gets k((i - u) / s) with s = max(1, n/m), so the kernel's
 * support |i - u| < 2s spans four input spacings when enlarging and four
 * output spacings when shrinking. Samples past either end are the edge
 * sample repeated: their weight is added to it. The weights are divided by
 * their sum, and zero weights at either end of a list dropped (an
 * unchanged size gives the single weight 1). -1 on out-of-memory, with
 * whatever was allocated left in f for axis_free. */
static int axis_init(axis_filter *f, int n, int m)
{
    const double scale = (double)n / m, s = scale > 1 ? scale : 1;
    const double radius = 2 * s, inv_s = 1 / s;
    /* At most floor(2 * radius) + 1 integers lie within radius of u (one
     * more for rounding), and clamping leaves at most n distinct ones. */
    const double span = floor(2 * radius) + 2;
    f->stride = span < n ? (int)span : n;
    f->first = malloc((size_t)m * sizeof *f->first);
    f->count = malloc((size_t)m * sizeof *f->count);
    f->w = malloc((size_t)m * (size_t)f->stride * sizeof *f->w);
    double *acc = malloc((size_t)f->stride * sizeof *acc);
    if (!f->first || !f->count || !f->w || !acc) {
        free(acc);
        return -1; /* the caller frees f */
    }
    for (int j = 0; j < m; j++) {
        const double u = (j + 0.5) * scale - 0.5;
        const int lo = (int)ceil(u - radius), hi = (int)floor(u + radius);
        int first = clamp_index(lo, n);
        int count = clamp_index(hi, n) - first + 1;
        assert(count >= 1 && count <= f->stride);
        for (int k = 0; k < count; k++)
            acc[k] = 0;
        double total = 0;
        for (int i = lo; i <= hi; i++) {
            const double k = catmull_rom((i - u) * inv_s);
            acc[clamp_index(i, n) - first] += k;
            total += k;
        }
        assert(total > 0); /* about s: the kernel's area is 1 */
        int skip = 0;
        while (count > 1 && acc[skip] == 0)
            skip++, count--;
        while (count > 1 && acc[skip + count - 1] == 0)
            count--;
        f->first[j] = first + skip;
        f->count[j] = count;
        for (int k = 0; k < count; k++)
            f->w[(size_t)j * f->stride + k] = (float)(acc[skip + k] / total);
    }
    free(acc);
    return 0;
}

/* Filters each of `rows` rows of n floats (in) to m floats (out). Rows
 * go four at a time: their sums are independent, so the processor overlaps
 * them instead of waiting for each addition in turn. Every sum still adds
 * its terms in list order. */
static void filter_rows(const axis_filter *f, const float *in, int n,
                        float *out, int m, long rows)
{
    const long blocks = (rows + 3) / 4;
    const double work = (double)rows * m * f->stride;
#pragma omp parallel for schedule(static) if (work >= PARALLEL_MIN_WORK)
    for (long b = 0; b < blocks; b++) {
        /* A short last block repeats its last row in the spare lanes. */
        const long r0 = 4 * b, last = rows - 1;
        const float *x0 = in + (size_t)r0 * n;
        const float *x1 = in + (size_t)(r0 + 1 < last ? r0 + 1 : last) * n;
        const float *x2 = in + (size_t)(r0 + 2 < last ? r0 + 2 : last) * n;
        const float *x3 = in + (size_t)(r0 + 3 < last ? r0 + 3 : last) * n;
        float *y0 = out + (size_t)r0 * m;
        for (int j = 0; j < m; j++) {
            const float *w = f->w + (size_t)j * f->stride;
            const int i = f->first[j];
            float s0 = w[0] * x0[i], s1 = w[0] * x1[i];
            float s2 = w[0] * x2[i], s3 = w[0] * x3[i];
            for (int k = 1; k < f->count[j]; k++) {
                s0 += w[k] * x0[i + k];
                s1 += w[k] * x1[i + k];
                s2 += w[k] * x2[i + k];
                s3 += w[k] * x3[i + k];
            }
            const float s[4] = { s0, s1, s2, s3 };
            for (long r = 0; r < 4 && r0 + r <= last; r++)
                y0[(size_t)r * m + j] = s[r];
        }
    }
}

/* y = a * x and y += a * x over a whole row. */
static void scale_row(float *restrict y, const float *restrict x, float a,
                      int width)
{
#pragma omp simd
    for (int i = 0; i < width; i++)
        y[i] = a * x[i];
}

static void add_scaled_row(float *restrict y, const float *restrict x,
                           float a, int width)
{
#pragma omp simd
    for (int i = 0; i < width; i++)
        y[i] += a * x[i];
}

/* Filters the columns of `planes` planes of n rows of `width` floats (in)
 * to m rows (out), a whole row at a time: output row j is the weighted
 * sum of its input rows, added in the order of its list. */
static void filter_columns(const axis_filter *f, const float *in, int n,
                           float *out, int m, int width, int planes)
{
    const long rows = (long)planes * m;
    const double work = (double)rows * width * f->stride;
#pragma omp parallel for schedule(static) if (work >= PARALLEL_MIN_WORK)
    for (long r = 0; r < rows; r++) {
        const int c = (int)(r / m), j = (int)(r % m);
        const float *w = f->w + (size_t)j * f->stride;
        const float *src = in + ((size_t)c * n + f->first[j]) * width;
        float *dst = out + (size_t)r * width;
        scale_row(dst, src, w[0], width);
        for (int k = 1; k < f->count[j]; k++)
            add_scaled_row(dst, src + (size_t)k * width, w[k], width);
    }
}

int nst_resample(const float *in, int in_w, int in_h, int channels,
                 float *out, int out_w, int out_h)
{
    if (in_w < 1 || in_h < 1 || out_w < 1 || out_h < 1 || channels < 1)
        return nst_fail("cannot resample %d channels of %dx%d to %dx%d",
                        channels, in_w, in_h, out_w, out_h);
    const int columns_first = out_h < in_h;
    const double tmp_n = (double)channels * (columns_first ? in_w : out_w) *
                         (columns_first ? out_h : in_h);
    if (tmp_n > (double)(SIZE_MAX / sizeof(float)))
        return nst_fail("cannot resample %d channels of %dx%d to %dx%d: "
                        "too large", channels, in_w, in_h, out_w, out_h);
    axis_filter fx = {0}, fy = {0};
    float *tmp = NULL;
    if (axis_init(&fx, in_w, out_w) != 0 || axis_init(&fy, in_h, out_h) != 0 ||
        !(tmp = malloc((size_t)tmp_n * sizeof *tmp))) {
        axis_free(&fx);
        axis_free(&fy);
        return nst_fail("out of memory resampling %dx%d to %dx%d", in_w, in_h,
                        out_w, out_h);
    }
    if (columns_first) {
        filter_columns(&fy, in, in_h, tmp, out_h, in_w, channels);
        filter_rows(&fx, tmp, in_w, out, out_w, (long)channels * out_h);
    } else {
        filter_rows(&fx, in, in_w, tmp, out_w, (long)channels * in_h);
        filter_columns(&fy, tmp, in_h, out, out_h, out_w, channels);
    }
    free(tmp);
    axis_free(&fx);
    axis_free(&fy);
    return 0;
}
