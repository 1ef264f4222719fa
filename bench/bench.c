/* Speed and memory: for each instruction set this CPU runs and for 1 and 2
 * threads, the GFLOP/s of every VGG conv layer up to conv3_3 at the
 * benchmark size (forward and backward-data), of the Gram matrix and its
 * backward pass at the style layers' shapes, and the seconds and peak
 * resident memory of one whole iteration (objective with gradient and Adam
 * step on the real weights); and the machine's measured FMA peak.
 *
 * FLOP counts are those of the plain algorithm whatever the kernel does:
 * 2 * 9 * cin * cout * h * w per convolution pass, c * (c + 1) * m for a
 * Gram matrix (a symmetric rank-m update), 2 * c * c * m for its backward.
 * Times are medians. Each iteration row runs in a fresh process (this
 * program again, with --iteration), so its peak RSS is its own.
 *
 * The scalar kernels are slow: their convolutions and iterations run at
 * 256x256 at most, with fewer repetitions.
 *
 * Usage: bench [size [isa]]  (default 512, every instruction set)
 * The weights: $NST_WEIGHTS, else the first .npz in vgg/, else the first
 * in ../shared/vgg/. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "adam.h"
#include "cpu.h"
#include "error.h"
#include "kctx.h"
#include "nst.h"
#include "objective.h"
#include "simd.h"
#include "vgg.h"

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

/* The style layers' shapes: channels, and the map is size/scale square. */
static const struct {
    int c, scale;
} grams[] = {{64, 1}, {128, 2}, {256, 4}};
enum { NGRAMS = sizeof grams / sizeof *grams };

/* The network and objective of nst's defaults. */
static const char *const style_names[] = {"relu1_1", "relu1_2", "relu2_1",
                                          "relu2_2", "relu3_1", "relu3_2",
                                          "relu3_3"};
static const char *const content_name = "relu3_3";
enum { NSTYLE = sizeof style_names / sizeof *style_names };

/* Sizes at most this for the scalar kernels' convolutions and iterations. */
enum { SCALAR_MAX_SIZE = 256 };

/* Stop repeating after this many runs or this many seconds (at least one
 * run). */
enum { MAX_REPS = 7 };

typedef struct budget {
    int iters;      /* timed iterations per iteration row */
    double seconds; /* per kernel measurement */
} budget;

static const budget fast = {3, 3.0}, slow = {1, 1.0};

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

/* One kernel call to time: a convolution pass or a Gram pass. */
typedef enum op { CONV_FWD, CONV_BWD, GRAM, GRAM_BWD } op;

typedef struct call {
    op op;
    nst_kctx *ctx;
    const nst_conv *conv;
    const float *in, *d;
    int c, h, w; /* gram: c x (h*w) */
    float *out;
} call;

/* 0, or -1 if the kernel's workspace cannot grow. */
static int run(const call *x)
{
    const nst_kernels *k = nst_kctx_kernels(x->ctx);
    switch (x->op) {
    case CONV_FWD:
        return k->conv3x3_bias_relu(x->ctx, x->conv, x->in, x->h, x->w,
                                    x->out);
    case CONV_BWD:
        return k->conv3x3_backward_data(x->ctx, x->conv, x->in, x->h, x->w,
                                        x->out);
    case GRAM:
        return k->gram(x->ctx, x->in, x->c, x->h * x->w, 1.0f, x->out);
    case GRAM_BWD:
        k->gram_backward(x->ctx, x->d, x->in, x->c, x->h * x->w, 1.0f,
                         x->out);
        return 0;
    }
    return -1;
}

/* Median seconds of one call, or -1 if the workspace cannot grow. */
static double time_call(const call *x, double max_seconds)
{
    double t[MAX_REPS];
    int reps = 0;
    const double start = now();
    do {
        const double t0 = now();
        if (run(x) != 0)
            return -1;
        t[reps++] = now() - t0;
    } while (reps < MAX_REPS && now() - start < max_seconds);
    return median(t, reps);
}

static int fail(const char *what)
{
    fprintf(stderr, "bench: %s: %s\n", what,
            *nst_failure_reason() ? nst_failure_reason() : "out of memory");
    return -1;
}

/* One row per layer and the seconds of all passes, with the kernels and
 * threads of ctx; 0 or -1. */
