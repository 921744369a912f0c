/* AIMET encodings files: parser (data-driven cases, files written by
 * Python from SPEC's examples), writer (checked by an independent Python
 * schema/number checker), round trips, atomic writes, allocation failures. */
#include "core/alloc.h"
#include "quant/encodings_json.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "json_cases.h"

static char tmpdir[512];

static int setup_tmp(void **state)
{
    (void)state;
    const char *base = getenv("QSIM_TEST_DATA");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s", base ? base : "/tmp");
    mkdir(tmpl, 0755);
    snprintf(tmpl + strlen(tmpl), sizeof tmpl - strlen(tmpl), "/encjson.XXXXXX");
    if (!mkdtemp(tmpl))
        return -1;
    snprintf(tmpdir, sizeof tmpdir, "%.500s", tmpl);
    return 0;
}

static int teardown_tmp(void **state)
{
    (void)state;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' && rm -rf '%s'", tmpdir, tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- data-driven cases ---- */

static void valid_case(const char *dir, const char *name, void *user)
{
    (void)user;
    char path[8192], exp_path[8192];
    snprintf(path, sizeof path, "%s/input.json", dir);
    snprintf(exp_path, sizeof exp_path, "%s/expected", dir);
    char *want = tc_read_text(exp_path);
    assert_non_null(want);
    qsim__encodings *e = NULL;
    qsim_status st = qsim__encodings_load(path, &e);
    if (st != QSIM_OK)
        fail_msg("valid/%s: %s: %s", name, qsim_status_string(st), qsim_last_error());
    char got[128];
    snprintf(got, sizeof got, "version=%s param_only=%d count=%zu\n",
             qsim__enc_version_string(qsim__encodings_version(e)), qsim__encodings_param_only(e),
             qsim__encodings_count(e));
    if (strcmp(got, want) != 0)
        fail_msg("valid/%s: got %s want %s", name, got, want);
    qsim__encodings_free(e);
    free(want);
}

static void invalid_case(const char *dir, const char *name, void *user)
{
    (void)user;
    char path[8192];
    snprintf(path, sizeof path, "%s/input.json", dir);
    qsim__encodings *e = NULL;
    qsim_status st = qsim__encodings_load(path, &e);
    tc_expect_error(dir, name, path, st);
    assert_null(e);
}

static void data_driven_cases(void **state)
{
    (void)state;
    assert_true(tc_for_each_case("encodings/valid", valid_case, NULL) >= 10);
    assert_true(tc_for_each_case("encodings/invalid", invalid_case, NULL) >= 40);
}

/* ---- SPEC examples written by Python's json.dump ---- */

static const char *spec_dir(void)
{
    static char dir[4200];
    static int done;
    if (!done) {
        const char *py = getenv("PYTHON3");
        const char *src = getenv("QSIM_SOURCE_ROOT");
        snprintf(dir, sizeof dir, "%s/spec", tmpdir);
        char cmd[12000];
        snprintf(cmd, sizeof cmd, "'%s' '%s/tests/tools/gen_spec_encodings.py' '%s'",
                 py ? py : "/usr/bin/python3", src ? src : ".", dir);
        if (system(cmd) != 0)
            fail_msg("gen_spec_encodings.py failed");
        done = 1;
    }
    return dir;
}

static qsim__encodings *load_spec(const char *file)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", spec_dir(), file);
    qsim__encodings *e = NULL;
    qsim_status st = qsim__encodings_load(path, &e);
    if (st != QSIM_OK)
        fail_msg("%s: %s", file, qsim_last_error());
    return e;
}

static const qsim__enc_entry *find(const qsim__encodings *e, const char *name)
{
    const qsim__enc_entry *en = qsim__encodings_find(e, name);
    if (!en)
        fail_msg("no entry %s", name);
    return en;
}

/* SPEC 5.2/5.3 worked example: asym int8 on [-1, 3] */
static void check_spec_input(const qsim__enc_entry *in, qsim__enc_section sec)
{
    assert_int_equal(in->section, sec);
    assert_int_equal(in->dtype, QSIM__ENC_DTYPE_INT);
    assert_int_equal(in->bitwidth, 8);
    assert_int_equal(in->is_symmetric, 0);
    assert_int_equal(in->enc_type, QSIM__ENC_PER_TENSOR);
    assert_int_equal(in->channels, 1);
    assert_true(in->scale[0] == 0.015686275);
    assert_int_equal(in->offset[0], -64);
}

static void spec_061(void **state)
{
    (void)state;
    qsim__encodings *e = load_spec("spec_061.encodings");
    assert_int_equal(qsim__encodings_version(e), QSIM__ENC_V0_6_1);
    assert_false(qsim__encodings_param_only(e));
    assert_int_equal(qsim__encodings_count(e), 3);
    const qsim__enc_entry *in = find(e, "input");
    check_spec_input(in, QSIM__ENC_SECTION_ACTIVATION);
    assert_true(in->min[0] == -1.003921569 && in->max[0] == 2.996078431);
    const qsim__enc_entry *bn = find(e, "bn1_out");
    assert_int_equal(bn->dtype, QSIM__ENC_DTYPE_FLOAT);
    assert_int_equal(bn->bitwidth, 16);
    assert_int_equal(bn->channels, 0);
    const qsim__enc_entry *w = find(e, "conv1.weight");
    assert_int_equal(w->section, QSIM__ENC_SECTION_PARAM);
    assert_int_equal(w->is_symmetric, 1);
    assert_int_equal(w->is_strict, 0);
    assert_int_equal(w->is_unsigned, 0);
    assert_true(w->scale[0] == 0.003937008 && w->offset[0] == -128 && w->min[0] == -0.503937008 &&
                w->max[0] == 0.5);
    const qsim__enc_quantizer_args *q = qsim__encodings_quantizer_args(e);
    assert_non_null(q);
    assert_string_equal(q->quant_scheme, "post_training_tf_enhanced");
    assert_int_equal(q->param_bitwidth, 8);
    assert_int_equal(q->activation_bitwidth, 8);
    assert_int_equal(q->is_symmetric, 1);
    assert_int_equal(q->per_channel_quantization, 0);
    assert_int_equal(q->dtype, QSIM__ENC_DTYPE_INT);
    qsim__encodings_free(e);

    e = load_spec("adaround_061.encodings");
    assert_int_equal(qsim__encodings_version(e), QSIM__ENC_V0_6_1);
    assert_true(qsim__encodings_param_only(e));
    assert_int_equal(qsim__encodings_count(e), 1);
    assert_int_equal(find(e, "conv1.weight")->section, QSIM__ENC_SECTION_PARAM);
    assert_null(qsim__encodings_quantizer_args(e));
    qsim__encodings_free(e);
}

