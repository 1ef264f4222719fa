/* NumPy .npz reading: a zip archive (PKWARE APPNOTE 6.3) of .npy files.
 *
 * Opening reads the End Of Central Directory record (found by scanning back
 * over a possible archive comment), the zip64 locator and record when
 * present, and the central directory, which gives every entry's method,
 * sizes, CRC-32 and local header offset. Reading an entry reads its local
 * header (whose name and extra field lengths may differ from the central
 * ones) and then its data alone, inflating it when deflated, and checks the
 * CRC-32. Sizes come from the central directory, so entries written with a
 * data descriptor (flag bit 3) need nothing more.
 *
 * An array name that appears twice in the archive is ambiguous: asking for
 * it is an error. Zip fields are little-endian; .npy data may be either
 * ('<' or '>' in its dtype). */
#include "npz.h"

#include "error.h"
#include "input_file.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_ZIP64_EOCD 0x06064b50u
#define SIG_ZIP64_LOCATOR 0x07064b50u

#define LOCAL_SIZE 30
#define CENTRAL_SIZE 46
#define EOCD_SIZE 22
#define ZIP64_EOCD_SIZE 56
#define ZIP64_LOCATOR_SIZE 20
#define MAX_COMMENT 65535

#define FLAG_ENCRYPTED 0x0001u
#define FLAG_DATA_DESCRIPTOR 0x0008u

/* Deflate emits at least 2 bits (a length and a distance code) per match
 * of at most 258 bytes, so no stream inflates more than 1032-fold. */
#define MAX_INFLATE_RATIO 1032

/* numpy writes headers of a few hundred bytes; a longer one is refused
 * before it is read. */
#define NPY_MAX_HEADER 65536

typedef struct nst__npz_entry {
    const char *name; /* inside the kept central directory, not terminated */
    uint16_t name_len;
    uint16_t method;
    uint16_t flags;
    uint32_t crc;
    uint64_t csize;
    uint64_t usize;
    uint64_t offset; /* of the local header */
} nst__npz_entry;

