/* The library's entry points on pictures in memory (nst.h): the model
 * handle, argument checks, RGB8 <-> planar conversion and the per-call
 * error, around the transfer core (transfer.c). */
#include "nst.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "error.h"
#include "image.h"
#include "interrupt.h"
#include "network.h"
#include "options_check.h"
#include "run.h"
#include "transfer.h"

struct nst_model {
    nst_network net;
};

/* Moves this thread's failure reason into err; the status to return. */
static nst_status failed(nst_error *err)
{
    nst_failure_take(err);
    return NST_FAILED;
}

const char *nst_kernels_default(void)
{
    const nst_kernels *k = nst_kernels_best();
    return k ? k->name : NULL;
}

int nst_kernels_available(const char *isa)
{
    return isa && nst_kernels_for(isa) != NULL;
}

/* The kernels named isa (NULL: nst_kernels_best); NULL with a reason. */
static const nst_kernels *kernels_named(const char *isa)
{
    const nst_kernels *k = isa ? nst_kernels_for(isa) : nst_kernels_best();
    if (!k && isa)
        nst_fail("kernels '%s': this build or this CPU cannot run them "
                 "(choose scalar, avx2 or neon)", isa);
    else if (!k)
        nst_fail("NST_ISA=%s: this build or this CPU cannot run it (choose "
                 "scalar, avx2 or neon)", getenv("NST_ISA"));
    return k;
}

nst_model *nst_model_load(const char *weights, const char *content_layers,
                          const char *style_layers, nst_pool pool,
                          const char *kernels, nst_error *err)
{
    nst_error_clear(err);
    nst_options d;
    nst_options_default(&d);
    const nst_kernels *k = kernels_named(kernels);
    nst_model *m = NULL;
    if (!weights)
        nst_fail("no weights file given");
    else if (pool != NST_POOL_AVG && pool != NST_POOL_MAX)
        nst_fail("pool %d: not NST_POOL_AVG or NST_POOL_MAX", (int)pool);
    else if (k && !(m = malloc(sizeof *m)))
        nst_fail("out of memory for a model");
    else if (m && nst_network_load(&m->net, weights,
                                   content_layers ? content_layers
                                                  : d.content_layers,
                                   style_layers ? style_layers
                                                : d.style_layers,
                                   pool, k) == 0)
        return m;
    free(m);
    failed(err);
    return NULL;
}

void nst_model_free(nst_model *m)
{
    if (!m)
        return;
    nst_network_free(&m->net);
    free(m);
}

const char *nst_model_kernels(const nst_model *m)
{
    return m->net.vgg.k->name;
}

void nst_rgb8_free(nst_rgb8 *img)
{
    if (!img)
        return;
    free(img->pixels);
    *img = (nst_rgb8){0};
}

/* A caller's picture as the core takes it; -1 with a reason naming it. */
static int picture_in(const nst_rgb8 *p, const char *name, nst_image *img)
{
    *img = (nst_image){0};
    if (!p)
        return nst_fail("%s: NULL picture", name);
    if (!p->pixels)
        return nst_fail("%s: no pixels (NULL)", name);
    if (p->width < 1 || p->height < 1 || p->width > NST_IMAGE_MAX_SIDE ||
        p->height > NST_IMAGE_MAX_SIDE)
        return nst_fail("%s: %dx%d pixels (1 to %d a side allowed)", name,
                        p->width, p->height, NST_IMAGE_MAX_SIDE);
    if (nst_image_alloc(img, p->width, p->height) != 0)
        return nst_fail("%s: out of memory for %dx%d pixels", name, p->width,
                        p->height);
    nst_image_from_rgb8(img, p->pixels);
    return 0;
}

/* The request's pictures, converted, with their names. */
typedef struct pictures {
    char names[3 * NST_MAX_STYLES + 2][16];
    nst_image content, style[NST_MAX_STYLES], mask[NST_MAX_STYLES], init;
    nst_transfer_inputs in;
} pictures;

static void pictures_free(pictures *p)
{
    nst_image_free(&p->content);
    nst_image_free(&p->init);
    for (int i = 0; i < NST_MAX_STYLES; i++) {
        nst_image_free(&p->style[i]);
        nst_image_free(&p->mask[i]);
    }
}

