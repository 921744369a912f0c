/* qsim inspect MODEL [--nodes] [--quantizers] */
#include "cli.h"
#include "model_print.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: qsim inspect [--nodes] [--quantizers] MODEL.onnx\n"
    "Print the model's inputs and outputs (shapes), opset imports, parameter\n"
    "count and size, and op-type histogram; --nodes also lists every node,\n"
    "--quantizers every quantizer of a default sim (the names --fp16 takes).\n";

/* The quantizers of a default sim: tensor, kind, op type, enabled. */
static int print_quantizers(const qsim_model *m)
{
    qsim_sim *s = NULL;
    qsim_status st = qsim_sim_create(m, NULL, &s);
    if (st != QSIM_OK) {
        cli_report("inspect", st);
        return -1;
    }
    size_t n = qsim_quantizer_count(s);
    printf("quantizers (%zu):\n", n);
    for (size_t i = 0; i < n; i++) {
        const qsim_quantizer *q = qsim_quantizer_at(s, i);
        const char *op = qsim_quantizer_op_type(q);
        printf("  %-10s %-20s %-8s %s\n",
               qsim_quantizer_get_kind(q) == QSIM_QUANTIZER_PARAM ? "param" : "activation",
               *op ? op : "(input)", qsim_quantizer_is_enabled(q) ? "enabled" : "disabled",
               qsim_quantizer_name(q));
    }
    qsim_sim_free(s);
    return 0;
}

int cli_cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    int nodes = 0, quantizers = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--nodes") == 0) {
            nodes = 1;
        } else if (strcmp(argv[i], "--quantizers") == 0) {
            quantizers = 1;
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
    int rc = quantizers && print_quantizers(m) != 0 ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
    qsim_model_free(m);
    return rc;
}
