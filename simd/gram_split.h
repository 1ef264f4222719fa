/* How the SIMD Gram kernels share the upper triangle of G between threads:
 * G is cut into column blocks of nr columns, each needing the tiles of mr
 * rows that reach the triangle, and each thread takes consecutive blocks
 * holding an even share of those tiles. Only the columns of G are split,
 * never the sum over k, so the result does not depend on the thread
 * count. */
#ifndef NST_GRAM_SPLIT_H
#define NST_GRAM_SPLIT_H

/* Tile rows of G needed by column block jb: those that reach the upper
 * triangle, i < min(c, nr (jb + 1)). */
static inline int nst__gram_tile_rows(int c, int jb, int mr, int nr)
{
    const int end = (jb + 1) * nr < c ? (jb + 1) * nr : c;
    return (end + mr - 1) / mr;
}

/* The first column block of thread ith of nth (of nb blocks): the first
 * block whose preceding work reaches ith / nth of the triangle's tiles. */
static inline int nst__gram_split_start(int c, int nb, int ith, int nth,
                                        int mr, int nr)
{
    long total = 0;
    for (int jb = 0; jb < nb; jb++)
        total += nst__gram_tile_rows(c, jb, mr, nr);
    long before = 0;
    int jb = 0;
    while (jb < nb && before * nth < total * ith)
        before += nst__gram_tile_rows(c, jb++, mr, nr);
    return jb;
}

#endif
