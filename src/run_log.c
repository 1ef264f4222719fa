#include "run_log.h"

#include <errno.h>
#include <string.h>

#include "color.h"
#include "error.h"

int nst_run_log_open(nst_run_log *log, const char *path)
{
    if (nst_atomic_open(&log->file, path) != 0)
        return -1;
    fprintf(log->file.f, "iter,total,content,style,tv,seconds,size\n");
    return 0;
}

int nst_run_log_row(nst_run_log *log, int iter, const nst_losses *l,
                    double seconds, int size)
{
    FILE *f = log->file.f;
    errno = 0;
    if (fprintf(f, "%d,%.9g,%.9g,%.9g,%.9g,%.6f,%d\n", iter, l->total,
                l->content, l->style, l->tv, seconds, size) < 0 ||
        fflush(f) != 0)
        return nst_fail("%s: cannot write: %s", log->file.path,
                        strerror(errno ? errno : EIO));
    return 0;
}

int nst_run_log_commit(nst_run_log *log)
{
    return nst_atomic_commit(&log->file);
}

void nst_run_log_abort(nst_run_log *log)
{
    nst_atomic_abort(&log->file);
}

int nst_pair_info_write(const char *path, int pair, const char *content,
                        const char *style, const nst_options *o,
                        const nst_kernels *k, int iters_done)
{
    nst_atomic_file a;
    if (nst_atomic_open(&a, path) != 0)
        return -1;
    fprintf(a.f,
            "pair %d\ncontent %s\nstyle %s\nweights %s\nsize %d\n"
            "style-scale %g\niters %d\nstart-size %d\nstart-iters %d\n"
            "iters-done %d\noptimizer %s\n"
            "lbfgs-history %d\nlr %g\n"
            "content-weight %g\nstyle-weight %g\ntv-weight %g\ninit %s\n"
            "seed %llu\ninit-noise-ratio %g\npool %s\ncontent-layers %s\n"
            "style-layers %s\n"
            "preserve-colors %s\nquality %d\nkernels %s\n",
            pair, content, style, o->weights, o->size, o->style_scale,
            o->iters, o->start_size, o->start_iters, iters_done, nst_optimizer_name(o->optimizer),
            o->lbfgs_history, o->lr, o->content_weight, o->style_weight,
            o->tv_weight,
            o->init_file ? o->init_file : o->init_noise ? "noise" : "content",
            (unsigned long long)o->seed, o->init_noise_ratio,
            o->pool == NST_POOL_MAX ? "max" : "avg", o->content_layers,
            o->style_layers, nst_colors_name(o->colors), o->quality, k->name);
    return nst_atomic_commit(&a);
}
