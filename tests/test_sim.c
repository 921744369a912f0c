/* qsim_sim_options and qsim_sim through the public API: every option key and
 * its bounds, and every misuse the engine must report (wrong input name,
 * rank, type or shape, run before inputs, outputs before run, unknown
 * output, unsupported ops in one message), plus outputs that are inputs,
 * initializers or Constant values, and a batch that changes between runs.
 * Models come from tests/tools/gen_engine_models.py in $QSIM_TEST_DATA. */
#include <qsim/qsim.h>

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *model_path(const char *name)
{
    static char buf[1024];
    const char *dir = getenv("QSIM_TEST_DATA");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "data", name);
    return buf;
}

static qsim_model *load(const char *name)
{
    qsim_model *m = NULL;
    qsim_status st = qsim_model_load(model_path(name), &m);
    if (st != QSIM_OK)
        fail_msg("load %s: %s", name, qsim_last_error());
    return m;
}

static void expect_msg(const char *needle)
{
    if (!strstr(qsim_last_error(), needle))
        fail_msg("message '%s' lacks '%s'", qsim_last_error(), needle);
}

/* ---- options ------------------------------------------------------------ */

static void test_options_int_bounds(void **state)
{
    (void)state;
    qsim_sim_options *o = NULL;
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    struct { qsim_option k; int64_t lo, hi; } keys[] = {
        {QSIM_OPT_DEFAULT_PARAM_BW, 2, 32},      {QSIM_OPT_DEFAULT_ACTIVATION_BW, 2, 32},
        {QSIM_OPT_QUANT_SCHEME, 0, 2},           {QSIM_OPT_DEFAULT_DATA_TYPE, 0, 1},
        {QSIM_OPT_NUM_THREADS, 0, 256},          {QSIM_OPT_PER_CHANNEL, 0, 1},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        assert_int_equal(qsim_sim_options_set_int(o, keys[i].k, keys[i].lo), QSIM_OK);
        assert_int_equal(qsim_sim_options_set_int(o, keys[i].k, keys[i].hi), QSIM_OK);
        assert_int_equal(qsim_sim_options_set_int(o, keys[i].k, keys[i].lo - 1),
                         QSIM_ERR_INVALID_ARGUMENT);
        expect_msg("out of bounds");
        assert_int_equal(qsim_sim_options_set_int(o, keys[i].k, keys[i].hi + 1),
                         QSIM_ERR_INVALID_ARGUMENT);
        assert_int_equal(qsim_sim_options_set_int(o, keys[i].k, INT64_MIN),
                         QSIM_ERR_INVALID_ARGUMENT);
        /* an int key is not a string key */
        assert_int_equal(qsim_sim_options_set_string(o, keys[i].k, "8"), QSIM_ERR_INVALID_ARGUMENT);
        expect_msg("integer");
    }
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_DEFAULT_PARAM_BW, 4), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, (qsim_option)12345, 1), QSIM_ERR_INVALID_ARGUMENT);
    expect_msg("unknown option key 12345");
    assert_int_equal(qsim_sim_options_set_int(NULL, QSIM_OPT_NUM_THREADS, 1),
                     QSIM_ERR_INVALID_ARGUMENT);
    qsim_sim_options_free(o);
    qsim_sim_options_free(NULL);
    assert_int_equal(qsim_sim_options_create(NULL), QSIM_ERR_INVALID_ARGUMENT);
}

