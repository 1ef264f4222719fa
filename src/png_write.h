/* PNG encoding through zlib: 8-bit RGB, each row filtered with the PNG
 * filter that makes it smallest by the usual heuristic, deflated at a
 * given zlib level. */
#ifndef NST_PNG_WRITE_H
#define NST_PNG_WRITE_H

#include <stddef.h>

/* Receives the encoded bytes in order. */
typedef void (*nst_png_sink)(void *ctx, const void *data, size_t n);

/* Encodes rgb (w x h interleaved 8-bit RGB, rows top to bottom) at zlib
 * level 0..9 into sink. 0, or -1 if memory runs out. */
int nst_png_write(nst_png_sink sink, void *ctx, const unsigned char *rgb,
                  int w, int h, int level);

#endif
