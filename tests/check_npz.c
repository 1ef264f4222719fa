/* The .npz reader against fixtures written at test time by npz_writer.c:
 * good archives in every layout read value for value, and malformed ones
 * fail with a reason naming the file and the entry, never crashing. */
#include "npz.h"

#include "error.h"
#include "npz_writer.h"
#include "testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- fixtures ----------------------------------------------------------- */

static double v_w[3 * 3 * 3 * 5], v_b[7], v_f[2 * 3 * 4], v_s[1], v_be[10],
    v_be8[3], v_be2[2], v_f8[3 * 2];

/* Every half that is exactly representable, including signed zeros,
 * the smallest and largest subnormals and normals, and infinities. */
static const double v_half[] = {0.0,       -0.0,          1.0,
                                -2.5,      65504.0,       -65504.0,
                                0x1p-14,   0x1p-24,       3 * 0x1p-24,
                                1023 * 0x1p-24, -0x1p-24, 1000.5,
                                0.333251953125, INFINITY, -INFINITY,
                                NAN};

enum { N_GOOD = 10 };

/* The arrays of the good-file tests; values drawn once, deterministically. */
static void good_arrays(npzw_array a[N_GOOD])
{
    tu_rng r = {42};
    for (size_t i = 0; i < sizeof v_w / sizeof v_w[0]; i++)
        v_w[i] = (float)tu_uniform(&r, -1, 1);
    for (size_t i = 0; i < 7; i++)
        v_b[i] = tu_uniform(&r, -1e3, 1e3); /* not representable in f32 */
    for (size_t i = 0; i < 24; i++)
        v_f[i] = (double)i * 0.5 - 3;
    v_s[0] = 3.25;
    for (size_t i = 0; i < 10; i++)
        v_be[i] = (float)tu_uniform(&r, -5, 5);
    v_be8[0] = 1e-3, v_be8[1] = -7.0, v_be8[2] = 1e30;
    v_be2[0] = -0.5, v_be2[1] = 0x1p-20;
    for (size_t i = 0; i < 6; i++)
        v_f8[i] = (double)i + 0.25;
    npzw_array g[N_GOOD] = {
        {.name = "conv1_1_W", .descr = "<f4", .ndim = 4, .shape = {3, 3, 3, 5},
         .values = v_w},
        {.name = "conv1_1_b", .descr = "<f8", .ndim = 1, .shape = {7},
         .values = v_b},
        {.name = "half", .descr = "<f2", .ndim = 1, .shape = {16},
         .values = v_half},
        {.name = "fortran", .descr = "<f4", .ndim = 3, .shape = {2, 3, 4},
         .fortran = 1, .values = v_f},
        {.name = "scalar", .descr = "<f8", .ndim = 0, .values = v_s},
        {.name = "big", .descr = ">f4", .ndim = 2, .shape = {2, 5},
         .values = v_be},
        {.name = "big8", .descr = ">f8", .ndim = 1, .shape = {3},
         .values = v_be8},
        {.name = "big2", .descr = ">f2", .ndim = 2, .shape = {1, 2},
         .values = v_be2},
        {.name = "empty", .descr = "<f4", .ndim = 2, .shape = {0, 3},
         .values = v_s},
        {.name = "fortran8", .descr = "<f8", .ndim = 2, .shape = {3, 2},
         .fortran = 1, .values = v_f8},
    };
    memcpy(a, g, sizeof g);
}

static int64_t count_of(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d];
    return n;
}

/* Reads a->name and compares with the values rounded to float32. Every
 * conversion is exact (the f4 and f2 values are representable; f8 to f32
 * rounds once, as the reader does), so the bits must match. */