struct nst_npz {
    char *path;
    int fd;
    uint64_t data_end; /* where the central directory starts */
    unsigned char *cd;
    size_t n;
    nst__npz_entry *entry;
};

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Reads exactly n bytes at offset; 0, or -1 if the file ends first. */
static int read_at(int fd, void *buf, size_t n, uint64_t offset)
{
    unsigned char *p = buf;
    while (n > 0) {
        if (offset > (uint64_t)INT64_MAX)
            return -1;
        ssize_t got = pread(fd, p, n, (off_t)offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
        offset += (uint64_t)got;
    }
    return 0;
}

/* ---- zip ---------------------------------------------------------------- */

/* The zip64 extended information extra field (id 0x0001) holds, in this
 * order, the uncompressed size, compressed size and local header offset,
 * each only if its 32-bit field is 0xffffffff. Replaces those fields;
 * -1 if one is marked but the extra field does not hold it. */
static int apply_zip64_extra(const unsigned char *extra, size_t len,
                             uint64_t *usize, uint64_t *csize,
                             uint64_t *offset)
{
    uint64_t *field[3] = {usize, csize, offset};
    int wanted = 0;
    for (int i = 0; i < 3; i++)
        wanted += field[i] && *field[i] == 0xffffffffu;
    if (!wanted)
        return 0;
    for (size_t at = 0; at + 4 <= len;) {
        size_t id = le16(extra + at), size = le16(extra + at + 2);
        at += 4;
        if (size > len - at)
            return -1;
        if (id == 0x0001) {
            const unsigned char *p = extra + at;
            for (int i = 0; i < 3; i++) {
                if (!field[i] || *field[i] != 0xffffffffu)
                    continue;
                if (p + 8 > extra + at + size)
                    return -1;
                *field[i] = le64(p);
                p += 8;
            }
            return 0;
        }
        at += size;
    }
    return -1;
}

/* Finds the End Of Central Directory record in the last 64 KiB + 22 bytes:
 * the last signature whose comment length reaches exactly the end of the
 * file. Fills the central directory's offset, size and entry count. */
static int read_eocd(nst_npz *z, uint64_t file_size, uint64_t *cd_offset,
                     uint64_t *cd_size, uint64_t *count)
{
    size_t tail = file_size < EOCD_SIZE + MAX_COMMENT ? (size_t)file_size
                                                      : EOCD_SIZE + MAX_COMMENT;
    if (tail < EOCD_SIZE)
        return nst_fail("%s: too short to be a zip archive", z->path);
    unsigned char *buf = malloc(tail);
    if (!buf)
        return nst_fail("%s: out of memory", z->path);
    if (read_at(z->fd, buf, tail, file_size - tail) < 0) {
        free(buf);
        return nst_fail("%s: cannot read the end of the file", z->path);
    }
    size_t at = tail - EOCD_SIZE + 1;
    const unsigned char *e = NULL;
    while (at-- > 0)
        if (le32(buf + at) == SIG_EOCD &&
            at + EOCD_SIZE + le16(buf + at + 20) == tail) {
            e = buf + at;
            break;
        }
    if (!e) {
        free(buf);
        return nst_fail("%s: no end of central directory record (not a zip "
                        "archive, or truncated)",
                        z->path);
    }
    uint64_t eocd_pos = file_size - tail + at;
    unsigned disk = le16(e + 4), cd_disk = le16(e + 6);
    uint64_t disk_entries = le16(e + 8);
    *count = le16(e + 10);
    *cd_size = le32(e + 12);
    *cd_offset = le32(e + 16);
    uint64_t limit = eocd_pos;

    /* A zip64 locator right before the record points at the zip64 record,
     * whose 64-bit fields take precedence. */
    unsigned char loc[ZIP64_LOCATOR_SIZE], z64[ZIP64_EOCD_SIZE];
    int has_zip64 = 0;
    if (at >= ZIP64_LOCATOR_SIZE) {
        memcpy(loc, e - ZIP64_LOCATOR_SIZE, sizeof loc);
        has_zip64 = 1;
    } else if (eocd_pos >= ZIP64_LOCATOR_SIZE) {
        has_zip64 = read_at(z->fd, loc, sizeof loc,
                            eocd_pos - ZIP64_LOCATOR_SIZE) == 0;
    }
    free(buf);
    if (has_zip64 && le32(loc) == SIG_ZIP64_LOCATOR) {
        uint64_t rec = le64(loc + 8);
        limit = eocd_pos - ZIP64_LOCATOR_SIZE;
        if (le32(loc + 4) != 0 || le32(loc + 16) > 1)
            return nst_fail("%s: multi-disk zip archives are not supported",
                            z->path);
        if (rec > limit || limit - rec < ZIP64_EOCD_SIZE ||
            read_at(z->fd, z64, sizeof z64, rec) < 0)
            return nst_fail("%s: zip64 end of central directory record out "
                            "of range",
                            z->path);
        if (le32(z64) != SIG_ZIP64_EOCD)
            return nst_fail("%s: bad zip64 end of central directory "
                            "signature",
                            z->path);
        disk = le32(z64 + 16);
        cd_disk = le32(z64 + 20);
        disk_entries = le64(z64 + 24);
        *count = le64(z64 + 32);
        *cd_size = le64(z64 + 40);
        *cd_offset = le64(z64 + 48);
        limit = rec;
    }
    if (disk != 0 || cd_disk != 0 || disk_entries != *count)
        return nst_fail("%s: multi-disk zip archives are not supported",
                        z->path);
    if (*cd_offset > limit || *cd_size != limit - *cd_offset)
        return nst_fail("%s: central directory offset %llu and size %llu do "
                        "not fit before its end record at %llu",
                        z->path, (unsigned long long)*cd_offset,
                        (unsigned long long)*cd_size,
                        (unsigned long long)limit);
    return 0;
}

static int read_central_directory(nst_npz *z, uint64_t cd_offset,
                                  uint64_t cd_size, uint64_t count)
{
    if (count > cd_size / CENTRAL_SIZE || cd_size > SIZE_MAX)
        return nst_fail("%s: central directory of %llu bytes cannot hold "
                        "%llu entries",
                        z->path, (unsigned long long)cd_size,
                        (unsigned long long)count);
    z->cd = malloc(cd_size ? (size_t)cd_size : 1);
    z->entry = calloc(count ? (size_t)count : 1, sizeof *z->entry);
    if (!z->cd || !z->entry)
        return nst_fail("%s: out of memory", z->path);
    if (read_at(z->fd, z->cd, (size_t)cd_size, cd_offset) < 0)
        return nst_fail("%s: cannot read the central directory", z->path);
    z->data_end = cd_offset;
    size_t at = 0;
    for (z->n = 0; z->n < count; z->n++) {
        const unsigned char *c = z->cd + at;
        nst__npz_entry *e = &z->entry[z->n];
        if (cd_size - at < CENTRAL_SIZE || le32(c) != SIG_CENTRAL)
            return nst_fail("%s: central directory entry %zu: bad signature",
                            z->path, z->n);
        size_t name_len = le16(c + 28), extra_len = le16(c + 30),
               comment_len = le16(c + 32);
        size_t record = CENTRAL_SIZE + name_len + extra_len + comment_len;
        if (record > cd_size - at)
            return nst_fail("%s: central directory entry %zu: runs past the "
                            "central directory",
                            z->path, z->n);
        e->name = (const char *)c + CENTRAL_SIZE;
        e->name_len = (uint16_t)name_len;
        e->flags = le16(c + 8);
        e->method = le16(c + 10);
        e->crc = le32(c + 16);
        e->csize = le32(c + 20);
        e->usize = le32(c + 24);
        e->offset = le32(c + 42);
        if (apply_zip64_extra(c + CENTRAL_SIZE + name_len, extra_len,
                              &e->usize, &e->csize, &e->offset) < 0)
            return nst_fail("%s: %.*s: bad zip64 extra field", z->path,
                            (int)name_len, e->name);
        at += record;
    }
    return 0;
}

nst_npz *nst_npz_open(const char *path)
{
    nst_npz *z = calloc(1, sizeof *z);
    if (!z || !(z->path = strdup(path))) {
        free(z);
        nst_fail("%s: out of memory", path);
        return NULL;
    }
    uint64_t file_size = 0, cd_offset = 0, cd_size = 0, count = 0;
    z->fd = nst_input_open(path, &file_size);
    if (z->fd < 0) {
        nst_npz_close(z);
        return NULL;
    }
    if (read_eocd(z, file_size, &cd_offset, &cd_size, &count) <
            0 ||
        read_central_directory(z, cd_offset, cd_size, count) < 0) {
        nst_npz_close(z);
        return NULL;
    }
    return z;
}

void nst_npz_close(nst_npz *z)
{
    if (!z)
        return;
    if (z->fd >= 0)
        close(z->fd);
    free(z->entry);
    free(z->cd);
    free(z->path);
    free(z);
}

/* Entries named key + ".npy"; sets *dup if there are several. */
static const nst__npz_entry *find(const nst_npz *z, const char *key, int *dup)
{
    size_t len = strlen(key);
    const nst__npz_entry *found = NULL;
    *dup = 0;
    for (size_t i = 0; i < z->n; i++) {
        const nst__npz_entry *e = &z->entry[i];
        if (e->name_len == len + 4 && memcmp(e->name, key, len) == 0 &&
            memcmp(e->name + len, ".npy", 4) == 0) {
            *dup |= found != NULL;
            if (!found)
                found = e;
        }
    }
    return found;
}

int nst_npz_has(const nst_npz *z, const char *key)
{
    int dup;
    return find(z, key, &dup) != NULL;
}

/* Checks the local header against the central entry; returns the offset of
 * the entry's data. */
static int locate_data(const nst_npz *z, const char *key,
                       const nst__npz_entry *e, uint64_t *data)
{
    unsigned char fixed[LOCAL_SIZE];
    if (e->offset > z->data_end || z->data_end - e->offset < LOCAL_SIZE)
        return nst_fail("%s: %s: local header offset %llu out of range",
                        z->path, key, (unsigned long long)e->offset);
    if (read_at(z->fd, fixed, sizeof fixed, e->offset) < 0)
        return nst_fail("%s: %s: truncated local header", z->path, key);
    if (le32(fixed) != SIG_LOCAL)
        return nst_fail("%s: %s: bad local header signature", z->path, key);
    size_t name_len = le16(fixed + 26), extra_len = le16(fixed + 28);
    uint64_t start = e->offset + LOCAL_SIZE + name_len + extra_len;
    if (start > z->data_end || z->data_end - start < e->csize)
        return nst_fail("%s: %s: data (%llu bytes at %llu) runs past the end "
                        "of the entries",
                        z->path, key, (unsigned long long)e->csize,
                        (unsigned long long)start);
    unsigned char *var = malloc(name_len + extra_len + 1);
    if (!var)
        return nst_fail("%s: %s: out of memory", z->path, key);
    int bad = read_at(z->fd, var, name_len + extra_len,
                      e->offset + LOCAL_SIZE) < 0;
    const char *problem = NULL;
    uint16_t flags = le16(fixed + 6);
    uint64_t csize = le32(fixed + 18), usize = le32(fixed + 22);
    if (bad)
        problem = "truncated local header";
    else if (name_len != e->name_len || memcmp(var, e->name, name_len) != 0)
        problem = "local header names a different entry";
    else if (le16(fixed + 8) != e->method)
        problem = "local header disagrees with the central directory on the "
                  "compression method";
    else if ((flags | e->flags) & FLAG_ENCRYPTED)
        problem = "encrypted entries are not supported";
    else if (!(flags & FLAG_DATA_DESCRIPTOR) &&
             (le32(fixed + 14) != e->crc ||
              apply_zip64_extra(var + name_len, extra_len, &usize, &csize,
                                NULL) < 0 ||
              csize != e->csize || usize != e->usize))
        problem = "local header disagrees with the central directory on the "
                  "CRC-32 or sizes";
    free(var);
    if (problem)
        return nst_fail("%s: %s: %s", z->path, key, problem);
    *data = start;
    return 0;
}

/* Inflates the entry's raw deflate stream into out[0..e->usize). */
static int inflate_entry(const nst_npz *z, const char *key,
                         const nst__npz_entry *e, uint64_t at,
                         unsigned char *out)
{
    unsigned char in[1 << 16];
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -15) != Z_OK)
        return nst_fail("%s: %s: cannot start inflating", z->path, key);
    uint64_t left = e->csize, produced = 0;
    int rc = Z_OK;
    while (rc == Z_OK) {
        if (s.avail_in == 0 && left > 0) {
            size_t n = left < sizeof in ? (size_t)left : sizeof in;
            if (read_at(z->fd, in, n, at) < 0) {
                rc = Z_DATA_ERROR;
                break;
            }
            s.next_in = in;
            s.avail_in = (uInt)n;
            at += n;
            left -= n;
        }
        /* One byte of room past the recorded size reveals a longer stream. */
        uint64_t room = e->usize - produced + 1;
        unsigned char spare = 0;
        s.next_out = room > 1 ? out + produced : &spare;
        s.avail_out = room > 1 ? (uInt)(room - 1 < UINT_MAX ? room - 1
                                                             : UINT_MAX)
                               : 1;
        uInt before = s.avail_out;
        rc = inflate(&s, Z_NO_FLUSH);
        produced += before - s.avail_out;
        if (produced > e->usize)
            break;
        if (rc == Z_BUF_ERROR && s.avail_in == 0 && left == 0)
            break;
        if (rc == Z_BUF_ERROR)
            rc = Z_OK;
    }
    inflateEnd(&s);
    if (rc == Z_STREAM_END && produced == e->usize)
        return 0;
    if (produced > e->usize)
        return nst_fail("%s: %s: inflates to more than its recorded %llu "
                        "bytes",
                        z->path, key, (unsigned long long)e->usize);
    if (rc == Z_STREAM_END || rc == Z_BUF_ERROR)
        return nst_fail("%s: %s: inflates to %llu bytes, not its recorded "
                        "%llu (truncated)",
                        z->path, key, (unsigned long long)produced,
                        (unsigned long long)e->usize);
    return nst_fail("%s: %s: corrupt deflate data", z->path, key);
}

