/* libFuzzer harness: the command-line parser. The input is the argument
 * list, arguments separated by NUL bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *argv[MAX_ARGS + 2];
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int argc = 1;
    argv[0] = "nst";
    for (size_t at = 0; at <= size && argc <= MAX_ARGS;) {
        argv[argc++] = text + at;
        at += strlen(text + at) + 1;
    }
    argv[argc] = NULL;
    nst_cli cli;
    char msg[256];
    nst_cli_parse(argc, argv, &cli, msg, sizeof msg);
    free(text);
    return 0;
}
