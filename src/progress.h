/* Progress of an optimisation on the terminal: the level of a
 * coarse-to-fine run, iteration, losses, seconds per iteration and the
 * level's time left. On a terminal one line is redrawn; when standard
 * error is a file or pipe a line is printed every tenth of the level. */
#ifndef NST_PROGRESS_H
#define NST_PROGRESS_H

#include "objective.h"

typedef struct nst_progress {
    const char *label; /* e.g. "gen_3" in batch mode, or "" */
    int total;         /* iterations of the level */
    int level, levels; /* 1-based; levels 1: no level shown */
    int level_size;    /* the level's longest side */
    int tty, quiet;
    int next_line;     /* next iteration that gets a line off a terminal */
    double start;       /* nst_now() at nst_progress_start */
    double level_start; /* seconds after start when the level began */
} nst_progress;

/* Monotonic wall-clock seconds. */
double nst_now(void);

void nst_progress_start(nst_progress *p, const char *label, int total,
                        int quiet);

/* Begins level `level` of `levels` (from 1), of longest side size and
 * total iterations: the lines then say "level 2/3, 1024 px" (when there
 * are several levels) and time the level alone. */
void nst_progress_level(nst_progress *p, int level, int levels, int size,
                        int total);

/* Seconds since nst_progress_start. */
double nst_progress_elapsed(const nst_progress *p);

/* Reports the losses at the level's iteration iter (0 .. total), elapsed
 * seconds after nst_progress_start. */
void nst_progress_update(nst_progress *p, int iter, const nst_losses *l,
                         double elapsed);

/* Ends the line and says where the result went; call it once the result
 * is written. */
void nst_progress_finish(nst_progress *p, const char *out);

#endif