static void spec_100(void **state)
{
    (void)state;
    qsim__encodings *e = load_spec("spec_100.encodings");
    assert_int_equal(qsim__encodings_version(e), QSIM__ENC_V1_0_0);
    assert_int_equal(qsim__encodings_count(e), 3);
    const qsim__enc_entry *in = find(e, "input");
    check_spec_input(in, QSIM__ENC_SECTION_ACTIVATION);
    /* rebuilt: min = scale*offset, max = scale*(255 + offset) */
    assert_true(in->min[0] == 0.015686275 * -64.0);
    assert_true(in->max[0] == 0.015686275 * 191.0);
    assert_int_equal(find(e, "bn1_out")->dtype, QSIM__ENC_DTYPE_FLOAT);
    const qsim__enc_entry *w = find(e, "conv1.weight");
    assert_int_equal(w->enc_type, QSIM__ENC_PER_CHANNEL);
    assert_int_equal(w->bitwidth, 4);
    assert_int_equal(w->channels, 2);
    assert_int_equal(w->axis, -1);
    assert_true(w->scale[0] == 0.071 && w->scale[1] == 0.052);
    assert_int_equal(w->offset[0], -8);
    assert_int_equal(w->offset[1], -8);
    assert_true(w->min[1] == 0.052 * -8.0 && w->max[1] == 0.052 * 7.0);
    qsim__encodings_free(e);

    e = load_spec("adaround_100.encodings");
    assert_int_equal(qsim__encodings_version(e), QSIM__ENC_V1_0_0);
    assert_true(qsim__encodings_param_only(e));
    assert_int_equal(find(e, "conv1.weight")->section, QSIM__ENC_SECTION_PARAM);
    qsim__encodings_free(e);
}

static void spec_200(void **state)
{
    (void)state;
    for (int po = 0; po < 2; po++) {
        qsim__encodings *e = load_spec(po ? "adaround_200.encodings" : "spec_200.encodings");
        assert_int_equal(qsim__encodings_version(e), QSIM__ENC_V2_0_0);
        assert_int_equal(qsim__encodings_param_only(e), po);
        assert_int_equal(qsim__encodings_count(e), 3);
        if (!po) {
            assert_string_equal(qsim__encodings_producer_package(e), "aimet-onnx");
            assert_string_equal(qsim__encodings_producer_version(e), "2.x");
        }
        const qsim__enc_entry *in = find(e, "input");
        check_spec_input(in, QSIM__ENC_SECTION_UNKNOWN); /* uint8 zp 64 -> -64 */
        const qsim__enc_entry *w = find(e, "conv1.weight");
        assert_int_equal(w->is_symmetric, 1);
        assert_int_equal(w->enc_type, QSIM__ENC_PER_CHANNEL);
        assert_int_equal(w->axis, 0);
        assert_int_equal(w->offset[0], -128); /* int8, zp omitted = 0 */
        assert_int_equal(w->offset[1], -128);
        assert_true(w->min[1] == 0.0041 * -128.0 && w->max[1] == 0.0041 * 127.0);
        const qsim__enc_entry *b = find(e, "conv1.bias");
        assert_int_equal(b->bitwidth, 32);
        assert_int_equal(b->offset[0], -2147483648LL);
        assert_true(b->scale[1] == 6.4e-05);
        qsim__encodings_free(e);
    }
}

/* ---- round trips and the independent writer check ---- */

typedef struct spec_entry {
    const char *name;
    qsim__enc_section section;
    qsim__enc_dtype dtype;
    int bw, sym;
    qsim__enc_type type;
    int64_t axis;
    size_t n;
    double scale[3];
    int64_t offset[3];
} spec_entry;

