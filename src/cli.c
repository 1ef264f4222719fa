/* The command line: options into nst_options, every value checked. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "color.h"
#include "error.h"
#include "layer_list.h"
#include "lbfgs.h"
#include "option_limits.h"

void nst_cli_usage(FILE *to)
{
    nst_options d;
    nst_options_default(&d);
    fprintf(to,
"Usage: nst --content IMAGE --style IMAGE --out OUT.png [options]\n"
"       nst --data DIR [--out OUTDIR] [options]\n"
"\n"
"Paints the content image in the style of the style image (Gatys et al.'s\n"
"neural style transfer with a pretrained VGG network).\n"
"\n"
"Inputs and outputs:\n"
"  --content FILE        photo whose layout is kept (JPEG, PNG, BMP or TGA)\n"
"  --style FILE          painting whose textures are taken; repeat it to\n"
"                        blend several styles (not with --data)\n"
"  --style-blend W,W,... one weight per --style, in order, normalised to sum\n"
"                        1 (default: equal); each weights its style's loss\n"
"  --style-mask FILE     one per --style, in order: grayscale image, 0..255\n"
"                        read as 0..1, resized to the content image; that\n"
"                        style's Gram is taken over the masked region only\n"
"  --out FILE            result, .png or .jpg; written only when complete\n"
"  --data DIR            batch: pair every content_* with every style_* image\n"
"                        in DIR (sorted by name); pair i goes to OUTDIR/gen_i/\n"
"                        (result.png, snapshots, pair.txt with the settings),\n"
"                        or DIR/gen_i/ without --out\n"
"  --weights FILE        VGG .npz weights (vgg16_weights.npz key layout);\n"
"                        default: $NST_WEIGHTS, else vgg/*.npz, else\n"
"                        ../shared/vgg/*.npz\n"
"  --save-every K        also save the image every K iterations, as\n"
"                        OUT_iter_0100.png (batch: gen_i/iter_0100.png);\n"
"                        with levels OUT_level2_iter_0100.png for level 2\n"
"  --log FILE.csv        loss per iteration:\n"
"                        iter,total,content,style,tv,seconds,size\n"
"                        (row 0: the starting image; row k: the image after\n"
"                        k Adam updates, or L-BFGS's k-th trial; each level\n"
"                        its rows 0..N, size its longest side; batch: in\n"
"                        gen_i/)\n"
"  --quality N           JPEG quality of .jpg results and snapshots, 1 to 100\n"
"                        (default %d)\n"
"  --sheet FILE          also write content | style(s) | result side by side\n"
"                        at a common height, .png or .jpg (batch: a row per\n"
"                        pair; not with --shard)\n"
"  --shard I/N           batch: run only the pairs i with i mod N = I, so N\n"
"                        processes (I = 0..N-1) sharing OUTDIR write exactly\n"
"                        the batch one process would\n"
"  --checkpoint FILE     keep the whole state of the run in FILE, to continue\n"
"                        it later: after every --save-every K iterations,\n"
"                        on Ctrl-C and at each level's end (not with --data)\n"
"  --resume FILE         continue the run whose --checkpoint FILE this is, in\n"
"                        its level (the same inputs, settings and levels;\n"
"                        --iters may be larger on that level): the result,\n"
"                        log and snapshots are those of a run never stopped\n"
"                        (not with --data)\n"
"  --keep-last-good      when a loss or gradient is not finite, still write\n"
"                        the last image whose loss was finite as the result\n"
"                        (the run still fails, exit 1)\n"
"\n"
"Optimisation:\n"
"  --iters N             iterations, each one evaluation of the loss and its\n"
"                        gradient, per level (default %d)\n"
"  --start-size S        coarse to fine: run at longest side S first, then\n"
"                        at sizes growing by equal ratios of at most 2 up\n"
"                        to --size, each level starting from the one\n"
"                        before resized up (default %d; 0, --size or a\n"
"                        default above --size: one level at --size)\n"
"  --start-iters N       iterations of the first level (default %d)\n"
"  --optimizer adam|lbfgs\n"
"                        L-BFGS in the pixel range (default; fewer\n"
"                        iterations for the same loss, the result its best\n"
"                        accepted image), or adam (Gatys et al.'s method)\n"
"  --lbfgs-history M     L-BFGS: gradient pairs kept, 1 to %d (default %d)\n"
"  --lr X                Adam learning rate, in pixel levels (default %g;\n"
"                        Adam only)\n"
"  --content-weight X    alpha, weight of the content loss (default %g)\n"
"  --style-weight X      beta, weight of the style loss (default %g)\n"
"  --tv-weight X         gamma, weight of total variation (default %g):\n"
"                        0.1 to 10 smooths flat areas from slightly to\n"
"                        strongly, 0 turns it off\n"
"  --init content|noise|FILE\n"
"                        starting image (default content); FILE is an image,\n"
"                        resized to the content's size (e.g. an earlier\n"
"                        result, to continue or to step up --size; write\n"
"                        ./content for a file of that name)\n"
"  --seed N              seed of --init noise (default %llu)\n"
"  --init-noise-ratio R  --init noise starts from (1 - R) content + R uniform\n"
"                        noise, 0 to 1 (default %g; 1: noise alone)\n"
"\n"
"Images and network:\n"
"  --size N              longest side of the content image in pixels\n"
"                        (default %d; resized with a filter when needed)\n"
"  --style-scale X[,X..] style image's longest side = content's times X\n"
"                        (default %g); one value for all styles or one\n"
"                        per --style\n"
"  --pool avg|max        pooling between blocks (default avg)\n"
"  --preserve-colors none|luminance|histogram\n"
"                        keep the content's colours (default none):\n"
"                        luminance runs the transfer on grey images and gives\n"
"                        the result the content's chroma; histogram matches\n"
"                        the style's colour mean and covariance to the\n"
"                        content's before the run\n"
"  --content-layers L    comma list of ReLU layers for the content loss,\n"
"                        summed (default %s); name:W weights a layer\n"
"                        (default 1), e.g. relu2_2:0.5,relu3_3\n"
"  --style-layers L      comma list of layers for the style loss; name:W\n"
"                        weights a layer (default 1), the weights then\n"
"                        normalised to sum 1 (default:\n"
"                        %s)\n"
"\n"
"Running:\n"
"  --threads N           threads (default: all processors; results are the\n"
"                        same for any number)\n"
"  --max-memory MIB      memory budget of the run (default: half the\n"
"                        physical memory, at most 4096); a run that does\n"
"                        not fit whole is evaluated in tiles, exactly, and\n"
"                        one that cannot fit even so is refused\n"
"  --tile PX             evaluate the loss in tiles of at most PX pixels a\n"
"                        side (rounded down to a multiple of the pools'\n"
"                        2^k; default: whole image if it fits)\n"
"  --quiet               no progress output\n"
"  --help                this text\n"
"  --version             version, kernels in use and threads\n"
"\n"
"Layers are named relu<block>_<i> (or conv<block>_<i>): relu1_1 relu1_2\n"
"relu2_1 relu2_2 relu3_1 relu3_2 relu3_3, and deeper ones when the weights\n"
"have them. NST_ISA=scalar|avx2|neon forces a kernel set.\n",
            d.quality, d.iters, d.start_size, d.start_iters,
            NST_LBFGS_MAX_HISTORY, d.lbfgs_history, d.lr,
            d.content_weight, d.style_weight, d.tv_weight,
            (unsigned long long)d.seed, d.init_noise_ratio, d.size, d.style_scale,
            d.content_layers, d.style_layers);
}

/* Writes a usage problem to msg; returns NST_CLI_USAGE_ERROR. */
__attribute__((format(printf, 3, 4))) static nst_cli_status
usage_error(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
    return NST_CLI_USAGE_ERROR;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_colors(const char *s, nst_colors *out)
{
    for (int c = 0; c < NST_COLORS_COUNT; c++)
        if (strcmp(s, nst_colors_name((nst_colors)c)) == 0) {
            *out = (nst_colors)c;
            return 0;
        }
    return -1;
}

enum {
    OPT_CONTENT = 256, OPT_STYLE, OPT_OUT, OPT_DATA, OPT_WEIGHTS, OPT_ITERS,
    OPT_LR, OPT_CW, OPT_SW, OPT_TVW, OPT_SIZE, OPT_STYLE_SCALE, OPT_INIT,
    OPT_SEED, OPT_POOL, OPT_CL, OPT_SL, OPT_THREADS, OPT_SAVE_EVERY, OPT_LOG,
    OPT_QUIET, OPT_HELP, OPT_VERSION, OPT_PRESERVE_COLORS, OPT_QUALITY,
    OPT_STYLE_BLEND, OPT_STYLE_MASK, OPT_OPTIMIZER, OPT_LBFGS_HISTORY,
    OPT_SHEET, OPT_SHARD, OPT_INIT_NOISE_RATIO, OPT_CHECKPOINT, OPT_RESUME,
    OPT_KEEP_LAST_GOOD, OPT_MAX_MEMORY, OPT_TILE, OPT_START_SIZE,
    OPT_START_ITERS
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
    {"style-blend", required_argument, NULL, OPT_STYLE_BLEND},
    {"style-mask", required_argument, NULL, OPT_STYLE_MASK},
    {"init", required_argument, NULL, OPT_INIT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"pool", required_argument, NULL, OPT_POOL},
    {"content-layers", required_argument, NULL, OPT_CL},
    {"style-layers", required_argument, NULL, OPT_SL},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"save-every", required_argument, NULL, OPT_SAVE_EVERY},
    {"log", required_argument, NULL, OPT_LOG},
    {"preserve-colors", required_argument, NULL, OPT_PRESERVE_COLORS},
    {"quality", required_argument, NULL, OPT_QUALITY},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {"optimizer", required_argument, NULL, OPT_OPTIMIZER},
    {"lbfgs-history", required_argument, NULL, OPT_LBFGS_HISTORY},
    {"sheet", required_argument, NULL, OPT_SHEET},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"init-noise-ratio", required_argument, NULL, OPT_INIT_NOISE_RATIO},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"resume", required_argument, NULL, OPT_RESUME},
    {"keep-last-good", no_argument, NULL, OPT_KEEP_LAST_GOOD},
    {"max-memory", required_argument, NULL, OPT_MAX_MEMORY},
    {"tile", required_argument, NULL, OPT_TILE},
    {"start-size", required_argument, NULL, OPT_START_SIZE},
    {"start-iters", required_argument, NULL, OPT_START_ITERS},
    {NULL, 0, NULL, 0},
};

