/* qsim_export_qdq proven in a real runtime: the QDQ model of the demo CNN
 * and of resnet18 runs in onnxruntime-node (tests/tools/ort_run.js, graph
 * optimizations off) on the same input as qsim_sim_run, and the outputs
 * agree within one step of the output quantizer. The 8-bit model also
 * passes onnx.checker (python3-onnx 1.12, opsets <= 17); the 4/16-bit and
 * FP16 model (opset 21) is checked by onnxruntime only.
 * argv[1]: the folder holding resnet18.onnx (tests/models). */
#include <qsim/qsim.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static const char *models_dir = ".";
static char tmpdir[512];

static void path_of(char *buf, size_t n, const char *dir, const char *file)
{
    int k = snprintf(buf, n, "%s/%s", dir, file);
    assert_true(k > 0 && (size_t)k < n);
}

static uint32_t rng = 12345u;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / 16777216.0f;
}

typedef struct feed {
    const char *input;
    const int64_t *shape;
    size_t rank, numel;
    float *data;
    int batches;
} feed;

static void fill(feed *f)
{
    for (size_t i = 0; i < f->numel; i++)
        f->data[i] = frand() * 2.0f - 0.5f;
}

static qsim_status forward(qsim_sim *s, void *user)
{
    feed *f = user;
    for (int b = 0; b < f->batches; b++) {
        fill(f);
        qsim_status st = qsim_sim_set_input(s, f->input, f->data, f->shape, f->rank);
        if (st == QSIM_OK)
            st = qsim_sim_run(s);
        if (st != QSIM_OK)
            return st;
    }
    return QSIM_OK;
}

static void write_bin(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static void read_bin(const char *path, void *p, size_t n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(p, 1, n, fp), n);
    assert_int_equal(fgetc(fp), EOF);
    fclose(fp);
}

static int run_cmd(const char *cmd)
{
    int r = system(cmd);
    if (r != 0)
        fprintf(stderr, "# command failed (%d): %s\n", r, cmd);
    return r;
}

/* Run `qdq` in onnxruntime on f's data; y gets n floats. */
static void ort_run(const char *qdq, const feed *f, float *y, size_t n)
{
    const char *src = getenv("QSIM_SOURCE_ROOT");
    char in[700], out[700], dims[128] = "", cmd[3000];
    path_of(in, sizeof in, tmpdir, "in.bin");
    path_of(out, sizeof out, tmpdir, "out.bin");
    write_bin(in, f->data, f->numel * sizeof(float));
    for (size_t i = 0; i < f->rank; i++) {
        size_t l = strlen(dims);
        snprintf(dims + l, sizeof dims - l, "%s%lld", i ? "," : "", (long long)f->shape[i]);
    }
    snprintf(cmd, sizeof cmd, "NODE_PATH=/opt/ort/node_modules node '%s/tests/tools/ort_run.js' "
             "'%s' '%s' %s '%s'", src ? src : ".", qdq, in, dims, out);
    assert_int_equal(run_cmd(cmd), 0);
    read_bin(out, y, n * sizeof(float));
}

/* Compare the sim's output with onnxruntime's: every element within one
 * step of the output quantizer; report exact matches and the worst. */
static void compare(qsim_sim *s, const char *qdq, feed *f, const char *out_name,
                    const char *label)
{
    fill(f);
    assert_int_equal(qsim_sim_set_input(s, f->input, f->data, f->shape, f->rank), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    const float *y = NULL;
    const int64_t *shape = NULL;
    size_t rank = 0, n = 1;
    assert_int_equal(qsim_sim_get_output(s, out_name, &y, &shape, &rank), QSIM_OK);
    for (size_t i = 0; i < rank; i++)
        n *= (size_t)shape[i];
    float *r = malloc(n * sizeof *r);
    assert_non_null(r);
    ort_run(qdq, f, r, n);
    qsim_quantizer *oq = qsim_quantizer_find(s, out_name);
    assert_non_null(oq);
    double mn, mx, scale;
    int64_t off;
    assert_int_equal(qsim_quantizer_get_encoding(oq, 0, &mn, &mx, &scale, &off), QSIM_OK);
    size_t exact = 0, one = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)y[i] - (double)r[i]);
        if (d == 0)
            exact++;
        else if (d <= scale * 1.0001)
            one++;
        if (d > worst)
            worst = d;
    }
    printf("# %s: %zu outputs, %zu exact, %zu one step (scale %.6g), worst %.3g steps\n", label,
           n, exact, one, scale, worst / scale);
    assert_true(worst <= scale * 1.0001);
    assert_true(exact + one == n);
    free(r);
}

static void roundtrip(qsim_sim *s, const char *path, feed *f, const char *out_name,
                      const char *label);

static qsim_sim *make_sim(qsim_model *m, int per_channel)
{
    qsim_sim_options *o = NULL;
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_PER_CHANNEL, per_channel), QSIM_OK);
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, o, &s), QSIM_OK);
    qsim_sim_options_free(o);
    return s;
}

static void calibrate(qsim_sim *s, feed *f)
{
    qsim_status st = qsim_compute_encodings(s, forward, f);
    if (st != QSIM_OK)
        fprintf(stderr, "# %s\n", qsim_last_error());
    assert_int_equal(st, QSIM_OK);
}

