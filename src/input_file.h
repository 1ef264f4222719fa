/* Opening the program's input files (weights, images) safely: only regular
 * files, without ever blocking on a FIFO or a device, and whole-file reads
 * bounded by a size the caller can afford. */
#ifndef NST_INPUT_FILE_H
#define NST_INPUT_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Opens path read-only if it is a regular file (a FIFO, device or folder is
 * refused without blocking) and gives its size. The descriptor, or -1 with
 * a failure reason naming the file. */
int nst_input_open(const char *path, uint64_t *size);

/* The whole of a regular file of at most max bytes, malloc'd (one spare
 * zero byte past the end); *size its length. NULL with a failure reason
 * naming the file. */
unsigned char *nst_input_read_all(const char *path, uint64_t max,
                                  size_t *size);

#endif
