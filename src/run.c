#include "run.h"

#include <errno.h>
#include <limits.h>
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
#include "run_log.h"
#include "sheet.h"
#include "transfer.h"

/* Where one pair's results go. */
typedef struct pair_job {
    const char *content, *style; /* style: the first of styles */
    const char *const *styles;   /* n_styles, in the order of the options */
    int n_styles;
    const char *out;         /* the final image */
    const char *out_role;    /* what the user calls it, for errors */
    const char *snap_stem;   /* snapshots: nst_transfer_snapshot_prefix */
    const char *snap_ext;
    const char *log;         /* NULL: none */
    const char *label;       /* for progress lines */
} pair_job;

static int load_network(nst_network *net, const nst_options *o,
                        const nst_kernels *k)
{
    return nst_network_load(net, o->weights, o->content_layers,
                            o->style_layers, o->pool, k);
}

/* An input image as the run uses it: loaded, sized, and big enough for
 * the network. */
static int load_image(const nst_options *o, const nst_network *net,
                      const char *path, const char *role, int longest,
                      uint64_t held, nst_image *img)
{
    if (nst_pixels_load(o, &net->vgg, path, longest, held, img) != 0)
        return -1;
    if (nst_transfer_fits(net, path, role, img) != 0) {
        nst_image_free(img);
        return -1;
    }
    return 0;
}

/* --init FILE as loaded (empty without it), the first picture loaded. */
static int load_init(const nst_options *o, const nst_network *net,
                     nst_image *init)
{
    *init = (nst_image){0};
    return o->init_file
               ? nst_pixels_load(o, &net->vgg, o->init_file, 0, 0, init)
               : 0;
}

/* --init FILE, an input no output may replace. */
static int guard_init(nst_guard *g, const nst_options *o)
{
    return o->init_file ? nst_guard_input(g, o->init_file, "--init image")
                        : 0;
}

/* A job's pictures, loaded from its files for the transfer core: with one
 * level the content and the styles already at the size the run gives them
 * (the core's own fit is then a copy, and no full-size photo stays in
 * memory during the run); with several, as they are, so that each level
 * is sized from the original; the masks as they are. */
typedef struct job_pictures {
    nst_image content, style[NST_MAX_STYLES], mask[NST_MAX_STYLES];
    nst_transfer_inputs in;
} job_pictures;

static void job_pictures_free(job_pictures *p)
{
    nst_image_free(&p->content);
    for (int i = 0; i < NST_MAX_STYLES; i++) {
        nst_image_free(&p->style[i]);
        nst_image_free(&p->mask[i]);
    }
}

/* -1 with a failure reason naming the file (p then holds nothing). Each
 * picture is checked against the memory beside init and the pictures
 * loaded before it. */
static int job_pictures_load(const nst_options *o, const nst_network *net,
                             const pair_job *job, const nst_image *init,
                             job_pictures *p)
{
    *p = (job_pictures){0};
    int sides[NST_MAX_STYLES];
    for (int i = 0; i < job->n_styles; i++)
        if (nst_transfer_style_side(o, i, job->styles[i], &sides[i]) != 0)
            return -1;
    p->in = (nst_transfer_inputs){.content = &p->content,
                                  .content_name = job->content,
                                  .n_styles = job->n_styles,
                                  .init = init->data ? init : NULL};
    nst_scales sc;
    nst_transfer_levels(o, &sc);
    const int original = sc.n > 1;
    uint64_t held = nst_image_bytes(init);
    int rc = nst_pixels_load(o, &net->vgg, job->content,
                             original ? 0 : o->size, held, &p->content);
    for (int i = 0; rc == 0 && i < job->n_styles; i++) {
        held += nst_image_bytes(i ? &p->style[i - 1] : &p->content);
        p->in.style[i] = &p->style[i];
        p->in.style_name[i] = job->styles[i];
        rc = nst_pixels_load(o, &net->vgg, job->styles[i],
                             original ? 0 : sides[i], held, &p->style[i]);
    }
    for (int i = 0; rc == 0 && o->n_masks && i < job->n_styles; i++) {
        held += nst_image_bytes(i ? &p->mask[i - 1]
                                  : &p->style[job->n_styles - 1]);
        p->in.mask[i] = &p->mask[i];
        p->in.mask_name[i] = o->style_masks[i];
        rc = nst_pixels_load(o, &net->vgg, o->style_masks[i], 0, held,
                             &p->mask[i]);
    }
    if (rc != 0)
        job_pictures_free(p);
    return rc;
}

/* --sheet, an output like the others: guarded, and probed before the run. */
static int guard_sheet(nst_guard *g, const nst_options *o)
{
    return o->sheet ? nst_guard_output(g, o->sheet, "--sheet") : 0;
}

