/* Large but legal PNG files for tests, written without holding their
 * pixels. */
#ifndef NST_TEST_PNG_FIXTURE_H
#define NST_TEST_PNG_FIXTURE_H

/* A black PNG of w x h pixels at path: 8-bit RGB (channels 3, depth 8) or
 * 16-bit RGBA (channels 4, depth 16), its IDAT deflated a row at a time.
 * Zero rows deflate about 1000-fold, so 8000x8000 8-bit RGB (192 MB of
 * rows) is a file of 190 KB, 340 pixels a byte, within image_check's
 * 1024. Fails the test on any error. */
void tu_write_black_png(const char *path, int w, int h, int channels,
                        int depth);

#endif