static const spec_entry sample[] = {
    {"input", QSIM__ENC_SECTION_ACTIVATION, QSIM__ENC_DTYPE_INT, 8, 0, QSIM__ENC_PER_TENSOR, -1, 1,
     {4.0 / 255.0}, {-64}},
    {"bn1_out", QSIM__ENC_SECTION_ACTIVATION, QSIM__ENC_DTYPE_FLOAT, 16, 0, QSIM__ENC_PER_TENSOR,
     -1, 0, {0}, {0}},
    {"conv1.weight", QSIM__ENC_SECTION_PARAM, QSIM__ENC_DTYPE_INT, 4, 1, QSIM__ENC_PER_CHANNEL, 0,
     3, {1.0 / 3.0, 0.1, 1e-300}, {-8, -7, -8}},
    {"conv1.bias", QSIM__ENC_SECTION_PARAM, QSIM__ENC_DTYPE_INT, 32, 1, QSIM__ENC_PER_TENSOR, -1,
     1, {6.1e-05}, {-2147483648LL}},
    {"relu_out", QSIM__ENC_SECTION_ACTIVATION, QSIM__ENC_DTYPE_INT, 8, 1, QSIM__ENC_PER_TENSOR, -1,
     1, {0.0078125}, {0}},
    {"act16", QSIM__ENC_SECTION_ACTIVATION, QSIM__ENC_DTYPE_INT, 16, 0, QSIM__ENC_PER_TENSOR, -1,
     1, {9.5367431640625e-07}, {-12345}},
    {"fc.weight", QSIM__ENC_SECTION_PARAM, QSIM__ENC_DTYPE_INT, 8, 0, QSIM__ENC_PER_CHANNEL, 1, 2,
     {0.30000000000000004, 123456.789}, {-3, -250}},
    {"bn.scale", QSIM__ENC_SECTION_PARAM, QSIM__ENC_DTYPE_FLOAT, 32, 0, QSIM__ENC_PER_TENSOR, -1,
     0, {0}, {0}},
};
#define NSAMPLE (sizeof sample / sizeof sample[0])

/* min/max as AIMET's compute_min_max_given_delta_offset: the value the
 * 1.0.0 and 2.0.0 readers must rebuild. */
static double ref_min(const spec_entry *s, size_t c) { return s->scale[c] * (double)s->offset[c]; }
static double ref_max(const spec_entry *s, size_t c)
{
    return s->scale[c] * ((double)((INT64_C(1) << s->bw) - 1) + (double)s->offset[c]);
}

static qsim_status add_sample(qsim__encodings *e, const spec_entry *s)
{
    double mn[3], mx[3];
    for (size_t c = 0; c < s->n; c++) {
        mn[c] = ref_min(s, c);
        mx[c] = ref_max(s, c);
    }
    qsim__enc_entry en = {
        .name = (char *)s->name, .section = s->section, .dtype = s->dtype,
        .bitwidth = s->bw, .is_symmetric = s->sym, .enc_type = s->type, .axis = s->axis,
        .channels = s->n, .scale = (double *)s->scale, .offset = (int64_t *)s->offset,
        .min = mn, .max = mx};
    return qsim__encodings_add(e, &en);
}

static qsim__encodings *make_sample(int params_only)
{
    qsim__encodings *e = qsim__encodings_create();
    assert_non_null(e);
    for (size_t i = 0; i < NSAMPLE; i++) {
        const spec_entry *s = &sample[i];
        if (params_only && s->section != QSIM__ENC_SECTION_PARAM)
            continue;
        if (add_sample(e, s) != QSIM_OK)
            fail_msg("add %s: %s", s->name, qsim_last_error());
    }
    qsim__enc_quantizer_args q = {.present = QSIM__QARG_QUANT_SCHEME | QSIM__QARG_PARAM_BW |
                                             QSIM__QARG_ACTIVATION_BW | QSIM__QARG_DTYPE |
                                             QSIM__QARG_IS_SYMMETRIC | QSIM__QARG_PER_CHANNEL,
                                  .param_bitwidth = 4, .activation_bitwidth = 8,
                                  .dtype = QSIM__ENC_DTYPE_INT, .is_symmetric = 1,
                                  .per_channel_quantization = 1};
    snprintf(q.quant_scheme, sizeof q.quant_scheme, "post_training_tf");
    qsim__encodings_set_quantizer_args(e, &q);
    return e;
}

static void write_expect(const char *path, int params_only)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    static const char *secs[] = {"unknown", "param", "activation"};
    for (size_t i = 0; i < NSAMPLE; i++) {
        const spec_entry *s = &sample[i];
        if (params_only && s->section != QSIM__ENC_SECTION_PARAM)
            continue;
        fprintf(f, "E %s %s %s %d %d %s %lld %zu\n", s->name, secs[s->section],
                s->dtype == QSIM__ENC_DTYPE_INT ? "int" : "float", s->bw, s->sym,
                s->type == QSIM__ENC_PER_CHANNEL ? "per_channel" : "per_tensor",
                (long long)s->axis, s->n);
        for (size_t c = 0; c < s->n; c++)
            fprintf(f, "C %a %lld %a %a\n", s->scale[c], (long long)s->offset[c], ref_min(s, c),
                    ref_max(s, c));
    }
    fclose(f);
}

static void run_checker(const char *file, const char *version, int param_only, int force_unsigned,
                        const char *expect)
{
    const char *py = getenv("PYTHON3");
    const char *src = getenv("QSIM_SOURCE_ROOT");
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%.500s' '%.2000s/tests/tools/check_encodings.py' '%.2000s' %s%s%s --expect '%.2000s'",
             py ? py : "/usr/bin/python3", src ? src : ".", file, version,
             param_only ? " --param-only" : "", force_unsigned ? " --force-unsigned" : "", expect);
    if (system(cmd) != 0)
        fail_msg("check_encodings.py rejected %s (%s)", file, version);
}

/* The checker must be able to fail: files with a wrong type, unsorted
 * keys, or a number one ulp off are rejected. */
static int checker_status(const char *text, const char *version, const char *expect_text)
{
    char path[8192], expect[8192];
    snprintf(path, sizeof path, "%s/bad.encodings", tmpdir);
    snprintf(expect, sizeof expect, "%s/bad_expect.txt", tmpdir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    f = fopen(expect, "w");
    fputs(expect_text, f);
    fclose(f);
    const char *py = getenv("PYTHON3");
    const char *src = getenv("QSIM_SOURCE_ROOT");
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "'%.500s' '%.2000s/tests/tools/check_encodings.py' '%.2000s' %s --param-only "
             "--expect '%.2000s' 1>&2",
             py ? py : "/usr/bin/python3", src ? src : ".", path, version, expect);
    return system(cmd);
}

