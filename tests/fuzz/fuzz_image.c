/* libFuzzer harness: the image loader (structure checks, then stb_image)
 * on any bytes. */
#include <stdint.h>
#include <unistd.h>

#include "image.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    nst_image img;
    if (nst_image_load(path, &img) == 0)
        nst_image_free(&img);
    close(fd);
    return 0;
}
