/* The geometry of a tiled pass through the network (docs/math.md, "Tiled
 * evaluation"): the image is cut into tile interiors on a grid aligned to
 * the pools, and each interior is run inside a window that adds a halo on
 * every side, clipped at the image's border. */
#ifndef NST_TILES_H
#define NST_TILES_H

#include "vgg.h"

/* Rows [y0, y1) and columns [x0, x1) of a map. */
typedef struct nst_rect {
    int y0, x0, y1, x1;
} nst_rect;

typedef struct nst_tiling {
    int h, w;    /* the image */
    int align;   /* 2^pools below the deepest layer used */
    int tile;    /* interior side, a multiple of align */
    int reach;   /* pixels of border that a windowed forward pass gets
                    wrong, a multiple of align: the pass-1 halo */
    int rows, cols;
} nst_tiling;

/* The tiling of an h x w image for layers 0 .. n_layers-1 of net, with
 * interiors of at most tile pixels a side (rounded down to a multiple of
 * the pools' 2^k, and at least that). */
void nst_tiling_make(const nst_vgg *net, int n_layers, int h, int w,
                     int tile, nst_tiling *t);

static inline int nst_tiling_count(const nst_tiling *t)
{
    return t->rows * t->cols;
}

/* Tile i's interior and its window: at least halo pixels (a multiple of
 * align) on each side, clipped to the image, the window's near corner
 * moved back to a multiple of 4 align. */
void nst_tiling_tile(const nst_tiling *t, int i, int halo, nst_rect *interior,
                     nst_rect *window);

/* r at the resolution of a layer after `pools` pools (r's corners on the
 * 2^pools grid, or on the image's far border, where the floor of the
 * network's pools gives the same). */
nst_rect nst_rect_at(nst_rect r, int pools);

#endif
