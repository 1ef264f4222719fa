#include "batch.h"

#include "error.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A growing list of paths. */
struct list {
    char **items;
    int n, cap;
};

static int list_push(struct list *l, char *item)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 8;
        char **items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = item;
    return 0;
}

static void list_free(struct list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
}

static int by_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Files that are regular, or symbolic links to regular files. */
static int is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Sorts the entries of dir into content and style; 0, or an errno code. */
static int read_entries(const char *dir, DIR *d, struct list *content,
                        struct list *style)
{
    size_t dir_len = strlen(dir);
    const char *sep = dir_len && dir[dir_len - 1] == '/' ? "" : "/";
    struct dirent *e;
    for (errno = 0; (e = readdir(d)); errno = 0) {
        struct list *l = starts_with(e->d_name, "content_") ? content
                       : starts_with(e->d_name, "style_")   ? style
                                                            : NULL;
        if (!l)
            continue;
        size_t size = dir_len + strlen(e->d_name) + 2;
        char *path = malloc(size);
        if (!path)
            return ENOMEM;
        snprintf(path, size, "%s%s%s", dir, sep, e->d_name);
        if (!is_regular(path))
            free(path);
        else if (list_push(l, path) != 0) {
            free(path);
            return ENOMEM;
        }
    }
    return errno;
}

int nst_batch_scan(const char *dir, nst_batch *b)
{
    struct list content = { 0 }, style = { 0 };
    int rc = -1;

    memset(b, 0, sizeof *b);
    DIR *d = opendir(dir);
    if (!d)
        return nst_fail("%s: cannot read folder: %s", dir, strerror(errno));
    int err = read_entries(dir, d, &content, &style);
    closedir(d);
    if (err)
        nst_fail("%s: cannot read folder: %s", dir, strerror(err));
    else if (content.n == 0)
        nst_fail("%s: no content_* file in this folder", dir);
    else if (style.n == 0)
        nst_fail("%s: no style_* file in this folder", dir);
    else
        rc = 0;
    if (rc != 0) {
        list_free(&content);
        list_free(&style);
        return rc;
    }
    /* All paths share the "dir/" prefix, so this is the order of names. */
    qsort(content.items, (size_t)content.n, sizeof *content.items, by_strcmp);
    qsort(style.items, (size_t)style.n, sizeof *style.items, by_strcmp);
    b->content = content.items;
    b->n_content = content.n;
    b->style = style.items;
    b->n_style = style.n;
    return 0;
}

int nst_batch_pairs(const nst_batch *b)
{
    return b->n_content * b->n_style;
}

int nst_batch_in_shard(int i, int shard, int n_shards)
{
    return n_shards == 0 || i % n_shards == shard;
}

void nst_batch_free(nst_batch *b)
{
    for (int i = 0; i < b->n_content; i++)
        free(b->content[i]);
    for (int i = 0; i < b->n_style; i++)
        free(b->style[i]);
    free(b->content);
    free(b->style);
    memset(b, 0, sizeof *b);
}