/* "--iters" for OPT_ITERS, whatever abbreviation or "=value" was typed. */
static const char *option_name(int opt, char *buf, size_t size)
{
    const struct option *o = long_options;
    while (o->name && o->val != opt)
        o++;
    snprintf(buf, size, "--%s", o->name ? o->name : "?");
    return buf;
}

/* Whole-number options: where the value goes and its range. */
static long *whole_option(int opt, long v[], long *lo, long *hi)
{
    switch (opt) {
    case OPT_ITERS: *lo = 0; *hi = NST_ITERS_MAX; return &v[0];
    case OPT_SIZE: *lo = NST_SIZE_MIN; *hi = NST_SIZE_MAX; return &v[1];
    case OPT_SAVE_EVERY: *lo = 0; *hi = 1000000; return &v[2];
    case OPT_THREADS: *lo = 1; *hi = 1024; return &v[3];
    case OPT_SEED: *lo = 0; *hi = LONG_MAX; return &v[4];
    case OPT_QUALITY: *lo = 1; *hi = 100; return &v[5];
    case OPT_LBFGS_HISTORY:
        *lo = 1; *hi = NST_LBFGS_MAX_HISTORY; return &v[6];
    case OPT_MAX_MEMORY: *lo = 1; *hi = NST_MAX_MEMORY_MAX; return &v[7];
    case OPT_TILE: *lo = 1; *hi = NST_TILE_MAX; return &v[8];
    case OPT_START_SIZE: *lo = 0; *hi = NST_SIZE_MAX; return &v[9];
    case OPT_START_ITERS: *lo = 0; *hi = NST_ITERS_MAX; return &v[10];
    default: return NULL;
    }
}

