/* Progress of an optimisation on the terminal: iteration, losses, seconds
 * per iteration and the time left. On a terminal one line is redrawn; when
 * standard error is a file or pipe a line is printed every tenth of the
 * run. */
#ifndef NST_PROGRESS_H
#define NST_PROGRESS_H

#include "objective.h"

typedef struct nst_progress {
    const char *label; /* e.g. "gen_3" in batch mode, or "" */
    int total;         /* iterations */
    int tty, quiet;
    int next_line;     /* next iteration that gets a line off a terminal */
    double start;      /* nst_now() at nst_progress_start */
} nst_progress;

/* Monotonic wall-clock seconds. */
double nst_now(void);

void nst_progress_start(nst_progress *p, const char *label, int total,
                        int quiet);

/* Seconds since nst_progress_start. */
double nst_progress_elapsed(const nst_progress *p);

/* Reports the losses at iteration iter (0 .. total) after elapsed seconds. */
void nst_progress_update(nst_progress *p, int iter, const nst_losses *l,
                         double elapsed);

/* Ends the line and says where the result went; call it once the result
 * is written. */
void nst_progress_finish(nst_progress *p, const char *out);

#endif