static void export_to(qsim_sim *s, const char *file, char *path, size_t n)
{
    path_of(path, n, tmpdir, file);
    qsim_status st = qsim_export_qdq(s, path);
    if (st != QSIM_OK)
        fprintf(stderr, "# %s\n", qsim_last_error());
    assert_int_equal(st, QSIM_OK);
}

static void onnx_check(const char *path)
{
    const char *py = getenv("PYTHON3");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import onnx,sys; m=onnx.load(sys.argv[1]); "
             "onnx.checker.check_model(m, full_check=True)' '%s'", py ? py : "/usr/bin/python3",
             path);
    assert_int_equal(run_cmd(cmd), 0);
}

/* What the model must hold (tests/tools/check_qdq_model.py): the pairs
 * counted from the sim's quantizers. */
static void check_structure(qsim_sim *s, const char *path, int opset, const char *zp_types,
                            const char *clip)
{
    size_t n = qsim_quantizer_count(s), nq = 0, nf = 0;
    for (size_t i = 0; i < n; i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        if (!qsim_quantizer_is_enabled(q))
            continue;
        double a, b, c;
        int64_t o;
        if (qsim_quantizer_get_data_type(q) == QSIM_DATA_TYPE_FLOAT)
            nf++;
        else if (qsim_quantizer_get_encoding(q, 0, &a, &b, &c, &o) == QSIM_OK)
            nq++;
    }
    const char *py = getenv("PYTHON3"), *src = getenv("QSIM_SOURCE_ROOT");
    char cmd[1500];
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/tools/check_qdq_model.py' '%s' %d %zu %zu '%s' %s",
             py ? py : "/usr/bin/python3", src ? src : ".", path, opset, nq, nf, zp_types,
             clip ? clip : "");
    assert_int_equal(run_cmd(cmd), 0);
}

static qsim_model *load_cnn(void)
{
    const char *src = getenv("QSIM_SOURCE_ROOT");
    char path[700];
    path_of(path, sizeof path, src ? src : ".", "data/fmnist_cnn.onnx");
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(path, &m), QSIM_OK);
    return m;
}

static const int64_t cnn_shape[4] = {8, 1, 28, 28};

static void test_cnn_int8(void **state)
{
    (void)state;
    for (int pc = 0; pc < 2; pc++) {
        qsim_model *m = load_cnn();
        qsim_sim *s = make_sim(m, pc);
        float x[8 * 28 * 28];
        feed f = {"input", cnn_shape, 4, 8 * 28 * 28, x, 4};
        calibrate(s, &f);
        char path[700];
        export_to(s, pc ? "cnn_int8_pc.onnx" : "cnn_int8.onnx", path, sizeof path);
        onnx_check(path);
        check_structure(s, path, 13, "3,2", NULL);
        f.batches = 1;
        compare(s, path, &f, "logits", pc ? "cnn int8 per-channel" : "cnn int8 per-tensor");
        roundtrip(s, path, &f, "logits", pc ? "cnn int8 per-channel" : "cnn int8 per-tensor");
        qsim_sim_free(s);
        qsim_model_free(m);
    }
}

/* Mixed: 4-bit per-channel weights, a 16-bit activation, an FP16 one, a
 * disabled one (opset 21: int4 and int16 QuantizeLinear). */
static void test_cnn_mixed(void **state)
{
    (void)state;
    qsim_model *m = load_cnn();
    qsim_sim *s = make_sim(m, 1);
    size_t n = qsim_quantizer_count(s), acts = 0;
    for (size_t i = 0; i < n; i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        if (qsim_quantizer_get_kind(q) == QSIM_QUANTIZER_PARAM) {
            if (!strcmp(qsim_quantizer_op_type(q), "Conv") && qsim_quantizer_is_enabled(q) &&
                strstr(qsim_quantizer_name(q), "weight"))
                assert_int_equal(qsim_quantizer_set_bitwidth(q, 4), QSIM_OK);
            continue;
        }
        if (!qsim_quantizer_is_enabled(q) || !strcmp(qsim_quantizer_name(q), "logits"))
            continue;
        if (acts == 1)
            assert_int_equal(qsim_quantizer_set_bitwidth(q, 16), QSIM_OK);
        else if (acts == 2)
            assert_int_equal(qsim_quantizer_set_data_type(q, QSIM_DATA_TYPE_FLOAT), QSIM_OK);
        else if (acts == 3)
            assert_int_equal(qsim_quantizer_set_enabled(q, 0), QSIM_OK);
        acts++;
    }
    float x[8 * 28 * 28];
    feed f = {"input", cnn_shape, 4, 8 * 28 * 28, x, 4};
    calibrate(s, &f);
    char path[700];
    export_to(s, "cnn_mixed.onnx", path, sizeof path);
    check_structure(s, path, 21, "22,4,2", NULL);
    f.batches = 1;
    compare(s, path, &f, "logits", "cnn W4 / A8+A16+FP16 mixed");
    qsim_sim_free(s);
    qsim_model_free(m);
}

static void test_resnet18(void **state)
{
    (void)state;
    char mp[700];
    path_of(mp, sizeof mp, models_dir, "resnet18.onnx");
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(mp, &m), QSIM_OK);
    qsim_sim *s = make_sim(m, 1);
    static const int64_t shape[4] = {1, 3, 224, 224};
    float *x = malloc(3 * 224 * 224 * sizeof *x);
    assert_non_null(x);
    feed f = {"input", shape, 4, 3 * 224 * 224, x, 2};
    calibrate(s, &f);
    char path[700];
    export_to(s, "resnet18_qdq.onnx", path, sizeof path);
    onnx_check(path);
    check_structure(s, path, 13, "3,2", NULL);
    f.batches = 1;
    compare(s, path, &f, "output", "resnet18 int8 per-channel");
    roundtrip(s, path, &f, "output", "resnet18 int8 per-channel");
    free(x);
    qsim_sim_free(s);
    qsim_model_free(m);
}

