/* mixed_precision: BatchNormalization in FP16, Conv/Gemm weights 4-bit with
 * AdaRound, activations 8-bit, on the bundled Fashion-MNIST CNN, by two
 * routes, printed side by side with FP32 and W4A8 round-to-nearest:
 *
 *   direct      one sim: BN quantizers to FP16 first, then compute_encodings,
 *               apply_adaround, export(dir, "mixed")
 *   workaround  AIMET's two-sim recipe (see aimet_workflow.c): W4A8 sim,
 *               compute_encodings, apply_adaround, export(dir, "adaround"),
 *               new sim on adaround.onnx, set_and_freeze_param_encodings,
 *               BN to FP16 where not frozen, compute_encodings. The BN
 *               params frozen as int stay int (QSIM_ERR_FROZEN otherwise).
 *
 *   mixed_precision [--out DIR] [--limit N] [--iterations N] [--model FILE]
 *                   [--data-dir DIR]
 */
#define _POSIX_C_SOURCE 200809L
#include "fmnist_example.h"


typedef struct ctx {
    const char *out;
    const ex_data *calib, *test;
    qsim_adaround_params *ap;
} ctx;

/* Direct route: FP16 set before anything is frozen. *s is freed by the caller. */
static qsim_status direct(const ctx *c, const qsim_model *m, qsim_sim **s, size_t *n_fp16)
{
    qsim_status st = ex_make_sim(m, 4, s);
    if (st == QSIM_OK)
        st = ex_bn_to_fp16(*s, n_fp16, NULL); /* nothing is frozen yet */
    if (st == QSIM_OK)
        st = ex_report("compute_encodings", qsim_compute_encodings(*s, ex_forward,
                                                                   (void *)c->calib));
    if (st == QSIM_OK)
        st = ex_report("apply_adaround", qsim_apply_adaround(*s, ex_forward, (void *)c->calib,
                                                             c->ap));
    return st == QSIM_OK ? ex_report("export", qsim_export(*s, c->out, "mixed")) : st;
}

static qsim_status workaround(const ctx *c, const qsim_model *m, qsim_model **m2, qsim_sim **s,
                              size_t *n_int)
{
    qsim_sim *first = NULL;
    char path[4096];
    size_t n_fp16 = 0;
    qsim_status st = ex_make_sim(m, 4, &first);
    if (st == QSIM_OK)
        st = ex_report("compute_encodings", qsim_compute_encodings(first, ex_forward,
                                                                   (void *)c->calib));
    if (st == QSIM_OK)
        st = ex_report("apply_adaround", qsim_apply_adaround(first, ex_forward,
                                                             (void *)c->calib, c->ap));
    if (st == QSIM_OK)
        st = ex_report("export", qsim_export(first, c->out, "adaround"));
    qsim_sim_free(first);
    snprintf(path, sizeof path, "%s/adaround.onnx", c->out);
    if (st == QSIM_OK)
        st = ex_report(path, qsim_model_load(path, m2));
    if (st == QSIM_OK)
        st = ex_make_sim(*m2, 4, s);
    snprintf(path, sizeof path, "%s/adaround.encodings", c->out);
    if (st == QSIM_OK)
        st = ex_report(path, qsim_set_and_freeze_param_encodings(*s, path));
    if (st == QSIM_OK) /* frozen BN quantizers are skipped and counted */
        st = ex_bn_to_fp16(*s, &n_fp16, n_int);
    return st == QSIM_OK ? ex_report("compute_encodings",
                                     qsim_compute_encodings(*s, ex_forward, (void *)c->calib))
                         : st;
}

int main(int argc, char **argv)
{
    ex_args a = {"mixed_precision_out", QSIM_DATA_DIR "/fmnist_cnn.onnx", EX_FMNIST_DIR, 2000, 500};
    int usage = ex_parse_args("mixed_precision", argc, argv, &a);
    if (usage)
        return usage;
    const char *model = a.model, *data_dir = a.data_dir;
    size_t limit = a.limit;
    long iterations = a.iterations;
    ctx c = {a.out, NULL, NULL, NULL};
    int rc = 1;
    ex_data calib = {0}, test = {0};
    qsim_model *m = NULL, *m2 = NULL;
    qsim_sim *s = NULL;
    size_t n_fp16 = 0, n_int = 0;
    double acc[4] = {0};
    c.calib = &calib;
    c.test = &test;
    if (ex_load(data_dir, "train", 256, 0, &calib) || ex_load(data_dir, "t10k", limit, 1, &test) ||
        ex_report(model, qsim_model_load(model, &m)) ||
        ex_report("adaround params", qsim_adaround_params_create(&c.ap)) ||
        ex_report("adaround params", qsim_adaround_params_set_int(
                                         c.ap, QSIM_ADAROUND_NUM_ITERATIONS, iterations)))
        goto done;
    /* FP32: every quantizer disabled. */
    if (ex_make_sim(m, 4, &s))
        goto done;
    for (size_t i = 0; i < qsim_quantizer_count(s); i++)
        if (ex_report("disable", qsim_quantizer_set_enabled(qsim_quantizer_at(s, i), 0)))
            goto done;
    if (ex_report("evaluate", ex_top1(s, &test, &acc[0])))
        goto done;
    qsim_sim_free(s);
    s = NULL;
    /* W4A8 round-to-nearest. */
    if (ex_make_sim(m, 4, &s) ||
        ex_report("compute_encodings", qsim_compute_encodings(s, ex_forward, &calib)) ||
        ex_report("evaluate", ex_top1(s, &test, &acc[1])))
        goto done;
    qsim_sim_free(s);
    s = NULL;
    if (direct(&c, m, &s, &n_fp16) || ex_report("evaluate", ex_top1(s, &test, &acc[2])))
        goto done;
    qsim_sim_free(s);
    s = NULL;
    if (workaround(&c, m, &m2, &s, &n_int) || ex_report("evaluate", ex_top1(s, &test, &acc[3])))
        goto done;

    printf("%zu test images, 256 calibration images, AdaRound %ld iterations\n", test.n,
           iterations);
    printf("%-58s %7s\n", "configuration", "top-1");
    printf("%-58s %7.4f\n", "FP32 (quantizers disabled)", acc[0]);
    printf("%-58s %7.4f\n", "W4A8 round-to-nearest", acc[1]);
    char label[128];
    snprintf(label, sizeof label, "direct: BN FP16 (%zu), W4A8 AdaRound", n_fp16);
    printf("%-58s %7.4f\n", label, acc[2]);
    snprintf(label, sizeof label, "workaround: re-import + freeze, %zu BN frozen stay int", n_int);
    printf("%-58s %7.4f\n", label, acc[3]);
    rc = 0;
done:
    qsim_adaround_params_free(c.ap);
    qsim_sim_free(s);
    qsim_model_free(m2);
    qsim_model_free(m);
    ex_data_free(&calib);
    ex_data_free(&test);
    return rc;
}
