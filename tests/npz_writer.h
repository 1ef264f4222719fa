/* A small .npz writer for test fixtures: a zip archive of .npy files,
 * written from values in double precision, with options that cover what
 * readers meet in the wild (stored or deflated entries, .npy versions 1 to
 * 3, zip64 fields, data descriptors, local extra fields that differ from the
 * central ones, an archive comment) and hooks to write wrong ones. */
#ifndef NST_TEST_NPZ_WRITER_H
#define NST_TEST_NPZ_WRITER_H

#include <stddef.h>
#include <stdint.h>

#define NPZW_MAX_DIMS 8
#define NPZW_MAX_ARRAYS 16

typedef struct npzw_array {
    const char *name;  /* the key; the entry is name + ".npy" */
    const char *descr; /* '<f4', '<f8', '<f2', '>f4', ... or '<i4' */
    int ndim;
    int64_t shape[NPZW_MAX_DIMS];
    int fortran;           /* values are in C order; stored transposed */
    const double *values;  /* product(shape) values, C order */
    const char *header;    /* if set, the dict text instead of the real one */
    int64_t count;         /* if header is set: values to write */
    uint64_t hole_bytes;   /* if set: no values; a hole of this many bytes
                              (a sparse file) follows the .npy header, and
                              the entry's CRC-32 covers the header only */
    uint64_t zero_mib;     /* if set (deflated archives only): no values;
                              this many MiB of zeros follow the header, and
                              cost about 1 KiB each in the file (a deflate
                              bomb) */
} npzw_array;

typedef struct npzw_options {
    int method;          /* 0 stored, 8 deflated, anything else: stored
                            bytes labelled with that method */
    int npy_version;     /* 1, 2 or 3 (0 means 1) */
    int zip64;           /* zip64 extra fields and end records throughout */
    int data_descriptor; /* flag bit 3, zeros in local header, descriptor */
    int local_extra;     /* bytes of an unknown extra field in local headers
                            only */
    const char *comment; /* archive comment */
} npzw_options;

/* Where the writer put things, as file offsets. */
typedef struct npzw_layout {
    int n;
    uint64_t local[NPZW_MAX_ARRAYS]; /* local header */
    uint64_t data[NPZW_MAX_ARRAYS];  /* entry data (the .npy, maybe deflated) */
    uint64_t size[NPZW_MAX_ARRAYS];  /* entry data bytes as stored */
    uint64_t central[NPZW_MAX_ARRAYS];
    uint64_t eocd;
    uint64_t file_size;
} npzw_layout;

/* Writes the archive to path; fills *layout if not NULL. 0, or -1 with a
 * message on stderr. */
int npzw_write(const char *path, const npzw_array *a, int n,
               const npzw_options *o, npzw_layout *layout);

/* A deflate bomb shaped like VGG weights: conv1_1_W of shape
 * (3,3,3,n) holding mib MiB of zeros (mib a multiple of 27, so that n is
 * whole), deflated into about mib KiB, and an empty conv1_1_b. 0 or -1. */
int npzw_write_bomb(const char *path, uint64_t mib);

/* The .npy bytes of one array (version 1..3), malloc'd; NULL on failure. */
unsigned char *npzw_npy(const npzw_array *a, int version, size_t *size);

/* Whole-file helpers for corrupting fixtures. */
unsigned char *npzw_slurp(const char *path, size_t *size);
int npzw_spit(const char *path, const unsigned char *buf, size_t size);

/* Little-endian field writes into a fixture buffer. */
void npzw_put16(unsigned char *p, uint16_t v);
void npzw_put32(unsigned char *p, uint32_t v);

#endif
