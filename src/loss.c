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

/* G = scale F F^T with the kernels of ctx. */
static int gram_scaled(nst_kctx *ctx, const float *f, int c, int m,
                       double scale, float *gram)
{
    const nst_kernels *k = nst_kctx_kernels(ctx);
    if (k->gram(ctx, f, c, m, (float)scale, gram) != 0)
        return nst_fail("out of memory for the %s kernels' workspace (Gram "
                        "matrix of %d channels)",
                        k->name, c);
    return 0;
}

int nst_gram(nst_kctx *ctx, const float *f, int c, int m, float *gram)
{
    return gram_scaled(ctx, f, c, m, 1.0 / m, gram);
}

/* sum((G - A)^2) / c^2 and, when g is not NULL, g += s D F with
 * D = G - A (left in gram). */
static double gram_distance(nst_kctx *ctx, const float *f, int c, int m,
                            const float *a, float *gram, double s, float *g)
{
    const size_t cc = (size_t)c * (size_t)c;
    double sum = 0;
    for (size_t i = 0; i < cc; i++) {
        const double d = (double)gram[i] - (double)a[i];
        sum += d * d;
    }
    if (g) {
        /* gram becomes D = G - A, exactly symmetric as G and A are. */
        for (size_t i = 0; i < cc; i++)
            gram[i] -= a[i];
        nst_kctx_kernels(ctx)->gram_backward(ctx, gram, f, c, m, (float)s, g);
    }
    return sum / (double)cc;
}

int nst_style_loss(nst_kctx *ctx, const float *f, int c, int m,
                   const float *a, float *gram, double scale, float *g,
                   double *loss)
{
    if (nst_gram(ctx, f, c, m, gram) != 0)
        return -1;
    *loss = gram_distance(ctx, f, c, m, a, gram,
                          4 * scale / ((double)c * c * m), g);
    return 0;
}

int nst_masked_style_loss(nst_kctx *ctx, const float *f, int c, int m,
                          const float *mask, const float *root,
                          double mask_sum, const float *a, float *gram,
                          float *fm, double scale, float *g, double *loss)
{
    /* G = (F diag(root)) (F diag(root))^T / sum(mask), with the Gram
     * kernel; the gradient's F diag(mask) then goes through the Gram
     * backward kernel in place of F. */
    for (int i = 0; i < c; i++)
        for (int j = 0; j < m; j++)
            fm[(size_t)i * m + j] = f[(size_t)i * m + j] * root[j];
    if (gram_scaled(ctx, fm, c, m, 1.0 / mask_sum, gram) != 0)
        return -1;
    if (g)
        for (int i = 0; i < c; i++)
            for (int j = 0; j < m; j++)
                fm[(size_t)i * m + j] = f[(size_t)i * m + j] * mask[j];
    *loss = gram_distance(ctx, fm, c, m, a, gram,
                          4 * scale / ((double)c * c * mask_sum), g);
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
