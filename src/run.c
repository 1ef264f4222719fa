#include "run.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "batch.h"
#include "error.h"
#include "interrupt.h"
#include "network.h"
#include "optimise.h"
#include "output_guard.h"
#include "pixels.h"
#include "progress.h"
#include "resample.h"
#include "run_log.h"
#include "scales.h"
#include "style_mask.h"

#define MAX_STYLE_SIDE 4096

/* Where one pair's results go. */
typedef struct pair_job {
    const char *content, *style; /* style: the first of styles */
    const char *const *styles;   /* n_styles, in the order of the options */
    int n_styles;
    const char *out;         /* the final image */
    const char *out_role;    /* what the user calls it, for errors */
    const char *snap_stem;   /* snapshots: <stem>[level<k>_]iter_<iter>.<ext> */
    const char *snap_ext;
    const char *log;         /* NULL: none */
    const char *label;       /* for progress lines */
} pair_job;

/* Style i's longest side: the content's (size) times its --style-scale
 * (the one value for all, or its own in the list). */
static int style_side(const nst_options *o, int size, int i, const char *name,
                      int *side)
{
    const double scale = o->n_scales > 1 ? o->style_scales[i] : o->style_scale;
    const double s = round(size * scale);
    if (s < 1 || s > MAX_STYLE_SIDE)
        return nst_fail("%s: --style-scale %g makes it %.0f pixels on its "
                        "longest side (1 to %d allowed)",
                        name, scale, s, MAX_STYLE_SIDE);
    *side = (int)s;
    return 0;
}

static int load_network(nst_network *net, const nst_options *o,
                        const nst_kernels *k)
{
    return nst_network_load(net, o->weights, o->content_layers,
                            o->style_layers, o->pool, k);
}

/* -1 with a reason naming path and its role ("content image" or "style
 * image") if img is too small for the network. */
static int fits(const nst_network *net, const char *path, const char *role,
                const nst_image *img)
{
    if (nst_network_fits(net, img->w, img->h) != 0)
        return nst_fail("%s (%s): %s", path, role, nst_failure_reason());
    return 0;
}

/* An input image as the run uses it: loaded, sized, and big enough for
 * the network. */
static int load_image(const nst_network *net, const char *path,
                      const char *role, int longest, nst_image *img)
{
    if (nst_pixels_load_picture(path, longest, img) != 0)
        return -1;
    if (fits(net, path, role, img) != 0) {
        nst_image_free(img);
        return -1;
    }
    return 0;
}

/* The starting image x (w x h, mean subtracted, holding the content):
 * kept, seeded noise or --init FILE (init, as loaded) resized; grey when
 * the transfer runs on luminance. */
static int start_image(const nst_options *o, const nst_image *init, float *x,
                       int w, int h)
{
    if (init->data) {
        if (nst_pixels_from_picture(init, x, w, h) != 0)
            return -1;
    } else if (o->init_noise)
        nst_pixels_noise(x, w, h, o->seed);
    if (o->colors == NST_COLORS_LUMINANCE)
        nst_pixels_to_luminance(x, w, h);
    return 0;
}

/* --init FILE as loaded (empty without it). */
static int load_init(const nst_options *o, nst_image *init)
{
    *init = (nst_image){0};
    return o->init_file ? nst_image_load(o->init_file, init) : 0;
}

/* --init FILE, an input no output may replace. */
static int guard_init(nst_guard *g, const nst_options *o)
{
    return o->init_file ? nst_guard_input(g, o->init_file, "--init image")
                        : 0;
}

/* A job's styles as the objective takes them: each image (loaded at its
 * own --style-scale with the content, nst_pixels_load_pair), with its
 * --style-blend weight and its --style-mask at the content's size. */
typedef struct job_styles {
    int n;
    float *mask[NST_MAX_STYLES];
    nst_style_target target[NST_MAX_STYLES];
} job_styles;

