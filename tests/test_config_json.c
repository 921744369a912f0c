/* The quantsim config JSON: schema validation (data-driven cases), the
 * built-in default configs checked against SPEC 7's description, lookups,
 * allocation failures. */
#include "core/alloc.h"
#include "quant/config_json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_cases.h"

static void valid_case(const char *dir, const char *name, void *user)
{
    (void)user;
    char path[8192], exp_path[8192];
    snprintf(path, sizeof path, "%s/input.json", dir);
    snprintf(exp_path, sizeof exp_path, "%s/expected", dir);
    char *want = tc_read_text(exp_path);
    assert_non_null(want);
    qsim__config *c = NULL;
    qsim_status st = qsim__config_load(path, &c);
    if (st != QSIM_OK)
        fail_msg("valid/%s: %s: %s", name, qsim_status_string(st), qsim_last_error());
    char got[128];
    snprintf(got, sizeof got, "ops=%zu params=%zu supergroups=%zu kernels=%zu\n", c->op_count,
             c->param_count, c->supergroup_count, c->kernel_count);
    if (strcmp(got, want) != 0)
        fail_msg("valid/%s: got %s want %s", name, got, want);
    qsim__config_free(c);
    free(want);
}

static void invalid_case(const char *dir, const char *name, void *user)
{
    (void)user;
    char path[8192];
    snprintf(path, sizeof path, "%s/input.json", dir);
    qsim__config *c = NULL;
    qsim_status st = qsim__config_load(path, &c);
    tc_expect_error(dir, name, path, st);
    assert_null(c);
}

static void data_driven_cases(void **state)
{
    (void)state;
    assert_true(tc_for_each_case("config/valid", valid_case, NULL) >= 2);
    assert_true(tc_for_each_case("config/invalid", invalid_case, NULL) >= 30);
}

/* Everything the "full" case sets, read back field by field. */
static void full_case_fields(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/config/valid/full/input.json",
             getenv("QSIM_SOURCE_ROOT"));
    qsim__config *c = NULL;
    if (qsim__config_load(path, &c) != QSIM_OK)
        fail_msg("%s", qsim_last_error());
    assert_int_equal(c->ops_is_output_quantized, QSIM__CFG_TRUE);
    assert_int_equal(c->ops_is_symmetric, QSIM__CFG_FALSE);
    assert_int_equal(c->params_is_quantized, QSIM__CFG_TRUE);
    assert_int_equal(c->params_is_symmetric, QSIM__CFG_TRUE);
    assert_int_equal(c->strict_symmetric, QSIM__CFG_FALSE);
    assert_int_equal(c->unsigned_symmetric, QSIM__CFG_TRUE);
    assert_int_equal(c->per_channel_quantization, QSIM__CFG_TRUE);
    assert_string_equal(c->hw_version, "V73");
    assert_int_equal(c->kernel_count, 2);
    assert_int_equal(c->kernels[1].activation_dtype, QSIM__CFG_DTYPE_FLOAT);
    assert_int_equal(c->kernels[1].param_bitwidth, 16);
    const qsim__cfg_param_rule *bias = qsim__config_find_param(c, "bias");
    assert_non_null(bias);
    assert_int_equal(bias->is_quantized, QSIM__CFG_FALSE);
    assert_int_equal(bias->is_symmetric, QSIM__CFG_UNSET);
    assert_null(qsim__config_find_param(c, "running_mean"));

    const qsim__cfg_op_rule *conv = qsim__config_find_op(c, "Conv");
    assert_non_null(conv);
    assert_int_equal(conv->per_channel_quantization, QSIM__CFG_TRUE);
    assert_int_equal(conv->is_output_quantized, QSIM__CFG_UNSET);
    assert_int_equal(conv->kernel_count, 1);
    assert_int_equal(conv->kernels[0].activation_bitwidth, 16);
    assert_int_equal(conv->kernels[0].param_bitwidth, 8); /* written as 8.0 */
    const qsim__cfg_param_rule *cb = qsim__cfg_op_find_param(conv, "bias");
    assert_non_null(cb);
    assert_int_equal(cb->is_quantized, QSIM__CFG_TRUE);
    assert_int_equal(cb->is_symmetric, QSIM__CFG_FALSE);
    assert_null(qsim__cfg_op_find_param(conv, "weight"));

    const qsim__cfg_op_rule *sm = qsim__config_find_op(c, "Softmax");
    assert_true(sm->has_encoding_constraints);
    assert_true(sm->constraint_min == 0.0 && sm->constraint_max == 1.0);
    const qsim__cfg_op_rule *cat = qsim__config_find_op(c, "Concat");
    assert_int_equal(cat->is_input_quantized, QSIM__CFG_TRUE);
    assert_int_equal(cat->is_output_quantized, QSIM__CFG_FALSE);
    assert_int_equal(cat->is_symmetric, QSIM__CFG_TRUE);
    assert_false(cat->has_encoding_constraints);
    assert_null(qsim__config_find_op(c, "conv")); /* op types are case-sensitive */

    assert_int_equal(c->supergroup_count, 2);
    assert_int_equal(c->supergroups[1].count, 3);
    assert_string_equal(c->supergroups[1].op_list[1], "BatchNormalization");
    assert_int_equal(c->model_input_is_input_quantized, QSIM__CFG_TRUE);
    assert_int_equal(c->model_output_is_output_quantized, QSIM__CFG_TRUE);
    qsim__config_free(c);
    qsim__config_free(NULL);
}