static int probe_sheet(const nst_options *o)
{
    if (!o->sheet)
        return 0;
    if (!nst_image_save_supported(o->sheet))
        return nst_fail("%s: unknown image type for --sheet (use .png, .jpg "
                        "or .jpeg)",
                        o->sheet);
    return nst_atomic_probe(o->sheet);
}

/* Every file the job writes, for the guard. */
static int guard_outputs(nst_guard *g, const nst_options *o,
                         const pair_job *job)
{
    if (nst_guard_output(g, job->out, job->out_role) != 0 ||
        (job->log && nst_guard_output(g, job->log, "--log") != 0) ||
        (o->checkpoint &&
         nst_guard_output(g, o->checkpoint, "--checkpoint") != 0))
        return -1;
    nst_scales sc;
    nst_transfer_levels(o, &sc);
    for (int k = 0; k < sc.n; k++) {
        char prefix[PATH_MAX];
        if (nst_transfer_snapshot_prefix(job->snap_stem, k + 1, sc.n, prefix,
                                         sizeof prefix) != 0)
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

/* The run stopped on a loss that is not finite, and last is the last
 * picture whose loss was: it becomes the result, and the reason says so. */
static void save_last_good(const nst_image *last, const char *out,
                           int quality)
{
    char *why = strdup(nst_failure_reason());
    if (!why)
        return;
    if (nst_image_save_quality(out, last, quality) == 0)
        nst_fail("%s; wrote the last image whose loss was finite as %s", why,
                 out);
    else
        nst_fail("%s; the last image whose loss was finite was not written: "
                 "%s",
                 why, nst_failure_reason());
    free(why);
}

/* Runs one pair. The number of updates made over all levels (fewer than
 * the schedule's after SIGINT: the image so far is then the result), or
 * -1 with a reason.
 * "wrote OUT" only once the result and the log are in place. */
static int transfer(const nst_options *o, const nst_network *net,
                    const pair_job *job, const nst_image *init)
{
    job_pictures pics;
    if (job_pictures_load(o, net, job, init, &pics) != 0)
        return -1;
    nst_run_log log;
    nst_image result = {0};
    int done = -1, log_open = 0;
    if (job->log && nst_run_log_open(&log, job->log) != 0)
        goto end;
    log_open = job->log != NULL;
    nst_progress p;
    const nst_transfer_hooks hooks = {
        .progress = &p, .label = job->label, .quiet = o->quiet,
        .log = log_open ? &log : NULL, .snap_stem = job->snap_stem,
        .snap_ext = job->snap_ext, .sigint_stops = 1};
    const int updates = nst_transfer(net, o, &pics.in, &hooks, &result);
    if (updates == NST_OPTIMISE_LAST_GOOD)
        save_last_good(&result, job->out, o->quality);
    if (updates < 0 ||
        nst_image_save_quality(job->out, &result, o->quality) != 0)
        goto end;
    log_open = 0;
    if (job->log && nst_run_log_commit(&log) != 0)
        goto end;
    nst_progress_finish(&p, job->out);
    nst_scales sc;
    nst_transfer_levels(o, &sc);
    if (updates < nst_scales_total_iters(&sc))
        fprintf(stderr, "nst: interrupted after %d of %ld iterations; saved "
                        "the image so far (%dx%d) as %s\n",
                updates, nst_scales_total_iters(&sc), result.w, result.h,
                job->out);
    done = updates;
end:
    if (log_open)
        nst_run_log_abort(&log);
    nst_image_free(&result);
    job_pictures_free(&pics);
    return done;
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
    nst_transfer_levels(o, &sc);
    for (int k = 0; k < sc.n; k++) {
        if (o->save_every <= 0 || o->save_every >= sc.iters[k])
            continue;
        const int last = (sc.iters[k] - 1) / o->save_every * o->save_every;
        char prefix[PATH_MAX], path[PATH_MAX];
        if (nst_transfer_snapshot_prefix(job->snap_stem, k + 1, sc.n, prefix,
                                         sizeof prefix) != 0 ||
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
        rc = nst_transfer_style_side(o, i, o->styles[i], &side) != 0 ||
                     nst_guard_input(&g, o->styles[i], "style image") != 0 ||
                     (o->n_masks && nst_guard_input(&g, o->style_masks[i],
                                                    "style mask") != 0)
                 ? -1
                 : 0;
    }
    if (rc == 0 && (guard_outputs(&g, o, &job) != 0 ||
                    guard_sheet(&g, o) != 0 || nst_guard_check(&g) != 0))
        rc = -1;
    nst_guard_free(&g);
    if (rc != 0 || nst_atomic_probe(o->out) != 0 || probe_sheet(o) != 0 ||
        (o->log_path && nst_atomic_probe(o->log_path) != 0) ||
        (o->checkpoint && nst_atomic_probe(o->checkpoint) != 0) ||
        probe_snapshots(o, &job) != 0)
        return -1;
    nst_image init;
    nst_network net;
    if (load_network(&net, o, k) != 0)
        return -1;
    if (load_init(o, &net, &init) != 0) {
        nst_network_free(&net);
        return -1;
    }
    rc = transfer(o, &net, &job, &init) < 0 ? -1 : interrupted_status();
    nst_image_free(&init);
    if (rc == 0 && o->sheet) {
        /* One row: the content, every style, the result. */
        const char *files[NST_MAX_STYLES + 2] = {o->content};
        for (int i = 0; i < o->n_styles; i++)
            files[1 + i] = o->styles[i];
        files[o->n_styles + 1] = o->out;
        rc = nst_sheet_write(o, &net.vgg, files, 1, o->n_styles + 2);
    }
    nst_network_free(&net);
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
        rc = guard_sheet(&g, o);
    if (rc == 0)
        rc = nst_guard_check(&g);
    nst_guard_free(&g);
    return rc == 0 ? probe_sheet(o) : rc;
}

static void free_reasons(char **why, int n)
{
    for (int i = 0; why && i < n; i++)
        free(why[i]);
    free(why);
}

/* Why each image cannot be used (NULL: it can), found by loading and
 * sizing it as a run would, beside init. NULL on out-of-memory. */
static char **check_images(const nst_options *o, const nst_network *net,
                           const nst_image *init, char *const *paths, int n,
                           const char *role, int longest)
{
    char **why = calloc((size_t)n, sizeof *why);
    for (int i = 0; why && i < n; i++) {
        nst_image img;
        if (load_image(o, net, paths[i], role, longest, nst_image_bytes(init),
                       &img) == 0)
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
        if (!nst_batch_in_shard(i, o->shard, o->n_shards))
            continue;
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

/* --sheet of a batch: a row per pair, its content, style and result. */
static int batch_sheet(const nst_options *o, const nst_network *net,
                       const nst_batch *b)
{
    const int pairs = nst_batch_pairs(b);
    const char **files = calloc((size_t)3 * pairs, sizeof *files);
    char *outs = malloc((size_t)pairs * PATH_MAX);
    int rc = !files || !outs
                 ? nst_fail("%s: out of memory for the sheet", o->sheet)
                 : 0;
    for (int i = 0; rc == 0 && i < pairs; i++) {
        pair_paths p;
        pair_job job;
        if ((rc = pair_job_for(o, b, i, &p, &job)) != 0)
            break;
        memcpy(outs + (size_t)i * PATH_MAX, p.out, PATH_MAX);
        files[3 * i] = job.content;
        files[3 * i + 1] = job.style;
        files[3 * i + 2] = outs + (size_t)i * PATH_MAX;
    }
    if (rc == 0)
        rc = nst_sheet_write(o, &net->vgg, files, pairs, 3);
    free(files);
    free(outs);
    return rc;
}

/* Reports, before any pair runs, each pair an unusable image skips. */
static void report_skipped(const nst_options *o, const nst_batch *b,
                           char **content_why, char **style_why)
{
    for (int i = 0; i < nst_batch_pairs(b); i++) {
        const char *why = skip_reason(b, i, content_why, style_why);
        if (why && nst_batch_in_shard(i, o->shard, o->n_shards))
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
    if (nst_transfer_style_side(o, 0, o->data_dir, &side) != 0 ||
        guard_batch(o, &b) != 0 || load_network(&net, o, k) != 0) {
        nst_batch_free(&b);
        return -1;
    }
    if (load_init(o, &net, &init) != 0) {
        nst_network_free(&net);
        nst_batch_free(&b);
        return -1;
    }
    char **content_why = check_images(o, &net, &init, b.content, b.n_content,
                                      "content image", o->size);
    char **style_why = check_images(o, &net, &init, b.style, b.n_style,
                                    "style image", side);
    if (!content_why || !style_why)
        nst_fail("out of memory checking the images of %s", o->data_dir);
    else {
        report_skipped(o, &b, content_why, style_why);
        rc = run_pairs(o, &net, k, &b, &init, content_why, style_why);
        if (rc == 0 && o->sheet)
            rc = batch_sheet(o, &net, &b);
    }
    free_reasons(content_why, b.n_content);
    free_reasons(style_why, b.n_style);
    nst_network_free(&net);
    nst_image_free(&init);
    nst_batch_free(&b);
    return rc;
}
