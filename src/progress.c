#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double nst_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nst_progress_start(nst_progress *p, const char *label, int total,
                        int quiet)
{
    *p = (nst_progress){.label = label ? label : "",
                        .total = total,
                        .level = 1,
                        .levels = 1,
                        .tty = isatty(fileno(stderr)),
                        .quiet = quiet,
                        .start = nst_now()};
}

void nst_progress_level(nst_progress *p, int level, int levels, int size,
                        int total)
{
    if (p->tty && !p->quiet && level > 1)
        fputc('\n', stderr); /* keep the last line of the level before */
    p->level = level;
    p->levels = levels;
    p->level_size = size;
    p->total = total;
    p->next_line = 0;
    p->level_start = nst_progress_elapsed(p);
}

double nst_progress_elapsed(const nst_progress *p)
{
    return nst_now() - p->start;
}

static void format_duration(double s, char *buf, size_t size)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, size, "%lds", t);
}

void nst_progress_update(nst_progress *p, int iter, const nst_losses *l,
                         double elapsed)
{
    if (p->quiet)
        return;
    if (!p->tty && iter < p->next_line && iter != p->total)
        return;
    /* Row 0 is the level's starting image: no iteration has been timed
     * yet. */
    double per_iter = iter > 0 ? (elapsed - p->level_start) / iter : 0.0;
    char eta[32], level[64] = "";
    format_duration(per_iter * (p->total - iter), eta, sizeof eta);
    if (p->levels > 1)
        snprintf(level, sizeof level, "level %d/%d, %d px  ", p->level,
                 p->levels, p->level_size);
    fprintf(stderr,
            "%s%s%s%s%*d/%d  loss %.4e (content %.4e style %.4e tv %.4e)"
            "  %.2f s/it  ETA %s%s",
            p->tty ? "\r" : "", p->label, *p->label ? "  " : "", level,
            iter < 10000 ? 4 : 0, iter, p->total, l->total, l->content,
            l->style, l->tv, per_iter, eta, p->tty ? "\033[K" : "\n");
    fflush(stderr);
    if (!p->tty)
        while (p->next_line <= iter)
            p->next_line += p->total >= 10 ? p->total / 10 : 1;
}

void nst_progress_finish(nst_progress *p, const char *out)
{
    if (p->quiet)
        return;
    char took[32];
    format_duration(nst_progress_elapsed(p), took, sizeof took);
    fprintf(stderr, "%s%s%swrote %s (%s)\n", p->tty ? "\n" : "", p->label,
            *p->label ? "  " : "", out, took);
}
