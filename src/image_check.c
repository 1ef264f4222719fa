/* Structure checks for the four image formats nst reads, run on the whole
 * file in memory before stb_image decodes it. Each checker trusts nothing
 * it has not bounds-checked, and refuses what the decoder would
 * mishandle: a JPEG Huffman table with more than 256 codes or codes that
 * do not fit their lengths, tables a scan uses but no segment defined,
 * sampling factors that do not divide the largest; a PNG whose compressed
 * pixels inflate to more (or less) than its header needs; a BMP or TGA
 * whose pixel data is shorter than its header claims. */
#include "image_check.h"

#include "error.h"
#include "image.h"

#include <stdint.h>
#include <string.h>
#include <zlib.h>

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static unsigned le16(const unsigned char *p)
{
    return p[0] | (unsigned)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
    return le16(p) | (uint32_t)le16(p + 2) << 16;
}

/* The declared size: sides in range, and for a compressed format no more
 * pixels than the file's bytes can plausibly encode. */
static int check_size(const char *path, const char *format, int64_t w,
                      int64_t h, size_t n, int compressed, int *ow, int *oh)
{
    if (w < 1 || h < 1)
        return nst_fail("%s: %s header gives a size of %lldx%lld", path,
                        format, (long long)w, (long long)h);
    if (w > NST_IMAGE_MAX_SIDE || h > NST_IMAGE_MAX_SIDE)
        return nst_fail("%s: %lldx%lld is larger than %d pixels on a side",
                        path, (long long)w, (long long)h, NST_IMAGE_MAX_SIDE);
    if (compressed &&
        (uint64_t)w * (uint64_t)h > (uint64_t)n * NST_IMAGE_MAX_PIXELS_PER_BYTE)
        return nst_fail("%s: a %s of %zu bytes cannot hold %lldx%lld pixels "
                        "(more than %d pixels a byte)",
                        path, format, n, (long long)w, (long long)h,
                        NST_IMAGE_MAX_PIXELS_PER_BYTE);
    *ow = (int)w;
    *oh = (int)h;
    return 0;
}

/* ---- JPEG --------------------------------------------------------------- */

typedef struct jpeg_state {
    int frame, progressive, scans, ncomp;
    int id[4], hs[4], vs[4], tq[4];
    unsigned dc, ac, dqt; /* bit t: table t defined */
} jpeg_state;

/* Huffman tables: class 0 (DC) or 1 (AC), id 0..3, at most 256 codes,
 * and the codes of each length must fit in that many bits (the canonical
 * code's next value at length l is at most 2^l). */
static const char *check_dht(jpeg_state *j, const unsigned char *p, size_t L)
{
    while (L > 0) {
        if (L < 17)
            return "Huffman table segment is too short";
        int tc = p[0] >> 4, th = p[0] & 15;
        if (tc > 1 || th > 3)
            return "Huffman table class or id out of range";
        unsigned total = 0, code = 0;
        for (int l = 1; l <= 16; l++) {
            total += p[l];
            code += p[l];
            if (code > 1u << l)
                return "Huffman code counts do not fit their lengths";
            code <<= 1;
        }
        if (total > 256)
            return "Huffman table has more than 256 codes";
        if (17 + (size_t)total > L)
            return "Huffman table runs past its segment";
        *(tc ? &j->ac : &j->dc) |= 1u << th;
        p += 17 + total;
        L -= 17 + total;
    }
    return NULL;
}

static const char *check_dqt(jpeg_state *j, const unsigned char *p, size_t L)
{
    while (L > 0) {
        int pq = p[0] >> 4, tq = p[0] & 15;
        if (pq > 1 || tq > 3)
            return "quantisation table precision or id out of range";
        size_t size = 1 + 64 * (size_t)(pq + 1);
        if (size > L)
            return "quantisation table runs past its segment";
        j->dqt |= 1u << tq;
        p += size;
        L -= size;
    }
    return NULL;
}

