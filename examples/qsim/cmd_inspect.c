/* qsim inspect MODEL [--nodes] */
#include "cli.h"
#include "model_print.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: qsim inspect [--nodes] MODEL.onnx\n"
    "Print the model's inputs and outputs (shapes), opset imports, parameter\n"
    "count and size, and op-type histogram; --nodes also lists every node.\n";

int cli_cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    int nodes = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--nodes") == 0) {
            nodes = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "qsim inspect: unknown option '%s'\n%s", argv[i], usage);
            return CLI_EXIT_USAGE;
        } else if (path) {
            fprintf(stderr, "qsim inspect: more than one model given\n%s", usage);
            return CLI_EXIT_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "qsim inspect: no model given\n%s", usage);
        return CLI_EXIT_USAGE;
    }
    qsim_model *m = NULL;
    qsim_status st = qsim_model_load(path, &m);
    if (st != QSIM_OK) {
        cli_report("inspect", st);
        return CLI_EXIT_RUNTIME;
    }
    qsim_print_model(m, path, nodes);
    qsim_model_free(m);
    return CLI_EXIT_OK;
}