/* Real-valued options: where the value goes and its range. */
static double *real_option(int opt, nst_options *o, double *lo, double *hi)
{
    switch (opt) {
    case OPT_LR: *lo = NST_LR_MIN; *hi = NST_LR_MAX; return &o->lr;
    case OPT_CW: *lo = 0; *hi = NST_LOSS_WEIGHT_MAX; return &o->content_weight;
    case OPT_SW: *lo = 0; *hi = NST_LOSS_WEIGHT_MAX; return &o->style_weight;
    case OPT_TVW: *lo = 0; *hi = NST_LOSS_WEIGHT_MAX; return &o->tv_weight;
    case OPT_INIT_NOISE_RATIO: *lo = 0; *hi = 1; return &o->init_noise_ratio;
    default: return NULL;
    }
}

/* A comma list of numbers in [lo, hi], at most NST_MAX_STYLES, into v;
 * the count, or -1 with msg naming the option and the bad value. */
static int parse_list(const char *s, const char *option, double lo,
                      double hi, double *v, char *msg, size_t size)
{
    char item[64];
    int n = 0;
    for (;;) {
        const size_t len = strcspn(s, ",");
        if (n == NST_MAX_STYLES) {
            usage_error(msg, size, "%s: more than %d values", option,
                        NST_MAX_STYLES);
            return -1;
        }
        snprintf(item, sizeof item, "%.*s", (int)len, s);
        if (len >= sizeof item || parse_double(item, lo, hi, &v[n])) {
            usage_error(msg, size, "%s: '%.*s' is not a number from %g to %g",
                        option, (int)len, s, lo, hi);
            return -1;
        }
        n++;
        if (!s[len])
            return n;
        s += len + 1;
    }
}