static const char *check_sof(jpeg_state *j, const unsigned char *p, size_t L,
                             int *w, int *h)
{
    if (j->frame)
        return "more than one frame header";
    if (L < 6)
        return "frame header is too short";
    if (p[0] != 8)
        return "only 8-bit samples are supported";
    *h = (int)be16(p + 1);
    *w = (int)be16(p + 3);
    j->ncomp = p[5];
    if (j->ncomp != 1 && j->ncomp != 3 && j->ncomp != 4)
        return "frame has a component count other than 1, 3 or 4";
    if (L != 6 + 3 * (size_t)j->ncomp)
        return "frame header length does not match its components";
    int hmax = 1, vmax = 1;
    for (int i = 0; i < j->ncomp; i++) {
        const unsigned char *c = p + 6 + 3 * i;
        j->id[i] = c[0];
        j->hs[i] = c[1] >> 4;
        j->vs[i] = c[1] & 15;
        j->tq[i] = c[2];
        for (int k = 0; k < i; k++)
            if (j->id[k] == j->id[i])
                return "frame names a component twice";
        if (j->hs[i] < 1 || j->hs[i] > 4 || j->vs[i] < 1 || j->vs[i] > 4)
            return "sampling factor out of range 1 to 4";
        if (j->tq[i] > 3)
            return "quantisation table id out of range";
        hmax = j->hs[i] > hmax ? j->hs[i] : hmax;
        vmax = j->vs[i] > vmax ? j->vs[i] : vmax;
    }
    for (int i = 0; i < j->ncomp; i++)
        if (hmax % j->hs[i] || vmax % j->vs[i])
            return "sampling factors do not divide the largest";
    j->frame = 1;
    return NULL;
}

static const char *check_sos(jpeg_state *j, const unsigned char *p, size_t L)
{
    if (!j->frame)
        return "scan before the frame header";
    for (int i = 0; i < j->ncomp; i++)
        if (!(j->dqt >> j->tq[i] & 1))
            return "scan uses an undefined quantisation table";
    if (L < 1)
        return "scan header is too short";
    int ns = p[0];
    if (ns < 1 || ns > j->ncomp || L != 4 + 2 * (size_t)ns)
        return "scan header's component count or length is wrong";
    const unsigned char *tail = p + 1 + 2 * ns;
    int ss = tail[0], se = tail[1], ah = tail[2] >> 4, al = tail[2] & 15;
    if (j->progressive &&
        (ss > se || se > 63 || ah > 13 || al > 13 || (ss == 0) != (se == 0) ||
         (ss > 0 && ns != 1)))
        return "progressive scan parameters out of range";
    const int need_dc = !j->progressive || ss == 0,
              need_ac = !j->progressive || ss > 0;
    unsigned used = 0;
    for (int s = 0; s < ns; s++) {
        int id = p[1 + 2 * s], td = p[2 + 2 * s] >> 4, ta = p[2 + 2 * s] & 15;
        int c = 0;
        while (c < j->ncomp && j->id[c] != id)
            c++;
        if (c == j->ncomp || (used >> c & 1))
            return "scan names a component the frame lacks, or twice";
        used |= 1u << c;
        if (td > 3 || ta > 3 || (need_dc && !(j->dc >> td & 1)) ||
            (need_ac && !(j->ac >> ta & 1)))
            return "scan uses an undefined Huffman table";
    }
    j->scans++;
    return NULL;
}

/* Entropy-coded data runs to the first marker that is neither a stuffed
 * zero (FF 00) nor a restart marker (FF D0..D7); returns its offset. */
static size_t skip_scan_data(const unsigned char *d, size_t n, size_t at)
{
    while (at + 1 < n && !(d[at] == 0xFF && d[at + 1] != 0 &&
                           (d[at + 1] < 0xD0 || d[at + 1] > 0xD7)))
        at++;
    return at + 1 < n ? at : n;
}

