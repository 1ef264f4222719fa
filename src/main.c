/* The program: parses the command line (cli.c), finds the weights, runs,
 * through the library's own entry points (nst.h). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "config.h"
#ifdef _OPENMP
#include <omp.h>
#else /* built without threads: --threads has nothing to set */
static int omp_get_max_threads(void) { return 1; }
static void omp_set_num_threads(int n) { (void)n; }
#endif
#include "nst.h"

static void print_version(const char *kernels)
{
    printf("nst %s\nkernels: %s (available:", PACKAGE_VERSION, kernels);
    static const char *const isas[] = {"scalar", "avx2", "neon"};
    for (size_t i = 0; i < sizeof isas / sizeof *isas; i++)
        if (nst_kernels_available(isas[i]))
            printf(" %s", isas[i]);
    printf(")\nthreads: %d\n", omp_get_max_threads());
}

int main(int argc, char **argv)
{
    if (argc == 1) {
        nst_cli_usage(stderr);
        return 2;
    }
    nst_cli cli;
    char msg[4096];
    nst_cli_status st = nst_cli_parse(argc, argv, &cli, msg, sizeof msg);
    if (st == NST_CLI_USAGE_ERROR) {
        fprintf(stderr, "nst: %s\n", msg);
        return 2;
    }
    if (st == NST_CLI_HELP) {
        nst_cli_usage(stdout);
        return 0;
    }
    if (cli.options.threads)
        omp_set_num_threads(cli.options.threads);
    const char *kernels = nst_kernels_default();
    if (!kernels) {
        fprintf(stderr, "nst: NST_ISA=%s: this build or this CPU cannot run "
                        "it (choose scalar, avx2 or neon)\n",
                getenv("NST_ISA"));
        return 1;
    }
    if (st == NST_CLI_VERSION) {
        print_version(kernels);
        return 0;
    }
    nst_options *o = &cli.options;
    char weights[4096];
    o->weights = nst_find_weights(o->weights, weights, sizeof weights);
    if (!o->weights) {
        fprintf(stderr, "nst: no VGG weights found: give --weights FILE, set "
                        "NST_WEIGHTS, or run vgg/fetch_vgg16.sh\n");
        return 1;
    }
    nst_error err = {0};
    const int rc = nst_run(o, kernels, &err);
    if (rc < 0)
        fprintf(stderr, "nst: %s\n", err.reason);
    nst_error_clear(&err);
    return rc < 0 ? 1 : rc;
}
