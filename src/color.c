#include "color.h"

#include <math.h>
#include <stddef.h>

/* BT.601 full-range YCbCr, as JPEG uses. */
static const double KR = 0.299, KG = 0.587, KB = 0.114;

static float clamp255(double v)
{
    return (float)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Mean and covariance of the RGB values, in double. */
static void colour_stats(const nst_image *img, double mean[3], double cov[3][3])
{
    const size_t n = (size_t)img->w * img->h;
    const float *p[3] = {img->data, img->data + n, img->data + 2 * n};
    for (int a = 0; a < 3; a++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += p[a][i];
        mean[a] = s / (double)n;
    }
    for (int a = 0; a < 3; a++)
        for (int b = a; b < 3; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += (p[a][i] - mean[a]) * (p[b][i] - mean[b]);
            cov[a][b] = cov[b][a] = s / (double)n;
        }
}

/* a = V diag(d) V^T for a symmetric 3x3 a, by cyclic Jacobi rotations. */
static void eigen_sym3(const double a_in[3][3], double d[3], double v[3][3])
{
    double a[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            a[i][j] = a_in[i][j];
            v[i][j] = i == j;
        }
    for (int sweep = 0; sweep < 50; sweep++) {
        const double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] +
                           a[1][2] * a[1][2];
        if (off == 0)
            break;
        for (int p = 0; p < 2; p++)
            for (int q = p + 1; q < 3; q++) {
                if (a[p][q] == 0)
                    continue;
                /* The rotation in the (p, q) plane that zeroes a[p][q]. */
                const double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                const double t = (theta >= 0 ? 1 : -1) /
                                 (fabs(theta) + sqrt(theta * theta + 1));
                const double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < 3; k++) {
                    const double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < 3; k++) {
                    const double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for (int k = 0; k < 3; k++) {
                    const double vkp = v[k][p], vkq = v[k][q];
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < 3; i++)
        d[i] = a[i][i];
}

/* Variances below this (in squared pixel levels) are taken as this, so a
 * style image flat along some colour direction is not blown up along it. */
#define MIN_VARIANCE 1e-2

/* out = a^power for a symmetric positive semi-definite a. */
static void sym_power(const double a[3][3], double power, double out[3][3])
{
    double d[3], v[3][3];
    eigen_sym3(a, d, v);
    for (int i = 0; i < 3; i++)
        d[i] = pow(d[i] > MIN_VARIANCE ? d[i] : MIN_VARIANCE, power);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++)
                s += v[i][k] * d[k] * v[j][k];
            out[i][j] = s;
        }
}

void nst_color_match_histogram(nst_image *style, const nst_image *content)
{
    double ms[3], mc[3], cs[3][3], cc[3][3], cs_inv_half[3][3], cc_half[3][3];
    colour_stats(style, ms, cs);
    colour_stats(content, mc, cc);
    sym_power(cs, -0.5, cs_inv_half);
    sym_power(cc, 0.5, cc_half);
    double m[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++)
                s += cc_half[i][k] * cs_inv_half[k][j];
            m[i][j] = s;
        }
    const size_t n = (size_t)style->w * style->h;
    float *p = style->data;
    for (size_t i = 0; i < n; i++) {
        const double d[3] = {p[i] - ms[0], p[n + i] - ms[1],
                             p[2 * n + i] - ms[2]};
        for (int c = 0; c < 3; c++)
            p[c * n + i] = clamp255(mc[c] + m[c][0] * d[0] + m[c][1] * d[1] +
                                    m[c][2] * d[2]);
    }
}

void nst_color_to_luminance(nst_image *img)
{
    const size_t n = (size_t)img->w * img->h;
    float *p = img->data;
    for (size_t i = 0; i < n; i++) {
        const float y =
            (float)(KR * p[i] + KG * p[n + i] + KB * p[2 * n + i]);
        p[i] = p[n + i] = p[2 * n + i] = y;
    }
}

/* Mean and standard deviation of all values. */
static void value_stats(const nst_image *img, double *mean, double *sd)
{
    const size_t n = 3 * (size_t)img->w * img->h;
    double s = 0, q = 0;
    for (size_t i = 0; i < n; i++)
        s += img->data[i];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        q += (img->data[i] - *mean) * (img->data[i] - *mean);
    *sd = sqrt(q / (double)n);
}

void nst_color_match_luminance(nst_image *y, const nst_image *ref)
{
    double my, sy, mr, sr;
    value_stats(y, &my, &sy);
    value_stats(ref, &mr, &sr);
    const double gain = sy > 0 ? sr / sy : 1;
    const size_t n = 3 * (size_t)y->w * y->h;
    for (size_t i = 0; i < n; i++)
        y->data[i] = clamp255(gain * (y->data[i] - my) + mr);
}

void nst_color_join_chroma(nst_image *result, const nst_image *chroma_from)
{
    const size_t n = (size_t)result->w * result->h;
    float *p = result->data;
    const float *q = chroma_from->data;
    for (size_t i = 0; i < n; i++) {
        const double y = KR * p[i] + KG * p[n + i] + KB * p[2 * n + i];
        const double r = q[i], g = q[n + i], b = q[2 * n + i];
        /* Cb and Cr of the chroma source, less their 128 offset. */
        const double cb = (b - (KR * r + KG * g + KB * b)) / (2 * (1 - KB));
        const double cr = (r - (KR * r + KG * g + KB * b)) / (2 * (1 - KR));
        p[i] = clamp255(y + 2 * (1 - KR) * cr);
        p[n + i] = clamp255(y - 2 * (1 - KB) * KB / KG * cb -
                            2 * (1 - KR) * KR / KG * cr);
        p[2 * n + i] = clamp255(y + 2 * (1 - KB) * cb);
    }
}