/* The per-style options agree with the styles given. */
static nst_cli_status check_styles(const nst_options *o, char *msg,
                                   size_t size)
{
    if (o->data_dir && (o->n_blend || o->n_masks || o->n_scales > 1))
        return usage_error(msg, size, "--data pairs one style at a time: "
                                      "--style-blend, --style-mask and a list "
                                      "of --style-scale need --style");
    if (o->data_dir)
        return NST_CLI_RUN;
    if (o->n_blend && o->n_blend != o->n_styles)
        return usage_error(msg, size, "--style-blend: %d weights for %d "
                                      "--style images",
                           o->n_blend, o->n_styles);
    double sum = 0;
    for (int i = 0; i < o->n_blend; i++)
        sum += o->style_blend[i];
    if (o->n_blend && !(sum > 0))
        return usage_error(msg, size, "--style-blend: the weights sum to 0");
    if (o->n_scales > 1 && o->n_scales != o->n_styles)
        return usage_error(msg, size, "--style-scale: %d values for %d "
                                      "--style images (give one, or one each)",
                           o->n_scales, o->n_styles);
    if (o->n_masks && o->n_masks != o->n_styles)
        return usage_error(msg, size, "--style-mask: %d masks for %d --style "
                                      "images (give one each, in order)",
                           o->n_masks, o->n_styles);
    return NST_CLI_RUN;
}

/* --shard I/N: 0 <= I < N. */
static int parse_shard(const char *s, int *shard, int *n_shards)
{
    long i, n;
    char item[32];
    const size_t len = strcspn(s, "/");
    snprintf(item, sizeof item, "%.*s", (int)len, s);
    if (len >= sizeof item || !s[len] || parse_long(item, 0, 1000000, &i) ||
        parse_long(s + len + 1, 1, 1000000, &n) || i >= n)
        return -1;
    *shard = (int)i;
    *n_shards = (int)n;
    return 0;
}

/* --sheet and --shard agree with the mode. */
static nst_cli_status check_batch_outputs(const nst_options *o, char *msg,
                                          size_t size)
{
    if (o->n_shards && !o->data_dir)
        return usage_error(msg, size, "--shard needs --data (see nst --help)");
    if (o->n_shards && o->sheet)
        return usage_error(msg, size,
                           "--sheet: one sheet of the whole batch cannot be "
                           "written by --shard processes; run without "
                           "--shard for a sheet");
    return NST_CLI_RUN;
}