static void checker_can_fail(void **state)
{
    (void)state;
    static const char expect[] = "E w param int 8 1 per_tensor -1 1\nC 0x1p-1 -128 -0x1p+6 0x1.fcp+5\n";
    static const char good[] = "{\n    \"w\": [\n        {\n            \"bitwidth\": 8,\n"
                               "            \"dtype\": \"int\",\n"
                               "            \"is_symmetric\": \"True\",\n"
                               "            \"max\": 63.5,\n            \"min\": -64.0,\n"
                               "            \"offset\": -128,\n            \"scale\": 0.5\n"
                               "        }\n    ]\n}";
    assert_int_equal(checker_status(good, "0.6.1", expect), 0);
    /* AIMET's 0.6.1 is_symmetric is a string, not a JSON boolean */
    char bad[sizeof good + 16];
    snprintf(bad, sizeof bad, "%s", good);
    char *p = strstr(bad, "\"True\"");
    memcpy(p, "true  ", 6);
    assert_int_not_equal(checker_status(bad, "0.6.1", expect), 0);
    /* the scale one ulp off */
    snprintf(bad, sizeof bad, "%s", good);
    p = strstr(bad, "0.5\n");
    memcpy(p, "0.50000000000000011", 19);
    p[19] = '\0';
    strcat(bad, "\n        }\n    ]\n}");
    assert_int_not_equal(checker_status(bad, "0.6.1", expect), 0);
    /* keys out of order */
    static const char unsorted[] = "{\n    \"w\": [\n        {\n"
                                   "            \"dtype\": \"int\",\n"
                                   "            \"bitwidth\": 8,\n"
                                   "            \"is_symmetric\": \"True\",\n"
                                   "            \"max\": 63.5,\n            \"min\": -64.0,\n"
                                   "            \"offset\": -128,\n            \"scale\": 0.5\n"
                                   "        }\n    ]\n}";
    assert_int_not_equal(checker_status(unsorted, "0.6.1", expect), 0);
    /* right file, wrong version */
    assert_int_not_equal(checker_status(good, "1.0.0", expect), 0);
}

static void compare_back(const qsim__encodings *got, qsim__enc_version v, int params_only,
                         int force_unsigned)
{
    size_t want_count = 0;
    for (size_t i = 0; i < NSAMPLE; i++) {
        const spec_entry *s = &sample[i];
        if (params_only && s->section != QSIM__ENC_SECTION_PARAM)
            continue;
        if (v == QSIM__ENC_V2_0_0 && s->dtype == QSIM__ENC_DTYPE_FLOAT) {
            assert_null(qsim__encodings_find(got, s->name)); /* no float16 entries in 2.0.0 */
            continue;
        }
        want_count++;
        const qsim__enc_entry *en = find(got, s->name);
        qsim__enc_section want_sec = v == QSIM__ENC_V2_0_0 ? QSIM__ENC_SECTION_UNKNOWN
                                                           : s->section;
        assert_int_equal(en->section, want_sec);
        assert_int_equal(en->dtype, s->dtype);
        assert_int_equal(en->bitwidth, s->bw);
        int want_sym = s->sym;
        if (v == QSIM__ENC_V2_0_0 && force_unsigned && s->section == QSIM__ENC_SECTION_ACTIVATION)
            want_sym = 0;
        assert_int_equal(en->is_symmetric, s->dtype == QSIM__ENC_DTYPE_INT ? want_sym : 0);
        assert_int_equal(en->channels, s->n);
        /* derived flags (SPEC 5.3): strict int4 has an offset of -7,
         * unsigned symmetric an offset of 0 */
        assert_int_equal(en->is_strict, strcmp(s->name, "conv1.weight") == 0);
        assert_int_equal(en->is_unsigned, strcmp(s->name, "relu_out") == 0 && want_sym);
        qsim__enc_type want_type = s->type;
        assert_int_equal(en->enc_type, want_type);
        assert_int_equal(en->axis, v == QSIM__ENC_V2_0_0 && s->type == QSIM__ENC_PER_CHANNEL
                                       ? s->axis : -1);
        for (size_t c = 0; c < s->n; c++) {
            if (en->scale[c] != s->scale[c] || en->offset[c] != s->offset[c] ||
                en->min[c] != ref_min(s, c) || en->max[c] != ref_max(s, c))
                fail_msg("%s[%zu] (%s): %a %lld %a %a != %a %lld %a %a", s->name, c,
                         qsim__enc_version_string(v), en->scale[c], (long long)en->offset[c],
                         en->min[c], en->max[c], s->scale[c], (long long)s->offset[c],
                         ref_min(s, c), ref_max(s, c));
        }
    }
    assert_int_equal(qsim__encodings_count(got), want_count);
}