static int check_jpeg(const char *path, const unsigned char *d, size_t n,
                      int *w, int *h)
{
    jpeg_state j;
    memset(&j, 0, sizeof j);
    int fw = 0, fh = 0;
    size_t at = 2;
    for (;;) {
        if (at >= n)
            return nst_fail("%s: JPEG is truncated (no end-of-image marker)",
                            path);
        if (d[at] != 0xFF)
            return nst_fail("%s: JPEG: no marker at byte %zu", path, at);
        while (at < n && d[at] == 0xFF) /* fill bytes */
            at++;
        if (at >= n)
            continue;
        const int m = d[at++];
        if (m == 0xD9)
            break;
        if (n - at < 2 || be16(d + at) < 2 || be16(d + at) > n - at)
            return nst_fail("%s: JPEG: marker 0x%02X's segment runs past the "
                            "end of the file",
                            path, m);
        const unsigned char *p = d + at + 2;
        const size_t L = be16(d + at) - 2;
        at += L + 2;
        const char *problem = NULL;
        if (m == 0xC0 || m == 0xC1 || m == 0xC2) {
            j.progressive = m == 0xC2;
            problem = check_sof(&j, p, L, &fw, &fh);
            if (!problem &&
                check_size(path, "JPEG", fw, fh, n, 1, w, h) != 0)
                return -1;
        } else if (m == 0xC4) {
            problem = check_dht(&j, p, L);
        } else if (m == 0xDB) {
            problem = check_dqt(&j, p, L);
        } else if (m == 0xDD) {
            problem = L == 2 ? NULL : "restart interval segment is not 4 bytes";
        } else if (m == 0xDA) {
            problem = check_sos(&j, p, L);
            at = skip_scan_data(d, n, at);
        } else if (!((m >= 0xE0 && m <= 0xEF) || m == 0xFE)) {
            return nst_fail("%s: JPEG marker 0x%02X is not supported (only "
                            "baseline and progressive Huffman JPEG)",
                            path, m);
        }
        if (problem)
            return nst_fail("%s: JPEG: %s", path, problem);
    }
    if (!j.frame || !j.scans)
        return nst_fail("%s: JPEG has no %s", path,
                        j.frame ? "scan" : "frame header");
    return 0;
}

/* ---- PNG ---------------------------------------------------------------- */

/* Bytes of filtered scanlines (a filter byte per row) for w x h pixels of
 * bits each, in one pass or the seven Adam7 passes. */
static uint64_t png_raw_size(uint64_t w, uint64_t h, unsigned bits,
                             int interlaced)
{
    static const int x0[7] = {0, 4, 0, 2, 0, 1, 0},
                     y0[7] = {0, 0, 4, 0, 2, 0, 1},
                     dx[7] = {8, 8, 4, 4, 2, 2, 1},
                     dy[7] = {8, 8, 8, 4, 4, 2, 2};
    if (!interlaced)
        return h * (1 + (w * bits + 7) / 8);
    uint64_t total = 0;
    for (int p = 0; p < 7; p++) {
        uint64_t pw = w > (uint64_t)x0[p] ? (w - x0[p] + dx[p] - 1) / dx[p] : 0,
                 ph = h > (uint64_t)y0[p] ? (h - y0[p] + dy[p] - 1) / dy[p] : 0;
        if (pw && ph)
            total += ph * (1 + (pw * bits + 7) / 8);
    }
    return total;
}

/* Inflates one IDAT chunk's bytes, counting the output against want. */
static const char *inflate_idat(z_stream *s, const unsigned char *p,
                                size_t len, uint64_t want, uint64_t *got,
                                int *ended)
{
    unsigned char sink[16384];
    s->next_in = (unsigned char *)p;
    s->avail_in = (uInt)len;
    while (!*ended && s->avail_in > 0) {
        s->next_out = sink;
        s->avail_out = sizeof sink;
        int rc = inflate(s, Z_NO_FLUSH);
        *got += sizeof sink - s->avail_out;
        if (*got > want)
            return "compressed pixels inflate to more than the image needs";
        if (rc == Z_STREAM_END)
            *ended = 1;
        else if (rc == Z_BUF_ERROR) /* no progress possible */
            break;
        else if (rc != Z_OK)
            return "compressed pixel data is corrupt";
    }
    return NULL;
}

