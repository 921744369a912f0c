/* qsim quantize MODEL --calib SPEC --out DIR [options]: calibrate a sim
 * and export DIR/PREFIX.onnx and DIR/PREFIX.encodings. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: qsim quantize MODEL.onnx --calib SPEC --out DIR [options]\n"
    "Build a quantization sim, calibrate it on SPEC and export DIR/PREFIX.onnx\n"
    "and DIR/PREFIX.encodings (AIMET format).\n"
    "  --calib SPEC          calibration data: a folder of .npy files, a QNN\n"
    "                        input_list .txt of raw float32 files, or IDX images\n"
    "                        (.gz/.idx/.idx3/-ubyte, preprocessed (p/255-mean)/std)\n"
    "  --out DIR             output folder (created if missing)\n"
    "  --prefix NAME         output file names (default: the model's base name)\n"
    "  --param-bw N          param bitwidth 2..32 (default 8)\n"
    "  --act-bw N            activation bitwidth 2..32 (default 8)\n"
    "  --scheme S            tf | tf_enhanced | percentile (default tf)\n"
    "  --act-scheme S        the activation quantizers' scheme (default: --scheme)\n"
    "  --percentile P        percentile for --scheme percentile (50..100)\n"
    "  --per-channel         per-channel param quantization\n"
    "  --config FILE         AIMET quantsim config JSON\n"
    "  --fp16 OPTYPE|TENSOR  make matching quantizers FP16 (repeatable)\n"
    "  --adaround            optimize weight rounding with AdaRound first\n"
    "  --iterations N        AdaRound steps per layer (default 10000)\n"
    "  --seed N              AdaRound minibatch seed (default 0)\n"

    "  --encoding-version V  0.6.1 | 1.0.0 | 2.0.0 (default 1.0.0)\n"
    "  --threads N           worker threads (0 = one per core)\n"
    "  --batch N             samples per run (default 64)\n"
    "  --limit N             use at most N calibration samples\n"
    "  --mean M --std S      IDX preprocessing (default 0.2860 / 0.3530)\n"
    "Exit status: 0 ok, 1 runtime error, 2 usage error.\n";

static char *default_prefix(const char *model)
{
    const char *base = strrchr(model, '/');
    base = base ? base + 1 : model;
    char *p = strdup(*base ? base : "model");
    if (p) {
        size_t n = strlen(p);
        if (n > 5 && strcmp(p + n - 5, ".onnx") == 0)
            p[n - 5] = '\0';
    }
    return p;
}

int cli_cmd_quantize(int argc, char **argv)
{
    cli_quant_opts o;
    cli_quant_opts_init(&o);
    const char *model = NULL, *calib = NULL, *out = NULL, *prefix = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        }
        int r = cli_parse_quant_opt("quantize", argc, argv, &i, &o);
        if (r < 0)
            return CLI_EXIT_USAGE;
        if (r > 0)
            continue;
        const char **slot = strcmp(a, "--calib") == 0    ? &calib
                            : strcmp(a, "--out") == 0    ? &out
                            : strcmp(a, "--prefix") == 0 ? &prefix
                                                         : NULL;
        if (slot) {
            if (i + 1 >= argc) {
                fprintf(stderr, "qsim quantize: option %s needs a value\n", a);
                return CLI_EXIT_USAGE;
            }
            *slot = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "qsim quantize: unknown option '%s' (see qsim quantize --help)\n", a);
            return CLI_EXIT_USAGE;
        } else if (model) {
            fprintf(stderr, "qsim quantize: more than one model given ('%s', '%s')\n", model, a);
            return CLI_EXIT_USAGE;
        } else {
            model = a;
        }
    }
    if (!model || !calib || !out) {
        fprintf(stderr, "qsim quantize: %s is required (see qsim quantize --help)\n",
                !model ? "MODEL" : !calib ? "--calib" : "--out");
        return CLI_EXIT_USAGE;
    }
    if (prefix && (!*prefix || strchr(prefix, '/'))) {
        fprintf(stderr, "qsim quantize: --prefix '%s' must be a non-empty name without '/'\n",
                prefix);
        return CLI_EXIT_USAGE;
    }
    if (o.adaround && !cli_have_adaround()) {
        fprintf(stderr, "qsim quantize: --adaround is not available in this build of libqsim\n");
        return CLI_EXIT_USAGE;
    }

    int rc = CLI_EXIT_RUNTIME;
    qsim_model *m = NULL;
    qsim_sim *s = NULL;
    cli_dataset d;
    memset(&d, 0, sizeof d);
    char *own_prefix = prefix ? NULL : default_prefix(model);
    qsim_status st = qsim_model_load(model, &m);
    if (st != QSIM_OK) {
        cli_report("quantize", st);
        goto done;
    }
    if (cli_build_sim("quantize", m, &o, &s) != QSIM_OK)
        goto done;
    if (cli_dataset_load("quantize", m, calib, &o, o.limit, &d) != 0)
        goto done;
    double t0 = cli_now();
    if (o.adaround && (st = cli_adaround(s, &d, &o, 0)) != QSIM_OK) {
        cli_report("quantize", st);
        goto done;
    }
    if ((st = cli_calibrate(s, &d, o.batch, 0)) != QSIM_OK) {
        cli_report("quantize", st);
        goto done;
    }
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "qsim quantize: %s: cannot create the folder: %s\n", out,
                strerror(errno));
        goto done;
    }
    if ((st = qsim_export(s, out, prefix ? prefix : own_prefix)) != QSIM_OK) {
        cli_report("quantize", st);
        goto done;
    }
    printf("calibrated on %zu samples%s in %.1f s\nwrote %s/%s.onnx\nwrote %s/%s.encodings\n", d.n,
           o.adaround ? " (AdaRound)" : "", cli_now() - t0, out, prefix ? prefix : own_prefix,
           out, prefix ? prefix : own_prefix);
    rc = CLI_EXIT_OK;
done:
    free(own_prefix);
    cli_dataset_free(&d);
    qsim_sim_free(s);
    qsim_model_free(m);
    return rc;
}
