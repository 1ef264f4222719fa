/* Helpers shared by the test suites. */
#ifndef NST_TESTUTIL_H
#define NST_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "kctx.h"
#include "simd.h"

/* A small deterministic generator (splitmix64) so tests draw the same
 * numbers everywhere. */
typedef struct tu_rng {
    uint64_t s;
} tu_rng;

uint64_t tu_next(tu_rng *r);
/* Uniform in [lo, hi). */
double tu_uniform(tu_rng *r, double lo, double hi);
/* Fills a[0..n) uniformly in [lo, hi). */
void tu_fill(tu_rng *r, float *a, size_t n, double lo, double hi);

/* Path under the shared weights and images folder ($NST_SHARED, set by
 * make check), written to buf; NULL if NST_SHARED is unset or the file is
 * missing. */
const char *tu_shared(const char *rel, char *buf, size_t size);

/* The shared files of the end-to-end runs: the VGG weights, Tübingen and
 * The Starry Night, each written to its buffer of size bytes; 0 if any is
 * missing. */
int tu_shared_transfer(char *weights, char *content, char *style,
                       size_t size);

/* A fresh empty folder under $NST_TEST_TMP (or /tmp) named after tag;
 * returns its path in buf. */
const char *tu_tmpdir(const char *tag, char *buf, size_t size);

/* malloc that fails the test on out-of-memory, filled with NaN (floats). */
float *tu_nan_floats(size_t n);
/* n zeroed doubles; fails the test on out-of-memory. */
double *tu_doubles(size_t n);
/* a[0..n) widened to a new array of doubles (tu_doubles). */
double *tu_widened(const float *a, size_t n);

/* The kernel sets a test loops over (tcase_add_loop_test from 0 to
 * TU_N_ISAS), and the table of set i, or NULL after printing loudly that
 * this CPU or build cannot run it. */
#define TU_N_ISAS 3
extern const char *const tu_isas[TU_N_ISAS];
const nst_kernels *tu_isa_or_skip(int i);

/* A kernel context for k and nthreads threads (0: the calling thread's
 * OpenMP thread count); fails the test on out-of-memory. */
nst_kctx *tu_kctx(const nst_kernels *k, int nthreads);

/* A random 3 x h x w image with pixels in [0, 255] minus the VGG mean, as
 * the program feeds the network. */
float *tu_random_image(tu_rng *r, int h, int w);

/* The layers an objective on these content and style layers (indices from
 * 0) runs through: one past the deepest. */
int tu_depth(const int *content, int n_content, const int *style,
             int n_style);

/* Runs every test of s; the exit status for main (EXIT_SUCCESS when none
 * failed). */
int tu_run_suite(Suite *s);

#endif