/* Checks the method, the local header and that the sizes are possible;
 * gives the offset of the entry's data. */
static int check_entry(const nst_npz *z, const char *key,
                       const nst__npz_entry *e, uint64_t *at)
{
    if (e->method != 0 && e->method != 8)
        return nst_fail("%s: %s: compression method %u not supported (only "
                        "stored and deflated)",
                        z->path, key, e->method);
    if (locate_data(z, key, e, at) < 0)
        return -1;
    if (e->method == 0 ? e->usize != e->csize
                       : e->usize / MAX_INFLATE_RATIO > e->csize)
        return nst_fail("%s: %s: uncompressed size %llu impossible for %llu "
                        "stored bytes",
                        z->path, key, (unsigned long long)e->usize,
                        (unsigned long long)e->csize);
    if (e->usize >= SIZE_MAX)
        return nst_fail("%s: %s: too large for this machine", z->path, key);
    return 0;
}

/* The first n bytes of the entry's uncompressed data (n <= e->usize),
 * inflating no more of a deflated entry than they need. */
static int read_prefix(const nst_npz *z, const char *key,
                       const nst__npz_entry *e, uint64_t at,
                       unsigned char *out, size_t n)
{
    if (e->method == 0)
        return read_at(z->fd, out, n, at) < 0
                   ? nst_fail("%s: %s: truncated data", z->path, key)
                   : 0;
    unsigned char in[4096];
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -15) != Z_OK)
        return nst_fail("%s: %s: cannot start inflating", z->path, key);
    uint64_t left = e->csize;
    int rc = Z_OK;
    s.next_out = out;
    s.avail_out = (uInt)n;
    while (rc == Z_OK && s.avail_out > 0) {
        if (s.avail_in == 0) {
            size_t k = left < sizeof in ? (size_t)left : sizeof in;
            if (k == 0 || read_at(z->fd, in, k, at) < 0)
                break;
            s.next_in = in;
            s.avail_in = (uInt)k;
            at += k;
            left -= k;
        }
        rc = inflate(&s, Z_NO_FLUSH);
    }
    const int complete = s.avail_out == 0;
    inflateEnd(&s);
    return complete ? 0
                    : nst_fail("%s: %s: corrupt or truncated deflate data",
                               z->path, key);
}

