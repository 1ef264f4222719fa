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

/* The sums of a 3x3 convolution with zero padding. Forward (back = 0),
 * output channel q = o sums input channels p = i at (r + ky - 1,
 * j + kx - 1), plus its bias; back (back = 1), the gradient of input
 * channel q = i sums those of the outputs p = o at (r - ky + 1, j - kx + 1):
 * the same weights, transposed and flipped. mag, if not NULL, gets the sums
 * of |terms|. */
static void conv3x3_sums(const double *in, int nin, int h, int w,
                         const float *weight, int cin, const float *bias,
                         int back, int nout, int relu, double *out,
                         double *mag)
{
    const size_t hw = (size_t)h * w;
    const int s = back ? -1 : 1;
    for (int q = 0; q < nout; q++)
        for (int r = 0; r < h; r++)
            for (int j = 0; j < w; j++) {
                double sum = bias ? bias[q] : 0.0, abs_sum = fabs(sum);
                for (int p = 0; p < nin; p++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            const int o = back ? p : q, i = back ? q : p;
                            const double wt =
                                weight[(((size_t)o * cin + i) * 3 + ky) * 3 +
                                       kx];
                            const double t =
                                wt * at(in + p * hw, h, w, r + s * (ky - 1),
                                        j + s * (kx - 1));
                            sum += t;
                            abs_sum += fabs(t);
                        }
                const size_t idx = q * hw + (size_t)r * w + j;
                out[idx] = relu && sum < 0.0 ? 0.0 : sum;
                if (mag)
                    mag[idx] = abs_sum;
            }
}

void ref_conv3x3(const double *x, int cin, int h, int w, const float *weight,
                 const float *bias, int cout, int relu, double *y,
                 double *mag)
{
    conv3x3_sums(x, cin, h, w, weight, cin, bias, 0, cout, relu, y, mag);
}

void ref_conv3x3_backward_data(const double *dy, int cout, int h, int w,
                               const float *weight, int cin, double *dx,
                               double *mag)
{
    conv3x3_sums(dy, cout, h, w, weight, cin, NULL, 1, cin, 0, dx, mag);
}

void ref_relu_backward(const double *y, double *dy, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(y[i] > 0.0))
            dy[i] = 0.0;
}

/* The sum over k < n of a[k sa] b[k sb]; *abs_sum gets the sum of the
 * terms' absolute values. */
static double dot(const double *a, size_t sa, const double *b, size_t sb,
                  int n, double *abs_sum)
{
    double sum = 0.0;
    *abs_sum = 0.0;
    for (int k = 0; k < n; k++) {
        const double p = a[k * sa] * b[k * sb];
        sum += p;
        *abs_sum += fabs(p);
    }
    return sum;
}

void ref_gram(const double *f, int c, int m, double scale, double *g,
              double *mag)
{
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            double abs_sum;
            const double sum = dot(f + (size_t)i * m, 1, f + (size_t)j * m, 1,
                                   m, &abs_sum);
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
            double abs_sum;
            const double sum =
                dot(d + (size_t)i * c, 1, f + k, (size_t)m, c, &abs_sum);
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

size_t ref_window_argmax(const double *x, size_t p, int w)
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
                y[((size_t)ch * ph + r) * pw + j] =
                    x[ref_window_argmax(x, p, w)];
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
                dx[ref_window_argmax(x, p, w)] =
                    dy[((size_t)ch * ph + r) * pw + j];
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
