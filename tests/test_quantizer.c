/* The quantizer handle API: bitwidth/data type rules, frozen refusals,
 * encoding access, bad handles, lookups; param re-QDQ only on change;
 * encoding_constraints fixed ranges (values from SPEC 3.3's Python helper
 * formulas, computed by hand here). */
#include <qsim/qsim.h>

#include "core/alloc.h"
#include "core/error.h"
#include "quant/quantsim.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "qs_common.h"

static qsim_model *load(const char *name)
{
    char path[700], file[100];
    snprintf(file, sizeof file, "%s.onnx", name);
    qs_path(path, sizeof path, qs_models_dir, file);
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(path, &m), QSIM_OK);
    return m;
}

static qsim_status feed_cnn(qsim_sim *s, void *u)
{
    (void)u;
    float x[2 * 64];
    for (int i = 0; i < 128; i++)
        x[i] = (float)((i * 37) % 23) / 7.0f - 1.0f;
    int64_t shape[4] = {2, 1, 8, 8};
    QSIM__TRY(qsim_sim_set_input(s, "x", x, shape, 4));
    return qsim_sim_run(s);
}

static void bitwidth_and_type(void **state)
{
    (void)state;
    qsim_model *m = load("qs_cnn");
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    qsim_quantizer *q = qsim_quantizer_find(s, "c1");
    assert_non_null(q);
    assert_int_equal(qsim_quantizer_get_bitwidth(q), 8);
    assert_int_equal(qsim_quantizer_set_bitwidth(q, 1), QSIM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qsim_last_error(), "'c1'"));
    assert_int_equal(qsim_quantizer_set_bitwidth(q, 33), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_quantizer_get_bitwidth(q), 8);
    assert_int_equal(qsim_quantizer_set_bitwidth(q, 4), QSIM_OK);
    assert_int_equal(qsim_quantizer_get_bitwidth(q), 4);
    assert_int_equal(qsim_quantizer_set_bitwidth(q, 32), QSIM_OK);
    assert_int_equal(qsim_quantizer_set_bitwidth(q, 2), QSIM_OK);

    /* encodings: none before calibration, dropped by set_bitwidth */
    double mn;
    assert_int_equal(qsim_quantizer_get_encoding(q, 0, &mn, NULL, NULL, NULL), QSIM_ERR_STATE);
    assert_int_equal(qsim_compute_encodings(s, feed_cnn, NULL), QSIM_OK);
    int64_t off;
    double mx, sc;
    assert_int_equal(qsim_quantizer_get_encoding(q, 0, &mn, &mx, &sc, &off), QSIM_OK);
    /* a 2-bit asymmetric grid: 3 steps */
    assert_true(fabs((mx - mn) / sc - 3.0) < 1e-9);
    assert_int_equal(qsim_quantizer_get_encoding(q, 1, &mn, NULL, NULL, NULL),
                     QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_quantizer_set_bitwidth(q, 8), QSIM_OK);
    assert_int_equal(qsim_quantizer_get_encoding(q, 0, &mn, NULL, NULL, NULL), QSIM_ERR_STATE);

    /* float: FP16 only, no encodings */
    assert_int_equal(qsim_quantizer_set_data_type(q, (qsim_data_type)7), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_quantizer_set_data_type(q, QSIM_DATA_TYPE_FLOAT), QSIM_OK);
    assert_int_equal(qsim_quantizer_get_data_type(q), QSIM_DATA_TYPE_FLOAT);
    assert_int_equal(qsim_quantizer_get_bitwidth(q), 16);
    assert_int_equal(qsim_quantizer_set_bitwidth(q, 8), QSIM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qsim_last_error(), "float"));
    assert_int_equal(qsim_quantizer_set_bitwidth(q, 16), QSIM_OK);
    assert_int_equal(qsim_compute_encodings(s, feed_cnn, NULL), QSIM_OK);
    assert_int_equal(qsim_quantizer_get_encoding(q, 0, &mn, NULL, NULL, NULL), QSIM_ERR_STATE);
    assert_int_equal(qsim_quantizer_set_data_type(q, QSIM_DATA_TYPE_INT), QSIM_OK);
    assert_int_equal(qsim_quantizer_get_bitwidth(q), 16);

    /* enabled */
    assert_int_equal(qsim_quantizer_set_enabled(q, 0), QSIM_OK);
    assert_int_equal(qsim_quantizer_is_enabled(q), 0);
    assert_int_equal(qsim_quantizer_set_enabled(q, 5), QSIM_OK);
    assert_int_equal(qsim_quantizer_is_enabled(q), 1);
    assert_int_equal(qsim_quantizer_is_frozen(q), 0);
    qsim_sim_free(s);
    qsim_model_free(m);
}

