/* Writing a file so that readers see either the old file or the whole new
 * one: the data goes to a temporary file in the same folder, which is
 * renamed over the target only once everything was written. A failure
 * leaves no partial file behind and the existing target untouched. */
#ifndef NST_ATOMIC_FILE_H
#define NST_ATOMIC_FILE_H

#include <stdio.h>

typedef struct nst_atomic_file {
    FILE *f;           /* write here (or with nst_atomic_write) */
    int err;           /* first errno of a failed nst_atomic_write */
    const char *path;  /* the target */
    char tmp[4096];    /* the temporary file */
} nst_atomic_file;

/* Creates the temporary file next to path. -1 with a failure reason naming
 * path (e.g. its folder does not exist or is not writable). */
int nst_atomic_open(nst_atomic_file *a, const char *path);

/* Writes n bytes to a->f, remembering the first failure's errno for the
 * commit to report. */
void nst_atomic_write(nst_atomic_file *a, const void *data, size_t n);

/* Flushes, closes and renames over the target; on any write or close
 * error removes the temporary file instead. 0, or -1 with a reason. */
int nst_atomic_commit(nst_atomic_file *a);

/* Removes the temporary file; the target is left as it was. */
void nst_atomic_abort(nst_atomic_file *a);

/* Checks that path could be written (by creating and removing a temporary
 * file beside it), so a long computation does not end in a failed write. */
int nst_atomic_probe(const char *path);

#endif