static void check_array(nst_npz *z, const npzw_array *a, const char *what)
{
    int ndim = -1;
    int64_t shape[NST_NPY_MAX_DIMS];
    ck_assert_msg(nst_npz_has(z, a->name), "%s: %s missing", what, a->name);
    float *got = nst_npz_read_f32(z, a->name, &ndim, shape);
    ck_assert_msg(got != NULL, "%s: %s: %s", what, a->name,
                  nst_failure_reason());
    ck_assert_msg(ndim == a->ndim, "%s: %s: ndim %d, expected %d", what,
                  a->name, ndim, a->ndim);
    for (int d = 0; d < ndim; d++)
        ck_assert_msg(shape[d] == a->shape[d],
                      "%s: %s: shape[%d] %lld, expected %lld", what, a->name,
                      d, (long long)shape[d], (long long)a->shape[d]);
    /* The header alone gives the same shape. */
    int64_t peek[NST_NPY_MAX_DIMS];
    int peek_ndim = -1;
    ck_assert_msg(nst_npz_shape(z, a->name, &peek_ndim, peek) == 0, "%s: %s",
                  what, nst_failure_reason());
    ck_assert_int_eq(peek_ndim, ndim);
    for (int d = 0; d < ndim; d++)
        ck_assert_int_eq(peek[d], shape[d]);
    int64_t n = count_of(a->ndim, a->shape);
    for (int64_t i = 0; i < n; i++) {
        float want = (float)a->values[i];
        int same = isnan(want) ? isnan(got[i])
                               : memcmp(&want, &got[i], sizeof want) == 0;
        if (!same) /* not ck_assert: it records every pass */
            ck_abort_msg("%s: %s: index %lld: expected %a, got %a", what,
                         a->name, (long long)i, (double)want, (double)got[i]);
    }
    free(got);
}

static const char *fixture(const char *tag, const char *file, char *path,
                           size_t size)
{
    char dir[4096];
    tu_tmpdir(tag, dir, sizeof dir);
    snprintf(path, size, "%s/%s", dir, file);
    return path;
}

/* The reason names the file, the entry (if any) and the problem. */
static void assert_reason(const char *path, const char *key,
                          const char *problem)
{
    const char *why = nst_failure_reason();
    ck_assert_msg(strstr(why, path) == why, "reason '%s' lacks path %s", why,
                  path);
    ck_assert_msg(!key || strstr(why, key), "reason '%s' lacks entry %s", why,
                  key);
    ck_assert_msg(strstr(why, problem), "reason '%s' lacks '%s'", why,
                  problem);
    ck_assert_msg(!strchr(why, '\n'), "reason '%s' is not one line", why);
}

static void expect_open_fails(const char *path, const char *problem)
{
    nst_fail("unset");
    nst_npz *z = nst_npz_open(path);
    ck_assert_msg(z == NULL, "%s opened; expected '%s'", path, problem);
    assert_reason(path, NULL, problem);
}

static void expect_read_fails(const char *path, const char *key,
                              const char *problem)
{
    int ndim;
    int64_t shape[NST_NPY_MAX_DIMS];
    nst_npz *z = nst_npz_open(path);
    ck_assert_msg(z != NULL, "%s", nst_failure_reason());
    nst_fail("unset");
    float *got = nst_npz_read_f32(z, key, &ndim, shape);
    ck_assert_msg(got == NULL, "%s: %s read; expected '%s'", path, key,
                  problem);
    assert_reason(path, key, problem);
    nst_npz_close(z);
}

/* Writes one stored <f4 array whose .npy dict is header and which holds
 * count values. */
static void write_header_case(const char *path, const char *header,
                              int64_t count)
{
    static const double v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    npzw_array a = {.name = "x", .descr = "<f4", .values = v,
                    .header = header, .count = count};
    npzw_options o = {0};
    ck_assert_int_eq(npzw_write(path, &a, 1, &o, NULL), 0);
}

/* After patching a stored entry's bytes, makes its CRC-32 right again so
 * that a later check is the one that fails. */
static void fix_crc(unsigned char *buf, const npzw_layout *l, int i)
{
    uint32_t crc = (uint32_t)crc32(0L, buf + l->data[i], (uInt)l->size[i]);
    npzw_put32(buf + l->local[i] + 14, crc);
    npzw_put32(buf + l->central[i] + 16, crc);
}

/* ---- good archives ------------------------------------------------------ */

/* Layout variant i: stored/deflated x npy 1/2/3 x zip64 x data descriptor
 * x local-only extra field; some with a comment holding a decoy end
 * record signature. */
static npzw_options layout_variant(int i)
{
    npzw_options o = {
        .method = i & 1 ? 8 : 0,
        .npy_version = 1 + (i >> 1) % 3,
        .zip64 = (i / 6) & 1,
        .data_descriptor = (i / 12) & 1,
        .local_extra = (i / 24) & 1 ? 24 : 0,
        .comment = i % 5 == 0 ? "a comment PK\x05\x06 with a decoy" : NULL,
    };
    return o;
}

