/* Our own build of stb_image (the header from the system's stb package),
 * so that only the formats nst promises are compiled in and sanitizers and
 * fuzzers see inside the decoder. image_check.c validates every file
 * before these decoders run. */
#include "image.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
/* Files are read by nst itself (input_file.c) and decoded from memory. */
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS NST_IMAGE_MAX_SIDE

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
/* The JPEG bit reader of this stb_image (2.27) keeps reading zeros after
 * a marker ends the scan data early, and its bit count then goes negative:
 * `code_buffer |= b << (24 - code_bits)` shifts by 32 or more. That is
 * undefined, but only ever of b = 0 (the reader stops fetching bytes once
 * it has seen the marker), so the result is 0 on every machine and the
 * rest of the scan decodes from zero bits. Later stb versions stop at that
 * point instead. The fuzz build (clang) checks every other kind of undefined
 * behaviour here; this one check is turned off for the header's functions
 * so that a truncated scan is a test input, not a crash. */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((no_sanitize("shift-exponent"))), \
                             apply_to = function)
#endif
#include <stb_image.h>
#if defined(__clang__)
#pragma clang attribute pop
#endif
