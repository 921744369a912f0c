/* qsim: the command-line face of libqsim.
 *
 *   qsim inspect MODEL
 *   qsim quantize MODEL --calib SPEC --out DIR [options]
 *   qsim eval MODEL --data IMAGES --labels LABELS [options]
 *   qsim demo [--fast]
 *
 * Each subcommand lives in examples/qsim/cmd_*.c; see docs/qsim.1.
 * Exit status: 0 ok, 1 runtime error, 2 usage error. */
#include "qsim/cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: qsim COMMAND [options]   (qsim COMMAND --help for details)\n"
    "commands:\n"
    "  inspect   print a model's inputs, outputs, opsets, op histogram\n"
    "  quantize  calibrate a quantization sim and export .onnx + .encodings\n"
    "  eval      top-1 of the float model vs the quantized sim on IDX data\n"
    "  demo      the Fashion-MNIST walk-through (FP32, W8A8, W4A8, AdaRound, mixed)\n"
    "  version   print the libqsim version\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("qsim (libqsim %s)\n", qsim_version_string());
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "inspect") == 0)
        return cli_cmd_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "quantize") == 0)
        return cli_cmd_quantize(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0)
        return cli_cmd_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return cli_cmd_demo(argc - 1, argv + 1);
    fprintf(stderr, "qsim: unknown command '%s'\n%s", cmd, usage);
    return CLI_EXIT_USAGE;
}