START_TEST(test_good_layouts)
{
    npzw_array a[N_GOOD];
    npzw_options o = layout_variant(_i);
    char path[4200], what[128];
    good_arrays(a);
    snprintf(what, sizeof what,
             "method %d npy %d zip64 %d descriptor %d local extra %d", o.method,
             o.npy_version, o.zip64, o.data_descriptor, o.local_extra);
    fixture("npz_good", "good.npz", path, sizeof path);
    ck_assert_int_eq(npzw_write(path, a, N_GOOD, &o, NULL), 0);
    nst_npz *z = nst_npz_open(path);
    ck_assert_msg(z != NULL, "%s: %s", what, nst_failure_reason());
    /* Out of order, and twice, to show entries are independent. */
    for (int k = N_GOOD - 1; k >= 0; k--)
        check_array(z, &a[k], what);
    for (int k = 0; k < N_GOOD; k++)
        check_array(z, &a[k], what);
    ck_assert(!nst_npz_has(z, "conv1_1"));
    ck_assert(!nst_npz_has(z, "conv1_1_W.npy"));
    nst_npz_close(z);
}
END_TEST

/* Dicts written differently from numpy's own, all valid Python. */
START_TEST(test_header_variants)
{
    static const struct {
        const char *header;
        int ndim;
        int64_t shape[3];
    } c[] = {
        {"{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}", 1, {2}},
        {"{ \"descr\" : \"<f4\" ,\n 'fortran_order':False,'shape':( 2 , ) , }",
         1,
         {2}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }",
         2,
         {1, 2}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1,), }",
         2,
         {2, 1}},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2, 1)}",
         3,
         {1, 2, 1}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': ()}", 0, {0}},
    };
    static const double want[2] = {1, 2};
    char path[4200];
    fixture("npz_headers", "h.npz", path, sizeof path);
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int64_t n = count_of(c[i].ndim, c[i].shape);
        write_header_case(path, c[i].header, n);
        nst_npz *z = nst_npz_open(path);
        ck_assert_msg(z != NULL, "%s", nst_failure_reason());
        int ndim;
        int64_t shape[NST_NPY_MAX_DIMS];
        float *got = nst_npz_read_f32(z, "x", &ndim, shape);
        ck_assert_msg(got != NULL, "header %s: %s", c[i].header,
                      nst_failure_reason());
        ck_assert_int_eq(ndim, c[i].ndim);
        for (int d = 0; d < ndim; d++)
            ck_assert_int_eq(shape[d], c[i].shape[d]);
        for (int64_t k = 0; k < n; k++)
            ck_assert_msg(got[k] == (float)want[k], "header %s: [%lld] %g",
                          c[i].header, (long long)k, (double)got[k]);
        free(got);
        nst_npz_close(z);
    }
}
END_TEST

/* ---- malformed archives ------------------------------------------------- */

static const double v_small[12] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, 12};

static void write_small(const char *path, const npzw_options *o,
                        npzw_layout *l)
{
    npzw_array a[3] = {
        {.name = "a", .descr = "<f4", .ndim = 2, .shape = {3, 4},
         .values = v_small},
        {.name = "b", .descr = "<f8", .ndim = 1, .shape = {5},
         .values = v_small},
        {.name = "c", .descr = "<f2", .ndim = 1, .shape = {12},
         .values = v_small},
    };
    ck_assert_int_eq(npzw_write(path, a, 3, o, l), 0);
}

/* The small archive written to a fixture file, and what it holds. */
typedef struct small {
    char path[4200];
    npzw_layout l;
    unsigned char *bytes; /* malloc'd */
    size_t size;
} small;

/* Writes the small archive with options o to a's file (at a fresh path
 * named by tag and file, unless file is NULL) and reads it back. */
static void small_archive(small *a, const char *tag, const char *file,
                          const npzw_options *o)
{
    if (file)
        fixture(tag, file, a->path, sizeof a->path);
    write_small(a->path, o, &a->l);
    a->bytes = npzw_slurp(a->path, &a->size);
    ck_assert_ptr_nonnull(a->bytes);
}

/* A 16- or 32-bit little-endian field of an archive, at byte `at`, set to
 * value; width 0 sets nothing. */
typedef struct field {
    size_t at;
    int width;
    uint32_t value;
} field;