/* export_qdq -> load -> create_from_qdq: same outputs as the sim it came
 * from; the rebuilt graph has no Q/DQ left (each quantizer's encoding is
 * back, with the scale rounded to float32). */
static void roundtrip(qsim_sim *s, const char *path, feed *f, const char *out_name,
                      const char *label)
{
    qsim_model *qm = NULL;
    assert_int_equal(qsim_model_load(path, &qm), QSIM_OK);
    qsim_sim *r = NULL;
    qsim_status st = qsim_sim_create_from_qdq(qm, NULL, &r);
    if (st != QSIM_OK)
        fprintf(stderr, "# %s\n", qsim_last_error());
    assert_int_equal(st, QSIM_OK);
    qsim_model_free(qm); /* the sim keeps its own float model */
    size_t n = qsim_quantizer_count(s), checked = 0, low = 0;
    for (size_t i = 0; i < n; i++) {
        qsim_quantizer *a = qsim_quantizer_at(s, i);
        qsim_quantizer *b = qsim_quantizer_find(r, qsim_quantizer_name(a));
        assert_non_null(b);
        double mn, mx, sa, sb;
        int64_t oa, ob;
        int has = qsim_quantizer_is_enabled(a) &&
                  qsim_quantizer_get_encoding(a, 0, &mn, &mx, &sa, &oa) == QSIM_OK;
        int fp = qsim_quantizer_is_enabled(a) &&
                 qsim_quantizer_get_data_type(a) == QSIM_DATA_TYPE_FLOAT;
        assert_int_equal(qsim_quantizer_is_enabled(b), has || fp);
        if (!has)
            continue;
        assert_int_equal(qsim_quantizer_channel_count(b), qsim_quantizer_channel_count(a));
        assert_int_equal(qsim_quantizer_get_bitwidth(b), qsim_quantizer_get_bitwidth(a));
        low += qsim_quantizer_get_bitwidth(a) < 8;
        for (size_t c = 0; c < qsim_quantizer_channel_count(a); c++) {
            assert_int_equal(qsim_quantizer_get_encoding(a, c, &mn, &mx, &sa, &oa), QSIM_OK);
            assert_int_equal(qsim_quantizer_get_encoding(b, c, &mn, &mx, &sb, &ob), QSIM_OK);
            assert_true(sb == (double)(float)sa);
            assert_int_equal(ob, oa);
        }
        assert_true(qsim_quantizer_is_frozen(b));
        checked++;
    }
    assert_true(checked > 0);
    fill(f);
    const float *ya = NULL, *yb = NULL;
    const int64_t *shape = NULL;
    size_t rank = 0, numel = 1;
    assert_int_equal(qsim_sim_set_input(s, f->input, f->data, f->shape, f->rank), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    assert_int_equal(qsim_sim_get_output(s, out_name, &ya, &shape, &rank), QSIM_OK);
    for (size_t i = 0; i < rank; i++)
        numel *= (size_t)shape[i];
    float *copy = malloc(numel * sizeof *copy);
    assert_non_null(copy);
    memcpy(copy, ya, numel * sizeof *copy);
    assert_int_equal(qsim_sim_set_input(r, f->input, f->data, f->shape, f->rank), QSIM_OK);
    assert_int_equal(qsim_sim_run(r), QSIM_OK);
    assert_int_equal(qsim_sim_get_output(r, out_name, &yb, &shape, &rank), QSIM_OK);
    size_t same = 0;
    for (size_t i = 0; i < numel; i++)
        same += copy[i] == yb[i];
    printf("# %s round trip: %zu quantizers (%zu below 8 bit), %zu/%zu outputs identical\n",
           label, checked, low, same, numel);
    assert_int_equal(same, numel);
    free(copy);
    qsim_sim_free(r);
}

/* tests/tools/gen_qdq_models.py into tmpdir (once). */
static void gen_qdq_models(void)
{
    static int done;
    if (done)
        return;
    const char *py = getenv("PYTHON3"), *src = getenv("QSIM_SOURCE_ROOT");
    char cmd[1500];
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/tools/gen_qdq_models.py' '%s'",
             py ? py : "/usr/bin/python3", src ? src : ".", tmpdir);
    assert_int_equal(run_cmd(cmd), 0);
    done = 1;
}