static void bad_handles(void **state)
{
    (void)state;
    assert_int_equal(qsim_quantizer_count(NULL), 0);
    assert_null(qsim_quantizer_at(NULL, 0));
    assert_null(qsim_quantizer_find(NULL, "x"));
    assert_int_equal(qsim_quantizer_set_bitwidth(NULL, 8), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_quantizer_set_data_type(NULL, QSIM_DATA_TYPE_INT),
                     QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_quantizer_set_enabled(NULL, 1), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_quantizer_get_encoding(NULL, 0, NULL, NULL, NULL, NULL),
                     QSIM_ERR_INVALID_ARGUMENT);
    assert_null(qsim_quantizer_name(NULL));
    assert_null(qsim_quantizer_op_type(NULL));
    assert_int_equal(qsim_quantizer_get_bitwidth(NULL), 0);
    assert_int_equal(qsim_quantizer_is_enabled(NULL), 0);
    assert_int_equal(qsim_quantizer_channel_count(NULL), 0);
    assert_int_equal(qsim_compute_encodings(NULL, feed_cnn, NULL), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_export(NULL, "/tmp", "x"), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_set_and_freeze_param_encodings(NULL, "x"), QSIM_ERR_INVALID_ARGUMENT);

    qsim_model *m = load("qs_cnn");
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    size_t n = qsim_quantizer_count(s);
    assert_int_equal(n, 22);
    assert_null(qsim_quantizer_at(s, n));
    assert_non_null(strstr(qsim_last_error(), "out of range"));
    assert_null(qsim_quantizer_find(s, NULL));
    assert_null(qsim_quantizer_find(s, "bn1.varr"));
    assert_non_null(strstr(qsim_last_error(), "closest: 'bn1.var'"));
    assert_int_equal(qsim_compute_encodings(s, NULL, NULL), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_export(s, NULL, "x"), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_export(s, "/tmp", "a/b"), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_compute_encodings(s, feed_cnn, NULL), QSIM_OK);
    assert_int_equal(qsim_export(s, "/nonexistent-dir-qsim", "x"), QSIM_ERR_IO);
    qsim_sim_free(s);
    qsim_model_free(m);
}

static qsim_status failing_feed(qsim_sim *s, void *u)
{
    (void)s;
    (void)u;
    return qsim__fail(QSIM_ERR_IO, "dataset missing");
}

static void callback_failure(void **state)
{
    (void)state;
    qsim_model *m = load("qs_cnn");
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    assert_int_equal(qsim_compute_encodings(s, failing_feed, NULL), QSIM_ERR_IO);
    assert_non_null(strstr(qsim_last_error(), "dataset missing"));
    /* the sim is usable again */
    assert_int_equal(qsim_compute_encodings(s, feed_cnn, NULL), QSIM_OK);
    qsim_sim_free(s);
    qsim_model_free(m);
}

/* The QDQ'd weight (and the conv's packed copy) is re-made only when the
 * quantizer changed: unchanged runs keep the plan. */
static void param_requant_only_on_change(void **state)
{
    (void)state;
    qsim_model *m = load("qs_cnn");
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    assert_int_equal(qsim_compute_encodings(s, feed_cnn, NULL), QSIM_OK);
    assert_int_equal(feed_cnn(s, NULL), QSIM_OK);
    qsim_quantizer *w = qsim_quantizer_find(s, "conv1.weight");
    uint64_t applied = w->applied_version;
    const qsim__tensor *c = s->const_override[w->value];
    assert_non_null(c); /* the engine holds a QDQ'd copy */
    float y0[20];
    const float *y;
    const int64_t *shape;
    size_t rank;
    assert_int_equal(qsim_sim_get_output(s, "logits", &y, &shape, &rank), QSIM_OK);
    memcpy(y0, y, sizeof y0);
    assert_int_equal(feed_cnn(s, NULL), QSIM_OK);
    assert_int_equal(w->applied_version, applied);
    assert_ptr_equal(s->const_override[w->value], c);
    /* a no-op change bumps nothing */
    assert_int_equal(qsim_quantizer_set_enabled(w, 1), QSIM_OK);
    assert_int_equal(feed_cnn(s, NULL), QSIM_OK);
    assert_ptr_equal(s->const_override[w->value], c);
    /* a real change re-quantizes: 2-bit weights change the output */
    assert_int_equal(qsim_quantizer_set_bitwidth(w, 2), QSIM_OK);
    assert_int_equal(qsim_compute_encodings(s, feed_cnn, NULL), QSIM_OK);
    assert_int_equal(feed_cnn(s, NULL), QSIM_OK);
    assert_int_not_equal(w->applied_version, applied);
    assert_int_equal(qsim_sim_get_output(s, "logits", &y, &shape, &rank), QSIM_OK);
    assert_memory_not_equal(y, y0, sizeof y0);
    /* disabled: the model's own weight again */
    assert_int_equal(qsim_quantizer_set_enabled(w, 0), QSIM_OK);
    assert_int_equal(feed_cnn(s, NULL), QSIM_OK);
    assert_null(s->const_override[w->value]);
    qsim_sim_free(s);
    qsim_model_free(m);
}