static void job_styles_free(job_styles *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->mask[i]);
    s->n = 0;
}

/* The targets of px's styles, each checked against the network, with its
 * weight and mask. -1 with a failure reason naming the file (s then holds
 * nothing). */
static int job_styles_make(const nst_options *o, const nst_network *net,
                           const pair_job *job, const nst_pair_pixels *px,
                           job_styles *s)
{
    *s = (job_styles){0};
    for (int i = 0; i < job->n_styles; i++) {
        const nst_image *img = &px->style[i];
        s->n = i + 1;
        if (fits(net, job->styles[i], "style image", img) != 0 ||
            (o->n_masks &&
             !(s->mask[i] = nst_style_mask_load(o->style_masks[i],
                                                px->content.w,
                                                px->content.h)))) {
            job_styles_free(s);
            return -1;
        }
        s->target[i] = (nst_style_target){
            img->data, img->h, img->w, o->n_blend ? o->style_blend[i] : 1,
            s->mask[i]};
    }
    return 0;
}

/* The run's levels (scales.c) from the options. */
static void plan_levels(const nst_options *o, nst_scales *sc)
{
    nst_scales_plan(o->size, o->start_size, o->iters, o->start_iters, sc);
}

/* The snapshots of level k (0-based) of n: <stem>iter_ with one level,
 * else <stem>level<k+1>_iter_, in buf. */
static int snapshot_prefix(const pair_job *job, int k, int n, char *buf)
{
    const int len = n > 1 ? snprintf(buf, PATH_MAX, "%slevel%d_iter_",
                                     job->snap_stem, k + 1)
                          : snprintf(buf, PATH_MAX, "%siter_", job->snap_stem);
    if (len >= PATH_MAX)
        return nst_fail("%s: path too long", job->out);
    return 0;
}

/* Every file the job writes, for the guard. */
static int guard_outputs(nst_guard *g, const nst_options *o,
                         const pair_job *job)
{
    if (nst_guard_output(g, job->out, job->out_role) != 0 ||
        (job->log && nst_guard_output(g, job->log, "--log") != 0))
        return -1;
    nst_scales sc;
    plan_levels(o, &sc);
    for (int k = 0; k < sc.n; k++) {
        char prefix[PATH_MAX];
        if (snapshot_prefix(job, k, sc.n, prefix) != 0)
            return -1;
        for (int it = o->save_every; o->save_every > 0 && it < sc.iters[k];
             it += o->save_every) {
            char path[PATH_MAX];
            if (nst_snapshot_path(prefix, job->snap_ext, it, path,
                                  sizeof path) != 0 ||
                nst_guard_output(g, path, "--save-every snapshot") != 0)
                return -1;
        }
    }
    return 0;
}

/* One level of a transfer: its pictures, loaded from the files at its
 * size, the objective made from them, and x (the content's buffer). */
typedef struct level {
    nst_pair_pixels px;
    nst_objective *obj;
} level;

static void level_free(level *l)
{
    nst_objective_free(l->obj);
    nst_pixels_free_pair(&l->px);
    *l = (level){0};
}

/* Makes level k of sc: the pictures at its size from the original files,
 * the objective, and the starting image: the run's (start_image) on the
 * first level, else prev's result resampled up and clamped. prev is freed
 * once used. */