static void ort_style_one(const char *file, const char *weight, int wbits, const char *label)
{
    char path[700];
    qsim_model *qm = NULL;
    qsim_sim *s = NULL;
    path_of(path, sizeof path, tmpdir, file);
    assert_int_equal(qsim_model_load(path, &qm), QSIM_OK);
    qsim_status st = qsim_sim_create_from_qdq(qm, NULL, &s);
    if (st != QSIM_OK)
        fprintf(stderr, "# %s\n", qsim_last_error());
    assert_int_equal(st, QSIM_OK);
    qsim_model_free(qm);
    double mn, mx, sc;
    int64_t off;
    qsim_quantizer *q = qsim_quantizer_find(s, "input");
    assert_non_null(q);
    assert_int_equal(qsim_quantizer_get_encoding(q, 0, &mn, &mx, &sc, &off), QSIM_OK);
    assert_true(sc == (double)(2.0f / 255.0f));
    assert_int_equal(off, -64);
    q = qsim_quantizer_find(s, weight);
    assert_non_null(q);
    assert_int_equal(qsim_quantizer_channel_count(q), 4);
    assert_int_equal(qsim_quantizer_get_encoding(q, 3, &mn, &mx, &sc, &off), QSIM_OK);
    assert_int_equal(off, -(1 << (wbits - 1)));
    assert_int_equal(qsim_quantizer_get_bitwidth(q), wbits);
    assert_true(qsim_quantizer_is_frozen(q));
    q = qsim_quantizer_find(s, "output"); /* the pair ending in the graph output */
    assert_non_null(q);
    assert_int_equal(qsim_quantizer_get_encoding(q, 0, &mn, &mx, &sc, &off), QSIM_OK);
    assert_true(sc == (double)0.01f);
    assert_int_equal(off, 0);
    assert_null(qsim_quantizer_find(s, "conv_out_DequantizeLinear_Output"));
    static const int64_t shape[4] = {2, 1, 8, 8};
    float x[2 * 64];
    feed f = {"input", shape, 4, 2 * 64, x, 1};
    compare(s, path, &f, "output", label);
    qsim_sim_free(s);
}

/* A model laid out like onnxruntime's quantizer output
 * (tests/tools/gen_qdq_models.py): the sim made from it agrees with
 * onnxruntime running that same QDQ model. */
static void test_from_ort_style(void **state)
{
    (void)state;
    char path[700];
    gen_qdq_models();
    ort_style_one("ort_qdq.onnx", "conv.weight", 8, "onnxruntime-style QDQ model");
    /* a lone DequantizeLinear on an int initializer: the float weight
     * keeps the initializer's name */
    ort_style_one("ort_qdq_int_weights.onnx", "conv.weight_quantized", 8,
                  "onnxruntime-style, int8 weights + DQ");
    /* the same with int4 weights (opset 21) */
    ort_style_one("ort_qdq_int4_weights.onnx", "conv.weight_quantized", 4,
                  "onnxruntime-style, int4 weights + DQ");
    qsim_model *qm = NULL;
    qsim_sim *s = NULL;
    static const char *const bad[] = {"bad_qdq_scales.onnx", "bad_qdq_int32.onnx"};
    for (size_t i = 0; i < 2; i++) {
        path_of(path, sizeof path, tmpdir, bad[i]);
        assert_int_equal(qsim_model_load(path, &qm), QSIM_OK);
        s = (qsim_sim *)1;
        assert_int_equal(qsim_sim_create_from_qdq(qm, NULL, &s), QSIM_ERR_UNSUPPORTED);
        assert_null(s);
        assert_non_null(strstr(qsim_last_error(), "QuantizeLinear"));
        qsim_model_free(qm);
    }
    assert_int_equal(qsim_sim_create_from_qdq(NULL, NULL, &s), QSIM_ERR_INVALID_ARGUMENT);
}

/* int4/uint4 tensors (tests/tools/gen_qdq_models.py packs them with numpy):
 * initializers with odd counts in raw_data and int32_data, junk in the
 * padding nibble, an int4 Constant node, and QuantizeLinear to int4/uint4
 * saturating at [-8, 7] / [0, 15]. The engine's output must equal
 * onnxruntime's exactly; the model re-written by qsim_export_qdq (int4
 * initializers packed again) runs in onnxruntime with the same result. */
static void test_int4_tensors(void **state)
{
    (void)state;
    gen_qdq_models();
    char path[700], out[700];
    path_of(path, sizeof path, tmpdir, "int4_decode.onnx");
    path_of(out, sizeof out, tmpdir, "int4_decode_rewritten.onnx");
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(path, &m), QSIM_OK);
    /* packed sizes: 5 int4 = 3 bytes twice, 4 one-value zero points, 4 floats */
    assert_int_equal(qsim_model_parameter_bytes(m), 3 + 3 + 4 + 16);
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    for (size_t i = 0; i < qsim_quantizer_count(s); i++)
        assert_int_equal(qsim_quantizer_set_enabled(qsim_quantizer_at(s, i), 0), QSIM_OK);
    static const int64_t shape[1] = {5};
    float x[5] = {-1.0f, -0.2f, 0.12f, 0.33f, 1.0f}, r[25];
    feed f = {"x", shape, 1, 5, x, 0};
    assert_int_equal(qsim_sim_set_input(s, "x", x, shape, 1), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    const float *y = NULL;
    const int64_t *oshape = NULL;
    size_t rank = 0;
    assert_int_equal(qsim_sim_get_output(s, "y", &y, &oshape, &rank), QSIM_OK);
    assert_int_equal(rank, 1);
    assert_int_equal(oshape[0], 25);
    ort_run(path, &f, r, 25);
    for (int i = 0; i < 25; i++)
        if (y[i] != r[i])
            fail_msg("int4 model output %d: engine %g, onnxruntime %g", i, y[i], r[i]);
    /* spot values from the int4 rules themselves: (-8 - -1) * 0.5, and the
     * saturated codes -8 and 15 - 2 at scale 0.05 */
    assert_true(y[0] == -3.5f && y[15] == -8 * 0.05f && y[24] == (float)(13 * 0.05f));
    qsim_status st = qsim_export_qdq(s, out);
    if (st != QSIM_OK)
        fprintf(stderr, "# %s\n", qsim_last_error());
    assert_int_equal(st, QSIM_OK);
    float r2[25];
    ort_run(out, &f, r2, 25);
    assert_memory_equal(r, r2, sizeof r);
    qsim_model *m2 = NULL;
    assert_int_equal(qsim_model_load(out, &m2), QSIM_OK);
    assert_int_equal(qsim_model_parameter_bytes(m2), 3 + 3 + 4 + 16);
    qsim_model_free(m2);
    printf("# int4/uint4 tensors: 25/25 outputs equal to onnxruntime, also after re-export\n");
    qsim_sim_free(s);
    qsim_model_free(m);
}

