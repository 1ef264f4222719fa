#include "nst.h"

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adam.h"
#include "atomic_file.h"
#include "batch.h"
#include "error.h"
#include "image.h"
#include "objective.h"
#include "progress.h"

#define MAX_SIZE 4096

void nst_options_default(nst_options *o)
{
    *o = (nst_options){
        .iters = 300,
        .lr = 4.0,
        .content_weight = 1.0,
        .style_weight = 1e-2,
        .tv_weight = 1e-1,
        .size = 512,
        .style_scale = 1.0,
        .seed = 0,
        .pool = NST_POOL_AVG,
        .content_layers = "relu3_3",
        .style_layers =
            "relu1_1,relu1_2,relu2_1,relu2_2,relu3_1,relu3_2,relu3_3",
    };
}

const char *nst_find_weights(const char *given, char *buf, size_t size)
{
    if (given)
        return given;
    const char *env = getenv("NST_WEIGHTS");
    if (env && *env)
        return env;
    static const char *const patterns[] = {"vgg/*.npz", "../shared/vgg/*.npz"};
    for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) {
        glob_t g;
        const int found = glob(patterns[i], 0, NULL, &g) == 0 && g.gl_pathc;
        if (found)
            snprintf(buf, size, "%s", g.gl_pathv[0]);
        globfree(&g);
        if (found)
            return buf;
    }
    return NULL;
}

/* The network with the layers the losses read, as indices into it. */
typedef struct network {
    nst_vgg vgg;
    int content[NST_VGG_MAX_LAYERS], n_content;
    int style[NST_VGG_MAX_LAYERS], n_style;
} network;

/* Splits a comma-separated list of layer names into names[] (pointing
 * into buf). */