static void test_options_strings(void **state)
{
    (void)state;
    qsim_sim_options *o = NULL;
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    const char *good_pct[] = {"99.99", "100", "50", "75.5"};
    const char *bad_pct[] = {"49.99", "100.01", "abc", "", "1e2", "-60", "99.9x", " 99"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_PERCENTILE, good_pct[i]), QSIM_OK);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_PERCENTILE, bad_pct[i]),
                         QSIM_ERR_INVALID_ARGUMENT);
        expect_msg("[50, 100]");
    }
    const char *versions[] = {"1.0.0", "0.6.1", "2.0.0"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_ENCODING_VERSION, versions[i]),
                         QSIM_OK);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_ENCODING_VERSION, "1.0"),
                     QSIM_ERR_INVALID_ARGUMENT);
    expect_msg("\"0.6.1\"");
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_KERNELS, "auto"), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_KERNELS, "avx512"),
                     QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_QDQ_LOW_BIT, "clip"), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_QDQ_LOW_BIT, "int4"), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_QDQ_LOW_BIT, "int8"),
                     QSIM_ERR_INVALID_ARGUMENT);
    expect_msg("\"clip\"");
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_QDQ_LOW_BIT, 1),
                     QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_CONFIG_FILE, "/tmp/x.json"), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_CONFIG_FILE, "/tmp/y.json"), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_CONFIG_FILE, ""),
                     QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_CONFIG_FILE, NULL),
                     QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_NUM_THREADS, "2"),
                     QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_PERCENTILE, 99), QSIM_ERR_INVALID_ARGUMENT);
    expect_msg("string");
    assert_int_equal(qsim_sim_options_set_string(NULL, QSIM_OPT_KERNELS, "auto"),
                     QSIM_ERR_INVALID_ARGUMENT);
    /* the options are copied by create: freeing them right after is fine */
    qsim_model *m = load("api_io.onnx");
    qsim_sim *s = NULL;
    /* create reads QSIM_OPT_CONFIG_FILE (quantizer placement): start again
     * from options without the made-up /tmp/y.json set above */
    qsim_sim_options_free(o);
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_NUM_THREADS, 2), QSIM_OK);
    assert_int_equal(qsim_sim_create(m, o, &s), QSIM_OK);
    qsim_sim_options_free(o);
    qsim_sim_free(s);
    qsim_model_free(m);
}

/* ---- sim errors --------------------------------------------------------------- */

static void test_unsupported_listed_once(void **state)
{
    (void)state;
    qsim_model *m = load("api_unsupported.onnx");
    qsim_sim *s = (qsim_sim *)&s; /* must stay untouched on failure */
    qsim_sim *before = s;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_ERR_UNSUPPORTED);
    assert_ptr_equal(s, before);
    expect_msg("unsupported ops: NonMaxSuppression (nodes 'nms1', 'nms2'), TopK (node 'topk1')");
    qsim_model_free(m);
}

