/* Never overwrite what the user gave: before any work, every file a run
 * will write is compared with every file it reads and with every other
 * file it writes. Two paths are the same file when they resolve to the
 * same device and inode (through symbolic links, hard links, "..", bind
 * mounts); a path that does not exist yet is known by its deepest
 * existing folder (device and inode) and the rest of the path. */
#ifndef NST_OUTPUT_GUARD_H
#define NST_OUTPUT_GUARD_H

#include <stddef.h>

typedef struct nst_guard {
    struct nst_guard_file *files;
    size_t n, cap;
} nst_guard;

/* role says what the file is to the user ("--content", "--log", ...);
 * both strings are copied. -1 with a failure reason on out-of-memory. */
int nst_guard_input(nst_guard *g, const char *path, const char *role);
int nst_guard_output(nst_guard *g, const char *path, const char *role);

/* 0, or -1 with a failure reason naming an output and the file it is
 * (the first such pair, inputs before outputs, in the order given). */
int nst_guard_check(nst_guard *g);

void nst_guard_free(nst_guard *g);

#endif
