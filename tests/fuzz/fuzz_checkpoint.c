/* libFuzzer harness: a checkpoint file as --resume reads it: the header,
 * levels, settings and rows, then the image and each optimizer's state
 * for the image size it claims (small ones only, to keep the runs fast).
 * The input's last 4 bytes are replaced by the CRC-32 of the rest: a
 * mutation would almost never get one right, and every field behind the
 * check would go unexplored (check_checkpoint tests the CRC itself). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "adam.h"
#include "checkpoint.h"
#include "lbfgs.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_objective(void *ctx, const float *x, double *loss, float *grad)
{
    (void)ctx, (void)x, (void)loss, (void)grad;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *file = malloc(size ? size : 1);
    if (!file)
        return 0;
    memcpy(file, data, size);
    if (size >= 4) {
        const uLong crc = crc32(crc32(0L, Z_NULL, 0), file, (uInt)(size - 4));
        for (int i = 0; i < 4; i++)
            file[size - 4 + i] = (unsigned char)(crc >> 8 * i);
    }
    char path[64];
    int fd = fuzz_memfile(file, size, path, sizeof path);
    free(file);
    nst_checkpoint c;
    if (nst_checkpoint_load(path, &c) == 0) {
        /* The seeds' settings and levels. */
        const nst_scales sc = {2, {1, 2}, {2, 3}};
        nst_checkpoint_match(&c, path, "--size 16\n--optimizer adam\n");
        nst_checkpoint_match_levels(&c, path, &sc);
        const size_t n = 3 * (size_t)c.w * c.h;
        float *x = n <= 3 * 64 * 64 ? malloc(n * sizeof *x) : NULL;
        if (x && nst_ckr_f32s(&c.state, x, n) == 0) {
            if (c.optimizer == NST_OPTIMIZER_ADAM) {
                nst_adam a;
                if (nst_adam_init(&a, n, 1) == 0) {
                    if (nst_adam_load(&a, &c.state) == 0)
                        nst_checkpoint_end(&c);
                    nst_adam_free(&a);
                }
            } else {
                /* The seeds' history. */
                const nst_lbfgs_params p = {2, 1};
                nst_lbfgs *l =
                    nst_lbfgs_create(n, NULL, NULL, &p, no_objective, NULL);
                if (l && nst_lbfgs_load(l, &c.state) == 0)
                    nst_checkpoint_end(&c);
                nst_lbfgs_free(l);
            }
        }
        free(x);
        nst_checkpoint_free(&c);
    }
    close(fd);
    return 0;
}
