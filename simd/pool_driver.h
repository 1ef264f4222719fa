/* The ISA-neutral loop of the 2x2 stride-2 pooling kernels: the OpenMP
 * split over channels and window rows, the leftover windows of a row and
 * the dropped odd last row and column, around an instruction set's row
 * kernels.
 *
 * Output is floor(h/2) x floor(w/2). Window j of a window row covers
 * columns 2j, 2j+1 of two input rows x0, x1 (d0, d1 for gradients). A row
 * kernel handles the first n windows of a row, n a multiple of its vw; the
 * driver hands the rest to the scalar row kernels, so every instruction
 * set rounds and breaks ties exactly as the scalar one does (max-pool ties
 * go to the first element in row-major order). In the backward passes the
 * dropped last column (odd w) and last row (odd h) get zero gradient. */
#ifndef NST_POOL_DRIVER_H
#define NST_POOL_DRIVER_H

typedef struct nst__pool_rows {
    int vw; /* windows per step of the row kernels */
    void (*avg)(const float *x0, const float *x1, int n, float *y);
    void (*avg_backward)(const float *dy, int n, float *d0, float *d1);
    void (*max)(const float *x0, const float *x1, int n, float *y);
    void (*max_backward)(const float *x0, const float *x1, const float *dy,
                         int n, float *d0, float *d1);
} nst__pool_rows;

/* The scalar row kernels (vw = 1): the reference, and every other set's
 * leftovers. */
extern const nst__pool_rows nst__pool_rows_scalar;

/* The kernels of simd.h, with the row kernels of rows. */
void nst__avgpool2x2_run(const nst__pool_rows *rows, const float *x, int c,
                         int h, int w, float *y);
void nst__avgpool2x2_backward_run(const nst__pool_rows *rows, const float *dy,
                                  int c, int h, int w, float *dx);
void nst__maxpool2x2_run(const nst__pool_rows *rows, const float *x, int c,
                         int h, int w, float *y);
void nst__maxpool2x2_backward_run(const nst__pool_rows *rows, const float *x,
                                  const float *dy, int c, int h, int w,
                                  float *dx);

/* In an instruction set's pool.c, after its static row kernels avg_rows,
 * avg_backward_rows, max_rows and max_backward_rows (vw windows a step):
 * their table nst__pool_rows_<isa> and the four kernels of simd.h,
 * nst_f32_{avg,max}pool2x2[_backward]__<isa>, run by this driver. */
#define NST__POOL_KERNELS(isa, vw_)                                          \
    const nst__pool_rows nst__pool_rows_##isa = {                            \
        .vw = (vw_),                                                         \
        .avg = avg_rows,                                                     \
        .avg_backward = avg_backward_rows,                                   \
        .max = max_rows,                                                     \
        .max_backward = max_backward_rows,                                   \
    };                                                                       \
    void nst_f32_avgpool2x2__##isa(const float *x, int c, int h, int w,     \
                                   float *y)                                 \
    {                                                                        \
        nst__avgpool2x2_run(&nst__pool_rows_##isa, x, c, h, w, y);           \
    }                                                                        \
    void nst_f32_avgpool2x2_backward__##isa(const float *dy, int c, int h,  \
                                            int w, float *dx)                \
    {                                                                        \
        nst__avgpool2x2_backward_run(&nst__pool_rows_##isa, dy, c, h, w,     \
                                     dx);                                    \
    }                                                                        \
    void nst_f32_maxpool2x2__##isa(const float *x, int c, int h, int w,     \
                                   float *y)                                 \
    {                                                                        \
        nst__maxpool2x2_run(&nst__pool_rows_##isa, x, c, h, w, y);           \
    }                                                                        \
    void nst_f32_maxpool2x2_backward__##isa(const float *x, const float *dy, \
                                            int c, int h, int w, float *dx)  \
    {                                                                        \
        nst__maxpool2x2_backward_run(&nst__pool_rows_##isa, x, dy, c, h, w,  \
                                     dx);                                    \
    }

#endif
