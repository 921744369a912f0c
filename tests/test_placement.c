/* Quantizer placement (SPEC 1.2 + 7) against tests/tools/placement_ref.py,
 * an independent Python re-implementation walking the graph with the onnx
 * package: names in order, kinds, enabled flags, op types, symmetry,
 * bitwidths, data types and channel counts must all match. */
#include <qsim/qsim.h>

#include "quant/config_json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "qs_common.h"

#include "quant/quantizer.h"

typedef struct ref_q {
    char name[256], kind[8], op[64], dtype[8];
    int enabled, sym, bw, channels;
} ref_q;

/* Runs the reference; returns the number of quantizers read (<= max). */
static char cfg[700];

static size_t run_ref(const char *model, int per_channel, int pbw, int abw, const char *dtype,
                      const char *custom, ref_q *out, size_t max)
{
    char dir[512], cmd[3000];
    qs_scratch(dir, sizeof dir, "placement");
    snprintf(cfg, sizeof cfg, "%s/config_%d%s.json", dir, per_channel, custom ? "c" : "");
    const char *json = custom ? custom
                       : per_channel ? qsim__config_default_per_channel_json
                                     : qsim__config_default_json;
    assert_int_equal(qs_write_file(cfg, json, strlen(json)), 0);
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/tools/placement_ref.py' '%s' '%s' %d %d %s",
             qs_python(), qs_source_root(), model, cfg, pbw, abw, dtype);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = 0;
    char line[1024];
    while (fgets(line, sizeof line, p)) {
        assert_true(n < max);
        ref_q *r = &out[n];
        int k = sscanf(line, "%255s %7s %d %63s %d %d %7s %d", r->name, r->kind, &r->enabled,
                       r->op, &r->sym, &r->bw, r->dtype, &r->channels);
        assert_int_equal(k, 8);
        if (!strcmp(r->op, "-"))
            r->op[0] = '\0';
        n++;
    }
    assert_int_equal(pclose(p), 0);
    return n;
}

static void compare_cfg(const char *name, int per_channel, int pbw, int abw, int dtype,
                        const char *custom)
{
    char model[700];
    const char *dir = strncmp(name, "resnet", 6) == 0 ? qs_resnet_dir : qs_models_dir;
    char file[300];
    snprintf(file, sizeof file, "%s.onnx", name);
    qs_path(model, sizeof model, dir, file);
    static ref_q ref[4096];
    size_t nref = run_ref(model, per_channel, pbw, abw, dtype ? "float" : "int", custom, ref,
                          4096);

    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(model, &m), QSIM_OK);
    qsim_sim_options *o = NULL;
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_PER_CHANNEL, per_channel), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_DEFAULT_PARAM_BW, pbw), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_DEFAULT_ACTIVATION_BW, abw), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_DEFAULT_DATA_TYPE, dtype), QSIM_OK);
    if (custom)
        assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_CONFIG_FILE, cfg), QSIM_OK);
    qsim_sim *s = NULL;
    qsim_status st = qsim_sim_create(m, o, &s);
    if (st != QSIM_OK)
        fprintf(stderr, "# %s\n", qsim_last_error());
    assert_int_equal(st, QSIM_OK);
    size_t n = qsim_quantizer_count(s);
    printf("# %s (per_channel %d): %zu quantizers, reference %zu\n", name, per_channel, n, nref);
    int bad = 0;
    for (size_t i = 0; i < n || i < nref; i++) {
        if (i >= n || i >= nref) {
            printf("# extra at %zu: %s\n", i, i < n ? qsim_quantizer_name(qsim_quantizer_at(s, i))
                                                    : ref[i].name);
            bad++;
            continue;
        }
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        const ref_q *r = &ref[i];
        int kind = !strcmp(r->kind, "param") ? QSIM_QUANTIZER_PARAM : QSIM_QUANTIZER_ACTIVATION;
        int rdt = !strcmp(r->dtype, "float") ? QSIM_DATA_TYPE_FLOAT : QSIM_DATA_TYPE_INT;
        if (strcmp(qsim_quantizer_name(q), r->name) || (int)qsim_quantizer_get_kind(q) != kind ||
            qsim_quantizer_is_enabled(q) != r->enabled || strcmp(qsim_quantizer_op_type(q), r->op) ||
            q->symmetric + 2 * q->strict != r->sym || qsim_quantizer_get_bitwidth(q) != r->bw ||
            (int)qsim_quantizer_get_data_type(q) != rdt ||
            qsim_quantizer_channel_count(q) != (size_t)r->channels) {
            printf("# %zu: C {%s kind %d en %d op '%s' sym %d bw %d dt %d ch %zu} ref {%s %s en %d "
                   "op '%s' sym %d bw %d %s ch %d}\n",
                   i, qsim_quantizer_name(q), (int)qsim_quantizer_get_kind(q),
                   qsim_quantizer_is_enabled(q), qsim_quantizer_op_type(q),
                   q->symmetric + 2 * q->strict,
                   qsim_quantizer_get_bitwidth(q), (int)qsim_quantizer_get_data_type(q),
                   qsim_quantizer_channel_count(q), r->name, r->kind, r->enabled, r->op, r->sym,
                   r->bw, r->dtype, r->channels);
            bad++;
        }
    }
    /* every name is found by hash lookup */
    for (size_t i = 0; i < n; i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        assert_ptr_equal(qsim_quantizer_find(s, qsim_quantizer_name(q)), q);
    }
    qsim_sim_free(s);
    qsim_sim_options_free(o);
    qsim_model_free(m);
    assert_int_equal(bad, 0);
}