static void round_trips(void **state)
{
    (void)state;
    static const qsim__enc_version versions[] = {QSIM__ENC_V0_6_1, QSIM__ENC_V1_0_0,
                                                 QSIM__ENC_V2_0_0};
    for (int po = 0; po < 2; po++) {
        qsim__encodings *e = make_sample(po);
        char expect[8192];
        snprintf(expect, sizeof expect, "%s/expect_%d.txt", tmpdir, po);
        write_expect(expect, po);
        for (size_t vi = 0; vi < 3; vi++) {
            for (int fu = 0; fu < (versions[vi] == QSIM__ENC_V2_0_0 ? 2 : 1); fu++) {
                qsim__enc_write_opts o = {versions[vi], po, fu};
                char path[8192];
                snprintf(path, sizeof path, "%s/rt_%s_%d_%d.encodings", tmpdir,
                         qsim__enc_version_string(versions[vi]), po, fu);
                if (qsim__encodings_write(e, path, &o) != QSIM_OK)
                    fail_msg("write %s: %s", path, qsim_last_error());
                run_checker(path, qsim__enc_version_string(versions[vi]), po, fu, expect);
                qsim__encodings *back = NULL;
                if (qsim__encodings_load(path, &back) != QSIM_OK)
                    fail_msg("reload %s: %s", path, qsim_last_error());
                assert_int_equal(qsim__encodings_version(back), versions[vi]);
                assert_int_equal(qsim__encodings_param_only(back), po);
                compare_back(back, versions[vi], po, fu);
                const qsim__enc_quantizer_args *q = qsim__encodings_quantizer_args(back);
                if (po || versions[vi] == QSIM__ENC_V2_0_0) {
                    assert_null(q);
                } else {
                    assert_non_null(q);
                    assert_string_equal(q->quant_scheme, "post_training_tf");
                    assert_int_equal(q->param_bitwidth, 4);
                    assert_int_equal(q->per_channel_quantization, 1);
                }
                qsim__encodings_free(back);
            }
        }
        qsim__encodings_free(e);
    }
}

/* A few bytes of the exact layout, against what Python's json.dump writes
 * for the same document (keys sorted, indent 4, "True" strings, -128.0). */
static void layout_matches_python(void **state)
{
    (void)state;
    qsim__encodings *e = qsim__encodings_create();
    double s = 0.5, mn = -64.0, mx = 63.5;
    int64_t o = -128;
    qsim__enc_entry en = {.name = "w", .section = QSIM__ENC_SECTION_PARAM,
                          .dtype = QSIM__ENC_DTYPE_INT, .bitwidth = 8, .is_symmetric = 1,
                          .enc_type = QSIM__ENC_PER_TENSOR, .axis = -1, .channels = 1,
                          .scale = &s, .offset = &o, .min = &mn, .max = &mx};
    assert_int_equal(qsim__encodings_add(e, &en), QSIM_OK);
    qsim__enc_entry fl = {.name = "bn", .section = QSIM__ENC_SECTION_PARAM,
                          .dtype = QSIM__ENC_DTYPE_FLOAT, .bitwidth = 16};
    assert_int_equal(qsim__encodings_add(e, &fl), QSIM_OK);
    /* The expected texts are what python3 -c 'import json,sys;
     * json.dump(obj, sys.stdout, sort_keys=True, indent=4)' prints. */
    static const char want061[] =
        "{\n    \"bn\": [\n        {\n            \"bitwidth\": 16,\n"
        "            \"dtype\": \"float\"\n        }\n    ],\n"
        "    \"w\": [\n        {\n            \"bitwidth\": 8,\n            \"dtype\": \"int\",\n"
        "            \"is_symmetric\": \"True\",\n            \"max\": 63.5,\n"
        "            \"min\": -64.0,\n            \"offset\": -128,\n"
        "            \"scale\": 0.5\n        }\n    ]\n}";
    static const char want100[] =
        "[\n    {\n        \"bw\": 8,\n        \"dtype\": \"INT\",\n"
        "        \"enc_type\": \"PER_TENSOR\",\n        \"is_sym\": true,\n"
        "        \"name\": \"w\",\n        \"offset\": [\n            -128.0\n        ],\n"
        "        \"scale\": [\n            0.5\n        ]\n    },\n"
        "    {\n        \"bw\": 16,\n        \"dtype\": \"FLOAT\",\n"
        "        \"enc_type\": \"PER_TENSOR\",\n        \"name\": \"bn\"\n    }\n]";
    static const char want200[] =
        "[\n    {\n        \"name\": \"w\",\n        \"output_dtype\": \"int8\",\n"
        "        \"y_scale\": 0.5\n    }\n]";
    const char *want[] = {want061, want100, want200};
    for (int v = 0; v < 3; v++) {
        qsim__enc_write_opts opt = {(qsim__enc_version)v, 1, 0};
        char *text = NULL;
        assert_int_equal(qsim__encodings_to_string(e, &opt, &text), QSIM_OK);
        assert_string_equal(text, want[v]);
        qsim__free(text);
    }
    qsim__encodings_free(e);
}

/* Doubles across the whole range, written and compared with Python's
 * json.dumps byte for byte (float repr) and number for number. */
