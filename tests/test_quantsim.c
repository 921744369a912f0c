/* The AIMET workflow on qs_cnn: compute_encodings and the quantized forward
 * pass against tests/tools/quantsim_ref.py (torch ops + quant_ref.py's
 * numpy encoding math + placement_ref.py's quantizers), export parsed back,
 * set_and_freeze validation, and the founding FP16-BN workflow. */
#include <qsim/qsim.h>

#include "quant/config_json.h"
#include "quant/encodings_json.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "qs_common.h"

#define NB 4
#define BATCH 3
#define PER (1 * 8 * 8)

static float calib[NB][BATCH * PER];
static float evalx[2 * PER];

static void fill(float *x, size_t n, uint32_t *seed)
{
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        x[i] = (float)((*seed >> 8) * (1.0 / 16777216.0)) * 3.0f - 1.0f;
    }
}

typedef struct feed {
    int runs;
    int reentry_status;
} feed;

static qsim_status forward(qsim_sim *s, void *user)
{
    feed *f = user;
    int64_t shape[4] = {BATCH, 1, 8, 8};
    for (int b = 0; b < NB; b++) {
        qsim_status st = qsim_sim_set_input(s, "x", calib[b], shape, 4);
        if (st == QSIM_OK)
            st = qsim_sim_run(s);
        if (st != QSIM_OK)
            return st;
        f->runs++;
    }
    f->reentry_status = (int)qsim_compute_encodings(s, forward, user);
    return QSIM_OK;
}

static int progress_calls;
static uint64_t progress_last;
static void progress(const char *stage, uint64_t done, uint64_t total, void *u)
{
    (void)u;
    assert_string_equal(stage, "compute_encodings");
    assert_int_equal(total, 0);
    progress_calls++;
    progress_last = done;
}

static qsim_model *load_cnn(void)
{
    char path[700];
    qs_path(path, sizeof path, qs_models_dir, "qs_cnn.onnx");
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(path, &m), QSIM_OK);
    return m;
}

static int scheme_opt = QSIM_SCHEME_TF;

static qsim_sim *make_sim(qsim_model *m, int per_channel, const char *version)
{
    qsim_sim_options *o = NULL;
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_QUANT_SCHEME, scheme_opt), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_PER_CHANNEL, per_channel), QSIM_OK);
    if (version)
        assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_ENCODING_VERSION, version),
                         QSIM_OK);
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, o, &s), QSIM_OK);
    qsim_sim_options_free(o);
    return s;
}

static void calibrate(qsim_sim *s)
{
    feed f = {0, -1};
    progress_calls = 0;
    qsim_sim_set_progress(s, progress, NULL);
    qsim_status st = qsim_compute_encodings(s, forward, &f);
    if (st != QSIM_OK)
        fprintf(stderr, "# %s\n", qsim_last_error());
    assert_int_equal(st, QSIM_OK);
    assert_int_equal(f.runs, NB);
    assert_int_equal(f.reentry_status, QSIM_ERR_STATE); /* re-entrant call refused */
    assert_int_equal(progress_last, NB);
    assert_int_equal(progress_calls, NB + 1);
}

