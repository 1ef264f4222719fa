#include "checkpoint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "color.h"
#include "error.h"
#include "image.h"
#include "input_file.h"
#include "option_limits.h"

static const char MAGIC[8] = "NSTCKPT\n";
/* Most log rows of a level: --iters' limit, plus the start's row. */
#define MAX_ROWS (NST_ITERS_MAX + 1u)
/* The bytes of a log row in the file: iteration and size (u32), the
 * losses and the seconds (f64). */
#define ROW_BYTES (2 * 4 + 5 * 8)

/* crc32 of n more bytes; it takes uInt lengths, so they go in pieces. */
static uLong crc_more(uLong crc, const unsigned char *p, size_t n)
{
    for (size_t at = 0; at < n;) {
        const uInt k = n - at > 1u << 30 ? 1u << 30 : (uInt)(n - at);
        crc = crc32(crc, p + at, k);
        at += k;
    }
    return crc;
}

/* ---- writing ---- */

static void put(nst_ckw *w, const void *p, size_t n)
{
    w->crc = crc_more(w->crc, p, n);
    nst_atomic_write(&w->file, p, n);
}

static void le32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> 8 * i);
}

void nst_ckw_u32(nst_ckw *w, uint32_t v)
{
    unsigned char b[4];
    le32(b, v);
    put(w, b, 4);
}

void nst_ckw_f64(nst_ckw *w, double v)
{
    nst_ckw_f64s(w, &v, 1);
}

/* n values of `size` bytes each, 4 or 8 (floats by their bit patterns),
 * little-endian through a small buffer, a block of values at a time. */
#define BLOCK 1024

static void put_values(nst_ckw *w, const void *v, size_t n, size_t size)
{
    const unsigned char *src = v;
    unsigned char b[8 * BLOCK];
    for (size_t at = 0; at < n; at += BLOCK) {
        const size_t k = n - at < BLOCK ? n - at : BLOCK;
        for (size_t i = 0; i < k; i++) {
            uint64_t u;
            if (size == 4) {
                uint32_t u32;
                memcpy(&u32, src + 4 * (at + i), 4);
                u = u32;
            } else
                memcpy(&u, src + 8 * (at + i), 8);
            for (size_t j = 0; j < size; j++)
                b[size * i + j] = (unsigned char)(u >> 8 * j);
        }
        put(w, b, size * k);
    }
}

void nst_ckw_f32s(nst_ckw *w, const float *v, size_t n)
{
    put_values(w, v, n, 4);
}

void nst_ckw_f64s(nst_ckw *w, const double *v, size_t n)
{
    put_values(w, v, n, 8);
}

void nst_ckw_bytes(nst_ckw *w, const void *p, size_t n)
{
    put(w, p, n);
}

/* ---- reading ---- */

/* The next n bytes, or NULL with a reason if fewer are left. */
static const unsigned char *take(nst_ckr *r, uint64_t n)
{
    if (n > r->left) {
        nst_fail("%s: checkpoint truncated or corrupt (a field needs %llu "
                 "bytes, %zu are left)",
                 r->path, (unsigned long long)n, r->left);
        return NULL;
    }
    const unsigned char *p = r->p;
    r->p += n;
    r->left -= (size_t)n;
    return p;
}

static uint32_t get32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

int nst_ckr_u32(nst_ckr *r, uint32_t *v)
{
    const unsigned char *b = take(r, 4);
    if (!b)
        return -1;
    *v = get32(b);
    return 0;
}

int nst_ckr_u32_in(nst_ckr *r, uint32_t lo, uint32_t hi, const char *what,
                   uint32_t *v)
{
    if (nst_ckr_u32(r, v) != 0)
        return -1;
    if (*v < lo || *v > hi)
        return nst_fail("%s: checkpoint corrupt (%s %lu, not %lu to %lu)",
                        r->path, what, (unsigned long)*v, (unsigned long)lo,
                        (unsigned long)hi);
    return 0;
}

