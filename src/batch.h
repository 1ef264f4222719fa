/* The batch pipeline's input: a folder of content_* and style_* images. */
#ifndef NST_BATCH_H
#define NST_BATCH_H

typedef struct nst_batch {
    char **content; /* full paths, sorted by file name */
    char **style;
    int n_content, n_style;
} nst_batch;

/* Lists dir's regular files named content_* and style_* (by name only),
 * sorted by name. -1 with a failure reason if dir cannot be read or holds
 * no content_* or no style_* file. */
int nst_batch_scan(const char *dir, nst_batch *b);

/* Pairs, in order: pair i is content[i / n_style] with style[i % n_style]. */
int nst_batch_pairs(const nst_batch *b);

/* 1 if pair i belongs to shard `shard` of n_shards (--shard I/N: i mod N
 * = I); every pair does when n_shards is 0. */
int nst_batch_in_shard(int i, int shard, int n_shards);

void nst_batch_free(nst_batch *b);

#endif