/* The archive good (size bytes) with up to two fields changed, written to
 * path: reading entry key, or opening the archive if key is NULL, must fail
 * with problem. */
static void expect_patched_fails(const char *path, const unsigned char *good,
                                 size_t size, const field set[2],
                                 const char *key, const char *problem)
{
    unsigned char *buf = malloc(size);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, good, size);
    for (int i = 0; i < 2; i++)
        if (set[i].width == 2)
            npzw_put16(buf + set[i].at, (uint16_t)set[i].value);
        else if (set[i].width == 4)
            npzw_put32(buf + set[i].at, set[i].value);
    npzw_spit(path, buf, size);
    if (key)
        expect_read_fails(path, key, problem);
    else
        expect_open_fails(path, problem);
    free(buf);
}

/* Every prefix of an archive fails (the end record is at the end), at
 * open or at a read, never crashing. */
START_TEST(test_truncated)
{
    char cut_path[4300];
    npzw_options o = layout_variant(_i * 9);
    small a;
    small_archive(&a, "npz_truncated", "full.npz", &o);
    snprintf(cut_path, sizeof cut_path, "%s.cut", a.path);
    for (size_t cut = 0; cut < a.size; cut++) {
        if (npzw_spit(cut_path, a.bytes, cut) != 0)
            ck_abort_msg("cannot write %s", cut_path);
        nst_npz *z = nst_npz_open(cut_path);
        int failed = z == NULL;
        for (const char *k = "abc"; z && *k; k++) {
            char key[2] = {*k, 0};
            int ndim;
            int64_t shape[NST_NPY_MAX_DIMS];
            float *got = nst_npz_read_f32(z, key, &ndim, shape);
            failed |= got == NULL;
            free(got);
        }
        nst_npz_close(z);
        if (!failed || strstr(nst_failure_reason(), cut_path) == NULL)
            ck_abort_msg("cut at %zu of %zu bytes: read fine or reason '%s' "
                         "lacks the path",
                         cut, a.size, nst_failure_reason());
    }
    free(a.bytes);
}
END_TEST

/* Each byte changed in turn: any read that succeeds returns the true
 * values (zip fields the reader does not need may change; anything else
 * must be caught, the data by its CRC-32). */
START_TEST(test_corrupted_bytes)
{
    char bad_path[4300];
    npzw_options o = layout_variant(_i * 9);
    small a;
    small_archive(&a, "npz_corrupt", "full.npz", &o);
    snprintf(bad_path, sizeof bad_path, "%s.bad", a.path);
    for (size_t at = 0; at < a.size; at++) {
        a.bytes[at] ^= 0x5a;
        if (npzw_spit(bad_path, a.bytes, a.size) != 0)
            ck_abort_msg("cannot write %s", bad_path);
        a.bytes[at] ^= 0x5a;
        nst_npz *z = nst_npz_open(bad_path);
        for (const char *k = "abc"; z && *k; k++) {
            char key[2] = {*k, 0};
            int ndim;
            int64_t shape[NST_NPY_MAX_DIMS];
            float *got = nst_npz_read_f32(z, key, &ndim, shape);
            int64_t n = *k == 'a' ? 12 : *k == 'b' ? 5 : 12;
            if (got && count_of(ndim, shape) != n)
                ck_abort_msg("byte %zu changed: %s has %lld elements", at,
                             key, (long long)count_of(ndim, shape));
            for (int64_t i = 0; got && i < n; i++)
                if (got[i] != (float)v_small[i])
                    ck_abort_msg("byte %zu changed: %s[%lld] = %g", at, key,
                                 (long long)i, (double)got[i]);
            free(got);
        }
        nst_npz_close(z);
    }
    free(a.bytes);
}
END_TEST

START_TEST(test_bad_signatures)
{
    npzw_options o = {0};
    small a;
    small_archive(&a, "npz_signatures", "s.npz", &o);

    a.bytes[a.l.eocd] ^= 0xff;
    npzw_spit(a.path, a.bytes, a.size);
    expect_open_fails(a.path, "no end of central directory record");
    a.bytes[a.l.eocd] ^= 0xff;

    a.bytes[a.l.central[1]] ^= 0xff;
    npzw_spit(a.path, a.bytes, a.size);
    expect_open_fails(a.path, "central directory entry 1: bad signature");
    a.bytes[a.l.central[1]] ^= 0xff;

    a.bytes[a.l.local[1]] ^= 0xff;
    npzw_spit(a.path, a.bytes, a.size);
    expect_read_fails(a.path, "b", "bad local header signature");
    a.bytes[a.l.local[1]] ^= 0xff;
    free(a.bytes);

    o.zip64 = 1;
    small_archive(&a, NULL, NULL, &o);
    a.bytes[a.l.eocd - 76] ^= 0xff;
    npzw_spit(a.path, a.bytes, a.size);
    expect_open_fails(a.path, "bad zip64 end of central directory signature");
    free(a.bytes);
}
END_TEST

