#define _FILE_OFFSET_BITS 64
#include "npz_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void npzw_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

void npzw_put32(unsigned char *p, uint32_t v)
{
    npzw_put16(p, (uint16_t)v);
    npzw_put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(unsigned char *p, uint64_t v)
{
    npzw_put32(p, (uint32_t)v);
    npzw_put32(p + 4, (uint32_t)(v >> 32));
}

/* IEEE half from a double, rounding to nearest even. */
static uint16_t double_to_half(double v)
{
    uint16_t sign = signbit(v) ? 0x8000 : 0;
    double a = fabs(v);
    if (isnan(v))
        return sign | 0x7e00;
    if (a >= 65520.0) /* rounds past the largest half, 65504 */
        return sign | 0x7c00;
    if (a < 0x1p-14) /* subnormal: a multiple of 2^-24 */
        return sign | (uint16_t)nearbyint(a * 0x1p24);
    int e;
    double f = frexp(a, &e); /* a = f 2^e, f in [0.5, 1) */
    double m = nearbyint((2 * f - 1) * 1024);
    if (m == 1024) {
        m = 0;
        e++;
    }
    return sign | (uint16_t)((e - 1 + 15) << 10) | (uint16_t)m;
}

static void encode(unsigned char *p, double v, char kind, int size, int big)
{
    uint64_t bits = 0;
    if (kind == 'i') {
        bits = (uint64_t)(int64_t)v;
    } else if (size == 2) {
        bits = double_to_half(v);
    } else if (size == 4) {
        float f = (float)v;
        uint32_t b;
        memcpy(&b, &f, 4);
        bits = b;
    } else {
        memcpy(&bits, &v, 8);
    }
    for (int i = 0; i < size; i++)
        p[big ? size - 1 - i : i] = (unsigned char)(bits >> (8 * i));
}

static void shape_text(const npzw_array *a, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < a->ndim; d++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", d ? ", " : "",
                              (long long)a->shape[d]);
    snprintf(buf + n, size - n, a->ndim == 1 ? ",)" : ")");
}

unsigned char *npzw_npy(const npzw_array *a, int version, size_t *size)
{
    char dict[1024], shape[256];
    int64_t count = 1;
    for (int d = 0; d < a->ndim; d++)
        count *= a->shape[d];
    if (a->header) {
        snprintf(dict, sizeof dict, "%s", a->header);
        count = a->count;
    } else {
        shape_text(a, shape, sizeof shape);
        snprintf(dict, sizeof dict,
                 "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }",
                 a->descr, a->fortran ? "True" : "False", shape);
    }
    if (a->hole_bytes || a->zero_mib)
        count = 0;
    size_t pre = version >= 2 ? 12 : 10;
    /* Spaces and a newline pad the header to a multiple of 64 bytes. */
    size_t hlen = strlen(dict) + 1;
    hlen += (64 - (pre + hlen) % 64) % 64;
    int item = a->descr[2] - '0';
    size_t total = pre + hlen + (size_t)count * (size_t)item;
    unsigned char *p = malloc(total);
    if (!p)
        return NULL;
    memcpy(p, "\x93NUMPY", 6);
    p[6] = (unsigned char)(version ? version : 1);
    p[7] = 0;
    if (version >= 2)
        npzw_put32(p + 8, (uint32_t)hlen);
    else
        npzw_put16(p + 8, (uint16_t)hlen);
    memset(p + pre, ' ', hlen);
    memcpy(p + pre, dict, strlen(dict));
    p[pre + hlen - 1] = '\n';
    unsigned char *data = p + pre + hlen;
    for (int64_t i = 0; i < count; i++) {
        /* The i-th value in the file's order; Fortran order stores the
         * first index fastest. */
        int64_t c = i;
        if (a->fortran && !a->header) {
            int64_t rest = i, stride = 1, cstride[NPZW_MAX_DIMS] = {0};
            for (int d = a->ndim - 1; d >= 0; d--) {
                cstride[d] = stride;
                stride *= a->shape[d];
            }
            c = 0;
            for (int d = 0; d < a->ndim; d++) {
                c += rest % a->shape[d] * cstride[d];
                rest /= a->shape[d];
            }
        }
        encode(data + i * item, a->values[c], a->descr[1], item,
               a->descr[0] == '>');
    }
    *size = total;
    return p;
}