/* Reads and checks the uncompressed bytes of an entry. */
static unsigned char *read_entry(const nst_npz *z, const char *key,
                                 const nst__npz_entry *e)
{
    uint64_t at = 0;
    if (check_entry(z, key, e, &at) < 0)
        return NULL;
    unsigned char *raw = malloc(e->usize ? (size_t)e->usize : 1);
    if (!raw) {
        nst_fail("%s: %s: out of memory for %llu bytes", z->path, key,
                 (unsigned long long)e->usize);
        return NULL;
    }
    int rc = 0;
    if (e->method == 0) {
        if (read_at(z->fd, raw, (size_t)e->usize, at) < 0)
            rc = nst_fail("%s: %s: truncated data", z->path, key);
    } else {
        rc = inflate_entry(z, key, e, at, raw);
    }
    if (rc == 0) {
        /* crc32 takes uInt lengths: feed it in pieces. */
        uLong crc = crc32(0L, Z_NULL, 0);
        for (uint64_t done = 0; done < e->usize;) {
            uInt n = e->usize - done < (1u << 30) ? (uInt)(e->usize - done)
                                                   : 1u << 30;
            crc = crc32(crc, raw + done, n);
            done += n;
        }
        if (crc != e->crc)
            rc = nst_fail("%s: %s: bad CRC-32 (%08lx, expected %08lx)",
                          z->path, key, (unsigned long)crc,
                          (unsigned long)e->crc);
    }
    if (rc < 0) {
        free(raw);
        return NULL;
    }
    return raw;
}