START_TEST(test_bad_crc)
{
    small a;
    small_archive(&a, "npz_crc", "c.npz", &(npzw_options){0});
    a.bytes[a.l.data[2] + a.l.size[2] - 1] ^= 1;
    npzw_spit(a.path, a.bytes, a.size);
    expect_read_fails(a.path, "c", "bad CRC-32");
    /* The other entries are unaffected. */
    nst_npz *z = nst_npz_open(a.path);
    int ndim;
    int64_t shape[NST_NPY_MAX_DIMS];
    float *entry_a = nst_npz_read_f32(z, "a", &ndim, shape);
    ck_assert_msg(entry_a != NULL, "%s", nst_failure_reason());
    free(entry_a);
    nst_npz_close(z);
    free(a.bytes);
}
END_TEST

/* Local headers that disagree with the central directory. */
START_TEST(test_local_disagrees)
{
    static const struct {
        size_t field, width;
        uint32_t value;
        const char *problem;
    } c[] = {
        {8, 2, 8, "compression method"},
        {14, 4, 0x12345678, "CRC-32 or sizes"},
        {18, 4, 1, "CRC-32 or sizes"},
        {22, 4, 0xffffffff, "CRC-32 or sizes"},
        {30, 2, 'z', "names a different entry"},
        {26, 2, 4, "names a different entry"},
    };
    small a;
    small_archive(&a, "npz_local", "l.npz", &(npzw_options){0});
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        const field set[2] = {
            {a.l.local[1] + c[i].field, (int)c[i].width, c[i].value}};
        expect_patched_fails(a.path, a.bytes, a.size, set, "b", c[i].problem);
    }
    free(a.bytes);
}
END_TEST

START_TEST(test_out_of_range)
{
    npzw_options o = {0};
    small a;
    small_archive(&a, "npz_range", "r.npz", &o);
    /* A local header offset past the entries, and data that would run
     * into the central directory; a central directory offset and size
     * that do not fit; more entries than the central directory can
     * hold. */
    const struct {
        field set[2];
        const char *key, *problem;
    } stored[] = {
        {{{a.l.central[0] + 42, 4, 0x7fffffff}},
         "a",
         "local header offset 2147483647 out of range"},
        {{{a.l.central[2] + 20, 4, 0x10000}, {a.l.central[2] + 24, 4, 0x10000}},
         "c",
         "runs past the end of the entries"},
        {{{a.l.eocd + 16, 4, (uint32_t)a.l.central[0] + 1}},
         NULL,
         "central directory offset"},
        {{{a.l.eocd + 12, 4, 0xfffffff0}}, NULL, "central directory offset"},
        {{{a.l.eocd + 8, 2, 60000}, {a.l.eocd + 10, 2, 60000}},
         NULL,
         "cannot hold 60000 entries"},
    };
    for (size_t i = 0; i < sizeof stored / sizeof *stored; i++)
        expect_patched_fails(a.path, a.bytes, a.size, stored[i].set, stored[i].key,
                             stored[i].problem);
    free(a.bytes);

    /* A deflated entry claiming an uncompressed size no deflate stream of
     * its length can reach: refused before allocating it. Too small a
     * size: inflating overruns it. */
    o.method = 8;
    small_archive(&a, NULL, NULL, &o);
    static const struct {
        uint32_t value;
        const char *problem;
    } deflated[] = {{0xf0000000, "impossible"},
                    {20, "inflates to more than its recorded 20"}};
    for (size_t i = 0; i < sizeof deflated / sizeof *deflated; i++) {
        const field set[2] = {{a.l.local[0] + 22, 4, deflated[i].value},
                              {a.l.central[0] + 24, 4, deflated[i].value}};
        expect_patched_fails(a.path, a.bytes, a.size, set, "a",
                             deflated[i].problem);
    }
    free(a.bytes);
}
END_TEST