/* The built-in default config against SPEC 7's list. */
static void default_configs(void **state)
{
    (void)state;
    for (int pcq = 0; pcq < 2; pcq++) {
        qsim__config *c = NULL;
        if (qsim__config_default(pcq, &c) != QSIM_OK)
            fail_msg("default %d: %s", pcq, qsim_last_error());
        assert_int_equal(c->ops_is_output_quantized, QSIM__CFG_TRUE);
        assert_int_equal(c->ops_is_symmetric, QSIM__CFG_UNSET); /* activations asymmetric */
        assert_int_equal(c->params_is_quantized, QSIM__CFG_TRUE);
        assert_int_equal(c->params_is_symmetric, QSIM__CFG_TRUE);
        assert_int_equal(c->strict_symmetric, QSIM__CFG_FALSE);
        assert_int_equal(c->unsigned_symmetric, QSIM__CFG_FALSE);
        assert_int_equal(c->per_channel_quantization, pcq ? QSIM__CFG_TRUE : QSIM__CFG_FALSE);
        assert_null(c->hw_version);
        assert_int_equal(c->kernel_count, 0);
        assert_int_equal(c->param_count, 1);
        assert_int_equal(qsim__config_find_param(c, "bias")->is_quantized, QSIM__CFG_FALSE);
        assert_null(qsim__config_find_param(c, "weight"));
        static const char *const off[] = {"Cast", "Dropout", "Expand", "Squeeze", "Pad", "Mean",
                                          "Gather"};
        for (size_t i = 0; i < 7; i++) {
            const qsim__cfg_op_rule *op = qsim__config_find_op(c, off[i]);
            assert_non_null(op);
            assert_int_equal(op->is_output_quantized, QSIM__CFG_FALSE);
        }
        static const char *const no_pcq[] = {"Gemm", "MatMul", "LayerNormalization"};
        for (size_t i = 0; i < 3; i++) {
            const qsim__cfg_op_rule *op = qsim__config_find_op(c, no_pcq[i]);
            if (pcq) {
                assert_non_null(op);
                assert_int_equal(op->per_channel_quantization, QSIM__CFG_FALSE);
            } else {
                assert_null(op);
            }
        }
        assert_int_equal(c->op_count, pcq ? 10 : 7);
        assert_null(qsim__config_find_op(c, "Conv"));
        static const char *const groups[5][2] = {{"Conv", "Relu"}, {"ConvTranspose", "Relu"},
                                                 {"Conv", "Clip"}, {"Add", "Relu"},
                                                 {"Gemm", "Relu"}};
        assert_int_equal(c->supergroup_count, 5);
        for (size_t i = 0; i < 5; i++) {
            assert_int_equal(c->supergroups[i].count, 2);
            assert_string_equal(c->supergroups[i].op_list[0], groups[i][0]);
            assert_string_equal(c->supergroups[i].op_list[1], groups[i][1]);
        }
        assert_int_equal(c->model_input_is_input_quantized, QSIM__CFG_TRUE);
        assert_int_equal(c->model_output_is_output_quantized, QSIM__CFG_UNSET);
        qsim__config_free(c);
    }
}