int nst_ckr_f64(nst_ckr *r, double *v)
{
    return nst_ckr_f64s(r, v, 1);
}

/* n values of `size` bytes each, 4 or 8, little-endian: what
 * put_values wrote. */
static int get_values(nst_ckr *r, void *v, size_t n, size_t size)
{
    const unsigned char *b = take(r, size * (uint64_t)n);
    if (!b)
        return -1;
    unsigned char *dst = v;
    for (size_t i = 0; i < n; i++) {
        uint64_t u = 0;
        for (size_t j = 0; j < size; j++)
            u |= (uint64_t)b[size * i + j] << 8 * j;
        if (size == 4) {
            const uint32_t u32 = (uint32_t)u;
            memcpy(dst + 4 * i, &u32, 4);
        } else
            memcpy(dst + 8 * i, &u, 8);
    }
    return 0;
}

int nst_ckr_f32s(nst_ckr *r, float *v, size_t n)
{
    return get_values(r, v, n, 4);
}

int nst_ckr_f64s(nst_ckr *r, double *v, size_t n)
{
    return get_values(r, v, n, 8);
}

int nst_ckr_bytes(nst_ckr *r, void *p, size_t n)
{
    const unsigned char *b = take(r, n);
    if (!b)
        return -1;
    memcpy(p, b, n);
    return 0;
}

/* ---- the settings ---- */

/* Appends a printf'd line to *s (NULL after a failure). */
__attribute__((format(printf, 2, 3))) static void line(char **s,
                                                       const char *fmt, ...)
{
    if (!*s)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *add = NULL;
    const int n = vasprintf(&add, fmt, ap);
    va_end(ap);
    const size_t have = strlen(*s);
    char *grown = n < 0 ? NULL : realloc(*s, have + (size_t)n + 2);
    if (!grown) {
        free(*s);
        *s = NULL;
    } else {
        memcpy(grown + have, add, (size_t)n);
        memcpy(grown + have + n, "\n", 2);
        *s = grown;
    }
    free(add);
}

/* v with the fewest digits that read back as v: "0.1", not
 * "0.10000000000000001". */
static const char *num(char *buf, size_t size, double v)
{
    for (int digits = 6; digits < 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return buf;
    }
    snprintf(buf, size, "%.17g", v);
    return buf;
}

char *nst_checkpoint_settings(const nst_options *o)
{
    char *s = calloc(1, 1), b[32];
    line(&s, "--content %s", o->content);
    for (int i = 0; i < o->n_styles; i++) {
        line(&s, "--style %s", o->styles[i]);
        if (o->n_blend)
            line(&s, "--style-blend %s",
                 num(b, sizeof b, o->style_blend[i]));
        if (o->n_scales > 1)
            line(&s, "--style-scale %s",
                 num(b, sizeof b, o->style_scales[i]));
        if (o->n_masks)
            line(&s, "--style-mask %s", o->style_masks[i]);
    }
    if (o->n_scales <= 1)
        line(&s, "--style-scale %s", num(b, sizeof b, o->style_scale));
    line(&s, "--weights %s", o->weights);
    line(&s, "--size %d", o->size);
    /* The levels: one, whatever --start-size made it so, or several. */
    nst_scales sc;
    nst_scales_plan(o->size, o->start_size, o->iters, o->start_iters, &sc);
    line(&s, "--start-size %d", sc.n > 1 ? o->start_size : 0);
    if (sc.n > 1)
        line(&s, "--start-iters %d", o->start_iters);
    line(&s, "--content-weight %s",
         num(b, sizeof b, o->content_weight));
    line(&s, "--style-weight %s", num(b, sizeof b, o->style_weight));
    line(&s, "--tv-weight %s", num(b, sizeof b, o->tv_weight));
    line(&s, "--pool %s", o->pool == NST_POOL_MAX ? "max" : "avg");
    line(&s, "--content-layers %s", o->content_layers);
    line(&s, "--style-layers %s", o->style_layers);
    line(&s, "--preserve-colors %s", nst_colors_name(o->colors));
    line(&s, "--optimizer %s", nst_optimizer_name(o->optimizer));
    if (o->optimizer == NST_OPTIMIZER_ADAM)
        line(&s, "--lr %s", num(b, sizeof b, o->lr));
    else
        line(&s, "--lbfgs-history %d", o->lbfgs_history);
    line(&s, "--init %s",
         o->init_file ? o->init_file : o->init_noise ? "noise" : "content");
    if (o->init_noise) {
        line(&s, "--seed %llu", (unsigned long long)o->seed);
        line(&s, "--init-noise-ratio %s",
             num(b, sizeof b, o->init_noise_ratio));
    }
    if (!s)
        nst_fail("out of memory for the checkpoint's settings");
    return s;
}