START_TEST(test_npy_header_lies)
{
    small a;
    small_archive(&a, "npz_npy", "n.npz", &(npzw_options){0});
    unsigned char *buf = malloc(a.size);
    static const struct {
        size_t field;
        unsigned char bytes[2];
        const char *problem;
    } c[] = {
        {8, {0xf0, 0xff}, "header length 65520 runs past the end of the entry"},
        {8, {0x10, 0x00}, "header"}, /* cuts the dict short */
        {0, {'N', 'U'}, "bad magic"},
        {6, {4, 0}, "unsupported .npy version 4.0"},
        {6, {1, 1}, "unsupported .npy version 1.1"},
        {6, {0, 0}, "unsupported .npy version 0.0"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        memcpy(buf, a.bytes, a.size);
        memcpy(buf + a.l.data[0] + c[i].field, c[i].bytes, 2);
        fix_crc(buf, &a.l, 0);
        npzw_spit(a.path, buf, a.size);
        expect_read_fails(a.path, "a", c[i].problem);
    }
    free(buf);
    free(a.bytes);
}
END_TEST

START_TEST(test_bad_dicts)
{
    static const struct {
        const char *header;
        const char *problem;
    } c[] = {
        {"{'descr': '<f4', 'fortran_order': False}", "lacks the 'shape' key"},
        {"{'fortran_order': False, 'shape': (2,)}", "lacks the 'descr' key"},
        {"{'descr': '<f4', 'shape': (2,)}", "lacks the 'fortran_order' key"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
         "key other than"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
         "'shape': (2,)}",
         "repeats a key"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
         "'fortran_order' is not True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2)}",
         "'shape' is not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}",
         "'shape' is not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,,)}",
         "'shape' is not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': 2}",
         "'shape' is not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, "
         "'shape': (1, 1, 1, 1, 1, 1, 1, 1, 2)}",
         "'shape' is not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, "
         "'shape': (99999999999999999999,)}",
         "'shape' is not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x",
         "text after the dict"},
        {"['descr', '<f4']", "not a dict"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}",
         "malformed"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",
         "malformed"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}",
         "'descr' is not a simple dtype string"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (2,)}",
         "unsupported dtype '<i4'"},
        {"{'descr': '|f4', 'fortran_order': False, 'shape': (2,)}",
         "unsupported dtype '|f4'"},
        {"{'descr': '<f16', 'fortran_order': False, 'shape': (2,)}",
         "unsupported dtype '<f16'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}",
         "shape needs 12 bytes of data but the entry holds 8"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
         "shape needs 4 bytes of data but the entry holds 8"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': ()}",
         "shape needs 4 bytes"},
        {"{'descr': '<f4', 'fortran_order': False, "
         "'shape': (4294967296, 4294967296, 16)}",
         "element count overflows"},
        {"{'descr': '<f4', 'fortran_order': False, "
         "'shape': (9223372036854775807, 3)}",
         "element count overflows"},
        {"{'descr': '<f8', 'fortran_order': False, "
         "'shape': (4611686018427387904,)}",
         "size in bytes overflows"},
        {"{'descr': '<f4', 'fortran_order': False, "
         "'shape': (0, 9223372036854775807)}",
         "shape needs 0 bytes"},
    };
    char path[4200];
    fixture("npz_dicts", "d.npz", path, sizeof path);
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        write_header_case(path, c[i].header, 2);
        expect_read_fails(path, "x", c[i].problem);
    }
}
END_TEST

START_TEST(test_unsupported_method)
{
    char path[4200];
    npzw_options o = {.method = 12};
    fixture("npz_method", "m.npz", path, sizeof path);
    write_small(path, &o, NULL);
    expect_read_fails(path, "b", "compression method 12 not supported");
}
END_TEST

START_TEST(test_missing_and_duplicate_keys)
{
    char path[4200];
    npzw_options o = {0};
    npzw_array a[3] = {
        {.name = "w", .descr = "<f4", .ndim = 1, .shape = {2},
         .values = v_small},
        {.name = "v", .descr = "<f4", .ndim = 1, .shape = {2},
         .values = v_small},
        {.name = "w", .descr = "<f4", .ndim = 1, .shape = {3},
         .values = v_small},
    };
    fixture("npz_keys", "k.npz", path, sizeof path);
    ck_assert_int_eq(npzw_write(path, a, 3, &o, NULL), 0);
    expect_read_fails(path, "nope", "no such array");
    expect_read_fails(path, "w", "more than once");
    nst_npz *z = nst_npz_open(path);
    ck_assert(nst_npz_has(z, "w"));
    ck_assert(!nst_npz_has(z, ""));
    check_array(z, &a[1], "duplicates elsewhere");
    nst_npz_close(z);
    expect_open_fails("/nonexistent/x.npz", "cannot open");
}
END_TEST

