/* The command line: parses and checks options, finds the weights, runs. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#ifdef _OPENMP
#include <omp.h>
#else /* built without threads: --threads has nothing to set */
static int omp_get_max_threads(void) { return 1; }
static void omp_set_num_threads(int n) { (void)n; }
#endif
#include "error.h"
#include "nst.h"

static void usage(FILE *to)
{
    nst_options d;
    nst_options_default(&d);
    fprintf(to,
"Usage: nst --content IMAGE --style IMAGE --out OUT.png [options]\n"
"       nst --data DIR --out OUTDIR [options]\n"
"\n"
"Paints the content image in the style of the style image (Gatys et al.'s\n"
"neural style transfer with a pretrained VGG network).\n"
"\n"
"Inputs and outputs:\n"
"  --content FILE        photo whose layout is kept (JPEG, PNG, BMP, ...)\n"
"  --style FILE          painting whose textures are taken\n"
"  --out FILE            result, .png or .jpg; written only when complete\n"
"  --data DIR            batch: pair every content_* with every style_* image\n"
"                        in DIR (sorted by name); pair i goes to OUTDIR/gen_i/\n"
"                        (result.png, snapshots, pair.txt with the settings)\n"
"  --weights FILE        VGG .npz weights (vgg16_weights.npz key layout);\n"
"                        default: $NST_WEIGHTS, else vgg/*.npz, else\n"
"                        ../shared/vgg/*.npz\n"
"  --save-every K        also save the image every K iterations, as\n"
"                        OUT_iter_0100.png (batch: gen_i/iter_0100.png)\n"
"  --log FILE.csv        loss per iteration: iter,total,content,style,tv,seconds\n"
"                        (row k is the loss before update k+1; batch: in gen_i/)\n"
"\n"
"Optimisation:\n"
"  --iters N             Adam iterations (default %d)\n"
"  --lr X                Adam learning rate, in pixel levels (default %g)\n"
"  --content-weight X    alpha, weight of the content loss (default %g)\n"
"  --style-weight X      beta, weight of the style loss (default %g)\n"
"  --tv-weight X         gamma, weight of total variation (default %g)\n"
"  --init content|noise  starting image (default content)\n"
"  --seed N              seed of --init noise (default %llu)\n"
"\n"
"Images and network:\n"
"  --size N              longest side of the content image in pixels\n"
"                        (default %d; resized with a filter when needed)\n"
"  --style-scale X       style image's longest side = content's times X\n"
"                        (default %g)\n"
"  --pool avg|max        pooling between blocks (default avg)\n"
"  --content-layers L    comma list of ReLU layers for the content loss,\n"
"                        summed (default %s)\n"
"  --style-layers L      comma list of layers for the style loss, weighted\n"
"                        equally (default:\n"
"                        %s)\n"
"\n"
"Running:\n"
"  --threads N           threads (default: all processors; results are the\n"
"                        same for any number)\n"
"  --quiet               no progress output\n"
"  --help                this text\n"
"  --version             version, kernels in use and threads\n"
"\n"
"Layers are named relu<block>_<i> (or conv<block>_<i>): relu1_1 relu1_2\n"
"relu2_1 relu2_2 relu3_1 relu3_2 relu3_3, and deeper ones when the weights\n"
"have them. NST_ISA=scalar|avx2|neon forces a kernel set.\n",
            d.iters, d.lr, d.content_weight, d.style_weight, d.tv_weight,
            (unsigned long long)d.seed, d.size, d.style_scale,
            d.content_layers, d.style_layers);
}

/* Reports a usage error and returns the exit status for it. */
__attribute__((format(printf, 1, 2))) static int bad_usage(const char *fmt,
                                                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nst: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see nst --help)\n");
    va_end(ap);
    return 2;
}

