/* qsim demo [--fast]: the README's walk-through on data/fmnist_cnn.onnx and
 * the Fashion-MNIST test set: FP32, W8A8, W4A8 round-to-nearest, W4A8
 * AdaRound, and mixed precision (BatchNormalization FP16, Conv/Gemm W4A8
 * AdaRound), with top-1 and wall time per row. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: qsim demo [--fast] [--model FILE] [--data-dir DIR] [--threads N]\n"
    "Quantize the bundled Fashion-MNIST CNN in several ways and print the\n"
    "top-1 accuracy and wall time of each on the test set.\n"
    "  --fast          2,000 test images, fewer calibration/AdaRound samples\n"
    "  --model FILE    model (default: fmnist_cnn.onnx from the data folder)\n"
    "  --data-dir DIR  Fashion-MNIST IDX files (default\n"
    "                  /usr/share/datasets/fashion-mnist)\n"
    "  --iterations N  AdaRound steps per layer\n"
    "Exit status: 0 ok, 1 runtime error, 2 usage error.\n";

typedef struct demo_row {
    const char *name;
    int param_bw;
    int disabled;      /* FP32: every quantizer off */
    int adaround;
    int bn_fp16;
} demo_row;

typedef struct demo_ctx {
    const qsim_model *m;
    const cli_dataset *test, *calib;
    size_t calib_n, ada_n;
    int threads, iterations;
} demo_ctx;

static qsim_status run_row(const demo_ctx *c, const demo_row *r, size_t *correct)
{
    cli_quant_opts o;
    cli_quant_opts_init(&o);
    o.param_bw = r->param_bw;
    o.act_bw = 8;
    o.threads = c->threads;
    o.iterations = c->iterations;
    if (r->bn_fp16)
        o.fp16[o.n_fp16++] = "BatchNormalization";
    qsim_sim *s = NULL;
    qsim_status st = cli_build_sim("demo", c->m, &o, &s);
    if (st != QSIM_OK)
        return st;
    if (r->disabled)
        st = cli_set_all_enabled(s, 0);
    if (st == QSIM_OK && r->adaround)
        st = cli_adaround(s, c->calib, &o, c->ada_n);
    if (st == QSIM_OK && !r->disabled)
        st = cli_calibrate(s, c->calib, o.batch, c->calib_n);
    if (st == QSIM_OK) {
        cli_progress p;
        cli_progress_start(&p, r->name);
        st = cli_top1(s, c->test, 250, &p, correct);
        cli_progress_end(&p);
    }
    if (st != QSIM_OK)
        cli_report("demo", st);
    qsim_sim_free(s);
    return st;
}

int cli_cmd_demo(int argc, char **argv)
{
    int fast = 0, threads = -1, iterations = 0;
    const char *model = NULL, *dir = "/usr/share/datasets/fashion-mnist";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        size_t v = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--fast") == 0) {
            fast = 1;
        } else if ((strcmp(a, "--model") == 0 || strcmp(a, "--data-dir") == 0 ||
                    strcmp(a, "--threads") == 0 || strcmp(a, "--iterations") == 0)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "qsim demo: option %s needs a value\n", a);
                return CLI_EXIT_USAGE;
            }
            const char *val = argv[++i];
            if (a[2] == 'm')
                model = val;
            else if (a[2] == 'd')
                dir = val;
            else if (a[2] == 't') {
                if (cli_parse_size("demo", a, val, 0, 256, &v))
                    return CLI_EXIT_USAGE;
                threads = (int)v;
            } else {
                if (cli_parse_size("demo", a, val, 1, 100000000, &v))
                    return CLI_EXIT_USAGE;
                iterations = (int)v;
            }
        } else {
            fprintf(stderr, "qsim demo: unexpected argument '%s' (see qsim demo --help)\n", a);
            return CLI_EXIT_USAGE;
        }
    }
    char model_buf[4096];
    if (!model) {
        const char *found = cli_find_data("fmnist_cnn.onnx");
        if (!found) {
            fprintf(stderr, "qsim demo: fmnist_cnn.onnx not found in the data folders; use "
                            "--model FILE\n");
            return CLI_EXIT_RUNTIME;
        }
        snprintf(model_buf, sizeof model_buf, "%s", found);
        model = model_buf;
    }
    char train_img[4096], test_img[4096], test_lab[4096];
    snprintf(train_img, sizeof train_img, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(test_img, sizeof test_img, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(test_lab, sizeof test_lab, "%s/t10k-labels-idx1-ubyte.gz", dir);

    int rc = CLI_EXIT_RUNTIME;
    qsim_model *m = NULL;
    cli_dataset test, calib;
    memset(&test, 0, sizeof test);
    memset(&calib, 0, sizeof calib);
    cli_quant_opts o;
    cli_quant_opts_init(&o);
    demo_ctx c = {0};
    c.calib_n = fast ? 256 : 512;
    c.ada_n = fast ? 512 : 1024;
    c.threads = threads;
    c.iterations = iterations ? iterations : fast ? 500 : 2000;
    size_t n_test = fast ? 2000 : 0;
    qsim_status st = qsim_model_load(model, &m);
    if (st != QSIM_OK) {
        cli_report("demo", st);
        goto done;
    }
    if (cli_dataset_load_labeled("demo", m, test_img, test_lab, &o, n_test, &test) != 0 ||
        cli_dataset_load("demo", m, train_img, &o, c.ada_n > c.calib_n ? c.ada_n : c.calib_n,
                         &calib) != 0)
        goto done;
    c.m = m;
    c.test = &test;
    c.calib = &calib;
    printf("model %s\ntest images %zu, calibration %zu train images, AdaRound %zu images x %d "
           "iterations\n\n",
           model, test.n, c.calib_n, c.ada_n, c.iterations);
    printf("%-44s %8s %10s\n", "configuration", "top-1", "time");
    static const demo_row rows[] = {
        {"FP32 (quantizers disabled)", 8, 1, 0, 0},
        {"W8A8 round-to-nearest", 8, 0, 0, 0},
        {"W4A8 round-to-nearest", 4, 0, 0, 0},
        {"W4A8 AdaRound", 4, 0, 1, 0},
        {"mixed: BN FP16, Conv/Gemm W4A8 AdaRound", 4, 0, 1, 1},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        if (rows[k].adaround && !cli_have_adaround()) {
            printf("%-44s %8s %10s\n", rows[k].name, "n/a", "(AdaRound not available in this "
                                                          "build)");
            continue;
        }
        size_t correct = 0;
        double t0 = cli_now();
        if (run_row(&c, &rows[k], &correct) != QSIM_OK)
            goto done;
        printf("%-44s %8.4f %9.1fs\n", rows[k].name, (double)correct / (double)test.n,
               cli_now() - t0);
        fflush(stdout);
    }
    rc = CLI_EXIT_OK;
done:
    cli_dataset_free(&test);
    cli_dataset_free(&calib);
    qsim_model_free(m);
    return rc;
}
