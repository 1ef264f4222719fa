#include "ref.h"

#include <math.h>

void ref_widen(const float *a, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i];
}

/* Element (r, j) of an h x w map, zero outside it. */
static double at(const double *map, int h, int w, int r, int j)
{
    if (r < 0 || r >= h || j < 0 || j >= w)
        return 0.0;
    return map[(size_t)r * w + j];
}

void ref_conv3x3(const double *x, int cin, int h, int w, const float *weight,
                 const float *bias, int cout, int relu, double *y,
                 double *mag)
{
    const size_t hw = (size_t)h * w;
    for (int o = 0; o < cout; o++)
        for (int r = 0; r < h; r++)
            for (int j = 0; j < w; j++) {
                double sum = bias[o], abs_sum = fabs((double)bias[o]);
                for (int i = 0; i < cin; i++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            const double wt =
                                weight[(((size_t)o * cin + i) * 3 + ky) * 3 +
                                       kx];
                            const double p = wt * at(x + i * hw, h, w,
                                                     r + ky - 1, j + kx - 1);
                            sum += p;
                            abs_sum += fabs(p);
                        }
                const size_t idx = o * hw + (size_t)r * w + j;
                y[idx] = relu && sum < 0.0 ? 0.0 : sum;
                if (mag)
                    mag[idx] = abs_sum;
            }
}

void ref_conv3x3_backward_data(const double *dy, int cout, int h, int w,
                               const float *weight, int cin, double *dx,
                               double *mag)
{
    const size_t hw = (size_t)h * w;
    for (int i = 0; i < cin; i++)
        for (int r = 0; r < h; r++)
            for (int j = 0; j < w; j++) {
                double sum = 0.0, abs_sum = 0.0;
                for (int o = 0; o < cout; o++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            const double wt =
                                weight[(((size_t)o * cin + i) * 3 + ky) * 3 +
                                       kx];
                            const double p = wt * at(dy + o * hw, h, w,
                                                     r - ky + 1, j - kx + 1);
                            sum += p;
                            abs_sum += fabs(p);
                        }
                const size_t idx = i * hw + (size_t)r * w + j;
                dx[idx] = sum;
                if (mag)
                    mag[idx] = abs_sum;
            }
}

void ref_relu_backward(const double *y, double *dy, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(y[i] > 0.0))
            dy[i] = 0.0;
}

void ref_gram(const double *f, int c, int m, double scale, double *g,
              double *mag)
{
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            double sum = 0.0, abs_sum = 0.0;
            for (int k = 0; k < m; k++) {
                const double p = f[(size_t)i * m + k] * f[(size_t)j * m + k];
                sum += p;
                abs_sum += fabs(p);
            }
            g[(size_t)i * c + j] = scale * sum;
            if (mag)
                mag[(size_t)i * c + j] = fabs(scale) * abs_sum;
        }
}

void ref_gram_backward(const double *d, const double *f, int c, int m,
                       double scale, double *df, double *mag)
{
    for (int i = 0; i < c; i++)
        for (int k = 0; k < m; k++) {
            double sum = 0.0, abs_sum = 0.0;
            for (int j = 0; j < c; j++) {
                const double p = d[(size_t)i * c + j] * f[(size_t)j * m + k];
                sum += p;
                abs_sum += fabs(p);
            }
            const size_t idx = (size_t)i * m + k;
            if (mag)
                mag[idx] = fabs(df[idx]) + fabs(scale) * abs_sum;
            df[idx] += scale * sum;
        }
}

void ref_avgpool2x2(const double *x, int c, int h, int w, double *y)
{
    const int ph = h / 2, pw = w / 2;
    for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < ph; r++)
            for (int j = 0; j < pw; j++) {
                const double *p = x + ((size_t)ch * h + 2 * r) * w + 2 * j;
                y[((size_t)ch * ph + r) * pw + j] =
                    (p[0] + p[1] + p[w] + p[w + 1]) / 4.0;
            }
}

/* Offset in x of the first maximum, in row-major order, of the 2x2 window
 * whose top-left element is at p. */
static size_t window_argmax(const double *x, size_t p, int w)
{
    const size_t cand[4] = {p, p + 1, p + w, p + w + 1};
    size_t best = cand[0];
    for (int q = 1; q < 4; q++)
        if (x[cand[q]] > x[best])
            best = cand[q];
    return best;
}

void ref_maxpool2x2(const double *x, int c, int h, int w, double *y)
{
    const int ph = h / 2, pw = w / 2;
    for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < ph; r++)
            for (int j = 0; j < pw; j++) {
                const size_t p = ((size_t)ch * h + 2 * r) * w + 2 * j;
                y[((size_t)ch * ph + r) * pw + j] = x[window_argmax(x, p, w)];
            }
}

void ref_avgpool2x2_backward(const double *dy, int c, int h, int w,
                             double *dx)
{
    const int ph = h / 2, pw = w / 2;
    for (size_t i = 0; i < (size_t)c * h * w; i++)
        dx[i] = 0.0;
    for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < ph; r++)
            for (int j = 0; j < pw; j++) {
                const double g = dy[((size_t)ch * ph + r) * pw + j] / 4.0;
                double *p = dx + ((size_t)ch * h + 2 * r) * w + 2 * j;
                p[0] = p[1] = p[w] = p[w + 1] = g;
            }
}

void ref_maxpool2x2_backward(const double *x, const double *dy, int c, int h,
                             int w, double *dx)
{
    const int ph = h / 2, pw = w / 2;
    for (size_t i = 0; i < (size_t)c * h * w; i++)
        dx[i] = 0.0;
    for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < ph; r++)
            for (int j = 0; j < pw; j++) {
                const size_t p = ((size_t)ch * h + 2 * r) * w + 2 * j;
                dx[window_argmax(x, p, w)] = dy[((size_t)ch * ph + r) * pw + j];
            }
}

void ref_adam_update(double b1, double b2, double k1, double k2, double lr,
                     double c1, double c2, double eps, double *x, double *m,
                     double *v, const double *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + k1 * g[i];
        v[i] = b2 * v[i] + k2 * g[i] * g[i];
        x[i] -= lr * (m[i] / c1) / (sqrt(v[i] / c2) + eps);
    }
}