static unsigned char *deflate_raw(const unsigned char *in, size_t n,
                                  size_t *out_size)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&s, n);
    unsigned char *out = malloc(cap);
    s.next_in = (unsigned char *)in;
    s.avail_in = (uInt)n;
    s.next_out = out;
    s.avail_out = (uInt)cap;
    int rc = out ? deflate(&s, Z_FINISH) : Z_MEM_ERROR;
    *out_size = s.total_out;
    deflateEnd(&s);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* Deflates npy[0..n) followed by mib MiB of zeros. After a full flush
 * the compressor starts afresh, so every MiB of zeros compresses to the
 * same bytes: one is compressed and repeated. */
static unsigned char *deflate_zeros(const unsigned char *npy, size_t n,
                                    uint64_t mib, size_t *out_size)
{
    enum { MIB = 1 << 20 };
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    unsigned char *zeros = calloc(MIB, 1), *part[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};
    const unsigned char *in[3] = {npy, zeros, zeros};
    size_t in_n[3] = {n, MIB, 0};
    for (int i = 0; zeros && i < 3; i++) {
        size_t cap = deflateBound(&s, in_n[i]) + 64;
        part[i] = malloc(cap);
        if (!part[i])
            break;
        s.next_in = (unsigned char *)in[i];
        s.avail_in = (uInt)in_n[i];
        s.next_out = part[i];
        s.avail_out = (uInt)cap;
        deflate(&s, i < 2 ? Z_FULL_FLUSH : Z_FINISH);
        len[i] = cap - s.avail_out;
    }
    deflateEnd(&s);
    unsigned char *out = NULL;
    if (part[2]) {
        *out_size = len[0] + mib * len[1] + len[2];
        out = malloc(*out_size);
    }
    if (out) {
        unsigned char *p = out;
        memcpy(p, part[0], len[0]);
        p += len[0];
        for (uint64_t k = 0; k < mib; k++, p += len[1])
            memcpy(p, part[1], len[1]);
        memcpy(p, part[2], len[2]);
    }
    free(zeros);
    for (int i = 0; i < 3; i++)
        free(part[i]);
    return out;
}

typedef struct entry_record {
    uint32_t crc;
    uint64_t csize, usize, offset;
} entry_record;

static int write_local(FILE *f, const npzw_array *a, const npzw_options *o,
                       const entry_record *r)
{
    unsigned char h[30 + 256 + 20 + 256];
    size_t name_len = strlen(a->name) + 4;
    int z64 = o->zip64 && !o->data_descriptor;
    size_t extra = (z64 ? 20 : 0) + (size_t)o->local_extra;
    memset(h, 0, sizeof h);
    npzw_put32(h, 0x04034b50);
    npzw_put16(h + 4, o->zip64 ? 45 : 20);
    npzw_put16(h + 6, o->data_descriptor ? 8 : 0);
    npzw_put16(h + 8, (uint16_t)o->method);
    npzw_put16(h + 12, 0x21); /* 1980-01-01 */
    if (!o->data_descriptor) {
        npzw_put32(h + 14, r->crc);
        npzw_put32(h + 18, z64 ? 0xffffffffu : (uint32_t)r->csize);
        npzw_put32(h + 22, z64 ? 0xffffffffu : (uint32_t)r->usize);
    }
    npzw_put16(h + 26, (uint16_t)name_len);
    npzw_put16(h + 28, (uint16_t)extra);
    unsigned char *p = h + 30;
    p += sprintf((char *)p, "%s.npy", a->name);
    if (z64) {
        npzw_put16(p, 1);
        npzw_put16(p + 2, 16);
        put64(p + 4, r->usize);
        put64(p + 12, r->csize);
        p += 20;
    }
    if (o->local_extra >= 4) {
        npzw_put16(p, 0xcafe);
        npzw_put16(p + 2, (uint16_t)(o->local_extra - 4));
        p += o->local_extra;
    }
    return fwrite(h, 1, (size_t)(p - h), f) == (size_t)(p - h) ? 0 : -1;
}

