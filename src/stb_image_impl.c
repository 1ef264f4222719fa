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
#include <stb_image.h>
