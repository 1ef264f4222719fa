#include "output_guard.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

struct nst_guard_file {
    dev_t dev;
    ino_t ino;
    char *rest;   /* the part of the path below dev/ino; "" if it exists */
    char *path, *role;
    int output;
    size_t order; /* when it was added */
};

/* Appends path's components to out, without empty and "." ones. */
static void append_clean(char *out, const char *path)
{
    size_t n = strlen(out);
    while (*path) {
        const size_t len = strcspn(path, "/");
        if (len && !(len == 1 && path[0] == '.')) {
            if (n)
                out[n++] = '/';
            memcpy(out + n, path, len);
            n += len;
        }
        path += len + (path[len] == '/');
    }
    out[n] = 0;
}

/* The deepest existing prefix of path (at worst "." or "/") and what
 * follows it. */
static int identify(struct nst_guard_file *f)
{
    const char *path = f->path;
    char *prefix = strdup(path);
    f->rest = calloc(strlen(path) + 1, 1);
    if (!prefix || !f->rest) {
        free(prefix);
        return nst_fail("out of memory checking %s", path);
    }
    size_t len = strlen(path);
    for (;;) {
        struct stat st;
        prefix[len] = 0;
        if (stat(len ? prefix : ".", &st) == 0) {
            f->dev = st.st_dev;
            f->ino = st.st_ino;
            append_clean(f->rest, path + len);
            break;
        }
        if (len == 0) {
            free(prefix);
            return nst_fail("%s: cannot find its folder", path);
        }
        while (len > 1 && prefix[len - 1] == '/')
            len--;
        while (len > 0 && prefix[len - 1] != '/')
            len--;
    }
    free(prefix);
    return 0;
}

static int add(nst_guard *g, const char *path, const char *role, int output)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 16;
        struct nst_guard_file *files =
            realloc(g->files, cap * sizeof *files);
        if (!files)
            return nst_fail("out of memory checking %s", path);
        g->files = files;
        g->cap = cap;
    }
    struct nst_guard_file *f = &g->files[g->n];
    *f = (struct nst_guard_file){
        .path = strdup(path), .role = strdup(role), .output = output,
        .order = g->n};
    if (!f->path || !f->role) {
        free(f->path);
        free(f->role);
        return nst_fail("out of memory checking %s", path);
    }
    if (identify(f) != 0) {
        free(f->rest);
        free(f->path);
        free(f->role);
        return -1;
    }
    g->n++;
    return 0;
}

int nst_guard_input(nst_guard *g, const char *path, const char *role)
{
    return add(g, path, role, 0);
}

int nst_guard_output(nst_guard *g, const char *path, const char *role)
{
    return add(g, path, role, 1);
}

static int compare_id(const struct nst_guard_file *a,
                      const struct nst_guard_file *b)
{
    if (a->dev != b->dev)
        return a->dev < b->dev ? -1 : 1;
    if (a->ino != b->ino)
        return a->ino < b->ino ? -1 : 1;
    return strcmp(a->rest, b->rest);
}

static int by_id_then_order(const void *pa, const void *pb)
{
    const struct nst_guard_file *a = pa, *b = pb;
    int c = compare_id(a, b);
    return c ? c : a->order < b->order ? -1 : a->order > b->order;
}

int nst_guard_check(nst_guard *g)
{
    qsort(g->files, g->n, sizeof *g->files, by_id_then_order);
    for (size_t i = 0, end; i < g->n; i = end) {
        /* files[i, end) are one file, in the order given. */
        const struct nst_guard_file *output = NULL;
        for (end = i;
             end < g->n && compare_id(&g->files[i], &g->files[end]) == 0;
             end++)
            if (!output && g->files[end].output)
                output = &g->files[end];
        if (!output || end == i + 1)
            continue;
        const struct nst_guard_file *other =
            output == &g->files[i] ? &g->files[i + 1] : &g->files[i];
        return nst_fail("%s (%s) is the same file as %s (%s); refusing to "
                        "overwrite it, nothing was written",
                        output->path, output->role, other->path, other->role);
    }
    return 0;
}

void nst_guard_free(nst_guard *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->files[i].rest);
        free(g->files[i].path);
        free(g->files[i].role);
    }
    free(g->files);
    *g = (nst_guard){0};
}