static int write_central(FILE *f, const npzw_array *a, const npzw_options *o,
                         const entry_record *r)
{
    unsigned char h[46 + 256 + 28];
    size_t name_len = strlen(a->name) + 4;
    memset(h, 0, sizeof h);
    npzw_put32(h, 0x02014b50);
    npzw_put16(h + 4, 0x0300 | (o->zip64 ? 45 : 20));
    npzw_put16(h + 6, o->zip64 ? 45 : 20);
    npzw_put16(h + 8, o->data_descriptor ? 8 : 0);
    npzw_put16(h + 10, (uint16_t)o->method);
    npzw_put16(h + 14, 0x21);
    npzw_put32(h + 16, r->crc);
    npzw_put32(h + 20, o->zip64 ? 0xffffffffu : (uint32_t)r->csize);
    npzw_put32(h + 24, o->zip64 ? 0xffffffffu : (uint32_t)r->usize);
    npzw_put16(h + 28, (uint16_t)name_len);
    npzw_put16(h + 30, o->zip64 ? 28 : 0);
    npzw_put32(h + 42, o->zip64 ? 0xffffffffu : (uint32_t)r->offset);
    unsigned char *p = h + 46;
    p += sprintf((char *)p, "%s.npy", a->name);
    if (o->zip64) {
        npzw_put16(p, 1);
        npzw_put16(p + 2, 24);
        put64(p + 4, r->usize);
        put64(p + 12, r->csize);
        put64(p + 20, r->offset);
        p += 28;
    }
    return fwrite(h, 1, (size_t)(p - h), f) == (size_t)(p - h) ? 0 : -1;
}

static int write_end(FILE *f, int n, const npzw_options *o, uint64_t cd,
                     uint64_t cd_size)
{
    unsigned char h[56 + 20 + 22];
    unsigned char *p = h;
    int z64 = o->zip64;
    memset(h, 0, sizeof h);
    if (z64) {
        npzw_put32(p, 0x06064b50);
        put64(p + 4, 44);
        npzw_put16(p + 12, 45);
        npzw_put16(p + 14, 45);
        put64(p + 24, (uint64_t)n);
        put64(p + 32, (uint64_t)n);
        put64(p + 40, cd_size);
        put64(p + 48, cd);
        npzw_put32(p + 56, 0x07064b50);
        put64(p + 64, cd + cd_size);
        npzw_put32(p + 72, 1);
        p += 76;
    }
    size_t comment = o->comment ? strlen(o->comment) : 0;
    npzw_put32(p, 0x06054b50);
    npzw_put16(p + 8, z64 ? 0xffff : (uint16_t)n);
    npzw_put16(p + 10, z64 ? 0xffff : (uint16_t)n);
    npzw_put32(p + 12, z64 ? 0xffffffffu : (uint32_t)cd_size);
    npzw_put32(p + 16, z64 ? 0xffffffffu : (uint32_t)cd);
    npzw_put16(p + 20, (uint16_t)comment);
    p += 22;
    if (fwrite(h, 1, (size_t)(p - h), f) != (size_t)(p - h))
        return -1;
    return !comment || fwrite(o->comment, 1, comment, f) == comment ? 0 : -1;
}