static void test_input_errors(void **state)
{
    (void)state;
    qsim_model *m = load("api_io.onnx");
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(NULL, NULL, &s), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_sim_create(m, NULL, NULL), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    float a[6] = {1, -2, 3, -4, 5, -6}, b[6] = {0.5f, 0.5f, 0.5f, 1, 1, 1}, big[24] = {0};
    int64_t idx[2] = {2, 0};
    int64_t s23[2] = {2, 3}, s231[3] = {2, 3, 1}, s24[2] = {2, 4}, s13[2] = {1, 3}, s2[1] = {2};

    assert_int_equal(qsim_sim_set_input(s, "nope", a, s23, 2), QSIM_ERR_NOT_FOUND);
    expect_msg("'nope' is not a model input; inputs are 'a', 'b', 'idx'");
    assert_int_equal(qsim_sim_set_input(s, "a", a, s231, 3), QSIM_ERR_SHAPE);
    expect_msg("input 'a': shape [2,3,1] does not fit the model's [2,3]");
    assert_int_equal(qsim_sim_set_input(s, "a", big, s24, 2), QSIM_ERR_SHAPE);
    expect_msg("[2,4] does not fit the model's [2,3]");
    assert_int_equal(qsim_sim_set_input(s, "b", big, s24, 2), QSIM_ERR_SHAPE);
    expect_msg("the model's [N,3]");
    assert_int_equal(qsim_sim_set_input(s, "idx", a, s2, 1), QSIM_ERR_UNSUPPORTED);
    expect_msg("input 'idx' is int64 in the model");
    assert_int_equal(qsim_sim_set_input_typed(s, "a", 7, idx, s2, 1), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_sim_set_input(s, "a", NULL, s23, 2), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_sim_set_input(s, "a", a, NULL, 2), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_sim_set_input(s, NULL, a, s23, 2), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_sim_set_input(NULL, "a", a, s23, 2), QSIM_ERR_INVALID_ARGUMENT);

    const float *out;
    const int64_t *shape;
    size_t rank;
    assert_int_equal(qsim_sim_get_output(s, "y", &out, &shape, &rank), QSIM_ERR_STATE);
    expect_msg("no successful qsim_sim_run");
    assert_int_equal(qsim_sim_set_input(s, "a", a, s23, 2), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_ERR_STATE);
    expect_msg("input 'b' is not set");
    assert_int_equal(qsim_sim_set_input(s, "b", b, s23, 2), QSIM_OK);
    assert_int_equal(qsim_sim_set_input_typed(s, "idx", 7, idx, s2, 1), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    assert_int_equal(qsim_sim_get_output(s, "nope", &out, &shape, &rank), QSIM_ERR_NOT_FOUND);
    expect_msg("outputs are 'y', 'a', 'c', 'k', 'g'");
    assert_int_equal(qsim_sim_get_output(s, "y", NULL, &shape, &rank), QSIM_ERR_INVALID_ARGUMENT);

    /* y = relu(a + b) */
    assert_int_equal(qsim_sim_get_output(s, "y", &out, &shape, &rank), QSIM_OK);
    assert_int_equal(rank, 2);
    assert_int_equal(shape[0], 2);
    assert_int_equal(shape[1], 3);
    for (int i = 0; i < 6; i++)
        assert_float_equal(out[i], fmaxf(a[i] + b[i], 0.0f), 0.0f);
    /* an output that is a graph input */
    assert_int_equal(qsim_sim_get_output(s, "a", &out, &shape, &rank), QSIM_OK);
    assert_memory_equal(out, a, sizeof a);
    /* an initializer, a Constant node's value */
    assert_int_equal(qsim_sim_get_output(s, "c", &out, &shape, &rank), QSIM_OK);
    for (int i = 0; i < 6; i++)
        assert_float_equal(out[i], (float)i, 0.0f);
    assert_int_equal(qsim_sim_get_output(s, "k", &out, &shape, &rank), QSIM_OK);
    assert_int_equal(rank, 1);
    assert_float_equal(out[0], 7.0f, 0.0f);
    assert_float_equal(out[1], 8.0f, 0.0f);
    /* g = c[:, idx] with idx = [2, 0] */
    assert_int_equal(qsim_sim_get_output(s, "g", &out, &shape, &rank), QSIM_OK);
    float g[4] = {2, 0, 5, 3};
    assert_memory_equal(out, g, sizeof g);
    int32_t dt;
    const void *raw;
    assert_int_equal(qsim_sim_get_output_typed(s, "g", &dt, &raw, &shape, &rank), QSIM_OK);
    assert_int_equal(dt, 1);

    /* new batch for b (N = 1, broadcast over a) and new indices: re-planned */
    assert_int_equal(qsim_sim_set_input(s, "b", b + 3, s13, 2), QSIM_OK);
    assert_int_equal(qsim_sim_get_output(s, "y", &out, &shape, &rank), QSIM_ERR_STATE);
    int64_t idx2[2] = {1, 1};
    assert_int_equal(qsim_sim_set_input_typed(s, "idx", 7, idx2, s2, 1), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    assert_int_equal(qsim_sim_get_output(s, "y", &out, &shape, &rank), QSIM_OK);
    for (int i = 0; i < 6; i++)
        assert_float_equal(out[i], fmaxf(a[i] + 1.0f, 0.0f), 0.0f);
    assert_int_equal(qsim_sim_get_output(s, "g", &out, &shape, &rank), QSIM_OK);
    float g2[4] = {1, 1, 4, 4};
    assert_memory_equal(out, g2, sizeof g2);
    /* an out-of-range index is an error, not a crash */
    int64_t idx3[2] = {3, 0};
    assert_int_equal(qsim_sim_set_input_typed(s, "idx", 7, idx3, s2, 1), QSIM_OK);
    assert_int_not_equal(qsim_sim_run(s), QSIM_OK);
    expect_msg("out of range");
    assert_int_equal(qsim_sim_get_output(s, "y", &out, &shape, &rank), QSIM_ERR_STATE);

    qsim_sim_set_progress(s, NULL, NULL);
    qsim_sim_set_progress(NULL, NULL, NULL);
    qsim_sim_free(s);
    qsim_sim_free(NULL);
    qsim_model_free(m);
}

/* The sim keeps its model alive after qsim_model_free. */
static void test_model_freed_first(void **state)
{
    (void)state;
    qsim_model *m = load("api_chain.onnx");
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    qsim_model_free(m);
    float x[64 * 2];
    for (int i = 0; i < 128; i++)
        x[i] = (float)(i - 64) / 16.0f;
    int64_t shape[2] = {2, 64};
    assert_int_equal(qsim_sim_set_input(s, "x", x, shape, 2), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    const float *y;
    const int64_t *ys;
    size_t rank;
    assert_int_equal(qsim_sim_get_output(s, "y", &y, &ys, &rank), QSIM_OK);
    assert_int_equal(rank, 1);
    assert_int_equal(ys[0], 128);
    /* reference: the chain in double precision */
    for (int i = 0; i < 128; i++) {
        double v = x[i];
        for (int k = 0; k < 40; k++) {
            switch (k % 3) {
            case 0: v = v > 0 ? v : 0; break;
            case 1: v = 1 / (1 + exp(-v)); break;
            default: v = tanh(v); break;
            }
        }
        assert_float_equal(y[i], 2 * v, 1e-5);
    }
    qsim_sim_free(s);
}

/* Shapes that do not fit a node are errors naming the node, and the sim
 * stays usable with shapes that do fit. */
static void test_plan_shape_errors(void **state)
{
    (void)state;
    qsim_model *m = load("api_bad_shapes.onnx");
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    float x[4 * 6] = {0};
    int64_t s24[2] = {2, 4}, s34[2] = {3, 4}, s15[2] = {1, 5};
    /* [2,4] holds 8 values: no [3,-1] */
    assert_int_equal(qsim_sim_set_input(s, "x", x, s24, 2), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_ERR_SHAPE);
    expect_msg("bad_reshape");
    expect_msg("[2,4]");
    /* [1,5] against the model's [N,4] is refused at set_input */
    assert_int_equal(qsim_sim_set_input(s, "x", x, s15, 2), QSIM_ERR_SHAPE);
    /* [3,4] fits: 12 values as [3,4] */
    assert_int_equal(qsim_sim_set_input(s, "x", x, s34, 2), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    const float *y;
    const int64_t *shape;
    size_t rank;
    assert_int_equal(qsim_sim_get_output(s, "y", &y, &shape, &rank), QSIM_OK);
    assert_int_equal(shape[0], 3);
    assert_int_equal(shape[1], 4);
    assert_float_equal(y[11], 1.0f, 0.0f);
    qsim_sim_free(s);
    qsim_model_free(m);
}

/* An omitted ("") node output is computed into scratch space. */
static void test_omitted_output(void **state)
{
    (void)state;
    qsim_model *m = load("api_omitted.onnx");
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i;
    int64_t shape[2] = {2, 6};
    assert_int_equal(qsim_sim_set_input(s, "x", x, shape, 2), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    const float *y;
    const int64_t *ys;
    size_t rank;
    assert_int_equal(qsim_sim_get_output(s, "y", &y, &ys, &rank), QSIM_OK);
    float want[6] = {-0.0f, -1, -2, -6, -7, -8};
    assert_memory_equal(y, want, sizeof want);
    qsim_sim_free(s);
    qsim_model_free(m);
}

/* Two sims on one shared model, in two threads at once, agree with a
 * sequential run bit for bit. */
typedef struct worker {
    const qsim_model *m;
    float out[128];
    int ok;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    qsim_sim *s = NULL;
    float x[128];
    for (int i = 0; i < 128; i++)
        x[i] = (float)(i % 29) / 7.0f - 2.0f;
    int64_t shape[2] = {2, 64};
    const float *y;
    const int64_t *ys;
    size_t rank;
    w->ok = qsim_sim_create(w->m, NULL, &s) == QSIM_OK;
    for (int r = 0; w->ok && r < 20; r++)
        w->ok = qsim_sim_set_input(s, "x", x, shape, 2) == QSIM_OK && qsim_sim_run(s) == QSIM_OK &&
                qsim_sim_get_output(s, "y", &y, &ys, &rank) == QSIM_OK;
    if (w->ok)
        memcpy(w->out, y, sizeof w->out);
    qsim_sim_free(s);
    return NULL;
}

static void test_two_threads(void **state)
{
    (void)state;
    qsim_model *m = load("api_chain.onnx");
    worker ref = {m, {0}, 0}, w[2] = {{m, {0}, 0}, {m, {0}, 0}};
    work(&ref);
    assert_true(ref.ok);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        assert_true(w[i].ok);
        assert_memory_equal(w[i].out, ref.out, sizeof ref.out);
    }
    qsim_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_int_bounds),
        cmocka_unit_test(test_options_strings),
        cmocka_unit_test(test_unsupported_listed_once),
        cmocka_unit_test(test_input_errors),
        cmocka_unit_test(test_model_freed_first),
        cmocka_unit_test(test_plan_shape_errors),
        cmocka_unit_test(test_two_threads),
        cmocka_unit_test(test_omitted_output),
    };
    return cmocka_run_group_tests_name("sim", tests, NULL, NULL);
}
