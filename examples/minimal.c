/* minimal: load an ONNX model, build a quantization sim with the default
 * options (W8A8, min-max), run one input and print the output.
 *
 *   minimal [MODEL]      (default: the bundled fmnist_cnn.onnx)
 *
 * Without compute_encodings the quantizers have no encodings yet and pass
 * data through, so this is the FP32 result. Uses only <qsim/qsim.h>. */
#include <qsim/qsim.h>

#include <stdio.h>
#include <stdlib.h>

#ifndef QSIM_DATA_DIR
#define QSIM_DATA_DIR "data"
#endif

static int fail(const char *what, qsim_status st)
{
    fprintf(stderr, "minimal: %s: %s: %s\n", what, qsim_status_string(st), qsim_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : QSIM_DATA_DIR "/fmnist_cnn.onnx";
    qsim_model *m = NULL;
    qsim_sim *s = NULL;
    float *x = NULL;
    int rc = 1;
    qsim_status st = qsim_model_load(path, &m);
    if (st != QSIM_OK) {
        rc = fail(path, st);
        goto done;
    }
    st = qsim_sim_create(m, NULL, &s); /* NULL options = defaults */
    if (st != QSIM_OK) {
        rc = fail("qsim_sim_create", st);
        goto done;
    }

    /* Shape of the first input; symbolic dims (the batch) become 1. */
    const char *in = qsim_model_input_name(m, 0);
    int32_t type = 0;
    int64_t rank = 0, dims[8];
    st = qsim_model_tensor_info(m, in, &type, &rank, dims, 8);
    if (st != QSIM_OK) {
        rc = fail(in, st);
        goto done;
    }
    if (rank < 0) {
        fprintf(stderr, "minimal: input '%s' has no shape in the model\n", in);
        goto done;
    }
    size_t n = 1;
    for (int64_t d = 0; d < rank; d++) {
        if (dims[d] <= 0)
            dims[d] = 1;
        n *= (size_t)dims[d];
    }
    x = malloc(n * sizeof *x);
    if (!x) {
        fprintf(stderr, "minimal: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < n; i++) /* a ramp from -1 to 1 */
        x[i] = n > 1 ? -1.0f + 2.0f * (float)i / (float)(n - 1) : 0.0f;

    if ((st = qsim_sim_set_input(s, in, x, dims, (size_t)rank)) != QSIM_OK ||
        (st = qsim_sim_run(s)) != QSIM_OK) {
        rc = fail("run", st);
        goto done;
    }
    const char *out = qsim_model_output_name(m, 0);
    const float *y = NULL;
    const int64_t *shape = NULL;
    size_t orank = 0, count = 1;
    st = qsim_sim_get_output(s, out, &y, &shape, &orank);
    if (st != QSIM_OK) {
        rc = fail(out, st);
        goto done;
    }
    printf("%s: shape [", out);
    for (size_t d = 0; d < orank; d++) {
        printf("%s%lld", d ? ", " : "", (long long)shape[d]);
        count *= (size_t)shape[d];
    }
    printf("]\n");
    for (size_t i = 0; i < count; i++)
        printf("  [%zu] %.6f\n", i, (double)y[i]);
    rc = 0;
done:
    free(x);
    qsim_sim_free(s);
    qsim_model_free(m);
    return rc;
}