static int bench_layers(nst_kctx *ctx, int size, budget b)
{
    const nst_kernels *k = nst_kctx_kernels(ctx);
    double total = 0;
    printf("  convolution  cin->cout  map        forward             "
           "backward-data\n");
    for (int l = 0; l < NLAYERS; l++) {
        const layer *ly = &layers[l];
        const int n = size / ly->scale;
        const size_t hw = (size_t)n * n;
        unsigned seed = 1;
        float *w = random_floats((size_t)ly->cout * ly->cin * 9, &seed);
        float *bias = random_floats(ly->cout, &seed);
        float *x = random_floats(ly->cin * hw, &seed);
        float *y = random_floats(ly->cout * hw, &seed);
        nst_conv c = {ly->cin, ly->cout, w, bias, NULL};
        if (!w || !bias || !x || !y || k->conv_prepare(&c)) {
            free(w), free(bias), free(x), free(y);
            return fail(ly->name);
        }
        const double flop = 2.0 * 9 * ly->cin * ly->cout * hw;
        const call fwd = {CONV_FWD, ctx, &c, x, NULL, 0, n, n, y},
                   bwd = {CONV_BWD, ctx, &c, y, NULL, 0, n, n, x};
        const double tf = time_call(&fwd, b.seconds),
                     tb = time_call(&bwd, b.seconds);
        if (tf < 0 || tb < 0) {
            k->conv_release(&c);
            free(w), free(bias), free(x), free(y);
            return fail(ly->name);
        }
        printf("  %-11s  %3d->%-3d    %4dx%-4d  %6.1f GFLOP/s %6.3f s  "
               "%6.1f GFLOP/s %6.3f s\n",
               ly->name, ly->cin, ly->cout, n, n, flop / tf * 1e-9, tf,
               flop / tb * 1e-9, tb);
        total += tf + tb;
        k->conv_release(&c);
        free(w), free(bias), free(x), free(y);
    }
    printf("  all layers, forward + backward: %.3f s\n", total);
    return 0;
}

/* One row per style layer shape, with the kernels and threads of ctx; 0
 * or -1. */
static int bench_grams(nst_kctx *ctx, int size, budget b)
{
    printf("  gram         c    m          G = F F^T           "
           "dF += D F\n");
    for (int i = 0; i < NGRAMS; i++) {
        const int c = grams[i].c, n = size / grams[i].scale;
        const size_t m = (size_t)n * n;
        unsigned seed = 2;
        float *f = random_floats((size_t)c * m, &seed);
        float *df = random_floats((size_t)c * m, &seed);
        float *g = random_floats((size_t)c * c, &seed);
        if (!f || !df || !g) {
            free(f), free(df), free(g);
            return fail("gram");
        }
        const call fwd = {GRAM, ctx, NULL, f, NULL, c, n, n, g},
                   bwd = {GRAM_BWD, ctx, NULL, f, g, c, n, n, df};
        const double tf = time_call(&fwd, b.seconds),
                     tb = time_call(&bwd, b.seconds);
        if (tf < 0 || tb < 0) {
            free(f), free(df), free(g);
            return fail("gram");
        }
        printf("  %-11s  %3d  %-9zu  %6.1f GFLOP/s %6.3f s  "
               "%6.1f GFLOP/s %6.3f s\n",
               "", c, m, (double)c * (c + 1) * m / tf * 1e-9, tf,
               2.0 * c * c * m / tb * 1e-9, tb);
        free(f), free(df), free(g);
    }
    return 0;
}

/* A random image, mean subtracted. */
static float *random_image(int size, unsigned *seed)
{
    const size_t plane = (size_t)size * size;
    float *x = random_floats(3 * plane, seed);
    if (x)
        for (int c = 0; c < 3; c++)
            for (size_t i = 0; i < plane; i++)
                x[c * plane + i] = 255.0f * (x[c * plane + i] + 0.5f) -
                                   nst_vgg_mean[c];
    return x;
}

/* The --iteration mode: prints one row, the median seconds of `iters`
 * timed iterations after one untimed, and this process's peak RSS. */