static void run_eval(qsim_sim *s, const float **y, size_t *n)
{
    int64_t shape[4] = {2, 1, 8, 8};
    assert_int_equal(qsim_sim_set_input(s, "x", evalx, shape, 4), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    const int64_t *oshape = NULL;
    size_t rank = 0;
    assert_int_equal(qsim_sim_get_output(s, "logits", y, &oshape, &rank), QSIM_OK);
    assert_int_equal(rank, 2);
    *n = (size_t)(oshape[0] * oshape[1]);
}

/* Runs the reference; dir receives ref_encodings.txt and ref_output.bin. */
static const char *scheme_arg = "tf";

static void run_reference(const char *dir, int per_channel)
{
    char model[700], cfg[800], cal[800], ev[800], cmd[5000];
    qs_path(model, sizeof model, qs_models_dir, "qs_cnn.onnx");
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    snprintf(cal, sizeof cal, "%s/calib.bin", dir);
    snprintf(ev, sizeof ev, "%s/eval.bin", dir);
    const char *json = per_channel ? qsim__config_default_per_channel_json : qsim__config_default_json;
    assert_int_equal(qs_write_file(cfg, json, strlen(json)), 0);
    assert_int_equal(qs_write_file(cal, calib, sizeof calib), 0);
    assert_int_equal(qs_write_file(ev, evalx, sizeof evalx), 0);
    snprintf(cmd, sizeof cmd,
             "'%s' '%s/tests/tools/quantsim_ref.py' '%s' '%s' 8 8 '%s' %d '%s' '%s' %s",
             qs_python(), qs_source_root(), model, cfg, cal, NB, ev, dir, scheme_arg);
    assert_int_equal(system(cmd), 0);
}

static int close_rel(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + 1e-12;
}

static void compare_with_reference(int per_channel)
{
    char dir[600], path[800];
    char sub[64];
    snprintf(sub, sizeof sub, "ref_%s%s", scheme_arg, per_channel ? "_pc" : "");
    qs_scratch(dir, sizeof dir, sub);
    qsim_model *m = load_cnn();
    qsim_sim *s = make_sim(m, per_channel, NULL);
    calibrate(s);
    run_reference(dir, per_channel);

    snprintf(path, sizeof path, "%s/ref_encodings.txt", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char name[256];
    int ch;
    double mn, mx, d, off;
    int lines = 0, bad = 0;
    while (fscanf(f, "%255s %d %lf %lf %lf %lf", name, &ch, &mn, &mx, &d, &off) == 6) {
        qsim_quantizer *q = qsim_quantizer_find(s, name);
        assert_non_null(q);
        double cmn, cmx, cd;
        int64_t coff;
        qsim_status st = qsim_quantizer_get_encoding(q, (size_t)ch, &cmn, &cmx, &cd, &coff);
        if (st != QSIM_OK || !close_rel(cmn, mn, 1e-6) || !close_rel(cmx, mx, 1e-6) ||
            !close_rel(cd, d, 1e-6) || (double)coff != off) {
            printf("# %s[%d]: C %s min %.9g max %.9g scale %.9g off %lld; ref %.9g %.9g %.9g %g\n",
                   name, ch, qsim_status_string(st), cmn, cmx, cd, (long long)coff, mn, mx, d, off);
            bad++;
        }
        lines++;
    }
    fclose(f);
    /* every enabled int quantizer has an encoding, and the reference too */
    int with_enc = 0;
    for (size_t i = 0; i < qsim_quantizer_count(s); i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        if (qsim_quantizer_is_enabled(q))
            with_enc += (int)qsim_quantizer_channel_count(q);
    }
    printf("# %d reference encodings, %d enabled quantizer channels\n", lines, with_enc);
    assert_int_equal(lines, with_enc);
    assert_int_equal(bad, 0);

    const float *y = NULL;
    size_t n = 0;
    run_eval(s, &y, &n);
    snprintf(path, sizeof path, "%s/ref_output.bin", dir);
    size_t bytes = 0;
    float *ref = (float *)qs_read_file(path, &bytes);
    assert_non_null(ref);
    assert_int_equal(bytes, n * sizeof(float));
    double out_scale = 0;
    assert_int_equal(qsim_quantizer_get_encoding(qsim_quantizer_find(s, "logits"), 0, NULL, NULL,
                                                 &out_scale, NULL), QSIM_OK);
    double maxd = 0;
    size_t exact = 0;
    for (size_t i = 0; i < n; i++) {
        double dd = fabs((double)y[i] - (double)ref[i]);
        maxd = fmax(maxd, dd);
        exact += dd <= 1e-4 * out_scale; /* equal up to float noise */
    }
    printf("# output: %zu of %zu equal (1e-4 step), max |diff| %.3g (output step %.3g)\n", exact, n, maxd,
           out_scale);
    /* summation order differs from torch: encodings may differ in the last
     * bits and a value on a rounding edge may move a grid step; no more */
    assert_true(maxd <= 1.01 * out_scale * 2);
    assert_true(exact * 10 >= n * 8);
    free(ref);
    qsim_sim_free(s);
    qsim_model_free(m);
}

static void encodings_vs_reference(void **state) { (void)state; compare_with_reference(0); }
static void encodings_vs_reference_pc(void **state) { (void)state; compare_with_reference(1); }

static void with_scheme(int scheme, const char *name, int per_channel)
{
    scheme_opt = scheme;
    scheme_arg = name;
    compare_with_reference(per_channel);
    scheme_opt = QSIM_SCHEME_TF;
    scheme_arg = "tf";
}

static void tf_enhanced_vs_reference(void **state)
{
    (void)state;
    with_scheme(QSIM_SCHEME_TF_ENHANCED, "tf_enhanced", 0);
}

static void percentile_vs_reference_pc(void **state)
{
    (void)state;
    with_scheme(QSIM_SCHEME_PERCENTILE, "percentile", 1);
}

/* Per-quantizer schemes: with every param disabled the activation stats
 * are the FP32 ones, so an activation switched to tf_enhanced in a tf sim
 * must get exactly the encoding a tf_enhanced sim gives it (that one is
 * checked against numpy above), and the others stay as in a tf sim. A
 * switched param gets the tf_enhanced sim's param encoding. */
static void all_params_enabled(qsim_sim *s, int on)
{
    for (size_t i = 0; i < qsim_quantizer_count(s); i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        if (qsim_quantizer_get_kind(q) == QSIM_QUANTIZER_PARAM)
            assert_int_equal(qsim_quantizer_set_enabled(q, on), QSIM_OK);
    }
}

static void same_encoding(const qsim_quantizer *a, const qsim_quantizer *b, int want_equal)
{
    double amin, amax, as, bmin, bmax, bs;
    int64_t ao, bo;
    assert_int_equal(qsim_quantizer_get_encoding(a, 0, &amin, &amax, &as, &ao), QSIM_OK);
    assert_int_equal(qsim_quantizer_get_encoding(b, 0, &bmin, &bmax, &bs, &bo), QSIM_OK);
    int eq = amin == bmin && amax == bmax && as == bs && ao == bo;
    if (eq != want_equal)
        fail_msg("%s: [%g, %g] vs [%g, %g]", qsim_quantizer_name(a), amin, amax, bmin, bmax);
}

static void per_quantizer_scheme(void **state)
{
    (void)state;
    qsim_model *m = load_cnn();
    qsim_sim *tf = make_sim(m, 0, NULL), *mix = make_sim(m, 0, NULL);
    scheme_opt = QSIM_SCHEME_TF_ENHANCED;
    qsim_sim *tfe = make_sim(m, 0, NULL);
    scheme_opt = QSIM_SCHEME_TF;
    size_t n = qsim_quantizer_count(mix), switched = 0, differ = 0;
    assert_true(n > 4);
    assert_int_equal(qsim_quantizer_get_quant_scheme(qsim_quantizer_at(mix, 0)), QSIM_SCHEME_TF);
    assert_int_equal(qsim_quantizer_get_quant_scheme(qsim_quantizer_at(tfe, 0)),
                     QSIM_SCHEME_TF_ENHANCED);
    /* every other activation quantizer switched */
    for (size_t i = 0; i < n; i++) {
        qsim_quantizer *q = qsim_quantizer_at(mix, i);
        if (qsim_quantizer_get_kind(q) == QSIM_QUANTIZER_ACTIVATION && qsim_quantizer_is_enabled(q) &&
            (switched++ % 2) == 0)
            assert_int_equal(qsim_quantizer_set_quant_scheme(q, QSIM_SCHEME_TF_ENHANCED), QSIM_OK);
    }
    all_params_enabled(tf, 0);
    all_params_enabled(mix, 0);
    all_params_enabled(tfe, 0);
    calibrate(tf);
    calibrate(mix);
    calibrate(tfe);
    for (size_t i = 0; i < n; i++) {
        qsim_quantizer *q = qsim_quantizer_at(mix, i);
        if (qsim_quantizer_get_kind(q) != QSIM_QUANTIZER_ACTIVATION || !qsim_quantizer_is_enabled(q))
            continue;
        const char *name = qsim_quantizer_name(q);
        int is_tfe = qsim_quantizer_get_quant_scheme(q) == QSIM_SCHEME_TF_ENHANCED;
        same_encoding(q, qsim_quantizer_find(is_tfe ? tfe : tf, name), 1);
        double a0, a1, b0, b1, sc;
        int64_t o;
        assert_int_equal(qsim_quantizer_get_encoding(qsim_quantizer_find(tf, name), 0, &a0, &a1, &sc, &o), QSIM_OK);
        assert_int_equal(qsim_quantizer_get_encoding(qsim_quantizer_find(tfe, name), 0, &b0, &b1, &sc, &o), QSIM_OK);
        differ += is_tfe && (a0 != b0 || a1 != b1);
    }
    assert_true(differ > 0); /* the two schemes really disagree somewhere */

    /* a param switched: its one-shot encoding is the tf_enhanced sim's */
    all_params_enabled(mix, 1);
    all_params_enabled(tfe, 1);
    qsim_quantizer *w = NULL;
    for (size_t i = 0; i < n && !w; i++)
        if (qsim_quantizer_get_kind(qsim_quantizer_at(mix, i)) == QSIM_QUANTIZER_PARAM &&
            qsim_quantizer_is_enabled(qsim_quantizer_at(mix, i)))
            w = qsim_quantizer_at(mix, i);
    assert_non_null(w);
    assert_int_equal(qsim_quantizer_set_quant_scheme(w, QSIM_SCHEME_TF_ENHANCED), QSIM_OK);
    calibrate(mix);
    calibrate(tfe);
    same_encoding(w, qsim_quantizer_find(tfe, qsim_quantizer_name(w)), 1);

    /* errors: unknown scheme, bad handle */
    assert_int_equal(qsim_quantizer_set_quant_scheme(w, (qsim_quant_scheme)7),
                     QSIM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qsim_last_error(), qsim_quantizer_name(w)));
    assert_int_equal(qsim_quantizer_set_quant_scheme(NULL, QSIM_SCHEME_TF), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_quantizer_get_quant_scheme(NULL), QSIM_SCHEME_TF);
    qsim_sim_free(tf);
    qsim_sim_free(mix);
    qsim_sim_free(tfe);
    qsim_model_free(m);
}

/* FP32 when every quantizer is disabled: equal to a sim made of the same
 * model whose quantizers never got encodings. */
static void disabled_is_fp32(void **state)
{
    (void)state;
    qsim_model *m = load_cnn();
    qsim_sim *a = make_sim(m, 0, NULL), *b = make_sim(m, 0, NULL);
    calibrate(a);
    for (size_t i = 0; i < qsim_quantizer_count(a); i++)
        assert_int_equal(qsim_quantizer_set_enabled(qsim_quantizer_at(a, i), 0), QSIM_OK);
    const float *ya, *yb;
    size_t na, nb;
    run_eval(a, &ya, &na);
    run_eval(b, &yb, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(ya, yb, na * sizeof(float));
    qsim_sim_free(a);
    qsim_sim_free(b);
    qsim_model_free(m);
}

/* ---- export ------------------------------------------------------------------------ */

static void export_version(const char *version)
{
    char dir[600], path[800], cmd[3000];
    qs_scratch(dir, sizeof dir, "export");
    qsim_model *m = load_cnn();
    qsim_sim *s = make_sim(m, 1, version);
    assert_int_equal(qsim_export(s, dir, "none"), QSIM_ERR_STATE);
    calibrate(s);
    /* one FP16 quantizer */
    assert_int_equal(qsim_quantizer_set_data_type(qsim_quantizer_find(s, "b1"),
                                                  QSIM_DATA_TYPE_FLOAT), QSIM_OK);
    const float *y0;
    size_t n0;
    run_eval(s, &y0, &n0);
    float before[20];
    memcpy(before, y0, n0 * sizeof(float));
    char prefix[64];
    snprintf(prefix, sizeof prefix, "cnn_%c%c%c", version[0], version[2], version[4]);
    qsim_status st = qsim_export(s, dir, prefix);
    if (st != QSIM_OK)
        fprintf(stderr, "# %s\n", qsim_last_error());
    assert_int_equal(st, QSIM_OK);
    /* the sim is unchanged */
    const float *y1;
    size_t n1;
    run_eval(s, &y1, &n1);
    assert_memory_equal(before, y1, n1 * sizeof(float));

    snprintf(path, sizeof path, "%s/%s.encodings", dir, prefix);
    qsim__encodings *e = NULL;
    assert_int_equal(qsim__encodings_load(path, &e), QSIM_OK);
    assert_string_equal(qsim__enc_version_string(qsim__encodings_version(e)), version);
    size_t expect = 0;
    int v2 = !strcmp(version, "2.0.0");
    for (size_t i = 0; i < qsim_quantizer_count(s); i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        const qsim__enc_entry *en = qsim__encodings_find(e, qsim_quantizer_name(q));
        int is_float = qsim_quantizer_get_data_type(q) == QSIM_DATA_TYPE_FLOAT;
        if (!qsim_quantizer_is_enabled(q) || (is_float && v2)) {
            assert_null(en);
            continue;
        }
        assert_non_null(en);
        expect++;
        if (!v2)
            assert_int_equal(en->section, qsim_quantizer_get_kind(q) == QSIM_QUANTIZER_PARAM
                                              ? QSIM__ENC_SECTION_PARAM
                                              : QSIM__ENC_SECTION_ACTIVATION);
        if (is_float) {
            assert_int_equal(en->dtype, QSIM__ENC_DTYPE_FLOAT);
            assert_int_equal(en->bitwidth, 16);
            continue;
        }
        assert_int_equal(en->dtype, QSIM__ENC_DTYPE_INT);
        assert_int_equal(en->bitwidth, qsim_quantizer_get_bitwidth(q));
        assert_int_equal(en->channels, qsim_quantizer_channel_count(q));
        for (size_t c = 0; c < en->channels; c++) {
            double mn, mx, sc;
            int64_t off;
            assert_int_equal(qsim_quantizer_get_encoding(q, c, &mn, &mx, &sc, &off), QSIM_OK);
            assert_true(close_rel(en->scale[c], sc, 1e-9));
            assert_int_equal(en->offset[c], off);
        }
    }
    assert_int_equal(qsim__encodings_count(e), expect);
    qsim__encodings_free(e);

    /* the ONNX file: python's onnx sees the original model's graph and weights */
    char model[700];
    qs_path(model, sizeof model, qs_models_dir, "qs_cnn.onnx");
    snprintf(cmd, sizeof cmd,
             "'%s' -c \"import onnx,sys; from onnx import numpy_helper as h; import numpy as np;"
             "a=onnx.load(sys.argv[1]); b=onnx.load(sys.argv[2]); onnx.checker.check_model(b);"
             "assert [n.op_type for n in a.graph.node]==[n.op_type for n in b.graph.node];"
             "ia={i.name:h.to_array(i) for i in a.graph.initializer};"
             "ib={i.name:h.to_array(i) for i in b.graph.initializer};"
             "assert ia.keys()==ib.keys();"
             "assert all(np.array_equal(ia[k],ib[k]) for k in ia)\" '%s' '%s/%s.onnx'",
             qs_python(), model, dir, prefix);
    assert_int_equal(system(cmd), 0);
    qsim_sim_free(s);
    qsim_model_free(m);
}

static void export_100(void **state) { (void)state; export_version("1.0.0"); }
static void export_061(void **state) { (void)state; export_version("0.6.1"); }
static void export_200(void **state) { (void)state; export_version("2.0.0"); }

/* ---- set_and_freeze -------------------------------------------------------------- */

static void snapshot(qsim_sim *s, char *buf, size_t size)
{
    size_t pos = 0;
    for (size_t i = 0; i < qsim_quantizer_count(s) && pos < size; i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        double mn = 0, mx = 0;
        qsim_quantizer_get_encoding(q, 0, &mn, &mx, NULL, NULL);
        int k = snprintf(buf + pos, size - pos, "%s %d %d %d %d %zu %.17g %.17g\n",
                         qsim_quantizer_name(q), qsim_quantizer_is_enabled(q),
                         qsim_quantizer_is_frozen(q), qsim_quantizer_get_bitwidth(q),
                         (int)qsim_quantizer_get_data_type(q), qsim_quantizer_channel_count(q), mn,
                         mx);
        pos += (size_t)k;
    }
}

static void freeze_errors_change_nothing(void **state)
{
    (void)state;
    char dir[600], path[800];
    qs_scratch(dir, sizeof dir, "freeze");
    qsim_model *m = load_cnn();
    qsim_sim *s = make_sim(m, 0, NULL);
    calibrate(s);
    static char before[65536], after[65536];
    snapshot(s, before, sizeof before);
    struct {
        const char *json;
        qsim_status want;
        const char *msg;
    } cases[] = {
        /* the first entry is valid: it must not be applied either */
        {"{\"conv1.weight\": [{\"bitwidth\": 4, \"dtype\": \"int\", \"is_symmetric\": \"True\", "
         "\"max\": 0.7, \"min\": -0.8, \"offset\": -8, \"scale\": 0.1}],"
         " \"conv1.wieght\": [{\"bitwidth\": 4, \"dtype\": \"int\", \"is_symmetric\": \"True\", "
         "\"max\": 0.7, \"min\": -0.8, \"offset\": -8, \"scale\": 0.1}]}",
         QSIM_ERR_NOT_FOUND, "closest: 'conv1.weight'"},
        {"{\"conv1.weight\": [{\"bitwidth\": 4, \"dtype\": \"int\", \"is_symmetric\": \"True\", "
         "\"max\": 0.7, \"min\": -0.8, \"offset\": -8, \"scale\": 0.1},"
         "{\"bitwidth\": 4, \"dtype\": \"int\", \"is_symmetric\": \"True\", "
         "\"max\": 0.7, \"min\": -0.8, \"offset\": -8, \"scale\": 0.1}]}",
         QSIM_ERR_SHAPE, "has 4 channels"},
        {"{\"version\": \"1.0.0\", \"activation_encodings\": [], \"param_encodings\": ["
         "{\"name\": \"c1\", \"enc_type\": \"PER_TENSOR\", \"dtype\": \"INT\", \"bw\": 8, "
         "\"is_sym\": false, \"scale\": [0.1], \"offset\": [-10.0]}]}",
         QSIM_ERR_INVALID_ARGUMENT, "not a param"},
        {"{\"version\": \"1.0.0\", \"activation_encodings\": [], \"param_encodings\": ["
         "{\"name\": \"bn1.weight\", \"enc_type\": \"PER_TENSOR\", \"dtype\": \"FLOAT\", \"bw\": 32}]}",
         QSIM_ERR_INVALID_ARGUMENT, "only 16"},
        {"{ not json", QSIM_ERR_PARSE, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/bad%zu.encodings", dir, i);
        assert_int_equal(qs_write_file(path, cases[i].json, strlen(cases[i].json)), 0);
        qsim_status st = qsim_set_and_freeze_param_encodings(s, path);
        printf("# case %zu: %s: %s\n", i, qsim_status_string(st), qsim_last_error());
        assert_int_equal(st, cases[i].want);
        assert_non_null(strstr(qsim_last_error(), cases[i].msg));
        snapshot(s, after, sizeof after);
        assert_string_equal(before, after);
    }
    assert_int_equal(qsim_set_and_freeze_param_encodings(s, "/nonexistent/x.encodings"),
                     QSIM_ERR_IO);
    qsim_sim_free(s);
    qsim_model_free(m);
}

/* compute_encodings, export, new sim, set_and_freeze_param_encodings, every
 * BatchNormalization output and param to FP16, compute_encodings, export:
 * FP16 BN entries next to int Conv/Gemm entries. */
static void founding_workflow(void **state)
{
    (void)state;
    char dir[600], path[800];
    qs_scratch(dir, sizeof dir, "founding");
    qsim_model *m = load_cnn();
    qsim_sim *a = make_sim(m, 1, NULL);
    calibrate(a);
    assert_int_equal(qsim_export(a, dir, "step1"), QSIM_OK);
    double w_scale = 0;
    assert_int_equal(qsim_quantizer_get_encoding(qsim_quantizer_find(a, "conv1.weight"), 2, NULL,
                                                 NULL, &w_scale, NULL), QSIM_OK);

    /* a new sim from the exported model */
    snprintf(path, sizeof path, "%s/step1.onnx", dir);
    qsim_model *m2 = NULL;
    assert_int_equal(qsim_model_load(path, &m2), QSIM_OK);
    qsim_sim *b = make_sim(m2, 1, NULL);
    snprintf(path, sizeof path, "%s/step1.encodings", dir);
    qsim_status st = qsim_set_and_freeze_param_encodings(b, path);
    if (st != QSIM_OK)
        fprintf(stderr, "# %s\n", qsim_last_error());
    assert_int_equal(st, QSIM_OK);
    qsim_quantizer *bnw = qsim_quantizer_find(b, "bn1.weight");
    assert_true(qsim_quantizer_is_frozen(bnw));
    assert_int_equal(qsim_quantizer_set_bitwidth(bnw, 16), QSIM_ERR_FROZEN);
    assert_int_equal(qsim_quantizer_set_data_type(bnw, QSIM_DATA_TYPE_FLOAT), QSIM_ERR_FROZEN);
    assert_false(qsim_quantizer_is_frozen(qsim_quantizer_find(b, "c1"))); /* activations not */
    double s2 = 0;
    assert_int_equal(qsim_quantizer_get_encoding(qsim_quantizer_find(b, "conv1.weight"), 2, NULL,
                                                 NULL, &s2, NULL), QSIM_OK);
    assert_true(close_rel(s2, w_scale, 1e-12));

    /* the frozen BN params cannot go FP16 (SPEC 6 trap): the user leaves the
     * BN params out of the frozen set by using a fresh sim instead */
    qsim_sim_free(b);
    b = make_sim(m2, 1, NULL);
    /* freeze only the Conv/Gemm/MatMul params: a param-only file of those */
    qsim__encodings *e = NULL;
    assert_int_equal(qsim__encodings_load(path, &e), QSIM_OK);
    qsim__encodings *keep = qsim__encodings_create();
    for (size_t i = 0; i < qsim__encodings_count(e); i++) {
        const qsim__enc_entry *en = qsim__encodings_at(e, i);
        if (en->section == QSIM__ENC_SECTION_PARAM && strncmp(en->name, "bn1.", 4))
            assert_int_equal(qsim__encodings_add(keep, en), QSIM_OK);
    }
    snprintf(path, sizeof path, "%s/adaround_like.encodings", dir);
    qsim__enc_write_opts wo = {QSIM__ENC_V1_0_0, 1, 0};
    assert_int_equal(qsim__encodings_write(keep, path, &wo), QSIM_OK);
    qsim__encodings_free(keep);
    qsim__encodings_free(e);
    assert_int_equal(qsim_set_and_freeze_param_encodings(b, path), QSIM_OK);
    for (size_t i = 0; i < qsim_quantizer_count(b); i++) {
        qsim_quantizer *q = qsim_quantizer_at(b, i);
        if (strcmp(qsim_quantizer_op_type(q), "BatchNormalization"))
            continue;
        assert_int_equal(qsim_quantizer_set_data_type(q, QSIM_DATA_TYPE_FLOAT), QSIM_OK);
        assert_int_equal(qsim_quantizer_set_bitwidth(q, 16), QSIM_OK);
    }
    calibrate(b);
    assert_int_equal(qsim_export(b, dir, "step2"), QSIM_OK);
    snprintf(path, sizeof path, "%s/step2.encodings", dir);
    assert_int_equal(qsim__encodings_load(path, &e), QSIM_OK);
    const char *fp16[] = {"b1", "bn1.weight", "bn1.mean", "bn1.var"};
    for (size_t i = 0; i < 4; i++) {
        const qsim__enc_entry *en = qsim__encodings_find(e, fp16[i]);
        assert_non_null(en);
        assert_int_equal(en->dtype, QSIM__ENC_DTYPE_FLOAT);
        assert_int_equal(en->bitwidth, 16);
    }
    const char *ints[] = {"conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight", "c1", "logits"};
    for (size_t i = 0; i < 6; i++) {
        const qsim__enc_entry *en = qsim__encodings_find(e, ints[i]);
        assert_non_null(en);
        assert_int_equal(en->dtype, QSIM__ENC_DTYPE_INT);
    }
    assert_int_equal(qsim__encodings_find(e, "conv1.weight")->channels, 4); /* per-channel */
    qsim__encodings_free(e);
    qsim_sim_free(b);
    qsim_model_free(m2);
    qsim_sim_free(a);
    qsim_model_free(m);
}

/* resnet18: activation QDQ and calibration statistics run in chunks on the
 * thread pool; one thread and two give identical encodings and outputs. */
static float r18_in[3 * 224 * 224];

#define QSIM_TRY_LOCAL(e)                                                                   \
    do {                                                                                    \
        qsim_status st_ = (e);                                                              \
        if (st_ != QSIM_OK)                                                                 \
            return st_;                                                                     \
    } while (0)

static qsim_status feed_r18(qsim_sim *s, void *u)
{
    (void)u;
    int64_t shape[4] = {1, 3, 224, 224};
    QSIM_TRY_LOCAL(qsim_sim_set_input(s, "input", r18_in, shape, 4));
    return qsim_sim_run(s);
}

static void threads_agree(void **state)
{
    (void)state;
    if (qs_under_valgrind()) { /* cmocka's skip() reads as a failure to meson's TAP */
        printf("# threads_agree: not run under valgrind\n");
        return;
    }
    char path[700];
    qs_path(path, sizeof path, qs_resnet_dir, "resnet18.onnx");
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(path, &m), QSIM_OK);
    uint32_t seed = 7;
    fill(r18_in, sizeof r18_in / sizeof r18_in[0], &seed);
    qsim_sim *sims[2];
    const float *out[2];
    for (int k = 0; k < 2; k++) {
        qsim_sim_options *o = NULL;
        assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
        assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_NUM_THREADS, k + 1), QSIM_OK);
        assert_int_equal(qsim_sim_create(m, o, &sims[k]), QSIM_OK);
        qsim_sim_options_free(o);
        qsim_quantizer *fp16 = qsim_quantizer_find(sims[k], qsim_quantizer_name(
                                   qsim_quantizer_at(sims[k], 5)));
        assert_int_equal(qsim_quantizer_set_data_type(fp16, QSIM_DATA_TYPE_FLOAT), QSIM_OK);
        assert_int_equal(qsim_compute_encodings(sims[k], feed_r18, NULL), QSIM_OK);
        assert_int_equal(feed_r18(sims[k], NULL), QSIM_OK);
        const int64_t *shape;
        size_t rank;
        assert_int_equal(qsim_sim_get_output(sims[k], qsim_model_output_name(m, 0), &out[k],
                                             &shape, &rank), QSIM_OK);
    }
    assert_memory_equal(out[0], out[1], 1000 * sizeof(float));
    size_t n = qsim_quantizer_count(sims[0]), encs = 0;
    for (size_t i = 0; i < n; i++) {
        qsim_quantizer *a = qsim_quantizer_at(sims[0], i), *b = qsim_quantizer_at(sims[1], i);
        for (size_t c = 0; c < qsim_quantizer_channel_count(a); c++) {
            double e1[3], e2[3];
            int64_t o1 = 0, o2 = 0;
            qsim_status s1 = qsim_quantizer_get_encoding(a, c, &e1[0], &e1[1], &e1[2], &o1);
            qsim_status s2 = qsim_quantizer_get_encoding(b, c, &e2[0], &e2[1], &e2[2], &o2);
            assert_int_equal(s1, s2);
            if (s1 != QSIM_OK)
                continue;
            encs++;
            assert_memory_equal(e1, e2, sizeof e1);
            assert_int_equal(o1, o2);
        }
    }
    printf("# resnet18: %zu encodings equal with 1 and 2 threads\n", encs);
    assert_true(encs > 40);
    qsim_sim_free(sims[0]);
    qsim_sim_free(sims[1]);
    qsim_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        qs_models_dir = argv[1];
    if (argc > 2)
        qs_resnet_dir = argv[2];
    uint32_t seed = 42;
    for (int b = 0; b < NB; b++)
        fill(calib[b], BATCH * PER, &seed);
    fill(evalx, 2 * PER, &seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encodings_vs_reference),
        cmocka_unit_test(encodings_vs_reference_pc),
        cmocka_unit_test(tf_enhanced_vs_reference),
        cmocka_unit_test(percentile_vs_reference_pc),
        cmocka_unit_test(per_quantizer_scheme),
        cmocka_unit_test(disabled_is_fp32),
        cmocka_unit_test(export_100),
        cmocka_unit_test(export_061),
        cmocka_unit_test(export_200),
        cmocka_unit_test(freeze_errors_change_nothing),
        cmocka_unit_test(founding_workflow),
        cmocka_unit_test(threads_agree),
    };
    return cmocka_run_group_tests_name("quantsim", tests, NULL, NULL);
}
