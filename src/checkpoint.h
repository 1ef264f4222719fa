/* Checkpoint files: everything a run needs to continue exactly where it
 * stopped (--checkpoint, --resume), at any level of a coarse-to-fine
 * schedule. The layout is in docs/architecture.md; in short: a magic and
 * version, the header numbers, the level schedule, the run's settings as
 * text, the log rows so far (every level's), the current level's image,
 * the optimizer's own state, and a CRC-32 of all of it. Every number is
 * little-endian whatever the machine (floats by their bit patterns), so a
 * file moves between machines and reads back the very bits written.
 *
 * The file is hostile input: a load checks the CRC before it believes any
 * field, and every length against the bytes that are really there before
 * anything is allocated. */
#ifndef NST_CHECKPOINT_H
#define NST_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "atomic_file.h"
#include "nst.h"
#include "objective.h"
#include "scales.h"

#define NST_CHECKPOINT_VERSION 2

/* ---- writing: an atomic file with a running CRC-32 ---- */

typedef struct nst_ckw {
    nst_atomic_file file;
    unsigned long crc;
} nst_ckw;

void nst_ckw_u32(nst_ckw *w, uint32_t v);
void nst_ckw_f64(nst_ckw *w, double v);
void nst_ckw_f32s(nst_ckw *w, const float *v, size_t n);
void nst_ckw_f64s(nst_ckw *w, const double *v, size_t n);
void nst_ckw_bytes(nst_ckw *w, const void *p, size_t n);

/* ---- reading: a cursor over the loaded bytes ---- */

/* Each read fails (-1, with a reason naming the file) when fewer bytes
 * are left than it needs; nothing is read past the end. */
typedef struct nst_ckr {
    const unsigned char *p;
    size_t left;
    const char *path;
} nst_ckr;

int nst_ckr_u32(nst_ckr *r, uint32_t *v);
int nst_ckr_f64(nst_ckr *r, double *v);
int nst_ckr_f32s(nst_ckr *r, float *v, size_t n);
int nst_ckr_f64s(nst_ckr *r, double *v, size_t n);
int nst_ckr_bytes(nst_ckr *r, void *p, size_t n);
/* A u32 that must lie in [lo, hi]; what names it in the reason. */
int nst_ckr_u32_in(nst_ckr *r, uint32_t lo, uint32_t hi, const char *what,
                   uint32_t *v);

/* ---- the file ---- */

/* One log row: the level's iteration, the image's longest side (the
 * log's size column), the losses of the evaluation and the seconds at
 * it. */
typedef struct nst_ckpt_row {
    uint32_t iter, size;
    nst_losses l;
    double seconds;
} nst_ckpt_row;

/* The log rows of a run so far, every level's, in order. */
typedef struct nst_ckpt_rows {
    nst_ckpt_row *row;
    size_t n, cap;
} nst_ckpt_rows;

/* Appends a row; -1 with a failure reason on out-of-memory. */
int nst_ckpt_rows_add(nst_ckpt_rows *r, const nst_ckpt_row *row);

void nst_ckpt_rows_free(nst_ckpt_rows *r);

/* What precedes the image and the optimizer's state. */
typedef struct nst_checkpoint {
    nst_scales levels;  /* the run's coarse-to-fine schedule */
    uint32_t level;     /* the level it is in, 0 .. levels.n - 1 */
    uint32_t next;      /* the level's iteration to evaluate next */
    uint32_t finished;  /* 1: the optimizer had no descent left */
    nst_optimizer optimizer;
    int w, h;           /* the level's image */
    char *settings;     /* nst_checkpoint_settings() of the run */
    /* Every level's rows so far; the last `next` are this level's. */
    nst_ckpt_rows rows;
    unsigned char *bytes; /* the whole file */
    nst_ckr state;      /* after the rows: the image, then the optimizer's */
} nst_checkpoint;

/* The options that define a run's results, one "name value" line each,
 * as a checkpoint records them: the input files, sizes and levels
 * (--start-size 0 for a single level, and --start-iters with several),
 * loss weights and layers, the optimizer and its settings, the start
 * (with --init noise its --seed and --init-noise-ratio, which no other
 * start uses). Not --iters (a resumed run may go further:
 * nst_checkpoint_match_levels says when), nor where results go.
 * malloc'd; NULL with a failure reason on out-of-memory. */
char *nst_checkpoint_settings(const nst_options *o);

/* Starts writing path: the header, settings and rows of c (its bytes and
 * state unused). The caller then writes the image and the optimizer's
 * state and calls nst_checkpoint_commit. -1 with a failure reason. */
int nst_checkpoint_begin(nst_ckw *w, const char *path,
                         const nst_checkpoint *c);

/* Appends the CRC and puts the file in place (0), or -1 with a reason. */
int nst_checkpoint_commit(nst_ckw *w);

/* Reads and checks path: size, CRC, magic, version, header, schedule,
 * rows. c->state is then positioned at the image. -1 with a one-line
 * reason naming path (c then holds nothing to free). */
int nst_checkpoint_load(const char *path, nst_checkpoint *c);

/* -1 with a reason naming path and the first setting that differs
 * ("--style-weight was 0.01, is 0.02"), or the first the checkpoint does
 * not record (an older nst recorded fewer), if c was made by another
 * run. */
int nst_checkpoint_match(const nst_checkpoint *c, const char *path,
                         const char *settings);

/* -1 with a reason naming path if the run whose schedule is sc cannot
 * continue c as the run that made it would have gone on: other levels,
 * another --iters on a level c has finished, or fewer iterations on c's
 * level than it has done. Call it once nst_checkpoint_match has passed
 * (which compares --size, --start-size and --start-iters). */
int nst_checkpoint_match_levels(const nst_checkpoint *c, const char *path,
                                const nst_scales *sc);

/* -1 with a reason if bytes remain after the optimizer's state. */
int nst_checkpoint_end(const nst_checkpoint *c);

void nst_checkpoint_free(nst_checkpoint *c);

#endif