/* Importing the clip form by hand-made models: with the metadata a grid
 * clip becomes a 4-bit quantizer on the clip's input (offset -1, min/max
 * exactly the bounds) and the Min/Max go; without it the Min/Max are the
 * model's own and stay (the engine then refuses them: it has no Min/Max
 * ops); bounds off the grid, or spanning 7 codes, are refused. */
static void test_clip_import(void **state)
{
    (void)state;
    gen_qdq_models();
    char path[700];
    qsim_model *qm = NULL;
    qsim_sim *s = NULL;
    double mn, mx, sc;
    int64_t off;
    path_of(path, sizeof path, tmpdir, "clip_ok.onnx");
    assert_int_equal(qsim_model_load(path, &qm), QSIM_OK);
    assert_int_equal(qsim_sim_create_from_qdq(qm, NULL, &s), QSIM_OK);
    qsim_model_free(qm);
    qsim_quantizer *q = qsim_quantizer_find(s, "input");
    assert_non_null(q);
    assert_int_equal(qsim_quantizer_get_bitwidth(q), 4);
    assert_int_equal(qsim_quantizer_get_encoding(q, 0, &mn, &mx, &sc, &off), QSIM_OK);
    assert_int_equal(off, -1);
    assert_true(mn == (double)-0.1f && mx == (double)1.4f && sc == (double)0.1f);
    assert_null(qsim_quantizer_find(s, "mx"));
    /* the sim against onnxruntime on the same file: inputs across and
     * beyond the clip */
    static const int64_t shape[2] = {1, 4};
    float x[4] = {-0.5f, 0.26f, 1.33f, 3.0f}, r[4];
    feed f = {"input", shape, 2, 4, x, 0};
    const float *y = NULL;
    const int64_t *oshape = NULL;
    size_t rank = 0;
    assert_int_equal(qsim_sim_set_input(s, "input", x, shape, 2), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    assert_int_equal(qsim_sim_get_output(s, "output", &y, &oshape, &rank), QSIM_OK);
    ort_run(path, &f, r, 4);
    assert_memory_equal(y, r, sizeof r);
    assert_true(y[0] == 0.0f && y[3] == (float)(14 * 0.1f)); /* Relu(-0.1), the 4-bit top */
    qsim_sim_free(s);

    /* no metadata: the Min/Max stay in the float graph, and the engine
     * has no Min/Max ops, so the sim cannot be made */
    path_of(path, sizeof path, tmpdir, "clip_nometa.onnx");
    assert_int_equal(qsim_model_load(path, &qm), QSIM_OK);
    s = (qsim_sim *)1;
    assert_int_equal(qsim_sim_create_from_qdq(qm, NULL, &s), QSIM_ERR_UNSUPPORTED);
    assert_null(s);
    assert_non_null(strstr(qsim_last_error(), "Min (node 'clip_min')"));
    qsim_model_free(qm);

    static const char *const bad[] = {"clip_bad_grid.onnx", "clip_bad_count.onnx"};
    for (int i = 0; i < 2; i++) {
        path_of(path, sizeof path, tmpdir, bad[i]);
        assert_int_equal(qsim_model_load(path, &qm), QSIM_OK);
        s = (qsim_sim *)1;
        assert_int_equal(qsim_sim_create_from_qdq(qm, NULL, &s), QSIM_ERR_UNSUPPORTED);
        assert_null(s);
        assert_non_null(strstr(qsim_last_error(), "not a 2..7-bit grid"));
        qsim_model_free(qm);
    }
}

/* The one systematic difference: at an exact half step onnxruntime's
 * QuantizeLinear rounds half to even, the sim (AIMET's C++ kernel rounds
 * x/scale - offset, i.e. after adding the zero point) half away from
 * zero. Inputs (k + 0.5) * 0.25 for k in [-32, 31]: on the positive half
 * they differ by one step exactly where k is even (16 inputs); the Relu
 * hides the negative half. */
static void test_ties(void **state)
{
    (void)state;
    char path[700];
    gen_qdq_models();
    path_of(path, sizeof path, tmpdir, "tie_qdq.onnx");
    qsim_model *qm = NULL;
    assert_int_equal(qsim_model_load(path, &qm), QSIM_OK);
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create_from_qdq(qm, NULL, &s), QSIM_OK);
    qsim_model_free(qm);
    static const int64_t shape[2] = {1, 64};
    float x[64], r[64];
    for (int i = 0; i < 64; i++)
        x[i] = ((float)(i - 32) + 0.5f) * 0.25f;
    feed f = {"input", shape, 2, 64, x, 0};
    assert_int_equal(qsim_sim_set_input(s, "input", x, shape, 2), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    const float *y = NULL;
    const int64_t *oshape = NULL;
    size_t rank = 0;
    assert_int_equal(qsim_sim_get_output(s, "output", &y, &oshape, &rank), QSIM_OK);
    ort_run(path, &f, r, 64);
    size_t diff = 0, expect = 0;
    for (int i = 0; i < 64; i++) {
        double v = (double)(i - 32) + 0.5;
        double away = v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
        double rne = nearbyint(v); /* default FE_TONEAREST: half to even */
        float ys = (float)(away > 0 ? away * 0.25 : 0.0), yo = (float)(rne > 0 ? rne * 0.25 : 0.0);
        assert_true(y[i] == ys);
        assert_true(r[i] == yo);
        expect += ys != yo;
        diff += y[i] != r[i];
    }
    printf("# ties: %zu of 64 half-step inputs differ by one step (half away vs half even)\n",
           diff);
    assert_int_equal(diff, expect);
    assert_int_equal(diff, 16);
    qsim_sim_free(s);
}

/* Raising the opset: a plain opset-11 model is written at 13 and runs;
 * one whose Squeeze still has the axes attribute is refused. */
static void test_opset(void **state)
{
    (void)state;
    gen_qdq_models();
    static const int64_t shape[4] = {1, 1, 4, 4};
    float x[16];
    for (int k = 0; k < 2; k++) {
        char path[700], out[700];
        path_of(path, sizeof path, tmpdir, k ? "opset11_squeeze.onnx" : "opset11.onnx");
        path_of(out, sizeof out, tmpdir, "opset11_qdq.onnx");
        qsim_model *m = NULL;
        assert_int_equal(qsim_model_load(path, &m), QSIM_OK);
        qsim_sim *s = make_sim(m, 0);
        feed f = {"input", shape, 4, 16, x, 2};
        calibrate(s, &f);
        qsim_status st = qsim_export_qdq(s, out);
        if (k) {
            assert_int_equal(st, QSIM_ERR_UNSUPPORTED);
            assert_non_null(strstr(qsim_last_error(), "Squeeze"));
        } else {
            assert_int_equal(st, QSIM_OK);
            check_structure(s, out, 13, "2", NULL);
            f.batches = 1;
            compare(s, out, &f, "output", "opset 11 model raised to 13");
        }
        qsim_sim_free(s);
        qsim_model_free(m);
    }
}


/* ---- 4-bit (and other low-bit) QDQ ---------------------------------- */

static qsim_sim *make_sim_low(qsim_model *m, int per_channel, const char *low_bit)
{
    qsim_sim_options *o = NULL;
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_PER_CHANNEL, per_channel), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_QDQ_LOW_BIT, low_bit), QSIM_OK);
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, o, &s), QSIM_OK);
    qsim_sim_options_free(o);
    return s;
}