static int write_entry(FILE *f, const npzw_array *a, const npzw_options *o,
                       entry_record *r)
{
    size_t npy_size, stored_size;
    unsigned char *npy = npzw_npy(a, o->npy_version, &npy_size);
    unsigned char *stored = npy;
    if (!npy)
        return -1;
    stored_size = npy_size;
    if (a->zero_mib)
        stored = o->method == 8 ? deflate_zeros(npy, npy_size, a->zero_mib,
                                                &stored_size)
                                : NULL;
    else if (o->method == 8)
        stored = deflate_raw(npy, npy_size, &stored_size);
    if (!stored) {
        free(npy);
        return -1;
    }
    r->offset = (uint64_t)ftello(f);
    r->crc = (uint32_t)crc32(0L, npy, (uInt)npy_size);
    if (a->zero_mib) {
        unsigned char *zeros = calloc(1 << 20, 1);
        if (!zeros) {
            free(npy);
            return -1;
        }
        const uLong mib_crc = crc32(0L, zeros, 1 << 20);
        free(zeros);
        for (uint64_t k = 0; k < a->zero_mib; k++)
            r->crc = (uint32_t)crc32_combine(r->crc, mib_crc, 1 << 20);
    }
    r->usize = npy_size + a->hole_bytes + (a->zero_mib << 20);
    r->csize = stored_size + a->hole_bytes;
    int rc = write_local(f, a, o, r);
    if (rc == 0 && fwrite(stored, 1, stored_size, f) != stored_size)
        rc = -1;
    if (rc == 0 && a->hole_bytes &&
        fseeko(f, (off_t)a->hole_bytes, SEEK_CUR) != 0)
        rc = -1;
    if (rc == 0 && o->data_descriptor) {
        unsigned char d[24];
        npzw_put32(d, 0x08074b50);
        npzw_put32(d + 4, r->crc);
        size_t len = 16;
        if (o->zip64) {
            put64(d + 8, r->csize);
            put64(d + 16, r->usize);
            len = 24;
        } else {
            npzw_put32(d + 8, (uint32_t)r->csize);
            npzw_put32(d + 12, (uint32_t)r->usize);
        }
        rc = fwrite(d, 1, len, f) == len ? 0 : -1;
    }
    if (stored != npy)
        free(stored);
    free(npy);
    return rc;
}

int npzw_write(const char *path, const npzw_array *a, int n,
               const npzw_options *o, npzw_layout *layout)
{
    entry_record r[NPZW_MAX_ARRAYS];
    remove(path); /* a fresh file: rewriting one in place can force a flush */
    FILE *f = fopen(path, "wb");
    int rc = f && n <= NPZW_MAX_ARRAYS ? 0 : -1;
    for (int i = 0; i < n && rc == 0; i++) {
        rc = write_entry(f, &a[i], o, &r[i]);
        if (layout) {
            size_t name_len = strlen(a[i].name) + 4;
            int z64 = o->zip64 && !o->data_descriptor;
            layout->local[i] = r[i].offset;
            layout->data[i] = r[i].offset + 30 + name_len + (z64 ? 20 : 0) +
                              (uint64_t)o->local_extra;
            layout->size[i] = r[i].csize;
        }
    }
    uint64_t cd = f ? (uint64_t)ftello(f) : 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (layout)
            layout->central[i] = (uint64_t)ftello(f);
        rc = write_central(f, &a[i], o, &r[i]);
    }
    uint64_t cd_size = f ? (uint64_t)ftello(f) - cd : 0;
    if (rc == 0 && layout) {
        layout->n = n;
        layout->eocd = cd + cd_size + (o->zip64 ? 76 : 0);
    }
    if (rc == 0)
        rc = write_end(f, n, o, cd, cd_size);
    if (rc == 0 && layout)
        layout->file_size = (uint64_t)ftello(f);
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "npz_writer: cannot write %s\n", path);
    return rc;
}

unsigned char *npzw_slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    *size = buf ? (size_t)n : 0;
    return buf;
}

int npzw_spit(const char *path, const unsigned char *buf, size_t size)
{
    remove(path);
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(buf, 1, size, f) == size ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    return rc;
}

int npzw_write_bomb(const char *path, uint64_t mib)
{
    static const double none[1];
    npzw_array a[2] = {
        {.name = "conv1_1_W", .descr = "<f4", .ndim = 4,
         .shape = {3, 3, 3, (int64_t)(mib << 20) / 108}, .zero_mib = mib},
        {.name = "conv1_1_b", .descr = "<f4", .ndim = 1, .shape = {0},
         .values = none},
    };
    npzw_options o = {.method = 8};
    return mib % 27 ? -1 : npzw_write(path, a, 2, &o, NULL);
}