static int split_names(const char *list, const char *option, char *buf,
                       size_t size, const char **names, int *n)
{
    if (snprintf(buf, size, "%s", list) >= (int)size)
        return nst_fail("%s: list too long", option);
    *n = 0;
    for (char *save, *tok = strtok_r(buf, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        if (*n == NST_VGG_MAX_LAYERS)
            return nst_fail("%s: more than %d layers", option,
                            NST_VGG_MAX_LAYERS);
        names[(*n)++] = tok;
    }
    if (*n == 0)
        return nst_fail("%s: no layer named", option);
    return 0;
}

static int network_load(network *net, const nst_options *o,
                        const nst_kernels *k)
{
    char cbuf[512], sbuf[512];
    const char *names[2 * NST_VGG_MAX_LAYERS];
    if (split_names(o->content_layers, "--content-layers", cbuf, sizeof cbuf,
                    names, &net->n_content) != 0 ||
        split_names(o->style_layers, "--style-layers", sbuf, sizeof sbuf,
                    names + net->n_content, &net->n_style) != 0)
        return -1;
    const int n_names = net->n_content + net->n_style;
    if (nst_vgg_load(&net->vgg, o->weights, names, n_names, o->pool, k) != 0)
        return -1;
    for (int i = 0; i < n_names; i++) {
        int idx = nst_vgg_find(&net->vgg, names[i]);
        if (idx < 0) {
            nst_vgg_free(&net->vgg);
            return -1;
        }
        if (i < net->n_content)
            net->content[i] = idx;
        else
            net->style[i - net->n_content] = idx;
    }
    return 0;
}

static void subtract_mean(nst_image *img)
{
    const size_t plane = (size_t)img->w * img->h;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
            img->data[c * plane + i] -= nst_vgg_mean[c];
}

/* Keeps x in the valid pixel range [0, 255] - mean. */
static void clamp_pixels(float *x, int w, int h)
{
    const size_t plane = (size_t)w * h;
    for (int c = 0; c < 3; c++) {
        const float lo = -nst_vgg_mean[c], hi = 255.0f - nst_vgg_mean[c];
        for (size_t i = 0; i < plane; i++)
            x[c * plane + i] = fminf(fmaxf(x[c * plane + i], lo), hi);
    }
}

/* Writes the mean-subtracted image x as a picture at path. */
static int save_pixels(const char *path, const float *x, int w, int h)
{
    nst_image img;
    if (nst_image_alloc(&img, w, h) != 0)
        return -1;
    const size_t plane = (size_t)w * h;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
            img.data[c * plane + i] = x[c * plane + i] + nst_vgg_mean[c];
    int rc = nst_image_save(path, &img);
    nst_image_free(&img);
    return rc;
}

/* Uniform pixels from a seeded 64-bit generator (SplitMix64 steps through
 * the seed; the top 24 bits give the value). */
static void fill_noise(float *x, int w, int h, uint64_t seed)
{
    const size_t plane = (size_t)w * h;
    uint64_t s = seed;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) {
            uint64_t z = (s += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            x[c * plane + i] =
                255.0f * (float)(z >> 40) * 0x1p-24f - nst_vgg_mean[c];
        }
}

typedef struct log_row {
    nst_losses l;
    double seconds;
} log_row;

static int write_log(const char *path, const log_row *rows, int n)
{
    nst_atomic_file a;
    if (nst_atomic_open(&a, path) != 0)
        return -1;
    fprintf(a.f, "iter,total,content,style,tv,seconds\n");
    for (int i = 0; i < n; i++)
        fprintf(a.f, "%d,%.9g,%.9g,%.9g,%.9g,%.6f\n", i, rows[i].l.total,
                rows[i].l.content, rows[i].l.style, rows[i].l.tv,
                rows[i].seconds);
    return nst_atomic_commit(&a);
}

/* Where one pair's results go. */
typedef struct pair_job {
    const char *content, *style;
    const char *out;         /* the final image */
    const char *snap_prefix; /* snapshots: <prefix><iter>.<ext> */
    const char *snap_ext;
    const char *log;         /* NULL: none */
    const char *label;       /* for progress lines */
} pair_job;

/* Loads and sizes the pair's images, mean subtracted. */
static int load_pair(const nst_options *o, const pair_job *job,
                     nst_image *content, nst_image *style)
{
    nst_image raw = {0};
    *content = *style = (nst_image){0};
    if (nst_image_load(job->content, &raw) != 0 ||
        nst_image_fit(&raw, o->size, content) != 0)
        goto fail;
    nst_image_free(&raw);
    const int longest = content->w > content->h ? content->w : content->h;
    const double style_side = round(longest * o->style_scale);
    if (style_side < 1 || style_side > MAX_SIZE) {
        nst_fail("%s: --style-scale %g makes it %.0f pixels on its longest "
                 "side (1 to %d allowed)",
                 job->style, o->style_scale, style_side, MAX_SIZE);
        goto fail;
    }
    if (nst_image_load(job->style, &raw) != 0 ||
        nst_image_fit(&raw, (int)style_side, style) != 0)
        goto fail;
    nst_image_free(&raw);
    subtract_mean(content);
    subtract_mean(style);
    return 0;
fail:
    nst_image_free(&raw);
    nst_image_free(content);
    nst_image_free(style);
    return -1;
}

static int optimise(const nst_options *o, const nst_kernels *k,
                    nst_objective *obj, float *x, int w, int h,
                    const pair_job *job, log_row *rows)
{
    const size_t n = 3 * (size_t)w * h;
    float *grad = malloc(n * sizeof *grad);
    nst_adam adam;
    if (!grad || nst_adam_init(&adam, n, o->lr) != 0) {
        free(grad);
        return nst_fail("out of memory for a %dx%d image", w, h);
    }
    nst_progress p;
    nst_progress_start(&p, job->label, o->iters, o->quiet);
    const double start = nst_now();
    int rc = 0;
    for (int it = 0; it <= o->iters; it++) {
        /* Row it is the loss before update it+1; the last needs no
         * gradient. */
        if ((rc = nst_objective_eval(obj, x, &rows[it].l,
                                     it < o->iters ? grad : NULL)) != 0)
            break;
        rows[it].seconds = nst_now() - start;
        nst_progress_update(&p, it, &rows[it].l, rows[it].seconds);
        if (it == o->iters)
            break;
        nst_adam_step(&adam, k, x, grad);
        clamp_pixels(x, w, h);
        if (o->save_every > 0 && (it + 1) % o->save_every == 0 &&
            it + 1 < o->iters) {
            char path[4200];
            snprintf(path, sizeof path, "%s%04d%s", job->snap_prefix, it + 1,
                     job->snap_ext);
            if ((rc = save_pixels(path, x, w, h)) != 0)
                break;
        }
    }
    if (rc == 0)
        nst_progress_finish(&p, job->out, nst_now() - start);
    nst_adam_free(&adam);
    free(grad);
    return rc;
}

static int transfer(const nst_options *o, const network *net,
                    const pair_job *job)
{
    nst_image content, style;
    if (load_pair(o, job, &content, &style) != 0)
        return -1;
    const int w = content.w, h = content.h;
    const nst_objective_spec spec = {
        .content_layers = net->content,
        .n_content = net->n_content,
        .style_layers = net->style,
        .n_style = net->n_style,
        .content_weight = o->content_weight,
        .style_weight = o->style_weight,
        .tv_weight = o->tv_weight,
    };
    nst_objective *obj = nst_objective_create(&net->vgg, &spec, content.data,
                                              h, w, style.data, style.h,
                                              style.w);
    nst_image_free(&style);
    log_row *rows = calloc((size_t)o->iters + 1, sizeof *rows);
    int rc = -1;
    if (!obj || !rows) {
        if (obj)
            nst_fail("out of memory for the loss log");
        goto done;
    }
    /* The generated image starts as the content (reusing its buffer) or as
     * noise. */
    float *x = content.data;
    if (o->init_noise)
        fill_noise(x, w, h, o->seed);
    if (optimise(o, net->vgg.k, obj, x, w, h, job, rows) != 0)
        goto done;
    if (save_pixels(job->out, x, w, h) != 0)
        goto done;
    rc = job->log ? write_log(job->log, rows, o->iters + 1) : 0;
done:
    free(rows);
    nst_objective_free(obj);
    nst_image_free(&content);
    return rc;
}

/* out minus its extension, and the extension, for snapshot names. */
static void split_extension(const char *out, char *stem, size_t size,
                            const char **ext)
{
    const char *dot = strrchr(out, '.');
    const char *slash = strrchr(out, '/');
    if (!dot || (slash && dot < slash))
        dot = out + strlen(out);
    snprintf(stem, size, "%.*s", (int)(dot - out), out);
    *ext = dot;
}

static int run_single(const nst_options *o, const network *net)
{
    if (!nst_image_save_supported(o->out))
        return nst_fail("%s: unknown image type (use .png, .jpg or .jpeg)",
                        o->out);
    if (nst_atomic_probe(o->out) != 0 ||
        (o->log_path && nst_atomic_probe(o->log_path) != 0))
        return -1;
    char stem[4096], prefix[4200];
    pair_job job = {.content = o->content, .style = o->style, .out = o->out,
                    .log = o->log_path, .label = ""};
    split_extension(o->out, stem, sizeof stem, &job.snap_ext);
    snprintf(prefix, sizeof prefix, "%s_iter_", stem);
    job.snap_prefix = prefix;
    return transfer(o, net, &job);
}

/* Says which pair a gen_i folder holds and with what settings. */
static int write_pair_info(const char *path, int i, const pair_job *job,
                           const nst_options *o, const nst_kernels *k)
{
    nst_atomic_file a;
    if (nst_atomic_open(&a, path) != 0)
        return -1;
    fprintf(a.f,
            "pair %d\ncontent %s\nstyle %s\nweights %s\nsize %d\n"
            "style-scale %g\niters %d\nlr %g\ncontent-weight %g\n"
            "style-weight %g\ntv-weight %g\ninit %s\nseed %llu\npool %s\n"
            "content-layers %s\nstyle-layers %s\nkernels %s\n",
            i, job->content, job->style, o->weights, o->size, o->style_scale,
            o->iters, o->lr, o->content_weight, o->style_weight, o->tv_weight,
            o->init_noise ? "noise" : "content",
            (unsigned long long)o->seed,
            o->pool == NST_POOL_MAX ? "max" : "avg", o->content_layers,
            o->style_layers, k->name);
    return nst_atomic_commit(&a);
}

static int make_folder(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        return nst_fail("%s: exists and is not a folder", path);
    }
    return nst_fail("%s: cannot create folder: %s", path, strerror(errno));
}

