/* A program that uses the installed libnst: one small style transfer.
 *
 *   cc embed.c $(pkg-config --cflags --libs nst) -o embed
 *   ./embed CONTENT STYLE OUT.png [WEIGHTS.npz]
 *
 * Without WEIGHTS the library looks where nst does ($NST_WEIGHTS, vgg/,
 * ../shared/vgg/). The transfer is deliberately tiny: 64 pixels, 5
 * iterations. */
#include <stdio.h>

#include <nst/error.h>
#include <nst/nst.h>

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s CONTENT STYLE OUT.png [WEIGHTS.npz]\n",
                argv[0]);
        return 2;
    }
    nst_options o;
    nst_options_default(&o);
    o.content = argv[1];
    o.style = argv[2];
    o.out = argv[3];
    o.size = 64;
    o.iters = 5;
    o.quiet = 1;

    char weights[4096];
    o.weights = nst_find_weights(argc == 5 ? argv[4] : NULL, weights,
                                 sizeof weights);
    if (!o.weights) {
        fprintf(stderr, "%s: no VGG weights found\n", argv[0]);
        return 1;
    }
    const nst_kernels *k = nst_kernels_best();
    if (!k || nst_run(&o, k) != 0) {
        fprintf(stderr, "%s: %s\n", argv[0], nst_failure_reason());
        return 1;
    }
    printf("%s: wrote %s with the %s kernels\n", argv[0], o.out, k->name);
    return 0;
}
