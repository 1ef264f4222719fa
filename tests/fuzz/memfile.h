/* The fuzz input as a file: the readers take paths, so the bytes go into
 * an anonymous in-memory file reachable as /proc/self/fd/N. */
#ifndef NST_FUZZ_MEMFILE_H
#define NST_FUZZ_MEMFILE_H

#include <stddef.h>
#include <stdint.h>

/* Writes data to a new memory file and its path to path[0..size). The
 * descriptor, to close when done; aborts if the file cannot be made. */
int fuzz_memfile(const uint8_t *data, size_t n, char *path, size_t size);

#endif