/* Every image of the batch must load before any pair runs. */
static int check_batch_images(const nst_batch *b)
{
    for (int i = 0; i < b->n_content + b->n_style; i++) {
        nst_image img;
        const char *path =
            i < b->n_content ? b->content[i] : b->style[i - b->n_content];
        if (nst_image_load(path, &img) != 0)
            return -1;
        nst_image_free(&img);
    }
    return 0;
}

static int run_batch(const nst_options *o, const network *net,
                     const nst_kernels *k)
{
    nst_batch b;
    if (nst_batch_scan(o->data_dir, &b) != 0)
        return -1;
    int rc = check_batch_images(&b);
    if (rc == 0)
        rc = make_folder(o->out);
    const char *log_name = NULL;
    if (o->log_path) {
        log_name = strrchr(o->log_path, '/');
        log_name = log_name ? log_name + 1 : o->log_path;
    }
    for (int i = 0; rc == 0 && i < nst_batch_pairs(&b); i++) {
        char dir[4096], out[4200], prefix[4200], info[4200], log[4200],
            label[32];
        snprintf(dir, sizeof dir, "%s/gen_%d", o->out, i);
        snprintf(out, sizeof out, "%s/result.png", dir);
        snprintf(prefix, sizeof prefix, "%s/iter_", dir);
        snprintf(info, sizeof info, "%s/pair.txt", dir);
        snprintf(log, sizeof log, "%s/%s", dir, log_name ? log_name : "");
        snprintf(label, sizeof label, "gen_%d", i);
        pair_job job = {.content = b.content[i / b.n_style],
                        .style = b.style[i % b.n_style],
                        .out = out,
                        .snap_prefix = prefix,
                        .snap_ext = ".png",
                        .log = log_name ? log : NULL,
                        .label = label};
        rc = make_folder(dir);
        if (rc == 0)
            rc = transfer(o, net, &job);
        if (rc == 0)
            rc = write_pair_info(info, i, &job, o, k);
    }
    nst_batch_free(&b);
    return rc;
}

int nst_run(const nst_options *o, const nst_kernels *k)
{
    network net;
    if (network_load(&net, o, k) != 0)
        return -1;
    int rc = o->data_dir ? run_batch(o, &net, k) : run_single(o, &net);
    nst_vgg_free(&net.vgg);
    return rc;
}