static void python_float_format(void **state)
{
    (void)state;
    enum { N = 4000 };
    static const double special[] = {
        5e-324, 2.2250738585072014e-308, 1e-300, 1e-7, 1e-5, 1.5e-5, 0.0001, 0.001, 0.1, 0.5,
        1.0, 3.0, 100.0, 12345.678, 1e15, 1e16, 1.2345e16, 123456789012345678.0, 1e22,
        1.7976931348623157e300, 0.30000000000000004, 1.0 / 3.0, 2.0 / 3.0, 9007199254740993.0};
    const size_t ns = sizeof special / sizeof special[0];
    double *sc = malloc(N * sizeof *sc), *mn = malloc(N * sizeof *mn), *mx = malloc(N * sizeof *mx);
    int64_t *of = malloc(N * sizeof *of);
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t c = 0; c < N; c++) {
        double v;
        if (c < ns) {
            v = special[c];
        } else { /* random mantissa, exponent within +-2^990 so min/max stay finite */
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint64_t bits = (x & 0x000fffffffffffffu) | ((uint64_t)(1023 - 990 + x % 1980) << 52);
            memcpy(&v, &bits, sizeof v);
        }
        sc[c] = v;
        of[c] = -(int64_t)(c % 256);
        mn[c] = v * (double)of[c];
        mx[c] = v * (255.0 + (double)of[c]);
    }
    qsim__encodings *e = qsim__encodings_create();
    qsim__enc_entry en = {.name = "w", .section = QSIM__ENC_SECTION_PARAM,
                          .dtype = QSIM__ENC_DTYPE_INT, .bitwidth = 8, .is_symmetric = 0,
                          .enc_type = QSIM__ENC_PER_CHANNEL, .axis = 0, .channels = N,
                          .scale = sc, .offset = of, .min = mn, .max = mx};
    assert_int_equal(qsim__encodings_add(e, &en), QSIM_OK);
    char expect[8192], path[8192];
    snprintf(expect, sizeof expect, "%s/floats_expect.txt", tmpdir);
    FILE *f = fopen(expect, "w");
    fprintf(f, "E w param int 8 0 per_channel 0 %d\n", N);
    for (size_t c = 0; c < N; c++)
        fprintf(f, "C %a %lld %a %a\n", sc[c], (long long)of[c], mn[c], mx[c]);
    fclose(f);
    for (int v = 0; v < 3; v++) {
        qsim__enc_write_opts o = {(qsim__enc_version)v, 1, 0};
        snprintf(path, sizeof path, "%s/floats_%d.encodings", tmpdir, v);
        assert_int_equal(qsim__encodings_write(e, path, &o), QSIM_OK);
        run_checker(path, qsim__enc_version_string((qsim__enc_version)v), 1, 0, expect);
    }
    qsim__encodings_free(e);
    free(sc);
    free(mn);
    free(mx);
    free(of);
}

/* Names with quotes, backslashes, control characters, DEL and characters
 * beyond U+FFFF come out exactly as Python escapes them. */
static void python_string_escapes(void **state)
{
    (void)state;
    static const char *const names[] = {"a\"b\\c", "tab\there\nnew\rline\b\f", "ctl\x01\x1f\x7f",
                                        "grin \xf0\x9f\x98\x80", "slash/ok", "\xe2\x82\xac\xc3\xa9"};
    qsim__encodings *e = qsim__encodings_create();
    double sc = 0.25, mn = -32.0, mx = 31.75;
    int64_t of = -128;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        qsim__enc_entry en = {.name = (char *)names[i], .section = QSIM__ENC_SECTION_PARAM,
                              .dtype = QSIM__ENC_DTYPE_INT, .bitwidth = 8, .is_symmetric = 1,
                              .enc_type = QSIM__ENC_PER_TENSOR, .axis = -1, .channels = 1,
                              .scale = &sc, .offset = &of, .min = &mn, .max = &mx};
        assert_int_equal(qsim__encodings_add(e, &en), QSIM_OK);
    }
    char path[8192], cmd[16384];
    snprintf(path, sizeof path, "%s/escapes.encodings", tmpdir);
    qsim__enc_write_opts o = {QSIM__ENC_V0_6_1, 0, 0};
    assert_int_equal(qsim__encodings_write(e, path, &o), QSIM_OK);
    const char *py = getenv("PYTHON3");
    snprintf(cmd, sizeof cmd,
             "'%.500s' -c 'import json,sys; t=open(sys.argv[1]).read(); "
             "d=json.loads(t); assert t == json.dumps(d, sort_keys=True, indent=4), t; "
             "assert sorted(d[\"param_encodings\"]) == sorted(json.loads(sys.argv[2]))' "
             "'%.2000s' '[\"a\\\"b\\\\c\", \"tab\\there\\nnew\\rline\\b\\f\", "
             "\"ctl\\u0001\\u001f\\u007f\", \"grin \\ud83d\\ude00\", \"slash/ok\", "
             "\"\\u20ac\\u00e9\"]'",
             py ? py : "/usr/bin/python3", path);
    if (system(cmd) != 0)
        fail_msg("escaped names differ from Python's");
    qsim__encodings *back = NULL;
    assert_int_equal(qsim__encodings_load(path, &back), QSIM_OK);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_non_null(qsim__encodings_find(back, names[i]));
    qsim__encodings_free(back);
    qsim__encodings_free(e);
}

/* ---- writer and builder refusals ---- */