static int iteration(const char *isa, int threads, int size, int iters,
                     const char *weights)
{
    const nst_kernels *k = nst_kernels_for(isa);
    if (!k) {
        fprintf(stderr, "bench: no %s kernels here\n", isa);
        return -1;
    }
    set_threads(threads);
    const char *names[NSTYLE + 1];
    memcpy(names, style_names, sizeof style_names);
    names[NSTYLE] = content_name;
    nst_vgg net;
    if (nst_vgg_load(&net, weights, names, NSTYLE + 1, NST_POOL_AVG, k) != 0)
        return fail("loading the weights");
    int style_layers[NSTYLE], content_layer = nst_vgg_find(&net, content_name);
    for (int i = 0; i < NSTYLE; i++)
        style_layers[i] = nst_vgg_find(&net, style_names[i]);
    const nst_objective_spec spec = {&content_layer, 1, style_layers, NSTYLE,
                                     1.0, 0.01, 0.1, NULL, NULL};
    unsigned seed = 3;
    float *content = random_image(size, &seed), *style = random_image(size, &seed);
    float *x = random_image(size, &seed), *grad = random_image(size, &seed);
    nst_objective *o = content && style
                           ? nst_objective_create(&net, &spec, content, size,
                                                  size, style, size, size)
                           : NULL;
    free(content);
    free(style);
    nst_adam adam;
    int rc = -1;
    if (o && x && grad && nst_adam_init(&adam, 3 * (size_t)size * size, 4) == 0) {
        double t[MAX_REPS];
        const int n = iters < MAX_REPS ? iters : MAX_REPS;
        int it = -1;
        for (; it < n; it++) {
            const double t0 = now();
            nst_losses l;
            if (nst_objective_eval(o, x, &l, grad) != 0)
                break;
            nst_adam_step(&adam, net.k, x, grad);
            if (it >= 0)
                t[it] = now() - t0;
        }
        nst_adam_free(&adam);
        if (it == n) {
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            printf("  iteration    %4dx%-4d  %7.3f s  peak RSS %6.1f MiB\n",
                   size, size, median(t, n), ru.ru_maxrss / 1024.0);
            rc = 0;
        } else {
            fail("iteration");
        }
    } else {
        fail("iteration");
    }
    nst_objective_free(o);
    free(x);
    free(grad);
    nst_vgg_free(&net);
    return rc;
}

/* Runs the --iteration mode in a fresh process; 0 or -1. */
static int spawn_iteration(const char *isa, int threads, int size, int iters,
                           const char *weights)
{
    char t[16], s[16], n[16];
    snprintf(t, sizeof t, "%d", threads);
    snprintf(s, sizeof s, "%d", size);
    snprintf(n, sizeof n, "%d", iters);
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", "bench", "--iteration", isa, t, s, n, weights,
              (char *)NULL);
        perror("bench: /proc/self/exe");
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return -1;
    return 0;
}

static void print_load(const char *when)
{
    double l[3];
    if (getloadavg(l, 3) == 3)
        printf("load average %s: %.2f %.2f %.2f\n", when, l[0], l[1], l[2]);
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
    if (argc == 7 && strcmp(argv[1], "--iteration") == 0)
        return iteration(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
                         argv[6]) == 0
                   ? EXIT_SUCCESS
                   : EXIT_FAILURE;
    const int size = argc > 1 ? atoi(argv[1]) : 512;
    if (size < 16) {
        fprintf(stderr, "usage: bench [size >= 16 [scalar|avx2|neon]]\n");
        return EXIT_FAILURE;
    }
    printf("nst benchmark at %dx%d (scalar: convolutions and iterations at "
           "%dx%d at most)\n",
           size, size, size < SCALAR_MAX_SIZE ? size : SCALAR_MAX_SIZE,
           size < SCALAR_MAX_SIZE ? size : SCALAR_MAX_SIZE);
    print_load("at start");
    char buf[4096];
    const char *weights = nst_find_weights(NULL, buf, sizeof buf);
    if (!weights)
        printf("no VGG weights ($NST_WEIGHTS, vgg/*.npz, ../shared/vgg/*.npz): "
               "no iteration rows\n");
#if defined(__x86_64__) || defined(__i386__)
    if (nst_cpu_has_avx2_fma())
        for (int t = 1; t <= 2; t++)
            printf("FMA peak (avx2, %d thread%s): %.1f GFLOP/s\n", t,
                   t > 1 ? "s" : "", fma_peak(t));
#endif
    static const char *const isas[] = {"scalar", "avx2", "neon"};
    for (size_t i = 0; i < sizeof isas / sizeof *isas; i++) {
        if (argc > 2 && strcmp(argv[2], isas[i]) != 0)
            continue;
        const nst_kernels *k = nst_kernels_for(isas[i]);
        if (!k)
            continue;
        const int scalar = strcmp(isas[i], "scalar") == 0;
        const budget b = scalar ? slow : fast;
        const int conv_size =
            scalar && size > SCALAR_MAX_SIZE ? SCALAR_MAX_SIZE : size;
        for (int t = 1; t <= 2; t++) {
            printf("\n== %s, %d thread%s\n", k->name, t, t > 1 ? "s" : "");
            nst_kctx *ctx = nst_kctx_create(k, t);
            const int rc = ctx ? bench_layers(ctx, conv_size, b) == 0 &&
                                     bench_grams(ctx, size, b) == 0
                               : fail("kernel context") == 0;
            nst_kctx_free(ctx);
            if (!rc)
                return EXIT_FAILURE;
            for (int s = 256; weights && s <= conv_size; s *= 2)
                if (spawn_iteration(k->name, t, s, b.iters, weights) != 0)
                    return EXIT_FAILURE;
        }
    }
    printf("\n");
    print_load("at end");
    return EXIT_SUCCESS;
}