/* ---- npy ---------------------------------------------------------------- */

typedef struct npy_header {
    char descr[16];
    int fortran;
    int ndim;
    int64_t shape[NST_NPY_MAX_DIMS];
} npy_header;

/* A cursor over the header's Python dict literal, e.g.
 * {'descr': '<f4', 'fortran_order': False, 'shape': (3, 3, 3, 64), } */
typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
                             *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* Takes ch (after whitespace) if it is next. */
static int take(cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes into out; -1 if absent or too long. */
static int parse_string(cursor *c, char *out, size_t size)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return -1;
    char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        if (*c->p == '\\' || n + 1 >= size)
            return -1;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return -1;
    c->p++;
    out[n] = '\0';
    return 0;
}

static int parse_bool(cursor *c, int *out)
{
    skip_space(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && memcmp(c->p, "True", 4) == 0) {
        c->p += 4;
        *out = 1;
        return 0;
    }
    if (left >= 5 && memcmp(c->p, "False", 5) == 0) {
        c->p += 5;
        *out = 0;
        return 0;
    }
    return -1;
}

/* (), (n,), (a, b, ...) with an optional trailing comma; Python 2 wrote
 * long integers with an L suffix. */
static int parse_shape(cursor *c, npy_header *h)
{
    if (!take(c, '('))
        return -1;
    h->ndim = 0;
    while (!take(c, ')')) {
        skip_space(c);
        if (h->ndim == NST_NPY_MAX_DIMS || c->p >= c->end ||
            *c->p < '0' || *c->p > '9')
            return -1;
        int64_t d = 0;
        for (; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++) {
            int digit = *c->p - '0';
            if (d > (INT64_MAX - digit) / 10)
                return -1;
            d = d * 10 + digit;
        }
        if (c->p < c->end && *c->p == 'L')
            c->p++;
        h->shape[h->ndim++] = d;
        /* Without a comma the tuple ends here; "(3)" is an int, not a
         * tuple, so a 1-tuple needs its comma. */
        if (!take(c, ','))
            return h->ndim >= 2 && take(c, ')') ? 0 : -1;
    }
    return 0;
}

