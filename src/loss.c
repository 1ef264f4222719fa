#include "loss.h"

#include "../simd/kctx.h"
#include "error.h"

double nst_content_loss(const float *f, const float *p, size_t n,
                        double scale, float *g)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = (double)f[i] - (double)p[i];
        sum += d * d;
    }
    if (g) {
        const double s = 2 * scale / (double)n;
        for (size_t i = 0; i < n; i++)
            g[i] += (float)(s * ((double)f[i] - (double)p[i]));
    }
    return sum / (double)n;
}

int nst_gram(nst_kctx *ctx, const float *f, int c, int m, float *gram)
{
    const nst_kernels *k = nst_kctx_kernels(ctx);
    if (k->gram(ctx, f, c, m, (float)(1.0 / m), gram) != 0)
        return nst_fail("out of memory for the %s kernels' workspace (Gram "
                        "matrix of %d channels)",
                        k->name, c);
    return 0;
}

int nst_style_loss(nst_kctx *ctx, const float *f, int c, int m,
                   const float *a, float *gram, double scale, float *g,
                   double *loss)
{
    const size_t cc = (size_t)c * (size_t)c;
    if (nst_gram(ctx, f, c, m, gram) != 0)
        return -1;
    double sum = 0;
    for (size_t i = 0; i < cc; i++) {
        const double d = (double)gram[i] - (double)a[i];
        sum += d * d;
    }
    if (g) {
        /* gram becomes D = G - A, exactly symmetric as G and A are. */
        for (size_t i = 0; i < cc; i++)
            gram[i] -= a[i];
        nst_kctx_kernels(ctx)->gram_backward(
            ctx, gram, f, c, m, (float)(4 * scale / ((double)cc * m)), g);
    }
    *loss = sum / (double)cc;
    return 0;
}

double nst_tv_loss(const float *x, int c, int h, int w, double scale,
                   float *g)
{
    const double n = (double)c * h * w;
    double sum = 0;
    for (int ch = 0; ch < c; ch++) {
        const float *p = x + (size_t)ch * h * w;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                const double v = p[(size_t)i * w + j];
                if (i + 1 < h) {
                    const double d = p[(size_t)(i + 1) * w + j] - v;
                    sum += d * d;
                }
                if (j + 1 < w) {
                    const double d = p[(size_t)i * w + j + 1] - v;
                    sum += d * d;
                }
            }
    }
    if (!g)
        return sum / n;

    /* Each pixel is the lower end of the pairs with its right and lower
     * neighbours and the upper end of those with its left and upper ones:
     * dL/dx[i][j] = (2/n) * sum over its pairs of (x[i][j] - neighbour). */
    const double s = 2 * scale / n;
    for (int ch = 0; ch < c; ch++) {
        const float *p = x + (size_t)ch * h * w;
        float *q = g + (size_t)ch * h * w;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                const size_t at = (size_t)i * w + j;
                const double v = p[at];
                double d = 0;
                if (i > 0)
                    d += v - p[at - (size_t)w];
                if (i + 1 < h)
                    d += v - p[at + (size_t)w];
                if (j > 0)
                    d += v - p[at - 1];
                if (j + 1 < w)
                    d += v - p[at + 1];
                q[at] += (float)(s * d);
            }
    }
    return sum / n;
}