/* The length of the line at s, without its newline. */
static size_t line_len(const char *s)
{
    return strcspn(s, "\n");
}

int nst_checkpoint_match(const nst_checkpoint *c, const char *path,
                         const char *settings)
{
    const char *a = c->settings, *b = settings;
    while (*a || *b) {
        const size_t la = line_len(a), lb = line_len(b);
        if (la != lb || memcmp(a, b, la) != 0) {
            if (!*a)
                return nst_fail("%s: the checkpoint does not record '%.*s': "
                                "it is of another run, or an older nst "
                                "wrote it",
                                path, (int)lb, b);
            /* "--name value": the name is up to the first space. */
            const size_t name = strcspn(la ? a : b, " \n");
            if (la > name && lb > name && memcmp(a, b, name) == 0)
                return nst_fail("%s: the checkpoint is of another run: %.*s "
                                "was %.*s, is %.*s",
                                path, (int)name, a, (int)(la - name - 1),
                                a + name + 1, (int)(lb - name - 1),
                                b + name + 1);
            return nst_fail("%s: the checkpoint is of another run: it has "
                            "'%.*s' where this run has '%.*s'",
                            path, (int)la, a, (int)lb, b);
        }
        a += la + (a[la] == '\n');
        b += lb + (b[lb] == '\n');
    }
    return 0;
}

/* The sizes of sc, "256, 512", in buf. */
static const char *sizes_text(const nst_scales *sc, char *buf, size_t size)
{
    size_t at = 0;
    buf[0] = 0;
    for (int k = 0; k < sc->n && at < size; k++)
        at += (size_t)snprintf(buf + at, size - at, "%s%d", k ? ", " : "",
                               sc->size[k]);
    return buf;
}

int nst_checkpoint_match_levels(const nst_checkpoint *c, const char *path,
                                const nst_scales *sc)
{
    const nst_scales *was = &c->levels;
    int same = was->n == sc->n;
    for (int k = 0; same && k < sc->n; k++)
        same = was->size[k] == sc->size[k];
    if (!same) {
        char a[NST_MAX_LEVELS * 8], b[NST_MAX_LEVELS * 8];
        return nst_fail("%s: the checkpoint's levels are %s px, this run's "
                        "are %s px",
                        path, sizes_text(was, a, sizeof a),
                        sizes_text(sc, b, sizeof b));
    }
    /* With several levels the first runs --start-iters, the others
     * --iters; the levels done must have run what this run gives them. */
    const int k = (int)c->level;
    for (int j = 0; j < k; j++)
        if (was->iters[j] != sc->iters[j])
            return nst_fail("%s: the checkpoint's run did level %d of %d "
                            "with %s %d; give %s %d to continue it",
                            path, j + 1, sc->n,
                            j ? "--iters" : "--start-iters", was->iters[j],
                            j ? "--iters" : "--start-iters", was->iters[j]);
    if (c->next > (uint32_t)sc->iters[k]) {
        char at[48] = "";
        if (sc->n > 1)
            snprintf(at, sizeof at, " of level %d of %d", k + 1, sc->n);
        return nst_fail("%s: the checkpoint is at iteration %lu%s; give %s "
                        "%lu or more",
                        path, (unsigned long)c->next, at,
                        k == 0 && sc->n > 1 ? "--start-iters" : "--iters",
                        (unsigned long)c->next);
    }
    return 0;
}

