/* qsim-inspect: print what libqsim sees in an ONNX model.
 *
 *   qsim-inspect [--nodes] MODEL.onnx
 *
 * Inputs and outputs with shapes (symbolic dimensions by name), opset
 * imports, parameter count and size, node count and an op-type histogram;
 * --nodes also lists every node, in topological order, with its inputs and
 * outputs. Uses only the public API. */
#include "qsim/model_print.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    int list_nodes = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--nodes") == 0)
            list_nodes = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            path = NULL, argc = 0;
        else
            path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: qsim-inspect [--nodes] MODEL.onnx\n");
        return 2;
    }
    qsim_model *m = NULL;
    qsim_status st = qsim_model_load(path, &m);
    if (st != QSIM_OK) {
        fprintf(stderr, "qsim-inspect: %s: %s\n", qsim_status_string(st), qsim_last_error());
        return 1;
    }
    qsim_print_model(m, path, list_nodes);
    qsim_model_free(m);
    return 0;
}
