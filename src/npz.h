/* Reading float arrays from NumPy .npz files (zip archives of .npy files),
 * from scratch with zlib for inflate. Opening reads only the zip's central
 * directory; reading an entry seeks to it and reads that entry alone, so a
 * 528 MB file whose fully connected layers are never asked for costs only the
 * entries that are. */
#ifndef NST_NPZ_H
#define NST_NPZ_H

#include <stdint.h>

#define NST_NPY_MAX_DIMS 8

typedef struct nst_npz nst_npz;

/* Opens path, which must be a regular file (a FIFO or device is refused
 * without blocking), and reads its central directory (zip64 included).
 * NULL with a failure reason naming the file on any problem. */
nst_npz *nst_npz_open(const char *path);

void nst_npz_close(nst_npz *z);

/* 1 if the archive has an entry for key (the array name, without ".npy"). */
int nst_npz_has(const nst_npz *z, const char *key);

/* The shape of array `key`, from its .npy header alone: of a deflated
 * entry only the header's bytes are inflated. The shape is checked against
 * the entry's recorded size, so a caller that accepts the shape knows how
 * much reading the array will take. 0, or -1 with a failure reason naming
 * the file and the entry. */
int nst_npz_shape(nst_npz *z, const char *key, int *ndim,
                  int64_t shape[NST_NPY_MAX_DIMS]);

/* Reads array `key` as C-order float32 (float64 and float16 are converted,
 * fortran_order arrays transposed; other dtypes are an error). Entries may
 * be stored or deflated; the CRC-32 is checked. On success returns a
 * malloc'd array and fills *ndim and shape[]; NULL with a failure reason
 * naming the file and the entry on failure (missing key, bad signature,
 * bad CRC, truncated data, sizes that overflow, header that disagrees with
 * the data). */
float *nst_npz_read_f32(nst_npz *z, const char *key, int *ndim,
                        int64_t shape[NST_NPY_MAX_DIMS]);

#endif
