#include "loss.h"

#include "../simd/kctx.h"
#include "error.h"

/* A long sum is cut into PARTS fixed parts, part p of n terms being
 * [q p + min(p, r), ...) with q = n / PARTS and r = n % PARTS, whatever the
 * thread count; each part is summed in order in double and the parts' sums
 * are added in order, so the total is the same bytes for any thread count.
 * Sums shorter than PARALLEL_MIN terms run on the calling thread only (the
 * same parts, so the same bytes). */
enum { PARTS = 64, PARALLEL_MIN = 1 << 15 };

static size_t part_start(size_t n, int p)
{
    const size_t q = n / PARTS, r = n % PARTS;
    return q * (size_t)p + ((size_t)p < r ? (size_t)p : r);
}

double nst_content_loss(const float *f, const float *p, size_t n,
                        double scale, float *g)
{
    /* One sweep takes the sum and adds the gradient 2 scale (f - p) / n. */
    const double s = 2 * scale / (double)n;
    double part[PARTS];
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (int q = 0; q < PARTS; q++) {
        const size_t end = part_start(n, q + 1);
        double sum = 0;
        for (size_t i = part_start(n, q); i < end; i++) {
            const double d = (double)f[i] - (double)p[i];
            sum += d * d;
            if (g)
                g[i] += (float)(s * d);
        }
        part[q] = sum;
    }
    double sum = 0;
    for (int q = 0; q < PARTS; q++)
        sum += part[q];
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
    /* c^2 terms, few beside the c^2 m of the Gram: one serial sweep takes
     * the sum and, for the gradient, turns gram into D = G - A, exactly
     * symmetric as G and A are. */
    const size_t cc = (size_t)c * (size_t)c;
    double sum = 0;
    for (size_t i = 0; i < cc; i++) {
        const double d = (double)gram[i] - (double)a[i];
        sum += d * d;
        if (g)
            gram[i] -= a[i];
    }
    if (g)
        nst_kctx_kernels(ctx)->gram_backward(ctx, gram, f, c, m, (float)s, g);
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

/* y[i][j] = x[i][j] v[j] for x, y c x m, in parallel over rows. */
static void scale_columns(const float *x, int c, int m, const float *v,
                          float *y)
{
#pragma omp parallel for schedule(static)
    for (int i = 0; i < c; i++)
        for (int j = 0; j < m; j++)
            y[(size_t)i * m + j] = x[(size_t)i * m + j] * v[j];
}

int nst_masked_style_loss(nst_kctx *ctx, const float *f, int c, int m,
                          const float *mask, const float *root,
                          double mask_sum, const float *a, float *gram,
                          float *fm, double scale, float *g, double *loss)
{
    /* G = (F diag(root)) (F diag(root))^T / sum(mask), with the Gram
     * kernel; the gradient's F diag(mask) then goes through the Gram
     * backward kernel in place of F. */
    scale_columns(f, c, m, root, fm);
    if (gram_scaled(ctx, fm, c, m, 1.0 / mask_sum, gram) != 0)
        return -1;
    if (g)
        scale_columns(f, c, m, mask, fm);
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
        return NST_TV_SCALE * sum / n;

    /* Each pixel is the lower end of the pairs with its right and lower
     * neighbours and the upper end of those with its left and upper ones:
     * dL/dx[i][j] = (2 NST_TV_SCALE / n) * sum over its pairs of
     * (x[i][j] - neighbour). */
    const double s = 2 * NST_TV_SCALE * scale / n;
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
    return NST_TV_SCALE * sum / n;
}