static int level_make(const nst_options *o, const nst_network *net,
                      const pair_job *job, const nst_image *init,
                      const nst_scales *sc, int k, level *prev, level *l)
{
    const int size = sc->size[k];
    *l = (level){0};
    int sides[NST_MAX_STYLES];
    for (int i = 0; i < job->n_styles; i++)
        if (style_side(o, size, i, job->styles[i], &sides[i]) != 0)
            return -1;
    if (nst_pixels_load_pair(job->content, size, job->styles, sides,
                             job->n_styles, o->colors, &l->px) != 0)
        return -1;
    char role[64] = "content image";
    if (sc->n > 1)
        snprintf(role, sizeof role, "content image at %d px", size);
    job_styles styles;
    if (fits(net, job->content, role, &l->px.content) != 0 ||
        job_styles_make(o, net, job, &l->px, &styles) != 0) {
        level_free(l);
        return -1;
    }
    const nst_objective_spec spec = {
        .content_layers = net->content,
        .n_content = net->n_content,
        .style_layers = net->style,
        .n_style = net->n_style,
        .content_weight = o->content_weight,
        .style_weight = o->style_weight,
        .tv_weight = o->tv_weight,
        .content_layer_weights = net->content_w,
        .style_layer_weights = net->style_w,
    };
    const int w = l->px.content.w, h = l->px.content.h;
    l->obj = nst_objective_create_styles(&net->vgg, &spec, l->px.content.data,
                                         h, w, styles.target, styles.n);
    job_styles_free(&styles);
    nst_pixels_free_styles(&l->px);
    /* The generated image reuses the content's buffer. */
    float *x = l->px.content.data;
    const int started =
        l->obj &&
        (k == 0 ? start_image(o, init, x, w, h)
                : nst_resample(prev->px.content.data, prev->px.content.w,
                               prev->px.content.h, 3, x, w, h)) == 0;
    if (!started) {
        level_free(l);
        return -1;
    }
    if (k > 0)
        nst_pixels_clamp(x, w, h);
    level_free(prev);
    return 0;
}

/* Runs one pair: each level of the schedule (scales.c) in turn, one
 * nst_optimise call each. The number of updates made over all levels
 * (fewer than the schedule's after SIGINT: the image so far, at the size
 * of the level it stopped in, is then the result), or -1 with a reason.
 * "wrote OUT" only once the result and the log are in place. */
static int transfer(const nst_options *o, const nst_network *net,
                    const pair_job *job, const nst_image *init)
{
    nst_scales sc;
    plan_levels(o, &sc);
    const long total = nst_scales_total_iters(&sc);
    nst_run_log log;
    if (job->log && nst_run_log_open(&log, job->log) != 0)
        return -1;
    nst_progress p;
    nst_progress_start(&p, job->label, sc.iters[0], o->quiet);
    level prev = {0}, cur = {0};
    nst_picture picture = {0};
    long updates = 0;
    int stopped = 0, failed = 0;
    for (int k = 0; k < sc.n && !stopped && !failed; k++) {
        char prefix[PATH_MAX];
        if (snapshot_prefix(job, k, sc.n, prefix) != 0 ||
            level_make(o, net, job, init, &sc, k, &prev, &cur) != 0) {
            failed = 1;
            break;
        }
        const int w = cur.px.content.w, h = cur.px.content.h;
        picture = (nst_picture){
            .w = w, .h = h, .quality = o->quality,
            .chroma = cur.px.chroma.data ? &cur.px.chroma : NULL};
        nst_progress_level(&p, k + 1, sc.n, sc.size[k], sc.iters[k]);
        const nst_optimise_job oj = {
            .obj = cur.obj, .k = net->vgg.k, .w = w, .h = h,
            .iters = sc.iters[k], .optimizer = o->optimizer, .lr = o->lr,
            .lbfgs_history = o->lbfgs_history, .save_every = o->save_every,
            .snap_prefix = prefix, .snap_ext = job->snap_ext,
            .picture = &picture,
            .progress = &p, .log = job->log ? &log : NULL};
        nst_interrupt_defer(1);
        const int done = nst_optimise(&oj, cur.px.content.data);
        nst_interrupt_defer(0);
        /* Only the image goes on to the next level. */
        nst_objective_free(cur.obj);
        cur.obj = NULL;
        failed = done < 0;
        stopped = done >= 0 && done < sc.iters[k];
        updates += failed ? 0 : done;
        prev = cur;
        cur = (level){0};
    }
    int rc = -1;
    if (failed ||
        nst_pixels_save(&picture, job->out, prev.px.content.data) != 0) {
        if (job->log)
            nst_run_log_abort(&log);
    } else if (!job->log || nst_run_log_commit(&log) == 0) {
        nst_progress_finish(&p, job->out);
        if (stopped)
            fprintf(stderr, "nst: interrupted after %ld of %ld iterations; "
                            "saved the image so far (%dx%d) as %s\n",
                    updates, total, picture.w, picture.h, job->out);
        rc = (int)updates;
    }
    level_free(&prev);
    return rc;
}