/* ---- the file ---- */

int nst_ckpt_rows_add(nst_ckpt_rows *r, const nst_ckpt_row *row)
{
    if (r->n == r->cap) {
        const size_t cap = r->cap ? 2 * r->cap : 64;
        nst_ckpt_row *grown = realloc(r->row, cap * sizeof *grown);
        if (!grown)
            return nst_fail("out of memory for the log rows of a checkpoint");
        r->row = grown;
        r->cap = cap;
    }
    r->row[r->n++] = *row;
    return 0;
}

void nst_ckpt_rows_free(nst_ckpt_rows *r)
{
    free(r->row);
    *r = (nst_ckpt_rows){0};
}

int nst_checkpoint_begin(nst_ckw *w, const char *path,
                         const nst_checkpoint *c)
{
    if (nst_atomic_open(&w->file, path) != 0)
        return -1;
    w->crc = crc32(0L, Z_NULL, 0);
    put(w, MAGIC, sizeof MAGIC);
    const uint32_t head[] = {NST_CHECKPOINT_VERSION, (uint32_t)c->levels.n,
                             c->level, c->next, c->finished,
                             (uint32_t)c->optimizer, (uint32_t)c->w,
                             (uint32_t)c->h};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++)
        nst_ckw_u32(w, head[i]);
    for (int k = 0; k < c->levels.n; k++) {
        nst_ckw_u32(w, (uint32_t)c->levels.size[k]);
        nst_ckw_u32(w, (uint32_t)c->levels.iters[k]);
    }
    const size_t len = strlen(c->settings);
    nst_ckw_u32(w, (uint32_t)len);
    put(w, c->settings, len);
    nst_ckw_u32(w, (uint32_t)c->rows.n);
    for (size_t i = 0; i < c->rows.n; i++) {
        const nst_ckpt_row *r = &c->rows.row[i];
        const double v[] = {r->l.total, r->l.content, r->l.style, r->l.tv,
                            r->seconds};
        nst_ckw_u32(w, r->iter);
        nst_ckw_u32(w, r->size);
        nst_ckw_f64s(w, v, 5);
    }
    return 0;
}

int nst_checkpoint_commit(nst_ckw *w)
{
    unsigned char b[4];
    le32(b, (uint32_t)w->crc);
    nst_atomic_write(&w->file, b, 4);
    return nst_atomic_commit(&w->file);
}

/* The header, schedule and settings after the magic. */
static int read_header(nst_checkpoint *c, nst_ckr *r)
{
    uint32_t version, n, opt, w, h, len;
    if (nst_ckr_u32(r, &version) != 0)
        return -1;
    if (version != NST_CHECKPOINT_VERSION)
        return nst_fail("%s: checkpoint version %lu; this nst reads version "
                        "%d only (start the run afresh, or resume it with "
                        "the nst that wrote it)",
                        r->path, (unsigned long)version,
                        NST_CHECKPOINT_VERSION);
    if (nst_ckr_u32_in(r, 1, NST_MAX_LEVELS, "levels", &n) != 0 ||
        nst_ckr_u32_in(r, 0, n - 1, "level", &c->level) != 0 ||
        nst_ckr_u32_in(r, 0, MAX_ROWS, "iteration", &c->next) != 0 ||
        nst_ckr_u32_in(r, 0, 1, "finished flag", &c->finished) != 0 ||
        nst_ckr_u32_in(r, 0, NST_OPTIMIZER_LBFGS, "optimizer", &opt) != 0 ||
        nst_ckr_u32_in(r, 1, NST_IMAGE_MAX_SIDE, "width", &w) != 0 ||
        nst_ckr_u32_in(r, 1, NST_IMAGE_MAX_SIDE, "height", &h) != 0)
        return -1;
    c->levels.n = (int)n;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t size, iters;
        if (nst_ckr_u32_in(r, 1, NST_SIZE_MAX, "level size", &size) != 0 ||
            nst_ckr_u32_in(r, 0, NST_ITERS_MAX, "level iterations",
                           &iters) != 0)
            return -1;
        c->levels.size[k] = (int)size;
        c->levels.iters[k] = (int)iters;
    }
    c->optimizer = (nst_optimizer)opt;
    c->w = (int)w;
    c->h = (int)h;
    const unsigned char *s;
    if (nst_ckr_u32(r, &len) != 0 || !(s = take(r, len)))
        return -1;
    if (memchr(s, 0, len))
        return nst_fail("%s: checkpoint corrupt (a NUL in its settings)",
                        r->path);
    if (!(c->settings = malloc((size_t)len + 1)))
        return nst_fail("%s: out of memory", r->path);
    memcpy(c->settings, s, len);
    c->settings[len] = 0;
    return 0;
}