static const char constraint_cfg[] =
    "{\"defaults\": {\"ops\": {\"is_output_quantized\": \"True\"},"
    " \"params\": {\"is_quantized\": \"True\", \"is_symmetric\": \"True\"}}, \"params\": {},"
    " \"op_type\": {\"Softmax\": {\"encoding_constraints\": {\"min\": -0.5, \"max\": 1.0}}},"
    " \"supergroups\": [], \"model_input\": {\"is_input_quantized\": \"True\"},"
    " \"model_output\": {}}";

static qsim_status feed_misc(qsim_sim *s, void *u)
{
    (void)u;
    float x[2] = {0.3f, -1.2f};
    int64_t shape[4] = {1, 2, 1, 1};
    QSIM__TRY(qsim_sim_set_input(s, "x", x, shape, 4));
    return qsim_sim_run(s);
}

static void fixed_range(void **state)
{
    (void)state;
    char dir[600], path[800];
    qs_scratch(dir, sizeof dir, "quantizer");
    snprintf(path, sizeof path, "%s/constraints.json", dir);
    assert_int_equal(qs_write_file(path, constraint_cfg, strlen(constraint_cfg)), 0);
    qsim_model *m = load("qs_misc");
    qsim_sim_options *o = NULL;
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_CONFIG_FILE, path), QSIM_OK);
    qsim_sim *s = NULL;
    qsim_status st = qsim_sim_create(m, o, &s);
    if (st != QSIM_OK)
        fprintf(stderr, "# %s\n", qsim_last_error());
    assert_int_equal(st, QSIM_OK);
    assert_int_equal(qsim_compute_encodings(s, feed_misc, NULL), QSIM_OK);
    double mn, mx, sc;
    int64_t off;
    assert_int_equal(qsim_quantizer_get_encoding(qsim_quantizer_find(s, "y"), 0, &mn, &mx, &sc,
                                                 &off), QSIM_OK);
    /* asymmetric [-0.5, 1]: delta = 1.5/255, offset = round-half-even(-0.5/delta)
     * = round(-85) = -85, min = -85*delta, max = min + 255*delta */
    double d = 1.5 / 255.0;
    assert_true(fabs(sc - d) < 1e-15);
    assert_int_equal(off, -85);
    assert_true(fabs(mn - (-85.0 * d)) < 1e-12);
    assert_true(fabs(mx - (-85.0 * d + 255.0 * d)) < 1e-12);
    qsim_sim_free(s);
    qsim_sim_options_free(o);
    qsim_model_free(m);
}

/* Every allocation of create, compute_encodings, export and set_and_freeze
 * failing in turn (one phase at a time): a clean status, no crash, no leak
 * (ASan/valgrind). */
typedef enum { PH_CREATE, PH_CALIB, PH_EXPORT, PH_FREEZE } phase;