/* Every enabled int param quantizer to bw bits; returns how many. */
static size_t params_to(qsim_sim *s, int bw)
{
    size_t n = qsim_quantizer_count(s), k = 0;
    for (size_t i = 0; i < n; i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        if (qsim_quantizer_get_kind(q) != QSIM_QUANTIZER_PARAM || !qsim_quantizer_is_enabled(q) ||
            qsim_quantizer_get_data_type(q) != QSIM_DATA_TYPE_INT)
            continue;
        assert_int_equal(qsim_quantizer_set_bitwidth(q, bw), QSIM_OK);
        k++;
    }
    return k;
}

/* The QDQ model itself as a plain model (qsim_sim_create, every quantizer
 * off): the engine's own QuantizeLinear/DequantizeLinear (int4/uint4 at
 * opset 21) against onnxruntime running the same file; within one step of
 * the output pair's scale. */
static void plain_run(const char *path, feed *f, const char *out_name, double scale,
                      const char *label)
{
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(path, &m), QSIM_OK);
    qsim_sim *s = NULL;
    qsim_status st = qsim_sim_create(m, NULL, &s);
    if (st != QSIM_OK)
        fprintf(stderr, "# %s\n", qsim_last_error());
    assert_int_equal(st, QSIM_OK);
    for (size_t i = 0; i < qsim_quantizer_count(s); i++)
        assert_int_equal(qsim_quantizer_set_enabled(qsim_quantizer_at(s, i), 0), QSIM_OK);
    fill(f);
    assert_int_equal(qsim_sim_set_input(s, f->input, f->data, f->shape, f->rank), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    const float *y = NULL;
    const int64_t *shape = NULL;
    size_t rank = 0, n = 1;
    assert_int_equal(qsim_sim_get_output(s, out_name, &y, &shape, &rank), QSIM_OK);
    for (size_t i = 0; i < rank; i++)
        n *= (size_t)shape[i];
    float *r = malloc(n * sizeof *r);
    assert_non_null(r);
    ort_run(path, f, r, n);
    size_t exact = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)y[i] - (double)r[i]);
        exact += d == 0;
        worst = d > worst ? d : worst;
    }
    printf("# %s as a plain model (engine Q/DQ ops): %zu outputs, %zu exact, worst %.3g steps\n",
           label, n, exact, worst / scale);
    assert_true(worst <= scale * 1.0001);
    free(r);
    qsim_sim_free(s);
    qsim_model_free(m);
}

static double out_scale(qsim_sim *s, const char *name)
{
    double mn, mx, sc;
    int64_t off;
    qsim_quantizer *q = qsim_quantizer_find(s, name);
    assert_non_null(q);
    assert_int_equal(qsim_quantizer_get_encoding(q, 0, &mn, &mx, &sc, &off), QSIM_OK);
    return sc;
}

