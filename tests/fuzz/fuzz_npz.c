/* libFuzzer harness: the npz reader and the VGG loader on any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "memfile.h"
#include "npz.h"
#include "vgg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The keys the seed archives use. */
    static const char *const keys[] = {"conv1_1_W", "conv1_1_b", "a", "b"};
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    nst_npz *z = nst_npz_open(path);
    for (size_t i = 0; z && i < sizeof keys / sizeof *keys; i++) {
        int ndim;
        int64_t shape[NST_NPY_MAX_DIMS];
        nst_npz_shape(z, keys[i], &ndim, shape);
        free(nst_npz_read_f32(z, keys[i], &ndim, shape));
    }
    nst_npz_close(z);

    nst_vgg net;
    const char *names[] = {"relu1_2"};
    if (nst_vgg_load(&net, path, names, 1, NST_POOL_AVG,
                     &nst_kernels_scalar) == 0)
        nst_vgg_free(&net);
    close(fd);
    return 0;
}