/* The status for a run that SIGINT stopped (its image saved), else 0. */
static int interrupted_status(void)
{
    const int sig = nst_interrupt_requested();
    return sig ? 128 + sig : 0;
}

/* Checks that each level's snapshot with the longest name could be
 * written. */
static int probe_snapshots(const nst_options *o, const pair_job *job)
{
    nst_scales sc;
    plan_levels(o, &sc);
    for (int k = 0; k < sc.n; k++) {
        if (o->save_every <= 0 || o->save_every >= sc.iters[k])
            continue;
        const int last = (sc.iters[k] - 1) / o->save_every * o->save_every;
        char prefix[PATH_MAX], path[PATH_MAX];
        if (snapshot_prefix(job, k, sc.n, prefix) != 0 ||
            nst_snapshot_path(prefix, job->snap_ext, last, path,
                              sizeof path) != 0 ||
            nst_atomic_probe(path) != 0)
            return -1;
    }
    return 0;
}

/* Snapshot names for out: the stem OUT-minus-extension_ and the
 * extension. */
static int split_extension(const char *out, char *prefix, size_t size,
                           const char **ext)
{
    const char *dot = strrchr(out, '.');
    const char *slash = strrchr(out, '/');
    if (!dot || (slash && dot < slash))
        dot = out + strlen(out);
    if (snprintf(prefix, size, "%.*s_", (int)(dot - out), out) >=
        (int)size)
        return nst_fail("%s: path too long", out);
    *ext = dot;
    return 0;
}

int nst_run_single(const nst_options *o, const nst_kernels *k)
{
    if (!nst_image_save_supported(o->out))
        return nst_fail("%s: unknown image type (use .png, .jpg or .jpeg)",
                        o->out);
    char prefix[PATH_MAX];
    pair_job job = {.content = o->content,
                    .style = o->style,
                    .styles = o->styles,
                    .n_styles = o->n_styles,
                    .out = o->out,
                    .out_role = "--out",
                    .snap_stem = prefix,
                    .log = o->log_path,
                    .label = ""};
    if (split_extension(o->out, prefix, sizeof prefix, &job.snap_ext) != 0)
        return -1;
    nst_guard g = {0};
    int rc = nst_guard_input(&g, o->content, "content image") != 0 ||
                     nst_guard_input(&g, o->weights, "weights") != 0 ||
                     guard_init(&g, o) != 0
                 ? -1
                 : 0;
    for (int i = 0; rc == 0 && i < o->n_styles; i++) {
        int side;
        rc = style_side(o, o->size, i, o->styles[i], &side) != 0 ||
                     nst_guard_input(&g, o->styles[i], "style image") != 0 ||
                     (o->n_masks && nst_guard_input(&g, o->style_masks[i],
                                                    "style mask") != 0)
                 ? -1
                 : 0;
    }
    if (rc == 0 &&
        (guard_outputs(&g, o, &job) != 0 || nst_guard_check(&g) != 0))
        rc = -1;
    nst_guard_free(&g);
    if (rc != 0 || nst_atomic_probe(o->out) != 0 ||
        (o->log_path && nst_atomic_probe(o->log_path) != 0) ||
        probe_snapshots(o, &job) != 0)
        return -1;
    nst_image init;
    nst_network net;
    if (load_init(o, &init) != 0)
        return -1;
    if (load_network(&net, o, k) != 0) {
        nst_image_free(&init);
        return -1;
    }
    rc = transfer(o, &net, &job, &init) < 0 ? -1 : interrupted_status();
    nst_network_free(&net);
    nst_image_free(&init);
    return rc;
}