static int check_png(const char *path, const unsigned char *d, size_t n,
                     int *w, int *h)
{
    static const int channels[7] = {1, 0, 3, 1, 2, 0, 4};
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit(&s) != Z_OK)
        return nst_fail("%s: cannot start inflating", path);
    const char *problem = NULL;
    uint64_t want = 0, got = 0;
    int ihdr = 0, plte = 0, palette = 0, ended = 0, iend = 0;
    for (size_t at = 8; !problem && !iend; ) {
        if (n - at < 12) {
            problem = "is truncated (no IEND chunk)";
            break;
        }
        const uint32_t len = be32(d + at);
        const unsigned char *type = d + at + 4, *p = d + at + 8;
        if (len > n - at - 12) {
            problem = "is truncated: a chunk runs past the end of the file";
            break;
        }
        at += 12 + (size_t)len;
        if (!ihdr && memcmp(type, "IHDR", 4) != 0) {
            problem = "does not start with an IHDR chunk";
        } else if (memcmp(type, "IHDR", 4) == 0) {
            if (ihdr || len != 13) {
                problem = "has a bad or second IHDR chunk";
                break;
            }
            ihdr = 1;
            const unsigned depth = p[8], ct = p[9];
            const int ok_depth =
                ct == 0   ? depth == 1 || depth == 2 || depth == 4 ||
                              depth == 8 || depth == 16
                : ct == 3 ? depth == 1 || depth == 2 || depth == 4 || depth == 8
                : ct == 2 || ct == 4 || ct == 6 ? depth == 8 || depth == 16
                                                : 0;
            if (!ok_depth || p[10] != 0 || p[11] != 0 || p[12] > 1) {
                problem = "has an unsupported colour type, bit depth, "
                          "compression, filter or interlace method";
                break;
            }
            if (check_size(path, "PNG", be32(p), be32(p + 4), n, 1, w, h) !=
                0) {
                inflateEnd(&s);
                return -1;
            }
            palette = ct == 3;
            want = png_raw_size((uint64_t)*w, (uint64_t)*h,
                                depth * (unsigned)channels[ct], p[12]);
        } else if (memcmp(type, "PLTE", 4) == 0) {
            if (len == 0 || len % 3 || len > 256 * 3 || got)
                problem = "has a bad PLTE chunk";
            plte = 1;
        } else if (memcmp(type, "IDAT", 4) == 0) {
            if (palette && !plte)
                problem = "has no palette before its pixels";
            else
                problem = inflate_idat(&s, p, len, want, &got, &ended);
        } else if (memcmp(type, "IEND", 4) == 0) {
            iend = 1;
        } else if (!(type[0] & 0x20)) {
            problem = "has an unknown critical chunk";
        }
    }
    inflateEnd(&s);
    if (!problem && (!ended || got != want))
        problem = "pixel data is truncated";
    return problem ? nst_fail("%s: PNG %s", path, problem) : 0;
}

/* ---- BMP ---------------------------------------------------------------- */

