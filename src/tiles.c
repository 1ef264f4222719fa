#include "tiles.h"

static int round_up(int v, int m)
{
    return (v + m - 1) / m * m;
}

/* The largest multiple of m at most v (v may be negative). */
static int round_down(int v, int m)
{
    return v >= 0 ? v / m * m : -((-v + m - 1) / m * m);
}

static int min_int(int a, int b)
{
    return a < b ? a : b;
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

void nst_tiling_make(const nst_vgg *net, int n_layers, int h, int w,
                     int tile, nst_tiling *t)
{
    /* How far wrong values reach in from a window's cut edge, in cells of
     * the current layer: a convolution adds one cell, a pool halves the
     * count rounding up (a pooled cell is wrong if any of its 2x2 is). */
    int pools = 0, cells = 0, reach = 0;
    for (int l = 0; l < n_layers; l++) {
        if (net->layer[l].pool_before) {
            pools++;
            cells = (cells + 1) / 2;
        }
        cells++;
        reach = max_int(reach, cells << pools);
    }
    t->h = h;
    t->w = w;
    t->align = 1 << pools;
    t->reach = round_up(reach, t->align);
    t->tile = max_int(t->align, tile / t->align * t->align);
    t->rows = (h + t->tile - 1) / t->tile;
    t->cols = (w + t->tile - 1) / t->tile;
}

void nst_tiling_tile(const nst_tiling *t, int i, int halo, nst_rect *interior,
                     nst_rect *window)
{
    const int r = i / t->cols, c = i % t->cols;
    *interior = (nst_rect){r * t->tile, c * t->tile,
                           min_int(t->h, (r + 1) * t->tile),
                           min_int(t->w, (c + 1) * t->tile)};
    /* A window starts on the 4 x 2^pools grid: every layer's map then
     * starts on a 4 x 4 block of the whole image's, where the Winograd
     * convolutions (simd/avx2/conv3x3.c) start their tiles, so a window's
     * convolutions round as the whole image's do. */
    const int grid = 4 * t->align;
    *window = (nst_rect){max_int(0, round_down(interior->y0 - halo, grid)),
                         max_int(0, round_down(interior->x0 - halo, grid)),
                         min_int(t->h, interior->y1 + halo),
                         min_int(t->w, interior->x1 + halo)};
}

nst_rect nst_rect_at(nst_rect r, int pools)
{
    return (nst_rect){r.y0 >> pools, r.x0 >> pools, r.y1 >> pools,
                      r.x1 >> pools};
}