/* Parses the dict; the three keys in any order, each once, nothing else. */
static int parse_dict(const char *text, size_t len, npy_header *h,
                      const char **problem)
{
    cursor c = {text, text + len};
    int seen[3] = {0, 0, 0};
    static const char *const keys[3] = {"descr", "fortran_order", "shape"};
    *problem = "header is not a dict";
    if (!take(&c, '{'))
        return -1;
    while (!take(&c, '}')) {
        char key[32];
        int k;
        *problem = "header dict is malformed";
        if (parse_string(&c, key, sizeof key) < 0 || !take(&c, ':'))
            return -1;
        for (k = 0; k < 3 && strcmp(key, keys[k]) != 0; k++)
            ;
        if (k == 3 || seen[k]) {
            *problem = k == 3 ? "header has a key other than 'descr', "
                                "'fortran_order' and 'shape'"
                              : "header repeats a key";
            return -1;
        }
        seen[k] = 1;
        int rc = k == 0   ? parse_string(&c, h->descr, sizeof h->descr)
                 : k == 1 ? parse_bool(&c, &h->fortran)
                          : parse_shape(&c, h);
        if (rc < 0) {
            *problem = k == 0   ? "header 'descr' is not a simple dtype string"
                       : k == 1 ? "header 'fortran_order' is not True or False"
                                : "header 'shape' is not a tuple of at most 8 "
                                  "non-negative integers";
            return -1;
        }
        if (!take(&c, ',')) {
            if (!take(&c, '}'))
                return -1;
            break;
        }
    }
    skip_space(&c);
    if (c.p != c.end) {
        *problem = "header has text after the dict";
        return -1;
    }
    for (int k = 0; k < 3; k++)
        if (!seen[k]) {
            *problem = k == 0   ? "header lacks the 'descr' key"
                       : k == 1 ? "header lacks the 'fortran_order' key"
                                : "header lacks the 'shape' key";
            return -1;
        }
    return 0;
}

static float half_to_float(uint16_t h)
{
    int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float v;
    if (exponent == 0) /* zero and subnormals: mantissa * 2^-24 */
        v = ldexpf((float)mantissa, -24);
    else if (exponent == 31)
        v = mantissa ? NAN : INFINITY;
    else /* 1.mantissa * 2^(exponent - 15) */
        v = ldexpf((float)(mantissa | 0x400), exponent - 25);
    return sign ? -v : v;
}

