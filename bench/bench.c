/* Kernel speed: for each instruction set this CPU runs and for 1 and 2
 * threads, the GFLOP/s of every VGG conv layer up to conv3_3 at the
 * benchmark size (forward and backward-data), the seconds for all of them,
 * and the machine's measured FMA peak.
 *
 * FLOP counts are those of a direct convolution, 2 * 9 * cin * cout * h * w
 * per pass, whatever algorithm the kernel uses; times are medians.
 *
 * Usage: bench [size [isa]]  (default 512, every instruction set) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "cpu.h"
#include "error.h"
#include "simd.h"

typedef struct layer {
    const char *name;
    int cin, cout, scale; /* the map is size/scale square */
} layer;

static const layer layers[] = {
    {"conv1_1", 3, 64, 1},    {"conv1_2", 64, 64, 1},   {"conv2_1", 64, 128, 2},
    {"conv2_2", 128, 128, 2}, {"conv3_1", 128, 256, 4}, {"conv3_2", 256, 256, 4},
    {"conv3_3", 256, 256, 4},
};
enum { NLAYERS = sizeof layers / sizeof *layers };

/* Stop repeating after this many runs or this many seconds. */
enum { MAX_REPS = 7 };
static const double MAX_SECONDS = 3.0;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static void set_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

static float *random_floats(size_t n, unsigned *seed)
{
    float *a = malloc(n * sizeof *a);
    if (!a)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        a[i] = (float)(*seed >> 8) / (float)(1u << 24) - 0.5f;
    }
    return a;
}

/* Median seconds of one pass (backward: conv3x3_backward_data). */
static double time_pass(const nst_kernels *k, const nst_conv *c, int backward,
                        const float *in, int n, float *out)
{
    double t[MAX_REPS];
    int reps = 0;
    const double start = now();
    do {
        const double t0 = now();
        if (backward)
            k->conv3x3_backward_data(c, in, n, n, out);
        else
            k->conv3x3_bias_relu(c, in, n, n, out);
        t[reps++] = now() - t0;
    } while (reps < MAX_REPS && now() - start < MAX_SECONDS);
    return median(t, reps);
}

/* Prints one row per layer; returns the seconds of all forward and
 * backward passes, or -1 on failure. */
static double bench_layers(const nst_kernels *k, int size, int threads)
{
    double total = 0;
    set_threads(threads);
    for (int l = 0; l < NLAYERS; l++) {
        const layer *ly = &layers[l];
        const int n = size / ly->scale;
        const size_t hw = (size_t)n * n;
        unsigned seed = 1;
        float *w = random_floats((size_t)ly->cout * ly->cin * 9, &seed);
        float *b = random_floats(ly->cout, &seed);
        float *x = random_floats(ly->cin * hw, &seed);
        float *y = random_floats(ly->cout * hw, &seed);
        nst_conv c = {ly->cin, ly->cout, w, b, NULL};
        if (!w || !b || !x || !y || k->conv_prepare(&c)) {
            fprintf(stderr, "bench: %s: %s\n", ly->name,
                    *nst_failure_reason() ? nst_failure_reason()
                                          : "out of memory");
            free(w), free(b), free(x), free(y);
            return -1;
        }
        const double flop = 2.0 * 9 * ly->cin * ly->cout * hw;
        const double tf = time_pass(k, &c, 0, x, n, y);
        const double tb = time_pass(k, &c, 1, y, n, x);
        printf("%-6s %d  %-8s %3d->%-3d %4dx%-4d  fwd %7.1f GFLOP/s %8.4f s"
               "   bwd %7.1f GFLOP/s %8.4f s\n",
               k->name, threads, ly->name, ly->cin, ly->cout, n, n,
               flop / tf * 1e-9, tf, flop / tb * 1e-9, tb);
        total += tf + tb;
        k->conv_release(&c);
        free(w), free(b), free(x), free(y);
    }
    printf("%-6s %d  all layers fwd+bwd at %dx%d: %.3f s\n\n", k->name,
           threads, size, size, total);
    return total;
}

#if defined(__x86_64__) || defined(__i386__)
/* 10 independent chains of FMAs, in registers: enough to cover the FMA
 * latency on two ports. The result keeps the work alive. */
__attribute__((target("avx2,fma"))) static float fma_loop(long iters)
{
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1),
           a2 = _mm256_set1_ps(2), a3 = _mm256_set1_ps(3),
           a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5),
           a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7),
           a8 = _mm256_set1_ps(8), a9 = _mm256_set1_ps(9);
    for (long it = 0; it < iters; it++) {
        a0 = _mm256_fmadd_ps(a0, m, c), a1 = _mm256_fmadd_ps(a1, m, c);
        a2 = _mm256_fmadd_ps(a2, m, c), a3 = _mm256_fmadd_ps(a3, m, c);
        a4 = _mm256_fmadd_ps(a4, m, c), a5 = _mm256_fmadd_ps(a5, m, c);
        a6 = _mm256_fmadd_ps(a6, m, c), a7 = _mm256_fmadd_ps(a7, m, c);
        a8 = _mm256_fmadd_ps(a8, m, c), a9 = _mm256_fmadd_ps(a9, m, c);
    }
    const __m256 s = _mm256_add_ps(
        _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
        _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)),
                      _mm256_add_ps(a8, a9)));
    return _mm_cvtss_f32(_mm256_castps256_ps128(s));
}

/* GFLOP/s of fma_loop on the given number of threads (median of 5). */
static double fma_peak(int threads)
{
    const long iters = 20000000;
    double t[5];
    float sink = 0;
    for (int r = 0; r < 5; r++) {
        const double t0 = now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        sink += fma_loop(iters);
        t[r] = now() - t0;
    }
    if (!isfinite(sink))
        fprintf(stderr, "bench: FMA probe overflowed\n");
    return 10.0 * 16 * iters * threads / median(t, 5) * 1e-9;
}
#endif

int main(int argc, char **argv)
{
    const int size = argc > 1 ? atoi(argv[1]) : 512;
    if (size < 4) {
        fprintf(stderr, "usage: bench [size >= 4 [scalar|avx2|neon]]\n");
        return EXIT_FAILURE;
    }
    static const char *const isas[] = {"scalar", "avx2", "neon"};
#if defined(__x86_64__) || defined(__i386__)
    if (nst_cpu_has_avx2_fma())
        for (int t = 1; t <= 2; t++)
            printf("FMA peak (avx2, %d thread%s): %.1f GFLOP/s\n", t,
                   t > 1 ? "s" : "", fma_peak(t));
    printf("\n");
#endif
    for (size_t i = 0; i < sizeof isas / sizeof *isas; i++) {
        if (argc > 2 && strcmp(argv[2], isas[i]) != 0)
            continue;
        const nst_kernels *k = nst_kernels_for(isas[i]);
        if (!k)
            continue;
        for (int t = 1; t <= 2; t++)
            if (bench_layers(k, size, t) < 0)
                return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