/* The rows: at least the current level's `next`, at most every level's
 * most. */
static int read_rows(nst_checkpoint *c, nst_ckr *r)
{
    uint32_t n;
    if (nst_ckr_u32_in(r, c->next, NST_MAX_LEVELS * MAX_ROWS, "log rows",
                       &n) != 0)
        return -1;
    /* Checked against the bytes left before the allocation. */
    if ((uint64_t)n * ROW_BYTES > r->left)
        return take(r, (uint64_t)n * ROW_BYTES) ? 0 : -1;
    if (!(c->rows.row = malloc((n ? n : 1) * sizeof *c->rows.row)))
        return nst_fail("%s: out of memory for %lu log rows", r->path,
                        (unsigned long)n);
    c->rows.cap = n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t iter, size;
        double v[5];
        if (nst_ckr_u32_in(r, 0, NST_ITERS_MAX, "row iteration", &iter) !=
                0 ||
            nst_ckr_u32_in(r, 1, NST_IMAGE_MAX_SIDE, "row size", &size) !=
                0 ||
            nst_ckr_f64s(r, v, 5) != 0)
            return -1;
        c->rows.row[c->rows.n++] =
            (nst_ckpt_row){iter, size, {v[0], v[1], v[2], v[3]}, v[4]};
    }
    return 0;
}

int nst_checkpoint_load(const char *path, nst_checkpoint *c)
{
    *c = (nst_checkpoint){0};
    size_t size;
    unsigned char *b = nst_input_read_all(path, SIZE_MAX - 1, &size);
    if (!b)
        return -1;
    c->bytes = b;
    nst_ckr r = {b, size, path};
    if (size < sizeof MAGIC + 4 || memcmp(b, MAGIC, sizeof MAGIC) != 0) {
        nst_checkpoint_free(c);
        return nst_fail("%s: not an nst checkpoint", path);
    }
    const uLong crc = crc_more(crc32(0L, Z_NULL, 0), b, size - 4);
    if ((uint32_t)crc != get32(b + size - 4)) {
        nst_checkpoint_free(c);
        return nst_fail("%s: checkpoint corrupt or incomplete (its CRC-32 "
                        "does not match)",
                        path);
    }
    r.p += sizeof MAGIC;
    r.left -= sizeof MAGIC + 4;
    if (read_header(c, &r) != 0 || read_rows(c, &r) != 0) {
        nst_checkpoint_free(c);
        return -1;
    }
    c->state = r;
    return 0;
}

int nst_checkpoint_end(const nst_checkpoint *c)
{
    if (c->state.left)
        return nst_fail("%s: checkpoint corrupt (%zu bytes after its "
                        "optimizer state)",
                        c->state.path, c->state.left);
    return 0;
}

void nst_checkpoint_free(nst_checkpoint *c)
{
    free(c->settings);
    nst_ckpt_rows_free(&c->rows);
    free(c->bytes);
    *c = (nst_checkpoint){0};
}