static uint64_t load(const unsigned char *p, int size, int big)
{
    uint64_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
    return v;
}

/* Converts n elements of the given size and byte order to float32. out may
 * start at the same buffer as data when size >= 4: element i is loaded
 * before out[i] is stored and out[i] lies below every later element. */
static void convert(float *out, const unsigned char *data, size_t n, int size,
                    int big)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t bits = load(data + i * (size_t)size, size, big);
        if (size == 2) {
            out[i] = half_to_float((uint16_t)bits);
        } else if (size == 4) {
            uint32_t b = (uint32_t)bits;
            memcpy(&out[i], &b, 4);
        } else {
            double d;
            memcpy(&d, &bits, 8);
            out[i] = (float)d;
        }
    }
}

/* C order from Fortran order: walks the C-order index, keeping the
 * matching Fortran offset (strides 1, d0, d0*d1, ...). */
static void fortran_to_c(float *out, const float *in, const npy_header *h,
                         size_t n)
{
    size_t stride[NST_NPY_MAX_DIMS], idx[NST_NPY_MAX_DIMS] = {0}, f = 0;
    size_t s = 1;
    for (int d = 0; d < h->ndim; d++) {
        stride[d] = s;
        s *= (size_t)h->shape[d];
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = in[f];
        for (int d = h->ndim - 1; d >= 0; d--) {
            f += stride[d];
            if (++idx[d] < (size_t)h->shape[d])
                break;
            f -= stride[d] * idx[d];
            idx[d] = 0;
        }
    }
}

/* Parses the .npy preamble and header from raw[0..avail), the start of an
 * entry of size bytes: fills h, the offset of the data, the element size
 * and count, checking that the shape accounts for exactly the bytes that
 * follow the header. -1 with *more set if the header needs more than
 * avail bytes. */
static int parse_npy(const nst_npz *z, const char *key,
                     const unsigned char *raw, uint64_t avail, uint64_t size,
                     npy_header *h, uint64_t *start, int *item,
                     size_t *count, uint64_t *more)
{
    const char *problem;
    *more = 0;
    if (size < 10 || avail < 10 || memcmp(raw, "\x93NUMPY", 6) != 0)
        return nst_fail("%s: %s: not a .npy file (bad magic)", z->path, key);
    int major = raw[6], minor = raw[7];
    if (major < 1 || major > 3 || minor != 0)
        return nst_fail("%s: %s: unsupported .npy version %d.%d", z->path,
                        key, major, minor);
    /* 1.0: u16 header length; 2.0 and 3.0 (UTF-8 header): u32. */
    uint64_t preamble = major == 1 ? 10 : 12;
    if (size < preamble)
        return nst_fail("%s: %s: truncated .npy preamble", z->path, key);
    uint64_t header_len = major == 1 ? le16(raw + 8) : le32(raw + 8);
    if (header_len > size - preamble)
        return nst_fail("%s: %s: header length %llu runs past the end of "
                        "the entry",
                        z->path, key, (unsigned long long)header_len);
    if (header_len > NPY_MAX_HEADER)
        return nst_fail("%s: %s: header length %llu is more than the %d "
                        "accepted",
                        z->path, key, (unsigned long long)header_len,
                        NPY_MAX_HEADER);
    if (preamble + header_len > avail) {
        *more = preamble + header_len;
        return -1;
    }
    if (parse_dict((const char *)raw + preamble, (size_t)header_len, h,
                   &problem) < 0)
        return nst_fail("%s: %s: %s", z->path, key, problem);
    *start = preamble + header_len;

    const char *d = h->descr;
    *item = 0;
    if ((d[0] == '<' || d[0] == '>') && d[1] == 'f' &&
        (d[2] == '2' || d[2] == '4' || d[2] == '8') && d[3] == '\0')
        *item = d[2] - '0';
    if (!*item)
        return nst_fail("%s: %s: unsupported dtype '%s' (only float16, "
                        "float32 and float64)",
                        z->path, key, d);
    uint64_t n = 1, bytes;
    for (int i = 0; i < h->ndim; i++)
        if (__builtin_mul_overflow(n, (uint64_t)h->shape[i], &n))
            return nst_fail("%s: %s: shape's element count overflows",
                            z->path, key);
    if (__builtin_mul_overflow(n, (uint64_t)*item, &bytes) ||
        n > SIZE_MAX / sizeof(float))
        return nst_fail("%s: %s: shape's size in bytes overflows", z->path,
                        key);
    if (bytes != size - *start)
        return nst_fail("%s: %s: shape needs %llu bytes of data but the "
                        "entry holds %llu",
                        z->path, key, (unsigned long long)bytes,
                        (unsigned long long)(size - *start));
    *count = (size_t)n;
    return 0;
}

