/* qsim eval MODEL --data IMAGES --labels LABELS [options]: top-1 of the
 * float model (every quantizer disabled) against the quantized sim. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: qsim eval MODEL.onnx --data IDX_IMAGES --labels IDX_LABELS [options]\n"
    "Top-1 accuracy of the float model (every quantizer disabled) and of the\n"
    "quantization sim on an IDX image/label pair.\n"
    "  --encodings FILE      load and freeze these param encodings (AIMET JSON);\n"
    "                        activations are then calibrated on --calib\n"
    "  --calib SPEC          calibration data (folder of .npy, input_list .txt or\n"
    "                        IDX images); default: the first --calib-limit\n"
    "                        images of --data\n"
    "  --calib-limit N       calibration samples (default 512)\n"
    "  --adaround-limit N    AdaRound samples (default: --calib-limit)\n"
    "  --limit N             evaluate the first N images only\n"
    "  --no-fp32             skip the float model (no 'fp32 top-1' line)\n"
    "  --fp16 OPTYPE|TENSOR, --param-bw, --act-bw, --scheme, --act-scheme,\n"
    "  --percentile, --per-channel, --config, --adaround, --iterations, --seed,\n"
    "  --threads, --batch, --mean, --std  as for qsim quantize\n"
    "Output lines: 'fp32 top-1 ACC (C/N)' and 'quant top-1 ACC (C/N)'.\n"
    "Exit status: 0 ok, 1 runtime error, 2 usage error.\n";

int cli_cmd_eval(int argc, char **argv)
{
    cli_quant_opts o;
    cli_quant_opts_init(&o);
    const char *model = NULL, *enc = NULL, *data = NULL, *labels = NULL, *calib = NULL;
    const char *calib_limit_s = NULL, *ada_limit_s = NULL;
    int no_fp32 = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        }
        int r = cli_parse_quant_opt("eval", argc, argv, &i, &o);
        if (r < 0)
            return CLI_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(a, "--no-fp32") == 0) {
            no_fp32 = 1;
            continue;
        }
        const char **slot = strcmp(a, "--encodings") == 0     ? &enc
                            : strcmp(a, "--data") == 0        ? &data
                            : strcmp(a, "--labels") == 0      ? &labels
                            : strcmp(a, "--calib") == 0       ? &calib
                            : strcmp(a, "--calib-limit") == 0 ? &calib_limit_s
                            : strcmp(a, "--adaround-limit") == 0 ? &ada_limit_s
                                                              : NULL;
        if (slot) {
            if (i + 1 >= argc) {
                fprintf(stderr, "qsim eval: option %s needs a value\n", a);
                return CLI_EXIT_USAGE;
            }
            *slot = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "qsim eval: unknown option '%s' (see qsim eval --help)\n", a);
            return CLI_EXIT_USAGE;
        } else if (model) {
            fprintf(stderr, "qsim eval: more than one model given ('%s', '%s')\n", model, a);
            return CLI_EXIT_USAGE;
        } else {
            model = a;
        }
    }
    size_t calib_limit = 512;
    if (calib_limit_s &&
        cli_parse_size("eval", "--calib-limit", calib_limit_s, 1, (size_t)1 << 40, &calib_limit))
        return CLI_EXIT_USAGE;
    size_t ada_limit = calib_limit;
    if (ada_limit_s &&
        cli_parse_size("eval", "--adaround-limit", ada_limit_s, 1, (size_t)1 << 40, &ada_limit))
        return CLI_EXIT_USAGE;
    if (!model || !data || !labels) {
        fprintf(stderr, "qsim eval: %s is required (see qsim eval --help)\n",
                !model ? "MODEL" : !data ? "--data" : "--labels");
        return CLI_EXIT_USAGE;
    }
    if (o.adaround && !cli_have_adaround()) {
        fprintf(stderr, "qsim eval: --adaround is not available in this build of libqsim\n");
        return CLI_EXIT_USAGE;
    }

    int rc = CLI_EXIT_RUNTIME;
    qsim_model *m = NULL;
    qsim_sim *fp = NULL, *q = NULL;
    cli_dataset test, cal;
    memset(&test, 0, sizeof test);
    memset(&cal, 0, sizeof cal);
    const cli_dataset *calp = &test;
    qsim_status st = qsim_model_load(model, &m);
    if (st != QSIM_OK) {
        cli_report("eval", st);
        goto done;
    }
    if (cli_build_sim("eval", m, &o, &q) != QSIM_OK)
        goto done;
    if (!no_fp32 && cli_build_sim("eval", m, &o, &fp) != QSIM_OK)
        goto done;
    if (fp && (st = cli_set_all_enabled(fp, 0)) != QSIM_OK) {
        cli_report("eval", st);
        goto done;
    }
    if (cli_dataset_load_labeled("eval", m, data, labels, &o, o.limit, &test) != 0)
        goto done;
    if (calib) {
        if (cli_dataset_load("eval", m, calib, &o,
                             ada_limit > calib_limit ? ada_limit : calib_limit, &cal) != 0)
            goto done;
        calp = &cal;
    }
    if (enc && (st = qsim_set_and_freeze_param_encodings(q, enc)) != QSIM_OK) {
        cli_report("eval", st);
        goto done;
    }
    if (o.adaround && (st = cli_adaround(q, calp, &o, ada_limit)) != QSIM_OK) {
        cli_report("eval", st);
        goto done;
    }
    if ((st = cli_calibrate(q, calp, o.batch, calib_limit)) != QSIM_OK) {
        cli_report("eval", st);
        goto done;
    }
    size_t c_fp = 0, c_q = 0;
    cli_progress p;
    double t0 = cli_now();
    if (fp) {
        cli_progress_start(&p, "eval fp32");
        st = cli_top1(fp, &test, o.batch, &p, &c_fp);
        cli_progress_end(&p);
    }
    double t1 = cli_now();
    if (st == QSIM_OK) {
        cli_progress_start(&p, "eval quant");
        st = cli_top1(q, &test, o.batch, &p, &c_q);
        cli_progress_end(&p);
    }
    if (st != QSIM_OK) {
        cli_report("eval", st);
        goto done;
    }
    double t2 = cli_now();
    if (fp)
        printf("fp32 top-1 %.4f (%zu/%zu)  %.1f s\n", (double)c_fp / (double)test.n, c_fp,
               test.n, t1 - t0);
    printf("quant top-1 %.4f (%zu/%zu)  %.1f s\n", (double)c_q / (double)test.n, c_q, test.n,
           t2 - t1);
    rc = CLI_EXIT_OK;
done:
    cli_dataset_free(&test);
    cli_dataset_free(&cal);
    qsim_sim_free(fp);
    qsim_sim_free(q);
    qsim_model_free(m);
    return rc;
}