static void compare(const char *name, int per_channel, int pbw, int abw, int dtype)
{
    compare_cfg(name, per_channel, pbw, abw, dtype, NULL);
}

/* A config exercising every section: strict symmetric, per-channel default
 * with an op override, param-type and op-param rules, input quantization,
 * symmetric op rules, a three-op supergroup, model input and output. */
static const char custom_config[] =
    "{\"defaults\": {\"ops\": {\"is_output_quantized\": \"True\", \"is_symmetric\": \"False\"},"
    " \"params\": {\"is_quantized\": \"True\", \"is_symmetric\": \"True\"},"
    " \"strict_symmetric\": \"True\", \"unsigned_symmetric\": \"False\","
    " \"per_channel_quantization\": \"True\"},"
    " \"params\": {\"bias\": {\"is_quantized\": \"True\", \"is_symmetric\": \"False\"}},"
    " \"op_type\": {\"Relu\": {\"is_output_quantized\": \"False\"},"
    "  \"Gemm\": {\"per_channel_quantization\": \"False\", \"params\": {\"weight\": {\"is_symmetric\": \"False\"}}},"
    "  \"Concat\": {\"is_input_quantized\": \"True\", \"is_symmetric\": \"True\"},"
    "  \"Softmax\": {\"encoding_constraints\": {\"min\": 0.0, \"max\": 1.0}}},"
    " \"supergroups\": [{\"op_list\": [\"Conv\", \"Clip\"]},"
    "  {\"op_list\": [\"Gemm\", \"Relu\", \"LayerNormalization\"]}],"
    " \"model_input\": {\"is_input_quantized\": \"True\"},"
    " \"model_output\": {\"is_output_quantized\": \"True\"}}";

static void custom_config_misc(void **state)
{
    (void)state;
    compare_cfg("qs_misc", 0, 8, 8, 0, custom_config);
    compare_cfg("qs_cnn", 0, 8, 8, 0, custom_config);
    compare_cfg("resnet18", 0, 8, 8, 0, custom_config);
}

/* Sigmoid output off and Concat inputs on in the same op_type step: AIMET
 * raises on the conflict; so does libqsim (and so does the reference). */
static void conflicting_config(void **state)
{
    (void)state;
    char dir[512], path[700], model[700];
    static const char conflict[] =
        "{\"defaults\": {\"ops\": {\"is_output_quantized\": \"True\"},"
        " \"params\": {\"is_quantized\": \"True\"}}, \"params\": {},"
        " \"op_type\": {\"Sigmoid\": {\"is_output_quantized\": \"False\"},"
        "  \"Concat\": {\"is_input_quantized\": \"True\"}},"
        " \"supergroups\": [], \"model_input\": {}, \"model_output\": {}}";
    qs_scratch(dir, sizeof dir, "placement");
    snprintf(path, sizeof path, "%s/conflict.json", dir);
    assert_int_equal(qs_write_file(path, conflict, strlen(conflict)), 0);
    qs_path(model, sizeof model, qs_models_dir, "qs_misc.onnx");
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(model, &m), QSIM_OK);
    qsim_sim_options *o = NULL;
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_CONFIG_FILE, path), QSIM_OK);
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, o, &s), QSIM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qsim_last_error(), "conflicting is_quantized settings for quantizer 'sg'"));
    assert_null(s);
    /* a broken config file is a parse error naming the file */
    snprintf(path, sizeof path, "%s/broken.json", dir);
    assert_int_equal(qs_write_file(path, "{\"defaults\": 1}", 15), 0);
    assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_CONFIG_FILE, path), QSIM_OK);
    assert_int_equal(qsim_sim_create(m, o, &s), QSIM_ERR_PARSE);
    assert_non_null(strstr(qsim_last_error(), "quantsim config"));
    qsim_sim_options_free(o);
    qsim_model_free(m);
}