/* W4A8 on the demo CNN, per-tensor and per-channel, both ways to write
 * 4 bit: opset-21 int4/uint4 pairs ("int4"), and int8/uint8 pairs behind
 * a clip to the 4-bit range ("clip", opset 13, checked by onnx 1.12's
 * checker; activations at 3, 2 and 7 bits too, and per-channel the
 * logits at 4 bits). Each: onnxruntime agreement,
 * round trip through create_from_qdq (bitwidths and outputs), and the
 * int4 file run as a plain model by the engine. */
static void test_cnn_w4(void **state)
{
    (void)state;
    for (int k = 0; k < 4; k++) {
        int pc = k & 1, clip = k >> 1;
        qsim_model *m = load_cnn();
        qsim_sim *s = make_sim_low(m, pc, clip ? "clip" : "int4");
        size_t n4 = params_to(s, 4);
        assert_true(n4 > 0);
        if (k == 3) { /* the graph output at 4 bits: its clip follows "<t>_fp" */
            assert_int_equal(qsim_quantizer_set_bitwidth(qsim_quantizer_find(s, "logits"), 4),
                             QSIM_OK);
            n4++;
        }
        /* clip: activations at 3, 2 and 7 bits too (no ONNX type at all) */
        static const int low_bw[3] = {3, 2, 7};
        size_t n_low = 0;
        for (size_t i = 0; clip && i < qsim_quantizer_count(s) && n_low < 3; i++) {
            qsim_quantizer *q = qsim_quantizer_at(s, i);
            if (qsim_quantizer_get_kind(q) == QSIM_QUANTIZER_ACTIVATION &&
                qsim_quantizer_is_enabled(q) && strcmp(qsim_quantizer_name(q), "logits") &&
                strcmp(qsim_quantizer_name(q), "input"))
                assert_int_equal(qsim_quantizer_set_bitwidth(q, low_bw[n_low++]), QSIM_OK);
        }
        if (clip)
            assert_int_equal(n_low, 3);
        float x[8 * 28 * 28];
        feed f = {"input", cnn_shape, 4, 8 * 28 * 28, x, 4};
        calibrate(s, &f);
        char path[700], label[100], spec[64], file[32];
        snprintf(label, sizeof label, "cnn W4A8 %s %s", pc ? "per-channel" : "per-tensor",
                 clip ? "clip (opset 13, A2/A3/A7 too)" : "int4 (opset 21)");
        snprintf(file, sizeof file, "cnn_w4_%d.onnx", k);
        export_to(s, file, path, sizeof path);
        if (clip) {
            onnx_check(path);
            snprintf(spec, sizeof spec, "4:%zu,3:1,2:1,7:1", n4);
            check_structure(s, path, 13, "3,2", spec);
        } else {
            check_structure(s, path, 21, "22,2", NULL);
        }
        f.batches = 1;
        compare(s, path, &f, "logits", label);
        roundtrip(s, path, &f, "logits", label);
        if (!clip)
            plain_run(path, &f, "logits", out_scale(s, "logits"), label);
        qsim_sim_free(s);
        qsim_model_free(m);
    }
}

/* Strict symmetric 4-bit weights (AIMET config strict_symmetric): the grid
 * is [-7, 7] steps, which int4 (-8..7) cannot say but the clip form can;
 * the round trip must give offset -7 back and identical outputs. */
static void test_cnn_w4_strict(void **state)
{
    (void)state;
    static const char cfg[] =
        "{\"defaults\": {\"ops\": {\"is_output_quantized\": \"True\"},"
        " \"params\": {\"is_quantized\": \"True\", \"is_symmetric\": \"True\"},"
        " \"strict_symmetric\": \"True\", \"unsigned_symmetric\": \"False\","
        " \"per_channel_quantization\": \"True\"},"
        " \"params\": {}, \"op_type\": {}, \"supergroups\": [],"
        " \"model_input\": {\"is_input_quantized\": \"True\"}, \"model_output\": {}}";
    char cp[700], path[700];
    path_of(cp, sizeof cp, tmpdir, "strict.json");
    write_bin(cp, cfg, sizeof cfg - 1);
    qsim_model *m = load_cnn();
    qsim_sim_options *o = NULL;
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_CONFIG_FILE, cp), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_QDQ_LOW_BIT, "clip"), QSIM_OK);
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, o, &s), QSIM_OK);
    qsim_sim_options_free(o);
    size_t n4 = params_to(s, 4), strict = 0;
    float x[8 * 28 * 28];
    feed f = {"input", cnn_shape, 4, 8 * 28 * 28, x, 4};
    calibrate(s, &f);
    for (size_t i = 0; i < qsim_quantizer_count(s); i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        double mn, mx, sc;
        int64_t off;
        if (qsim_quantizer_get_kind(q) == QSIM_QUANTIZER_PARAM && qsim_quantizer_is_enabled(q) &&
            qsim_quantizer_get_encoding(q, 0, &mn, &mx, &sc, &off) == QSIM_OK)
            strict += off == -7;
    }
    assert_true(strict > 0);
    export_to(s, "cnn_w4_strict_clip.onnx", path, sizeof path);
    onnx_check(path);
    f.batches = 1;
    compare(s, path, &f, "logits", "cnn W4A8 strict symmetric per-channel clip");
    roundtrip(s, path, &f, "logits", "cnn W4A8 strict symmetric per-channel clip");
    printf("# strict symmetric: %zu of %zu 4-bit params at offset -7\n", strict, n4);
    qsim_sim_free(s);
    qsim_model_free(m);
}