static long max_rss_kb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

/* vgg16_weights.npz holds 528 MB, mostly fc6_W. Here fc6_W's data is a
 * hole in a sparse file (with a CRC-32 that does not match it), between
 * small conv entries: opening the archive and reading the conv entries
 * must work without touching it, and without the memory it would take. */
START_TEST(test_big_entry_untouched)
{
    enum { FC6_BYTES = 25088 * 4096 * 4 };
    char path[4200];
    npzw_array a[4] = {
        {.name = "conv1_1_W", .descr = "<f4", .ndim = 4, .shape = {3, 3, 3, 4},
         .values = v_w},
        {.name = "fc6_W", .descr = "<f4", .ndim = 2, .shape = {25088, 4096},
         .hole_bytes = FC6_BYTES},
        {.name = "conv1_1_b", .descr = "<f8", .ndim = 1, .shape = {7},
         .values = v_b},
        {.name = "fc6_b", .descr = "<f4", .ndim = 1, .shape = {6},
         .values = v_f},
    };
    npzw_array unused[N_GOOD];
    npzw_options o = {.method = 0};
    npzw_layout l;
    struct stat st;
    good_arrays(unused); /* draws v_w and v_b */
    fixture("npz_big", "vgg16_like.npz", path, sizeof path);
    ck_assert_int_eq(npzw_write(path, a, 4, &o, &l), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_msg((uint64_t)st.st_size > (uint64_t)FC6_BYTES, "size %lld",
                  (long long)st.st_size);
    if ((uint64_t)st.st_blocks * 512 > 64u << 20)
        printf("note: %s is not sparse on this file system\n", path);

    long before = max_rss_kb();
    nst_npz *z = nst_npz_open(path);
    ck_assert_msg(z != NULL, "%s", nst_failure_reason());
    ck_assert(nst_npz_has(z, "fc6_W"));
    check_array(z, &a[0], "big archive");
    check_array(z, &a[2], "big archive");
    check_array(z, &a[3], "big archive");
    nst_npz_close(z);
    long grown = max_rss_kb() - before;
    /* Reading fc6_W would take 392 MiB; everything else well under 1. */
    ck_assert_msg(grown < 32 * 1024, "peak memory grew by %ld KiB", grown);
}
END_TEST

/* 972 MiB of zeros deflated into about a megabyte, behind a .npy header
 * that accounts for them (3,3,3,9437184 floats): the shape must come from
 * inflating the header alone, so a loader can refuse the entry before its
 * data costs anything. */
START_TEST(test_deflate_bomb_shape_only)
{
    enum { MIB = 972 };
    char path[4200];
    fixture("npz_bomb", "bomb.npz", path, sizeof path);
    ck_assert_int_eq(npzw_write_bomb(path, MIB), 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_msg(st.st_size < 4 << 20, "bomb is %lld bytes",
                  (long long)st.st_size);

    long before = max_rss_kb();
    nst_npz *z = nst_npz_open(path);
    ck_assert_msg(z != NULL, "%s", nst_failure_reason());
    int ndim = -1;
    int64_t shape[NST_NPY_MAX_DIMS];
    ck_assert_msg(nst_npz_shape(z, "conv1_1_W", &ndim, shape) == 0, "%s",
                  nst_failure_reason());
    ck_assert_int_eq(ndim, 4);
    ck_assert_int_eq(shape[3], (int64_t)MIB * (1 << 20) / 108);
    nst_npz_close(z);
    long grown = max_rss_kb() - before;
    /* Inflating the entry would take 972 MiB. */
    ck_assert_msg(grown < 16 * 1024, "peak memory grew by %ld KiB", grown);
}
END_TEST

/* A FIFO given as the weights used to block in open() forever. */
START_TEST(test_fifo_is_refused)
{
    char path[4200];
    fixture("npz_fifo", "fifo.npz", path, sizeof path);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    alarm(20); /* a hang becomes a failure */
    expect_open_fails(path, "not a regular file (a FIFO)");
    alarm(0);
    expect_open_fails("/dev/null", "not a regular file (a device or socket)");
}
END_TEST

/* The shared VGG19 file, packed as numpy does (with zip64 local extra
 * fields that the central directory lacks). Reference values were read
 * with Python's zipfile and struct modules. */
START_TEST(test_real_weights)
{
    char path[4096];
    if (!tu_shared("vgg/vgg19_conv1_1-conv3_4.npz", path, sizeof path)) {
        printf("note: skipping the real-weights test: "
               "vgg/vgg19_conv1_1-conv3_4.npz not found under NST_SHARED\n");
        return;
    }
    nst_npz *z = nst_npz_open(path);
    ck_assert_msg(z != NULL, "%s", nst_failure_reason());
    ck_assert(nst_npz_has(z, "conv3_4_W"));
    ck_assert(!nst_npz_has(z, "fc6_W"));
    int ndim;
    int64_t shape[NST_NPY_MAX_DIMS];
    float *w = nst_npz_read_f32(z, "conv1_1_W", &ndim, shape);
    ck_assert_msg(w != NULL, "%s", nst_failure_reason());
    ck_assert_int_eq(ndim, 4);
    ck_assert(shape[0] == 3 && shape[1] == 3 && shape[2] == 3 &&
              shape[3] == 64);
    /* The values are float32 bits copied unchanged: exact comparison. */
    ck_assert_float_eq(w[0], 0.3941670358181f);
    ck_assert_float_eq(w[1], -0.08419706672430038f);
    ck_assert_float_eq(w[((2 * 3 + 1) * 3 + 0) * 64 + 5],
                       -0.05511300265789032f);
    ck_assert_float_eq(w[1727], -0.27096185088157654f);
    double sum = 0, abs_sum = 0;
    for (int i = 0; i < 1728; i++)
        sum += w[i], abs_sum += fabs(w[i]);
    /* Double sums of 1728 floats of size < 1: order-independent to 1e-9. */
    ck_assert_double_eq_tol(sum, -3.5411860072526906, 1e-9);
    ck_assert_double_eq_tol(abs_sum, 270.4348439893474, 1e-9);
    free(w);
    float *b = nst_npz_read_f32(z, "conv1_1_b", &ndim, shape);
    ck_assert_msg(b != NULL, "%s", nst_failure_reason());
    ck_assert(ndim == 1 && shape[0] == 64);
    ck_assert_float_eq(b[0], 0.7301775813102722f);
    ck_assert_float_eq(b[3], 0.8260385990142822f);
    free(b);
    float *big = nst_npz_read_f32(z, "conv3_4_W", &ndim, shape);
    ck_assert_msg(big != NULL, "%s", nst_failure_reason());
    ck_assert(ndim == 4 && shape[2] == 256 && shape[3] == 256);
    free(big);
    nst_npz_close(z);
}
END_TEST

static Suite *npz_suite(void)
{
    Suite *s = suite_create("npz");
    TCase *good = tcase_create("good");
    tcase_add_loop_test(good, test_good_layouts, 0, 48);
    tcase_add_test(good, test_header_variants);
    tcase_add_test(good, test_big_entry_untouched);
    tcase_add_test(good, test_real_weights);
    suite_add_tcase(s, good);
    TCase *bad = tcase_create("malformed");
    /* Six layouts, 0, 9, ... 45, mixing every option, for the tests that
     * try each byte. */
    tcase_add_loop_test(bad, test_truncated, 0, 6);
    tcase_add_loop_test(bad, test_corrupted_bytes, 0, 6);
    tcase_add_test(bad, test_bad_signatures);
    tcase_add_test(bad, test_bad_crc);
    tcase_add_test(bad, test_local_disagrees);
    tcase_add_test(bad, test_out_of_range);
    tcase_add_test(bad, test_npy_header_lies);
    tcase_add_test(bad, test_bad_dicts);
    tcase_add_test(bad, test_unsupported_method);
    tcase_add_test(bad, test_missing_and_duplicate_keys);
    tcase_add_test(bad, test_deflate_bomb_shape_only);
    tcase_add_test(bad, test_fifo_is_refused);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return tu_run_suite(npz_suite());
}