static void writer_refusals(void **state)
{
    (void)state;
    double s = 0.5, mn = -64.0, mx = 63.5, bad = -1.0, inf = INFINITY;
    int64_t o = -128, obad = 1;
    qsim__enc_entry en = {.name = "w", .section = QSIM__ENC_SECTION_UNKNOWN,
                          .dtype = QSIM__ENC_DTYPE_INT, .bitwidth = 8, .is_symmetric = 1,
                          .enc_type = QSIM__ENC_PER_CHANNEL, .axis = -1, .channels = 1,
                          .scale = &s, .offset = &o, .min = &mn, .max = &mx};
    qsim__encodings *e = qsim__encodings_create();
    assert_int_equal(qsim__encodings_add(e, &en), QSIM_OK);
    assert_int_equal(qsim__encodings_add(e, &en), QSIM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qsim_last_error(), "w: duplicate encoding name"));
    char *text = NULL;
    qsim__enc_write_opts o061 = {QSIM__ENC_V0_6_1, 0, 0};
    assert_int_equal(qsim__encodings_to_string(e, &o061, &text), QSIM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qsim_last_error(), "param or an activation"));
    qsim__enc_write_opts o200 = {QSIM__ENC_V2_0_0, 0, 0};
    assert_int_equal(qsim__encodings_to_string(e, &o200, &text), QSIM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qsim_last_error(), "needs its channel axis"));
    assert_null(text);

    qsim__enc_entry act = en;
    act.name = "a";
    act.section = QSIM__ENC_SECTION_ACTIVATION;
    act.axis = 0;
    assert_int_equal(qsim__encodings_add(e, &act), QSIM_OK);
    qsim__enc_write_opts po = {QSIM__ENC_V1_0_0, 1, 0};
    assert_int_equal(qsim__encodings_to_string(e, &po, &text), QSIM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qsim_last_error(), "a: an activation encoding cannot go"));

    qsim__enc_entry b = en;
    b.name = "b1";
    b.scale = &bad;
    assert_int_equal(qsim__encodings_add(e, &b), QSIM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qsim_last_error(), "b1: scale[0] must be a positive finite"));
    b.scale = &s;
    b.max = &inf;
    assert_int_equal(qsim__encodings_add(e, &b), QSIM_ERR_INVALID_ARGUMENT);
    b.max = &mx;
    b.offset = &obad;
    assert_int_equal(qsim__encodings_add(e, &b), QSIM_ERR_INVALID_ARGUMENT);
    b.offset = &o;
    b.bitwidth = 1;
    assert_int_equal(qsim__encodings_add(e, &b), QSIM_ERR_INVALID_ARGUMENT);
    b.bitwidth = 8;
    b.dtype = QSIM__ENC_DTYPE_FLOAT;
    assert_int_equal(qsim__encodings_add(e, &b), QSIM_ERR_INVALID_ARGUMENT); /* float bw 8 */
    b.dtype = QSIM__ENC_DTYPE_INT;
    b.channels = 0;
    assert_int_equal(qsim__encodings_add(e, &b), QSIM_ERR_INVALID_ARGUMENT);
    b.channels = 1;
    b.name = "bad\xff\xfename";
    assert_int_equal(qsim__encodings_add(e, &b), QSIM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qsim_last_error(), "UTF-8"));
    b.name = "caf\xc3\xa9 \xe2\x82\xac"; /* valid UTF-8 goes through, and out as \u escapes */
    assert_int_equal(qsim__encodings_add(e, &b), QSIM_OK);
    assert_int_equal(qsim__encodings_count(e), 3);
    qsim__encodings_free(e);

    e = qsim__encodings_create();
    b.section = QSIM__ENC_SECTION_PARAM;
    assert_int_equal(qsim__encodings_add(e, &b), QSIM_OK);
    qsim__enc_write_opts ok = {QSIM__ENC_V1_0_0, 0, 0};
    assert_int_equal(qsim__encodings_to_string(e, &ok, &text), QSIM_OK);
    assert_non_null(strstr(text, "\"caf\\u00e9 \\u20ac\"")); /* ASCII-only, as json.dump */
    qsim__encodings *back = NULL;
    assert_int_equal(qsim__encodings_parse(text, strlen(text), "utf8", &back), QSIM_OK);
    assert_non_null(qsim__encodings_find(back, "caf\xc3\xa9 \xe2\x82\xac"));
    qsim__encodings_free(back);
    qsim__free(text);
    qsim__encodings_free(e);
    qsim__encodings_free(NULL);
}

/* ---- atomic writes ---- */

static int count_dir_entries(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, needle))
            n++;
    closedir(d);
    return n;
}