/* The embedded text is also valid for Python's json module (a reader
 * other than jansson), and holds only AIMET's string booleans. */
static void default_is_plain_json(void **state)
{
    (void)state;
    const char *py = getenv("PYTHON3");
    if (!py)
        skip();
    const char *texts[] = {qsim__config_default_json, qsim__config_default_per_channel_json};
    for (int i = 0; i < 2; i++) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd,
                 "'%s' -c 'import json,sys; d=json.load(sys.stdin); "
                 "assert sorted(d)==[\"defaults\",\"model_input\",\"model_output\",\"op_type\","
                 "\"params\",\"supergroups\"]; "
                 "s=json.dumps(d); assert \"true\" not in s and \"false\" not in s'",
                 py);
        FILE *p = popen(cmd, "w");
        assert_non_null(p);
        fputs(texts[i], p);
        assert_int_equal(pclose(p), 0);
    }
}

static void oom(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/config/valid/full/input.json",
             getenv("QSIM_SOURCE_ROOT"));
    char *text = tc_read_text(path);
    assert_non_null(text);
    size_t n;
    for (n = 1; n < 100000; n++) {
        qsim__config *c = NULL;
        qsim__alloc_fail_after(n);
        qsim_status st = qsim__config_parse(text, strlen(text), "oom", &c);
        qsim__alloc_fail_after(0);
        if (st == QSIM_OK) {
            assert_int_equal(c->op_count, 4);
            qsim__config_free(c);
            break;
        }
        if (st != QSIM_ERR_OUT_OF_MEMORY)
            fail_msg("allocation %zu failing: %s (%s)", n, qsim_status_string(st),
                     qsim_last_error());
        assert_null(c);
    }
    assert_true(n > 50);
    free(text);
    for (n = 1; n < 100000; n++) {
        qsim__config *c = NULL;
        qsim__alloc_fail_after(n);
        qsim_status st = qsim__config_default(1, &c);
        qsim__alloc_fail_after(0);
        qsim__config_free(c);
        if (st == QSIM_OK)
            break;
        assert_int_equal(st, QSIM_ERR_OUT_OF_MEMORY);
    }
}

static void bad_arguments(void **state)
{
    (void)state;
    qsim__config *c = NULL;
    assert_int_equal(qsim__config_parse(NULL, 5, "x", &c), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim__config_parse("{}", 2, "x", NULL), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim__config_load(NULL, &c), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim__config_load("/nonexistent/config.json", &c), QSIM_ERR_IO);
    assert_non_null(strstr(qsim_last_error(), "/nonexistent/config.json"));
    /* embedded NUL: jansson refuses it without JSON_ALLOW_NUL */
    static const char nul[] = "{\"a\\u0000b\": 1}";
    assert_int_equal(qsim__config_parse(nul, sizeof nul - 1, "x", &c), QSIM_ERR_PARSE);
    assert_null(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(data_driven_cases),
        cmocka_unit_test(full_case_fields),
        cmocka_unit_test(default_configs),
        cmocka_unit_test(default_is_plain_json),
        cmocka_unit_test(oom),
        cmocka_unit_test(bad_arguments),
    };
    return cmocka_run_group_tests_name("config_json", tests, NULL, NULL);
}
