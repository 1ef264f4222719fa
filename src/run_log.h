/* What a run writes besides images: the CSV loss log, row by row as the
 * run goes, and a batch pair's pair.txt. */
#ifndef NST_RUN_LOG_H
#define NST_RUN_LOG_H

#include "atomic_file.h"
#include "nst.h"
#include "objective.h"

/* The log is a temporary file beside its target, each row flushed as it
 * comes; nst_run_log_commit renames it into place, so the target is never
 * a torn file: it is the old log (or absent) until the run ends. */
typedef struct nst_run_log {
    nst_atomic_file file;
} nst_run_log;

/* Creates the temporary file and writes the header
 * iter,total,content,style,tv,seconds,size. -1 with a failure reason. */
int nst_run_log_open(nst_run_log *log, const char *path);

/* Appends the losses at iteration iter of a level (before update
 * iter+1), seconds after the run's start, for the level whose image's
 * longest side is size. -1 with a failure reason if the write failed. */
int nst_run_log_row(nst_run_log *log, int iter, const nst_losses *l,
                    double seconds, int size);

/* Puts the log in place (0), or -1 with a failure reason. */
int nst_run_log_commit(nst_run_log *log);

/* Drops the log; an existing target is left as it was. */
void nst_run_log_abort(nst_run_log *log);

/* Writes path: which pair a batch gen_i folder holds, with what settings
 * and kernels, and how many iterations ran. */
int nst_pair_info_write(const char *path, int pair, const char *content,
                        const char *style, const nst_options *o,
                        const nst_kernels *k, int iters_done);

#endif