/* The files of batch pair i. */
typedef struct pair_paths {
    char dir[PATH_MAX], out[PATH_MAX], dir_slash[PATH_MAX], info[PATH_MAX],
        log[PATH_MAX], label[32];
} pair_paths;

/* buf = dir/name; -1 with a failure reason if it does not fit. */
static int join(char *buf, const char *dir, const char *name)
{
    if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
        return nst_fail("%s/%s: path too long", dir, name);
    return 0;
}

/* The folder that receives gen_0, gen_1, ...: --out, else --data. */
static const char *batch_out(const nst_options *o)
{
    return o->out ? o->out : o->data_dir;
}

static int pair_job_for(const nst_options *o, const nst_batch *b, int i,
                        pair_paths *p, pair_job *job)
{
    const char *log_name = NULL;
    if (o->log_path) {
        log_name = strrchr(o->log_path, '/');
        log_name = log_name ? log_name + 1 : o->log_path;
    }
    snprintf(p->label, sizeof p->label, "gen_%d", i);
    if (join(p->dir, batch_out(o), p->label) != 0 ||
        join(p->out, p->dir, "result.png") != 0 ||
        join(p->dir_slash, p->dir, "") != 0 ||
        join(p->info, p->dir, "pair.txt") != 0 ||
        (log_name && join(p->log, p->dir, log_name) != 0))
        return -1;
    *job = (pair_job){.content = b->content[i / b->n_style],
                      .style = b->style[i % b->n_style],
                      .styles = (const char *const *)&b->style[i % b->n_style],
                      .n_styles = 1,
                      .out = p->out,
                      .out_role = "result",
                      .snap_stem = p->dir_slash,
                      .snap_ext = ".png",
                      .log = log_name ? p->log : NULL,
                      .label = p->label};
    return 0;
}

/* No file of any pair may be an input or another pair's file. */
static int guard_batch(const nst_options *o, const nst_batch *b)
{
    nst_guard g = {0};
    int rc = nst_guard_input(&g, o->weights, "weights");
    if (rc == 0)
        rc = guard_init(&g, o);
    for (int i = 0; rc == 0 && i < b->n_content; i++)
        rc = nst_guard_input(&g, b->content[i], "content image");
    for (int i = 0; rc == 0 && i < b->n_style; i++)
        rc = nst_guard_input(&g, b->style[i], "style image");
    for (int i = 0; rc == 0 && i < nst_batch_pairs(b); i++) {
        pair_paths p;
        pair_job job;
        rc = pair_job_for(o, b, i, &p, &job);
        if (rc == 0)
            rc = guard_outputs(&g, o, &job);
        if (rc == 0)
            rc = nst_guard_output(&g, p.info, "pair.txt");
    }
    if (rc == 0)
        rc = nst_guard_check(&g);
    nst_guard_free(&g);
    return rc;
}

static void free_reasons(char **why, int n)
{
    for (int i = 0; why && i < n; i++)
        free(why[i]);
    free(why);
}

/* Why each image cannot be used (NULL: it can), found by loading and
 * sizing it as a run would. NULL on out-of-memory. */
static char **check_images(const nst_network *net, char *const *paths, int n,
                           const char *role, int longest)
{
    char **why = calloc((size_t)n, sizeof *why);
    for (int i = 0; why && i < n; i++) {
        nst_image img;
        if (load_image(net, paths[i], role, longest, &img) == 0)
            nst_image_free(&img);
        else if (!(why[i] = strdup(nst_failure_reason()))) {
            free_reasons(why, i);
            return NULL;
        }
    }
    return why;
}

/* Why pair i is skipped (an image of it cannot be used), or NULL. */
static const char *skip_reason(const nst_batch *b, int i,
                               char *const *content_why,
                               char *const *style_why)
{
    const char *why = content_why[i / b->n_style];
    return why ? why : style_why[i % b->n_style];
}

