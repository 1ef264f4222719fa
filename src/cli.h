/* The command line, parsed without side effects: nothing is printed and
 * nothing exits, so main.c, the tests and a fuzzer can all drive it. */
#ifndef NST_CLI_H
#define NST_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "nst.h"

typedef enum nst_cli_status {
    NST_CLI_RUN,        /* the options ask for a run */
    NST_CLI_HELP,       /* --help: print nst_cli_usage to stdout */
    NST_CLI_VERSION,    /* --version */
    NST_CLI_USAGE_ERROR /* msg says what is wrong (exit status 2) */
} nst_cli_status;

typedef struct nst_cli {
    nst_options options; /* strings point into argv */
} nst_cli;

/* Parses argv[1..argc) (GNU getopt_long, which may reorder argv) into cli,
 * starting from the defaults. On NST_CLI_USAGE_ERROR, msg holds a one-line
 * problem (without a "nst: " prefix or newline). Reentrant in the sense
 * that it may be called again; not thread-safe (getopt's globals). */
nst_cli_status nst_cli_parse(int argc, char **argv, nst_cli *cli, char *msg,
                             size_t size);

/* The --help text. */
void nst_cli_usage(FILE *to);

#endif
