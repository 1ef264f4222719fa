/* Our own build of stb_image_write (the header from the system's stb
 * package), so that no stb library is linked and the sanitizers see
 * inside it. nst itself writes only JPEG with it (PNG is png_write.c's);
 * the tests and the fuzz corpus encode their PNG, BMP and TGA fixtures
 * with the other writers.
 *
 * Makefile.am compiles this file alone with -fwrapv. The JPEG writer keeps
 * its bit buffer in an int and shifts it left by 8 bits per byte written
 * (stbiw__jpg_writeBits), carrying old bits past bit 31: undefined in C,
 * and UBSan stops there on ordinary images. The writer only ever reads
 * bits 16..23 of the buffer, so the two's-complement wrap that -fwrapv
 * defines is exactly what the code expects; Debian's header stays as it
 * is. */
#define STB_IMAGE_WRITE_IMPLEMENTATION
/* Files are written by nst itself (atomic_file.c), through callbacks. */
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>