static int check_bmp(const char *path, const unsigned char *d, size_t n,
                     int *w, int *h)
{
    if (n < 26)
        return nst_fail("%s: BMP header is truncated", path);
    const uint32_t offset = le32(d + 10), hsz = le32(d + 14);
    if (hsz != 12 && hsz != 40 && hsz != 56 && hsz != 108 && hsz != 124)
        return nst_fail("%s: BMP header size %u is not supported", path,
                        (unsigned)hsz);
    if (n < 14 + (size_t)hsz)
        return nst_fail("%s: BMP header is truncated", path);
    int64_t bw, bh;
    unsigned planes, bpp;
    uint32_t compression = 0;
    if (hsz == 12) {
        bw = le16(d + 18);
        bh = le16(d + 20);
        planes = le16(d + 22);
        bpp = le16(d + 24);
    } else {
        bw = (int32_t)le32(d + 18);
        bh = (int32_t)le32(d + 22);
        planes = le16(d + 26);
        bpp = le16(d + 28);
        compression = le32(d + 30);
    }
    bh = bh < 0 ? -bh : bh; /* negative: rows stored top down */
    if (planes != 1 || (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 &&
                        bpp != 24 && bpp != 32))
        return nst_fail("%s: BMP with %u planes of %u bits per pixel is not "
                        "supported",
                        path, planes, bpp);
    if (compression != 0 && !(compression == 3 && (bpp == 16 || bpp == 32)))
        return nst_fail("%s: BMP compression %u is not supported (only "
                        "uncompressed and bit fields)",
                        path, (unsigned)compression);
    if (check_size(path, "BMP", bw, bh, n, 0, w, h) != 0)
        return -1;
    /* Bit-field masks follow a 40- or 56-byte header. */
    const uint64_t header_end = 14 + (uint64_t)hsz +
                                (compression == 3 && hsz <= 56 ? 12 : 0);
    const uint64_t row = ((uint64_t)*w * bpp + 31) / 32 * 4;
    if (offset < header_end || offset > n ||
        (n - offset) / row < (uint64_t)*h)
        return nst_fail("%s: BMP is truncated: %dx%d pixels of %u bits need "
                        "%llu bytes from offset %u, the file has %zu",
                        path, *w, *h, bpp, (unsigned long long)(row * *h),
                        (unsigned)offset, n);
    return 0;
}

/* ---- TGA ---------------------------------------------------------------- */

/* TGA has no signature: a file is taken as TGA when its header holds a
 * combination stb_image decodes. -1 (no reason set) if it does not look
 * like one. */
static int check_tga(const char *path, const unsigned char *d, size_t n,
                     int *w, int *h)
{
    if (n < 18)
        return -1;
    const unsigned idlen = d[0], cmtype = d[1], type = d[2],
                   cmfirst = le16(d + 3), cmlen = le16(d + 5), cmbits = d[7],
                   bpp = d[16];
    const int rle = type >= 9;
    if (cmtype == 1) {
        if ((type != 1 && type != 9) || (bpp != 8 && bpp != 16) ||
            (cmbits != 8 && cmbits != 15 && cmbits != 16 && cmbits != 24 &&
             cmbits != 32))
            return -1;
        if (cmlen == 0 || cmfirst != 0)
            return nst_fail("%s: TGA colour map is empty or does not start "
                            "at entry 0",
                            path);
    } else if (cmtype != 0 ||
               (type != 2 && type != 3 && type != 10 && type != 11) ||
               (bpp != 8 && bpp != 15 && bpp != 16 && bpp != 24 && bpp != 32)) {
        return -1;
    }
    if (check_size(path, "TGA", le16(d + 12), le16(d + 14), n, rle, w, h) != 0)
        return -1;
    const uint64_t start =
        18 + (uint64_t)idlen + (cmtype ? (uint64_t)cmlen * ((cmbits + 7) / 8) : 0);
    const uint64_t pixels = (uint64_t)*w * (uint64_t)*h, bytes = (bpp + 7) / 8;
    /* Run-length data: a packet header byte and at least one value per 128
     * pixels. */
    const uint64_t need = rle ? (pixels + 127) / 128 * (1 + bytes)
                              : pixels * bytes;
    if (start > n || n - start < need)
        return nst_fail("%s: TGA is truncated: %dx%d pixels need %s%llu "
                        "bytes after the header, the file has %llu",
                        path, *w, *h, rle ? "at least " : "",
                        (unsigned long long)need,
                        (unsigned long long)(start > n ? 0 : n - start));
    return 0;
}

int nst_image_check(const char *path, const unsigned char *data, size_t n,
                    int *w, int *h)
{
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G',
                                             '\r', '\n', 0x1a, '\n'};
    if (n >= 2 && data[0] == 0xFF && data[1] == 0xD8)
        return check_jpeg(path, data, n, w, h);
    if (n >= 8 && memcmp(data, png_sig, 8) == 0)
        return check_png(path, data, n, w, h);
    if (n >= 2 && data[0] == 'B' && data[1] == 'M')
        return check_bmp(path, data, n, w, h);
    nst_fail("%s: not a JPEG, PNG, BMP or TGA image", path);
    return check_tga(path, data, n, w, h);
}