/* -1 with a reason naming the picture at fault (p then holds nothing). */
static int pictures_make(const nst_request *rq, pictures *p)
{
    *p = (pictures){0};
    if (rq->n_styles < 1 || rq->n_styles > NST_MAX_STYLES)
        return nst_fail("n_styles: %d (1 to %d allowed)", rq->n_styles,
                        NST_MAX_STYLES);
    if (!rq->styles)
        return nst_fail("styles: NULL");
    p->in = (nst_transfer_inputs){.content = &p->content,
                                  .content_name = "content",
                                  .n_styles = rq->n_styles};
    int rc = picture_in(rq->content, "content", &p->content);
    for (int i = 0; rc == 0 && i < rq->n_styles; i++) {
        char *name = p->names[i];
        snprintf(name, sizeof p->names[i], "styles[%d]", i);
        p->in.style[i] = &p->style[i];
        p->in.style_name[i] = name;
        rc = picture_in(&rq->styles[i], name, &p->style[i]);
    }
    for (int i = 0; rc == 0 && rq->masks && i < rq->n_styles; i++) {
        char *name = p->names[NST_MAX_STYLES + i];
        snprintf(name, sizeof p->names[0], "masks[%d]", i);
        p->in.mask[i] = &p->mask[i];
        p->in.mask_name[i] = name;
        rc = picture_in(&rq->masks[i], name, &p->mask[i]);
        if (rc == 0 && (p->mask[i].w != p->content.w ||
                        p->mask[i].h != p->content.h))
            rc = nst_fail("%s: %dx%d, not the content's %dx%d", name,
                          p->mask[i].w, p->mask[i].h, p->content.w,
                          p->content.h);
    }
    if (rc == 0 && rq->init) {
        p->in.init = &p->init;
        rc = picture_in(rq->init, "init", &p->init);
    }
    if (rc != 0)
        pictures_free(p);
    return rc;
}

/* The caller's progress callback behind the core's. */
typedef struct follow {
    const nst_request *rq;
    int total, cancelled;
} follow;

static int follow_iteration(void *ctx, int iter, const nst_losses *l,
                            double seconds)
{
    follow *f = ctx;
    const nst_iteration it = {iter, f->total, l->total, l->content,
                              l->style, l->tv, seconds};
    f->cancelled = f->rq->progress(f->rq->user, &it) != 0;
    return f->cancelled;
}

/* result = img rounded to 8 bits; -1 with a reason. */
static int picture_out(const nst_image *img, nst_rgb8 *result)
{
    unsigned char *px = nst_image_to_rgb8(img);
    if (!px)
        return nst_fail("out of memory for the %dx%d result", img->w,
                        img->h);
    *result = (nst_rgb8){img->w, img->h, px};
    return 0;
}

/* The calling thread's OpenMP thread count set to o->threads for one
 * call (0: left as it is); the count before, for threads_end. */
static int threads_begin(const nst_options *o)
{
#ifdef _OPENMP
    const int before = omp_get_max_threads();
    if (o->threads > 0)
        omp_set_num_threads(o->threads);
    return before;
#else
    (void)o;
    return 1;
#endif
}

static void threads_end(int before)
{
#ifdef _OPENMP
    omp_set_num_threads(before);
#else
    (void)before;
#endif
}

nst_status nst_transfer_rgb8(const nst_model *m, const nst_options *o,
                             const nst_request *rq, nst_rgb8 *result,
                             nst_error *err)
{
    nst_error_clear(err);
    if (result)
        *result = (nst_rgb8){0};
    if (!m || !o || !rq || !result) {
        nst_fail("%s: NULL", !m ? "model" : !o ? "options" : !rq ? "request"
                                                                : "result");
        return failed(err);
    }
    pictures p;
    if (nst_options_check(o, rq->n_styles) != 0 || pictures_make(rq, &p) != 0)
        return failed(err);
    nst_progress progress;
    follow f = {.rq = rq, .total = o->iters};
    const nst_transfer_hooks hooks = {
        .progress = &progress, .quiet = 1,
        .on_iter = rq->progress ? follow_iteration : NULL, .ctx = &f};
    /* It writes no file (no snapshots, no checkpoint, and none read) and
     * prints nothing, the memory plan's line included. */
    nst_options t = *o;
    t.save_every = 0;
    t.checkpoint = t.resume = NULL;
    t.quiet = 1;
    nst_image img;
    const int before = threads_begin(o);
    const int done = nst_transfer(&m->net, &t, &p.in, &hooks, &img);
    threads_end(before);
    pictures_free(&p);
    nst_status st = done < 0 ? NST_FAILED
                    : f.cancelled ? NST_CANCELLED
                                  : NST_OK;
    if (st == NST_OK || (st == NST_CANCELLED && rq->keep_cancelled))
        if (picture_out(&img, result) != 0)
            st = NST_FAILED;
    nst_image_free(&img);
    return st == NST_FAILED ? failed(err) : st;
}

int nst_run(const nst_options *o, const char *kernels, nst_error *err)
{
    nst_error_clear(err);
    const nst_kernels *k = kernels_named(kernels);
    if (!k)
        return failed(err);
    /* A caller that set only style runs that one style. */
    nst_options one;
    if (!o->data_dir && o->n_styles == 0 && o->style) {
        one = *o;
        one.styles[0] = o->style;
        one.n_styles = 1;
        o = &one;
    }
    nst_interrupt_install();
    const int before = threads_begin(o);
    int rc = o->data_dir ? nst_run_batch(o, k) : nst_run_single(o, k);
    threads_end(before);
    nst_interrupt_restore();
    return rc < 0 ? failed(err) : rc;
}