/* mkdir that accepts an existing folder; *made says whether it was new. */
static int make_folder(const char *path, int *made)
{
    *made = mkdir(path, 0777) == 0;
    if (*made || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        return nst_fail("%s: exists and is not a folder", path);
    }
    return nst_fail("%s: cannot create folder: %s", path, strerror(errno));
}

/* Runs pair i into its gen_i folder (removed again if this made it and the
 * pair failed before writing anything). */
static int run_pair(const nst_options *o, const nst_network *net,
                    const nst_kernels *k, const pair_job *job,
                    const pair_paths *p, int i, const nst_image *init)
{
    int made;
    if (make_folder(p->dir, &made) != 0)
        return -1;
    int done = transfer(o, net, job, init);
    if (done >= 0 && nst_pair_info_write(p->info, i, job->content,
                                         job->style, o, k, done) == 0)
        return 0;
    if (made)
        rmdir(p->dir);
    return -1;
}

static int run_pairs(const nst_options *o, const nst_network *net,
                     const nst_kernels *k, const nst_batch *b,
                     const nst_image *init, char **content_why,
                     char **style_why)
{
    const int pairs = nst_batch_pairs(b);
    int failed = 0, out_ready = 0;
    for (int i = 0; i < pairs && !nst_interrupt_requested(); i++) {
        pair_paths p;
        pair_job job;
        if (pair_job_for(o, b, i, &p, &job) != 0)
            return -1;
        if (skip_reason(b, i, content_why, style_why)) {
            failed++;
            continue;
        }
        if (!out_ready) {
            int made;
            if (make_folder(batch_out(o), &made) != 0)
                return -1;
            out_ready = 1;
        }
        if (run_pair(o, net, k, &job, &p, i, init) != 0) {
            fprintf(stderr, "nst: %s (%s, %s) failed: %s\n", p.label,
                    job.content, job.style, nst_failure_reason());
            failed++;
        }
    }
    if (nst_interrupt_requested())
        return interrupted_status();
    if (failed)
        return nst_fail("%s: %d of %d pairs failed (see above)", o->data_dir,
                        failed, pairs);
    return 0;
}

/* Reports, before any pair runs, each pair an unusable image skips. */
static void report_skipped(const nst_batch *b, char **content_why,
                           char **style_why)
{
    for (int i = 0; i < nst_batch_pairs(b); i++) {
        const char *why = skip_reason(b, i, content_why, style_why);
        if (why)
            fprintf(stderr, "nst: gen_%d (%s, %s) skipped: %s\n", i,
                    b->content[i / b->n_style], b->style[i % b->n_style],
                    why);
    }
}

int nst_run_batch(const nst_options *o, const nst_kernels *k)
{
    nst_batch b;
    if (nst_batch_scan(o->data_dir, &b) != 0)
        return -1;
    int side = 0, rc = -1;
    nst_image init = {0};
    nst_network net;
    if (style_side(o, o->size, 0, o->data_dir, &side) != 0 ||
        guard_batch(o, &b) != 0 ||
        load_init(o, &init) != 0 || load_network(&net, o, k) != 0) {
        nst_image_free(&init);
        nst_batch_free(&b);
        return -1;
    }
    char **content_why = check_images(&net, b.content, b.n_content,
                                      "content image", o->size);
    char **style_why =
        check_images(&net, b.style, b.n_style, "style image", side);
    if (!content_why || !style_why)
        nst_fail("out of memory checking the images of %s", o->data_dir);
    else {
        report_skipped(&b, content_why, style_why);
        rc = run_pairs(o, &net, k, &b, &init, content_why, style_why);
    }
    free_reasons(content_why, b.n_content);
    free_reasons(style_why, b.n_style);
    nst_network_free(&net);
    nst_image_free(&init);
    nst_batch_free(&b);
    return rc;
}
