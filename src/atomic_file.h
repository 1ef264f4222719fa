/* Writing a file so that readers see either the old file or the whole new
 * one: the data goes to a temporary file in the same folder, which is
 * synced to disk and renamed over the target only once everything was
 * written; the folder is synced after the rename. A failure leaves no
 * partial file behind and the existing target untouched. A target that
 * exists keeps its permission bits; a new one gets 0666 minus the umask.
 *
 * Open temporary files are listed where a signal handler can reach them:
 * nst_atomic_remove_temps() deletes them all. */
#ifndef NST_ATOMIC_FILE_H
#define NST_ATOMIC_FILE_H

#include <limits.h>
#include <stdio.h>

typedef struct nst_atomic_file {
    FILE *f;             /* write here (or with nst_atomic_write) */
    int err;             /* first errno of a failed nst_atomic_write */
    const char *path;    /* the target */
    char tmp[PATH_MAX];  /* the temporary file: .NAME.XXXXXX, NAME cut so
                            that it fits NAME_MAX */
    int slot;            /* its place in the list of open temporaries */
} nst_atomic_file;

/* Creates the temporary file next to path. -1 with a failure reason naming
 * path (e.g. its folder does not exist or is not writable). */
int nst_atomic_open(nst_atomic_file *a, const char *path);

/* Writes n bytes to a->f, remembering the first failure's errno for the
 * commit to report. */
void nst_atomic_write(nst_atomic_file *a, const void *data, size_t n);

/* Flushes, syncs, closes and renames over the target, then syncs the
 * folder; on any error removes the temporary file instead. 0, or -1 with
 * a reason. */
int nst_atomic_commit(nst_atomic_file *a);

/* Removes the temporary file; the target is left as it was. */
void nst_atomic_abort(nst_atomic_file *a);

/* Checks that path could be written (by creating and removing a temporary
 * file beside it), so a long computation does not end in a failed write. */
int nst_atomic_probe(const char *path);

/* Deletes every temporary file still open. Async-signal-safe. */
void nst_atomic_remove_temps(void);

#endif