static void atomic_write_failures(void **state)
{
    (void)state;
    qsim__encodings *e = make_sample(0);
    qsim__enc_write_opts o = {QSIM__ENC_V1_0_0, 0, 0};
    char path[8192], dir[4096];

    /* the directory does not exist */
    snprintf(path, sizeof path, "%s/no/such/dir/x.encodings", tmpdir);
    assert_int_equal(qsim__encodings_write(e, path, &o), QSIM_ERR_IO);
    assert_non_null(strstr(qsim_last_error(), path));
    assert_int_equal(access(path, F_OK), -1);

    /* the target is a directory: rename fails after the data was written,
     * and the temporary file must be gone */
    snprintf(dir, sizeof dir, "%s/isdir", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/isdir", tmpdir);
    assert_int_equal(qsim__encodings_write(e, path, &o), QSIM_ERR_IO);
    assert_int_equal(count_dir_entries(tmpdir, ".tmp."), 0);

    /* a read-only directory (root ignores permissions: skip that part) */
    snprintf(dir, sizeof dir, "%s/ro", tmpdir);
    assert_int_equal(mkdir(dir, 0555), 0);
    snprintf(path, sizeof path, "%s/x.encodings", dir);
    if (geteuid() != 0) {
        assert_int_equal(qsim__encodings_write(e, path, &o), QSIM_ERR_IO);
        assert_int_equal(count_dir_entries(dir, "x.encodings"), 0);
    }

    /* a directory nobody may create files in, root included */
    assert_int_equal(qsim__encodings_write(e, "/proc/self/qsim-test.encodings", &o), QSIM_ERR_IO);
    assert_int_equal(access("/proc/self/qsim-test.encodings", F_OK), -1);

    /* overwriting replaces the whole file, leaves no temporary behind */
    snprintf(path, sizeof path, "%s/over.encodings", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("old content that is longer than nothing at all", f);
    fclose(f);
    assert_int_equal(qsim__encodings_write(e, path, &o), QSIM_OK);
    qsim__encodings *back = NULL;
    assert_int_equal(qsim__encodings_load(path, &back), QSIM_OK);
    assert_int_equal(qsim__encodings_count(back), NSAMPLE);
    qsim__encodings_free(back);
    assert_int_equal(count_dir_entries(tmpdir, ".tmp."), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    /* unreadable input */
    snprintf(path, sizeof path, "%s/missing.encodings", tmpdir);
    assert_int_equal(qsim__encodings_load(path, &back), QSIM_ERR_IO);
    assert_non_null(strstr(qsim_last_error(), "missing.encodings"));
    assert_int_equal(qsim__encodings_load(tmpdir, &back), QSIM_ERR_IO); /* a directory */
    assert_non_null(strstr(qsim_last_error(), "is a directory"));
    qsim__encodings_free(e);
}

/* A file far larger than the reader's first buffer (64 KiB), per-channel
 * throughout, read back exactly. */
static void large_file(void **state)
{
    (void)state;
    enum { TENSORS = 300, CH = 64 };
    qsim__encodings *e = qsim__encodings_create();
    double sc[CH], mn[CH], mx[CH];
    int64_t of[CH];
    char name[64];
    for (int t = 0; t < TENSORS; t++) {
        for (int c = 0; c < CH; c++) {
            sc[c] = (t * CH + c + 1) * 1e-5 / 3.0;
            of[c] = -128;
            mn[c] = sc[c] * -128.0;
            mx[c] = sc[c] * 127.0;
        }
        snprintf(name, sizeof name, "layer%d.weight", t);
        qsim__enc_entry en = {.name = name, .section = QSIM__ENC_SECTION_PARAM,
                              .dtype = QSIM__ENC_DTYPE_INT, .bitwidth = 8, .is_symmetric = 1,
                              .enc_type = QSIM__ENC_PER_CHANNEL, .axis = 0, .channels = CH,
                              .scale = sc, .offset = of, .min = mn, .max = mx};
        assert_int_equal(qsim__encodings_add(e, &en), QSIM_OK);
    }
    char path[8192];
    snprintf(path, sizeof path, "%s/large.encodings", tmpdir);
    for (int v = 0; v < 3; v++) {
        qsim__enc_write_opts o = {(qsim__enc_version)v, 0, 0};
        assert_int_equal(qsim__encodings_write(e, path, &o), QSIM_OK);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 4 * 64 * 1024);
        qsim__encodings *back = NULL;
        if (qsim__encodings_load(path, &back) != QSIM_OK)
            fail_msg("%s", qsim_last_error());
        assert_int_equal(qsim__encodings_count(back), TENSORS);
        const qsim__enc_entry *last = qsim__encodings_find(back, name);
        assert_non_null(last);
        assert_int_equal(last->channels, CH);
        assert_true(last->scale[CH - 1] == sc[CH - 1]);
        qsim__encodings_free(back);
    }
    qsim__encodings_free(e);
}

/* ---- allocation failures, jansson's included ---- */

static void oom_parse_and_write(void **state)
{
    (void)state;
    char path[8192];
    snprintf(path, sizeof path, "%s/spec_061.encodings", spec_dir());
    char *text061 = tc_read_text(path);
    snprintf(path, sizeof path, "%s/spec_200.encodings", spec_dir());
    char *text200 = tc_read_text(path);
    assert_non_null(text061);
    assert_non_null(text200);
    const char *texts[] = {text061, text200};
    for (int t = 0; t < 2; t++) {
        size_t n;
        for (n = 1; n < 100000; n++) {
            qsim__encodings *e = NULL;
            qsim__alloc_fail_after(n);
            qsim_status st = qsim__encodings_parse(texts[t], strlen(texts[t]), "oom", &e);
            qsim__alloc_fail_after(0);
            if (st == QSIM_OK) {
                assert_int_equal(qsim__encodings_count(e), 3);
                qsim__encodings_free(e);
                break;
            }
            if (st != QSIM_ERR_OUT_OF_MEMORY)
                fail_msg("parse, allocation %zu failing: %s (%s)", n, qsim_status_string(st),
                         qsim_last_error());
            assert_null(e);
        }
        assert_true(n > 20); /* jansson's allocations were counted too */
    }
    qsim__encodings *e = make_sample(0);
    for (int v = 0; v < 3; v++) {
        size_t n;
        for (n = 1; n < 100000; n++) {
            qsim__enc_write_opts o = {(qsim__enc_version)v, 0, 0};
            char *text = NULL;
            qsim__alloc_fail_after(n);
            qsim_status st = qsim__encodings_to_string(e, &o, &text);
            qsim__alloc_fail_after(0);
            if (st == QSIM_OK) {
                qsim__free(text);
                break;
            }
            assert_int_equal(st, QSIM_ERR_OUT_OF_MEMORY);
            assert_null(text);
        }
        assert_true(n > 20);
    }
    for (size_t n = 1; n < 100000; n++) { /* the builder */
        qsim__alloc_fail_after(n);
        qsim__encodings *b = qsim__encodings_create();
        qsim_status st = b ? QSIM_OK : QSIM_ERR_OUT_OF_MEMORY;
        for (size_t i = 0; i < NSAMPLE && st == QSIM_OK; i++)
            st = add_sample(b, &sample[i]);
        qsim__alloc_fail_after(0);
        qsim__encodings_free(b);
        if (st == QSIM_OK)
            break;
        assert_int_equal(st, QSIM_ERR_OUT_OF_MEMORY);
    }
    qsim__encodings_free(e);
    free(text061);
    free(text200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(data_driven_cases),
        cmocka_unit_test(spec_061),
        cmocka_unit_test(spec_100),
        cmocka_unit_test(spec_200),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(layout_matches_python),
        cmocka_unit_test(checker_can_fail),
        cmocka_unit_test(python_float_format),
        cmocka_unit_test(python_string_escapes),
        cmocka_unit_test(writer_refusals),
        cmocka_unit_test(atomic_write_failures),
        cmocka_unit_test(large_file),
        cmocka_unit_test(oom_parse_and_write),
    };
    return cmocka_run_group_tests_name("encodings_json", tests, setup_tmp, teardown_tmp);
}