static int parse_long(const char *opt, const char *s, long lo, long hi,
                      long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr,
                "nst: %s: '%s' is not a whole number from %ld to %ld\n", opt,
                s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_double(const char *opt, const char *s, double lo, double hi,
                        double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "nst: %s: '%s' is not a number from %g to %g\n", opt,
                s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static void print_version(const nst_kernels *k)
{
    printf("nst %s\nkernels: %s (available:", PACKAGE_VERSION, k->name);
    static const char *const isas[] = {"scalar", "avx2", "neon"};
    for (size_t i = 0; i < sizeof isas / sizeof *isas; i++)
        if (nst_kernels_for(isas[i]))
            printf(" %s", isas[i]);
    printf(")\nthreads: %d\n", omp_get_max_threads());
}

enum {
    OPT_CONTENT = 256, OPT_STYLE, OPT_OUT, OPT_DATA, OPT_WEIGHTS, OPT_ITERS,
    OPT_LR, OPT_CW, OPT_SW, OPT_TVW, OPT_SIZE, OPT_STYLE_SCALE, OPT_INIT,
    OPT_SEED, OPT_POOL, OPT_CL, OPT_SL, OPT_THREADS, OPT_SAVE_EVERY, OPT_LOG,
    OPT_QUIET, OPT_HELP, OPT_VERSION
};

static const struct option long_options[] = {
    {"content", required_argument, NULL, OPT_CONTENT},
    {"style", required_argument, NULL, OPT_STYLE},
    {"out", required_argument, NULL, OPT_OUT},
    {"data", required_argument, NULL, OPT_DATA},
    {"weights", required_argument, NULL, OPT_WEIGHTS},
    {"iters", required_argument, NULL, OPT_ITERS},
    {"lr", required_argument, NULL, OPT_LR},
    {"content-weight", required_argument, NULL, OPT_CW},
    {"style-weight", required_argument, NULL, OPT_SW},
    {"tv-weight", required_argument, NULL, OPT_TVW},
    {"size", required_argument, NULL, OPT_SIZE},
    {"style-scale", required_argument, NULL, OPT_STYLE_SCALE},
    {"init", required_argument, NULL, OPT_INIT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"pool", required_argument, NULL, OPT_POOL},
    {"content-layers", required_argument, NULL, OPT_CL},
    {"style-layers", required_argument, NULL, OPT_SL},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"save-every", required_argument, NULL, OPT_SAVE_EVERY},
    {"log", required_argument, NULL, OPT_LOG},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Fills o from argv; 0 to run, 1 when --help/--version was answered, 2 on
 * a usage error (already reported). */
static int parse_args(int argc, char **argv, nst_options *o, int *threads,
                      int *version)
{
    long n;
    double x;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        const char *name = argv[optind - 1];
        switch (opt) {
        case OPT_CONTENT: o->content = optarg; break;
        case OPT_STYLE: o->style = optarg; break;
        case OPT_OUT: o->out = optarg; break;
        case OPT_DATA: o->data_dir = optarg; break;
        case OPT_WEIGHTS: o->weights = optarg; break;
        case OPT_CL: o->content_layers = optarg; break;
        case OPT_SL: o->style_layers = optarg; break;
        case OPT_LOG: o->log_path = optarg; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_HELP: usage(stdout); return 1;
        case OPT_VERSION: *version = 1; break;
        case OPT_ITERS:
            if (parse_long("--iters", optarg, 0, 1000000, &n)) return 2;
            o->iters = (int)n;
            break;
        case OPT_SIZE:
            if (parse_long("--size", optarg, 16, 4096, &n)) return 2;
            o->size = (int)n;
            break;
        case OPT_SAVE_EVERY:
            if (parse_long("--save-every", optarg, 0, 1000000, &n)) return 2;
            o->save_every = (int)n;
            break;
        case OPT_THREADS:
            if (parse_long("--threads", optarg, 1, 1024, &n)) return 2;
            *threads = (int)n;
            break;
        case OPT_SEED:
            if (parse_long("--seed", optarg, 0, LONG_MAX, &n)) return 2;
            o->seed = (uint64_t)n;
            break;
        case OPT_LR:
            if (parse_double("--lr", optarg, 1e-9, 1e6, &o->lr)) return 2;
            break;
        case OPT_CW:
            if (parse_double("--content-weight", optarg, 0, 1e30, &x)) return 2;
            o->content_weight = x;
            break;
        case OPT_SW:
            if (parse_double("--style-weight", optarg, 0, 1e30, &x)) return 2;
            o->style_weight = x;
            break;
        case OPT_TVW:
            if (parse_double("--tv-weight", optarg, 0, 1e30, &x)) return 2;
            o->tv_weight = x;
            break;
        case OPT_STYLE_SCALE:
            if (parse_double("--style-scale", optarg, 0.01, 100, &x)) return 2;
            o->style_scale = x;
            break;
        case OPT_INIT:
            if (strcmp(optarg, "content") && strcmp(optarg, "noise"))
                return bad_usage("--init: '%s' is not content or noise",
                                 optarg);
            o->init_noise = strcmp(optarg, "noise") == 0;
            break;
        case OPT_POOL:
            if (strcmp(optarg, "avg") && strcmp(optarg, "max"))
                return bad_usage("--pool: '%s' is not avg or max", optarg);
            o->pool = strcmp(optarg, "max") == 0 ? NST_POOL_MAX : NST_POOL_AVG;
            break;
        case ':':
            return bad_usage("%s needs a value", name);
        default:
            return bad_usage("unknown option '%s'", name);
        }
    }
    if (optind < argc)
        return bad_usage("unexpected argument '%s'", argv[optind]);
    return 0;
}

static int check_inputs(const nst_options *o)
{
    if (o->data_dir && (o->content || o->style))
        return bad_usage("--data cannot be combined with --content or "
                         "--style");
    if (!o->data_dir && (!o->content || !o->style))
        return bad_usage("give --content and --style, or --data");
    if (!o->out)
        return bad_usage("give --out (%s)",
                         o->data_dir ? "a folder" : "an image file");
    return 0;
}

int main(int argc, char **argv)
{
    nst_options o;
    nst_options_default(&o);
    int threads = 0, version = 0;
    if (argc == 1) {
        usage(stderr);
        return 2;
    }
    int rc = parse_args(argc, argv, &o, &threads, &version);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (threads)
        omp_set_num_threads(threads);
    const nst_kernels *k = nst_kernels_best();
    if (!k) {
        fprintf(stderr, "nst: %s\n", nst_failure_reason());
        return 1;
    }
    if (version) {
        print_version(k);
        return 0;
    }
    if ((rc = check_inputs(&o)) != 0)
        return rc;
    char weights[4096];
    o.weights = nst_find_weights(o.weights, weights, sizeof weights);
    if (!o.weights) {
        fprintf(stderr, "nst: no VGG weights found: give --weights FILE, set "
                        "NST_WEIGHTS, or run vgg/fetch_vgg16.sh\n");
        return 1;
    }
    if (nst_run(&o, k) != 0) {
        fprintf(stderr, "nst: %s\n", nst_failure_reason());
        return 1;
    }
    return 0;
}