static size_t oom_phase(qsim_model *m, const qsim_sim_options *o, phase ph, const char *dir,
                        const char *enc)
{
    qsim_sim *keep = NULL;
    if (ph >= PH_EXPORT) {
        assert_int_equal(qsim_sim_create(m, o, &keep), QSIM_OK);
        assert_int_equal(qsim_compute_encodings(keep, feed_cnn, NULL), QSIM_OK);
    }
    size_t n;
    for (n = 1; n < 100000; n++) {
        qsim_sim *s = keep;
        if (ph == PH_CALIB)
            assert_int_equal(qsim_sim_create(m, o, &s), QSIM_OK);
        qsim__alloc_fail_after(n);
        qsim_status st;
        switch (ph) {
        case PH_CREATE: s = NULL; st = qsim_sim_create(m, o, &s); break;
        case PH_CALIB: st = qsim_compute_encodings(s, feed_cnn, NULL); break;
        case PH_EXPORT: st = qsim_export(s, dir, "oom"); break;
        default: st = qsim_set_and_freeze_param_encodings(s, enc); break;
        }
        qsim__alloc_fail_after(0);
        if (s != keep)
            qsim_sim_free(s);
        if (st == QSIM_OK)
            break;
        assert_int_equal(st, QSIM_ERR_OUT_OF_MEMORY);
        if (ph == PH_FREEZE) /* a failure changes nothing */
            for (size_t i = 0; i < qsim_quantizer_count(keep); i++)
                assert_false(qsim_quantizer_is_frozen(qsim_quantizer_at(keep, i)));
    }
    qsim_sim_free(keep);
    return n - 1;
}

static void out_of_memory(void **state)
{
    (void)state;
    char dir[600], enc[800];
    qs_scratch(dir, sizeof dir, "oom");
    qsim_model *m = load("qs_cnn");
    qsim_sim_options *o = NULL;
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_NUM_THREADS, 1), QSIM_OK);
    {
        qsim_sim *s = NULL;
        assert_int_equal(qsim_sim_create(m, o, &s), QSIM_OK);
        assert_int_equal(qsim_compute_encodings(s, feed_cnn, NULL), QSIM_OK);
        assert_int_equal(qsim_export(s, dir, "ref"), QSIM_OK);
        qsim_sim_free(s);
    }
    snprintf(enc, sizeof enc, "%s/ref.encodings", dir);
    static const char *const names[] = {"create", "compute_encodings", "export", "set_and_freeze"};
    for (int ph = PH_CREATE; ph <= PH_FREEZE; ph++) {
        size_t n = oom_phase(m, o, (phase)ph, dir, enc);
        printf("# %s: %zu allocation failure points\n", names[ph], n);
        assert_true(n > 0);
    }
    qsim_sim_options_free(o);
    qsim_model_free(m);
}

/* Moved weights (AdaRound's hook): used by the forward pass and written by
 * export; the model is untouched. */
static void moved_weights(void **state)
{
    (void)state;
    char dir[600], path[800];
    qs_scratch(dir, sizeof dir, "moved");
    qsim_model *m = load("qs_cnn");
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    assert_int_equal(qsim_compute_encodings(s, feed_cnn, NULL), QSIM_OK);
    qsim_quantizer *w = qsim_quantizer_find(s, "fc2.weight");
    const qsim__tensor *orig = qsim__quant_weight(s, w);
    qsim__tensor *t = qsim__tensor_clone(orig);
    assert_non_null(t);
    for (size_t i = 0; i < t->numel; i++)
        ((float *)t->data)[i] = 0.25f;
    assert_int_equal(qsim__quant_set_weight(s, w, t), QSIM_OK);
    qsim__tensor_free(t);
    assert_int_equal(qsim__quant_param_encodings(s, w), QSIM_OK);
    double mx = 0;
    assert_int_equal(qsim_quantizer_get_encoding(w, 0, NULL, &mx, NULL, NULL), QSIM_OK);
    assert_true(fabs(mx - 0.25) < 1e-12); /* symmetric: absmax 0.25 = 127 steps */
    assert_int_equal(qsim_export(s, dir, "moved"), QSIM_OK);
    snprintf(path, sizeof path, "%s/moved.onnx", dir);
    qsim_model *m2 = NULL;
    assert_int_equal(qsim_model_load(path, &m2), QSIM_OK);
    int32_t v = qsim__graph_find(&m2->graph, "fc2.weight");
    assert_true(v >= 0);
    const float *d = m2->graph.values[v].constant->data;
    assert_true(d[0] == 0.25f && d[159] == 0.25f);
    assert_true(((const float *)m->graph.values[w->value].constant->data)[0] != 0.25f);
    qsim_model_free(m2);
    qsim_sim_free(s);
    qsim_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        qs_models_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bitwidth_and_type),
        cmocka_unit_test(bad_handles),
        cmocka_unit_test(callback_failure),
        cmocka_unit_test(param_requant_only_on_change),
        cmocka_unit_test(fixed_range),
        cmocka_unit_test(out_of_memory),
        cmocka_unit_test(moved_weights),
    };
    return cmocka_run_group_tests_name("quantizer", tests, NULL, NULL);
}