static void cnn_default(void **state) { (void)state; compare("qs_cnn", 0, 8, 8, 0); }
static void cnn_per_channel(void **state) { (void)state; compare("qs_cnn", 1, 4, 16, 0); }
static void cnn_float(void **state) { (void)state; compare("qs_cnn", 0, 8, 8, 1); }
static void misc_default(void **state) { (void)state; compare("qs_misc", 0, 8, 8, 0); }
static void misc_per_channel(void **state) { (void)state; compare("qs_misc", 1, 8, 8, 0); }
static void resnet18_default(void **state) { (void)state; compare("resnet18", 0, 8, 8, 0); }
static void resnet18_per_channel(void **state) { (void)state; compare("resnet18", 1, 4, 8, 0); }

/* Spot checks of facts the reference and the C code could share a wrong
 * reading of: values straight from SPEC 1.2 / 7. */
static void spec_facts(void **state)
{
    (void)state;
    char model[700];
    qs_path(model, sizeof model, qs_models_dir, "qs_cnn.onnx");
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(model, &m), QSIM_OK);
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    struct { const char *name; int kind, enabled; const char *op; } want[] = {
        {"x", QSIM_QUANTIZER_ACTIVATION, 1, ""},           /* model input quantized */
        {"conv1.weight", QSIM_QUANTIZER_PARAM, 1, "Conv"},
        {"conv1.bias", QSIM_QUANTIZER_PARAM, 0, "Conv"},    /* bias off */
        {"c1", QSIM_QUANTIZER_ACTIVATION, 1, "Conv"},       /* no Conv+BN supergroup */
        {"bn1.weight", QSIM_QUANTIZER_PARAM, 1, "BatchNormalization"},
        {"bn1.bias", QSIM_QUANTIZER_PARAM, 0, "BatchNormalization"},
        {"bn1.mean", QSIM_QUANTIZER_PARAM, 1, "BatchNormalization"}, /* type None */
        {"bn1.var", QSIM_QUANTIZER_PARAM, 1, "BatchNormalization"},
        {"conv2.weight", QSIM_QUANTIZER_PARAM, 1, "Conv"},  /* Constant-node weight */
        {"add.const", QSIM_QUANTIZER_ACTIVATION, 1, ""},    /* constant operand */
        {"fc1.weight", QSIM_QUANTIZER_PARAM, 1, "MatMul"},
        {"m", QSIM_QUANTIZER_ACTIVATION, 1, "MatMul"},
        {"mb", QSIM_QUANTIZER_ACTIVATION, 0, "Add"},        /* Add+Relu supergroup */
        {"logits", QSIM_QUANTIZER_ACTIVATION, 1, "Gemm"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        qsim_quantizer *q = qsim_quantizer_find(s, want[i].name);
        if (!q)
            fprintf(stderr, "# %s\n", qsim_last_error());
        assert_non_null(q);
        assert_int_equal(qsim_quantizer_get_kind(q), want[i].kind);
        assert_int_equal(qsim_quantizer_is_enabled(q), want[i].enabled);
        assert_string_equal(qsim_quantizer_op_type(q), want[i].op);
    }
    /* no quantizers: Flatten output, the linear bias, BN output's supergroup partner */
    assert_null(qsim_quantizer_find(s, "f"));
    assert_string_equal(qsim_status_string(QSIM_ERR_NOT_FOUND), "QSIM_ERR_NOT_FOUND");
    assert_non_null(strstr(qsim_last_error(), "'f'"));
    assert_null(qsim_quantizer_find(s, "fc1.bias"));
    assert_null(qsim_quantizer_find(s, "conv1.weigth"));
    assert_non_null(strstr(qsim_last_error(), "closest: 'conv1.weight'"));
    /* Conv+Relu: r1 quantized, the BN output b1 too (BN -> Relu is no supergroup) */
    assert_int_equal(qsim_quantizer_is_enabled(qsim_quantizer_find(s, "b1")), 1);
    assert_int_equal(qsim_quantizer_is_enabled(qsim_quantizer_find(s, "c2")), 1);
    /* params symmetric, activations asymmetric (default config) */
    assert_int_equal(qsim_quantizer_find(s, "conv1.weight")->symmetric, 1);
    assert_int_equal(qsim_quantizer_find(s, "x")->symmetric, 0);
    qsim_sim_free(s);
    qsim_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        qs_models_dir = argv[1];
    if (argc > 2)
        qs_resnet_dir = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_facts),
        cmocka_unit_test(cnn_default),
        cmocka_unit_test(cnn_per_channel),
        cmocka_unit_test(cnn_float),
        cmocka_unit_test(misc_default),
        cmocka_unit_test(misc_per_channel),
        cmocka_unit_test(resnet18_default),
        cmocka_unit_test(resnet18_per_channel),
        cmocka_unit_test(custom_config_misc),
        cmocka_unit_test(conflicting_config),
    };
    return cmocka_run_group_tests_name("placement", tests, NULL, NULL);
}
