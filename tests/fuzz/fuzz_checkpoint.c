/* libFuzzer harness: a checkpoint file as --resume reads it: the header,
 * levels, settings and rows, then the image and each optimizer's state
 * for the image size it claims (small ones only, to keep the runs
 * fast). */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

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
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
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
