#include "testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ref.h"
#include "vgg.h"

uint64_t tu_next(tu_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double tu_uniform(tu_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * (double)(tu_next(r) >> 11) * 0x1p-53;
}

void tu_fill(tu_rng *r, float *a, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (float)tu_uniform(r, lo, hi);
}

const char *tu_shared(const char *rel, char *buf, size_t size)
{
    const char *root = getenv("NST_SHARED");
    if (!root)
        return NULL;
    snprintf(buf, size, "%s/%s", root, rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

int tu_shared_transfer(char *weights, char *content, char *style,
                       size_t size)
{
    return tu_shared("vgg/vgg19_conv1_1-conv3_4.npz", weights, size) &&
           tu_shared("images/content_tubingen.jpg", content, size) &&
           tu_shared("images/style_starry_night.jpg", style, size);
}

const char *tu_tmpdir(const char *tag, char *buf, size_t size)
{
    const char *root = getenv("NST_TEST_TMP");
    char cmd[4200];
    snprintf(buf, size, "%s/%s", root ? root : "/tmp/nst-tests", tag);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", buf, buf);
    ck_assert_msg(system(cmd) == 0, "cannot make %s", buf);
    return buf;
}

float *tu_nan_floats(size_t n)
{
    float *a = malloc((n ? n : 1) * sizeof *a);
    ck_assert_ptr_nonnull(a);
    for (size_t i = 0; i < n; i++)
        a[i] = NAN;
    return a;
}

double *tu_doubles(size_t n)
{
    double *d = calloc(n ? n : 1, sizeof *d);
    ck_assert_ptr_nonnull(d);
    return d;
}

double *tu_widened(const float *a, size_t n)
{
    double *d = tu_doubles(n);
    ref_widen(a, n, d);
    return d;
}

const char *const tu_isas[TU_N_ISAS] = {"scalar", "avx2", "neon"};

const nst_kernels *tu_isa_or_skip(int i)
{
    const nst_kernels *k = nst_kernels_for(tu_isas[i]);
    if (!k) {
        printf("SKIP %s: not available on this CPU/build\n", tu_isas[i]);
        fflush(stdout);
    }
    return k;
}

nst_kctx *tu_kctx(const nst_kernels *k, int nthreads)
{
    nst_kctx *ctx = nst_kctx_create(k, nthreads);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

float *tu_random_image(tu_rng *r, int h, int w)
{
    float *x = tu_nan_floats((size_t)3 * h * w);
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < (size_t)h * w; i++)
            x[(size_t)c * h * w + i] =
                (float)tu_uniform(r, 0, 255) - nst_vgg_mean[c];
    return x;
}

int tu_depth(const int *content, int n_content, const int *style,
             int n_style)
{
    int d = 0;
    for (int i = 0; i < n_content; i++)
        d = content[i] + 1 > d ? content[i] + 1 : d;
    for (int i = 0; i < n_style; i++)
        d = style[i] + 1 > d ? style[i] + 1 : d;
    return d;
}

int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