/* resnet18 W4A8 per-channel: the int4 export against onnxruntime, round
 * trip, and as a plain model; then the "clip" form (opset 13) of a second
 * sim, which passes onnx.checker and agrees too. */
static void test_resnet18_w4(void **state)
{
    (void)state;
    char mp[700];
    path_of(mp, sizeof mp, models_dir, "resnet18.onnx");
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(mp, &m), QSIM_OK);
    qsim_sim *s = make_sim(m, 1);
    size_t n4 = params_to(s, 4);
    static const int64_t shape[4] = {1, 3, 224, 224};
    float *x = malloc(3 * 224 * 224 * sizeof *x);
    assert_non_null(x);
    feed f = {"input", shape, 4, 3 * 224 * 224, x, 2};
    uint32_t seed = rng;
    calibrate(s, &f);
    char path[700], path2[700];
    export_to(s, "resnet18_w4.onnx", path, sizeof path);
    check_structure(s, path, 21, "22,2", NULL);
    f.batches = 1;
    compare(s, path, &f, "output", "resnet18 W4A8 per-channel int4");
    roundtrip(s, path, &f, "output", "resnet18 W4A8 per-channel int4");
    plain_run(path, &f, "output", out_scale(s, "output"), "resnet18 W4A8 int4");
    /* the clip form (opset 13): a second sim calibrated on the same data,
     * so the same encodings; onnxruntime must give identical outputs for
     * the two files (the clip is exactly int4's saturation) */
    qsim_sim *r = make_sim_low(m, 1, "clip");
    assert_int_equal(params_to(r, 4), n4);
    f.batches = 2;
    uint32_t after = rng;
    rng = seed;
    calibrate(r, &f);
    rng = after;
    f.batches = 1;
    export_to(r, "resnet18_w4_clip.onnx", path2, sizeof path2);
    float *o1 = malloc(1000 * sizeof *o1), *o2 = malloc(1000 * sizeof *o2);
    assert_true(o1 && o2);
    fill(&f);
    ort_run(path, &f, o1, 1000);
    ort_run(path2, &f, o2, 1000);
    assert_memory_equal(o1, o2, 1000 * sizeof *o1);
    printf("# resnet18 W4A8: onnxruntime gives identical outputs for the int4 and clip files\n");
    free(o1);
    free(o2);
    onnx_check(path2);
    char spec[32];
    snprintf(spec, sizeof spec, "4:%zu", n4);
    check_structure(r, path2, 13, "3,2", spec);
    compare(r, path2, &f, "output", "resnet18 W4A8 per-channel clip");
    roundtrip(r, path2, &f, "output", "resnet18 W4A8 per-channel clip");
    free(x);
    qsim_sim_free(r);
    qsim_sim_free(s);
    qsim_model_free(m);
}

static void test_bad_args(void **state)
{
    (void)state;
    assert_int_equal(qsim_export_qdq(NULL, "x.onnx"), QSIM_ERR_INVALID_ARGUMENT);
    qsim_model *m = load_cnn();
    qsim_sim *s = make_sim(m, 0);
    assert_int_equal(qsim_export_qdq(s, NULL), QSIM_ERR_INVALID_ARGUMENT);
    /* 3-bit has no ONNX type */
    qsim_quantizer *q = qsim_quantizer_find(s, "logits");
    assert_non_null(q);
    assert_int_equal(qsim_quantizer_set_bitwidth(q, 3), QSIM_OK);
    float x[8 * 28 * 28];
    feed f = {"input", cnn_shape, 4, 8 * 28 * 28, x, 1};
    calibrate(s, &f);
    char path[700];
    path_of(path, sizeof path, tmpdir, "bad.onnx");
    assert_int_equal(qsim_export_qdq(s, path), QSIM_ERR_UNSUPPORTED);
    assert_non_null(strstr(qsim_last_error(), "logits"));
    assert_int_equal(access(path, F_OK), -1);
    path_of(path, sizeof path, "/nonexistent-dir", "x.onnx");
    assert_int_equal(qsim_quantizer_set_bitwidth(q, 8), QSIM_OK);
    calibrate(s, &f);
    assert_int_equal(qsim_export_qdq(s, path), QSIM_ERR_IO);
    qsim_sim_free(s);
    qsim_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        models_dir = argv[1];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/qsim-qdq-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_cnn_int8),
        cmocka_unit_test(test_cnn_mixed),
        cmocka_unit_test(test_resnet18),
        cmocka_unit_test(test_from_ort_style),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_int4_tensors),
        cmocka_unit_test(test_clip_import),
        cmocka_unit_test(test_opset),
        cmocka_unit_test(test_cnn_w4),
        cmocka_unit_test(test_cnn_w4_strict),
        cmocka_unit_test(test_resnet18_w4),
    };
    if (getenv("QSIM_TEST_FILTER")) /* e.g. "test_cnn*" under valgrind */
        cmocka_set_test_filter(getenv("QSIM_TEST_FILTER"));
    int r = cmocka_run_group_tests_name("qdq_export", tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (getenv("QSIM_QDQ_KEEP")) /* for benchmarks: keep the exported models */
        printf("# kept %s\n", tmpdir);
    else if (system(cmd) != 0)
        r = 1;
    return r;
}