/* --content-layers and --style-layers parse (their names are checked
 * against the network when it is loaded). */
static nst_cli_status check_layers(const nst_options *o, char *msg,
                                   size_t size)
{
    nst_layer_list list;
    if (nst_layer_list_parse(o->content_layers, "--content-layers", &list) ||
        nst_layer_list_parse(o->style_layers, "--style-layers", &list))
        return usage_error(msg, size, "%s", nst_failure_reason());
    return NST_CLI_RUN;
}

static nst_cli_status check_inputs(const nst_options *o, char *msg,
                                   size_t size)
{
    if (o->data_dir && (o->content || o->style))
        return usage_error(msg, size, "--data cannot be combined with "
                                      "--content or --style (see nst --help)");
    if (!o->data_dir && (!o->content || !o->style))
        return usage_error(msg, size, "give --content and --style, or --data "
                                      "(see nst --help)");
    if (!o->out && !o->data_dir)
        return usage_error(msg, size, "give --out (an image file) (see nst "
                                      "--help)");
    if (o->data_dir && (o->checkpoint || o->resume))
        return usage_error(msg, size, "--checkpoint and --resume take one "
                                      "--content and --style, not --data");
    return NST_CLI_RUN;
}

nst_cli_status nst_cli_parse(int argc, char **argv, nst_cli *cli, char *msg,
                             size_t size)
{
    nst_options *o = &cli->options;
    nst_options_default(o);
    msg[0] = '\0';
    /* Whole numbers as parsed, in whole_option's order. */
    long whole[11] = {o->iters, o->size, o->save_every, 0, (long)o->seed,
                     o->quality, o->lbfgs_history, o->max_memory, o->tile,
                     o->start_size, o->start_iters};
    int version = 0, opt, start_size_given = 0;
    opterr = 0;
    optind = 0; /* glibc: start afresh, so the parser can run again */
    while ((opt = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        const char *name = argv[optind - 1];
        char canonical[32];
        long lo, hi;
        double dlo, dhi;
        long *w = whole_option(opt, whole, &lo, &hi);
        double *x = real_option(opt, o, &dlo, &dhi);
        if (w) {
            start_size_given |= opt == OPT_START_SIZE;
            if (parse_long(optarg, lo, hi, w))
                return usage_error(msg, size,
                                   "%s: '%s' is not a whole number from %ld "
                                   "to %ld",
                                   option_name(opt, canonical,
                                               sizeof canonical),
                                   optarg, lo, hi);
            continue;
        }
        if (x) {
            if (parse_double(optarg, dlo, dhi, x))
                return usage_error(msg, size,
                                   "%s: '%s' is not a number from %g to %g",
                                   option_name(opt, canonical,
                                               sizeof canonical),
                                   optarg, dlo, dhi);
            continue;
        }
        switch (opt) {
        case OPT_CONTENT: o->content = optarg; break;
        case OPT_STYLE:
            if (o->n_styles == NST_MAX_STYLES)
                return usage_error(msg, size, "--style: more than %d styles",
                                   NST_MAX_STYLES);
            o->styles[o->n_styles++] = optarg;
            o->style = o->styles[0];
            break;
        case OPT_STYLE_MASK:
            if (o->n_masks == NST_MAX_STYLES)
                return usage_error(msg, size, "--style-mask: more than %d "
                                              "masks",
                                   NST_MAX_STYLES);
            o->style_masks[o->n_masks++] = optarg;
            break;
        case OPT_STYLE_BLEND:
            if ((o->n_blend = parse_list(optarg, "--style-blend", 0,
                                         NST_STYLE_BLEND_MAX,
                                         o->style_blend, msg, size)) < 0)
                return NST_CLI_USAGE_ERROR;
            break;
        case OPT_STYLE_SCALE:
            if ((o->n_scales = parse_list(optarg, "--style-scale",
                                          NST_STYLE_SCALE_MIN,
                                          NST_STYLE_SCALE_MAX,
                                          o->style_scales, msg, size)) < 0)
                return NST_CLI_USAGE_ERROR;
            o->style_scale = o->style_scales[0];
            break;
        case OPT_OUT: o->out = optarg; break;
        case OPT_DATA: o->data_dir = optarg; break;
        case OPT_WEIGHTS: o->weights = optarg; break;
        case OPT_CL: o->content_layers = optarg; break;
        case OPT_SL: o->style_layers = optarg; break;
        case OPT_LOG: o->log_path = optarg; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_HELP: return NST_CLI_HELP;
        case OPT_VERSION: version = 1; break;
        case OPT_INIT:
            o->init_noise = strcmp(optarg, "noise") == 0;
            o->init_file = o->init_noise || strcmp(optarg, "content") == 0
                               ? NULL
                               : optarg;
            if (o->init_file && !*optarg)
                return usage_error(msg, size,
                                   "--init: give content, noise or an "
                                   "image file (see nst --help)");
            break;
        case OPT_PRESERVE_COLORS:
            if (parse_colors(optarg, &o->colors) != 0)
                return usage_error(msg, size,
                                   "--preserve-colors: '%s' is not none, "
                                   "luminance or histogram (see nst --help)",
                                   optarg);
            break;
        case OPT_OPTIMIZER:
            if (!strcmp(optarg, nst_optimizer_name(NST_OPTIMIZER_ADAM)))
                o->optimizer = NST_OPTIMIZER_ADAM;
            else if (!strcmp(optarg, nst_optimizer_name(NST_OPTIMIZER_LBFGS)))
                o->optimizer = NST_OPTIMIZER_LBFGS;
            else
                return usage_error(msg, size,
                                   "--optimizer: '%s' is not adam or lbfgs "
                                   "(see nst --help)",
                                   optarg);
            break;
        case OPT_SHEET: o->sheet = optarg; break;
        case OPT_SHARD:
            if (parse_shard(optarg, &o->shard, &o->n_shards) != 0)
                return usage_error(msg, size,
                                   "--shard: '%s' is not I/N with 0 <= I < N "
                                   "(see nst --help)",
                                   optarg);
            break;
        case OPT_CHECKPOINT: o->checkpoint = optarg; break;
        case OPT_RESUME: o->resume = optarg; break;
        case OPT_KEEP_LAST_GOOD: o->keep_last_good = 1; break;
        case OPT_POOL:
            if (strcmp(optarg, "avg") && strcmp(optarg, "max"))
                return usage_error(msg, size,
                                   "--pool: '%s' is not avg or max (see nst "
                                   "--help)",
                                   optarg);
            o->pool = strcmp(optarg, "max") == 0 ? NST_POOL_MAX : NST_POOL_AVG;
            break;
        case ':':
            return usage_error(msg, size, "%s needs a value (see nst --help)",
                               name);
        default:
            return usage_error(msg, size, "unknown option '%s' (see nst "
                                          "--help)",
                               name);
        }
    }
    if (optind < argc)
        return usage_error(msg, size, "unexpected argument '%s' (see nst "
                                      "--help)",
                           argv[optind]);
    o->iters = (int)whole[0];
    o->size = (int)whole[1];
    o->save_every = (int)whole[2];
    o->threads = (int)whole[3];
    o->seed = (uint64_t)whole[4];
    o->quality = (int)whole[5];
    o->lbfgs_history = (int)whole[6];
    o->max_memory = (int)whole[7];
    o->tile = (int)whole[8];
    o->start_size = (int)whole[9];
    o->start_iters = (int)whole[10];
    if (version)
        return NST_CLI_VERSION;
    /* The default --start-size above a small --size means one level. */
    if (start_size_given && o->start_size > o->size)
        return usage_error(msg, size,
                           "--start-size %d is larger than --size %d (give "
                           "0 or --size for a single level)",
                           o->start_size, o->size);
    nst_cli_status st = check_inputs(o, msg, size);
    if (st == NST_CLI_RUN)
        st = check_styles(o, msg, size);
    if (st == NST_CLI_RUN)
        st = check_layers(o, msg, size);
    if (st == NST_CLI_RUN)
        st = check_batch_outputs(o, msg, size);
    return st;
}