/* Returns the .npy in raw[0..size) as C-order float32, reusing raw when
 * the elements are at least as wide as a float. Frees raw either way. */
static float *decode_npy(const nst_npz *z, const char *key,
                         unsigned char *raw, uint64_t size, int *ndim,
                         int64_t shape[NST_NPY_MAX_DIMS])
{
    npy_header h;
    uint64_t start = 0;
    int item = 0;
    size_t n = 0;
    memset(&h, 0, sizeof h);
    uint64_t more;
    if (parse_npy(z, key, raw, size, size, &h, &start, &item, &n, &more) <
        0) {
        free(raw);
        return NULL;
    }
    float *out = item >= 4 ? (float *)(void *)raw
                           : malloc(n ? n * sizeof *out : 1);
    if (out)
        convert(out, raw + start, n, item, h.descr[0] == '>');
    if (item < 4)
        free(raw);
    if (out && h.fortran && h.ndim > 1) {
        float *c = malloc(n ? n * sizeof *c : 1);
        if (c)
            fortran_to_c(c, out, &h, n);
        free(out);
        out = c;
    } else if (out && item >= 4) {
        float *shrunk = realloc(out, n ? n * sizeof *out : 1);
        if (shrunk)
            out = shrunk;
    }
    if (!out) {
        nst_fail("%s: %s: out of memory", z->path, key);
        return NULL;
    }
    *ndim = h.ndim;
    memcpy(shape, h.shape, sizeof h.shape[0] * (size_t)h.ndim);
    return out;
}

/* The one entry holding key; NULL with a failure reason if none or
 * several do. */
static const nst__npz_entry *lookup(const nst_npz *z, const char *key)
{
    int dup;
    const nst__npz_entry *e = find(z, key, &dup);
    if (!e)
        nst_fail("%s: %s: no such array in the archive", z->path, key);
    else if (dup)
        nst_fail("%s: %s: the archive holds this array more than once",
                 z->path, key);
    return e && !dup ? e : NULL;
}

float *nst_npz_read_f32(nst_npz *z, const char *key, int *ndim,
                        int64_t shape[NST_NPY_MAX_DIMS])
{
    const nst__npz_entry *e = lookup(z, key);
    unsigned char *raw = e ? read_entry(z, key, e) : NULL;
    if (!raw)
        return NULL;
    return decode_npy(z, key, raw, e->usize, ndim, shape);
}

int nst_npz_shape(nst_npz *z, const char *key, int *ndim,
                  int64_t shape[NST_NPY_MAX_DIMS])
{
    const nst__npz_entry *e = lookup(z, key);
    uint64_t at = 0;
    if (!e || check_entry(z, key, e, &at) < 0)
        return -1;
    /* The preamble first, then as much as it says the header takes. */
    unsigned char head[12 + NPY_MAX_HEADER];
    uint64_t avail = e->usize < 12 ? e->usize : 12, more = 0, start;
    npy_header h;
    int item;
    size_t n;
    memset(&h, 0, sizeof h);
    for (;;) {
        if (read_prefix(z, key, e, at, head, (size_t)avail) < 0)
            return -1;
        if (parse_npy(z, key, head, avail, e->usize, &h, &start, &item, &n,
                      &more) == 0)
            break;
        if (!more || more <= avail)
            return -1;
        avail = more;
    }
    *ndim = h.ndim;
    memcpy(shape, h.shape, sizeof h.shape[0] * (size_t)h.ndim);
    return 0;
}
