/* qsim_apply_adaround on the bundled Fashion-MNIST CNN (data/): W4A8
 * AdaRound against round-to-nearest (accuracy on test images and the
 * per-layer reconstruction), the sim's weights and frozen encodings, and
 * the AIMET round trip: export -> load prefix.onnx -> new sim ->
 * set_and_freeze_param_encodings -> identical outputs. */
#include <qsim/qsim.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "idx.h"

#define CAL_N 256
#define TEST_N 1000
#define BATCH 32

static qex_idx train_img, test_img, test_lab;
static float *cal_x, *test_x;
static int have_data;
static char model_path[1024], outdir[1024];

static int setup(void **st)
{
    (void)st;
    const char *root = getenv("QSIM_SOURCE_ROOT"), *data = getenv("QSIM_TEST_DATA");
    snprintf(model_path, sizeof model_path, "%s/data/fmnist_cnn.onnx", root ? root : ".");
    snprintf(outdir, sizeof outdir, "%s/adaround_sim", data ? data : "/tmp");
    mkdir(outdir, 0755);
    const char *ds = "/usr/share/datasets/fashion-mnist";
    char p[512];
    qex_err err;
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", ds);
    if (qex_idx_read_images(p, &train_img, &err))
        return 0;
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte.gz", ds);
    if (qex_idx_read_images(p, &test_img, &err))
        return 0;
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte.gz", ds);
    if (qex_idx_read_labels(p, 10, &test_lab, &err))
        return 0;
    cal_x = malloc(CAL_N * 784 * sizeof *cal_x);
    test_x = malloc(TEST_N * 784 * sizeof *test_x);
    if (qex_idx_images_to_nchw(&train_img, 0, CAL_N, cal_x, CAL_N * 784, &err) ||
        qex_idx_images_to_nchw(&test_img, 0, TEST_N, test_x, TEST_N * 784, &err))
        return 0;
    have_data = 1;
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    free(cal_x);
    free(test_x);
    qex_idx_free(&train_img);
    qex_idx_free(&test_img);
    qex_idx_free(&test_lab);
    return 0;
}

static qsim_status feed(qsim_sim *s, void *ud)
{
    (void)ud;
    for (int b = 0; b < CAL_N; b += BATCH) {
        int64_t shape[4] = {BATCH, 1, 28, 28};
        qsim_status st = qsim_sim_set_input(s, "input", cal_x + (size_t)b * 784, shape, 4);
        if (st == QSIM_OK)
            st = qsim_sim_run(s);
        if (st != QSIM_OK)
            return st;
    }
    return QSIM_OK;
}

/* Top-1 on TEST_N images; logits of the first batch into first (if given). */
static double accuracy(qsim_sim *s, float *first)
{
    int correct = 0;
    for (int b = 0; b < TEST_N; b += 100) {
        int64_t shape[4] = {100, 1, 28, 28};
        assert_int_equal(qsim_sim_set_input(s, "input", test_x + (size_t)b * 784, shape, 4),
                         QSIM_OK);
        assert_int_equal(qsim_sim_run(s), QSIM_OK);
        const float *y;
        const int64_t *ys;
        size_t r;
        assert_int_equal(qsim_sim_get_output(s, "logits", &y, &ys, &r), QSIM_OK);
        if (b == 0 && first)
            memcpy(first, y, 100 * 10 * sizeof *y);
        for (int i = 0; i < 100; i++) {
            int best = 0;
            for (int c = 1; c < 10; c++)
                if (y[i * 10 + c] > y[i * 10 + best])
                    best = c;
            correct += best == test_lab.data[b + i];
        }
    }
    return (double)correct / TEST_N;
}

static qsim_sim *make_sim(const char *path, qsim_model **mout)
{
    qsim_model *m = NULL;
    qsim_sim_options *o = NULL;
    qsim_sim *s = NULL;
    assert_int_equal(qsim_model_load(path, &m), QSIM_OK);
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_DEFAULT_PARAM_BW, 4), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_NUM_THREADS, 2), QSIM_OK);
    assert_int_equal(qsim_sim_create(m, o, &s), QSIM_OK);
    qsim_sim_options_free(o);
    *mout = m;
    return s;
}

typedef struct prog {
    int layers, last_total, iters;
    double t;
} prog;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_progress(const char *stage, uint64_t done, uint64_t total, void *ud)
{
    prog *p = ud;
    if (!strcmp(stage, "adaround")) {
        double t = now_s();
        if (done > 0)
            print_message("# layer %d of %d: %.2f s\n", (int)done, (int)total, t - p->t);
        p->t = t;
        p->layers = (int)done;
        p->last_total = (int)total;
    } else if (!strcmp(stage, "adaround_iterations")) {
        p->iters++;
    }
}

static void test_fmnist(void **st)
{
    (void)st;
    if (!have_data) {
        print_message("# Fashion-MNIST not installed: skipped\n");
        return; /* meson reads a cmocka skip as a failure */
    }
    /* round to nearest */
    qsim_model *m1, *m2, *m3;
    qsim_sim *rtn = make_sim(model_path, &m1);
    assert_int_equal(qsim_compute_encodings(rtn, feed, NULL), QSIM_OK);
    double acc_rtn = accuracy(rtn, NULL);

    /* AdaRound, then the activation encodings */
    qsim_sim *ada = make_sim(model_path, &m2);
    qsim_adaround_params *p;
    assert_int_equal(qsim_adaround_params_create(&p), QSIM_OK);
    assert_int_equal(qsim_adaround_params_set_int(p, QSIM_ADAROUND_NUM_ITERATIONS, 2000), QSIM_OK);
    prog pr = {0};
    qsim_sim_set_progress(ada, on_progress, &pr);
    assert_int_equal(qsim_apply_adaround(ada, feed, NULL, p), QSIM_OK);
    qsim_sim_set_progress(ada, NULL, NULL);
    assert_int_equal(pr.layers, 4); /* 3 Conv + 1 Gemm */
    assert_int_equal(pr.last_total, 4);
    assert_true(pr.iters >= 4 * 20);
    /* the optimised weight quantizers are frozen */
    int frozen = 0;
    for (size_t i = 0; i < qsim_quantizer_count(ada); i++) {
        qsim_quantizer *q = qsim_quantizer_at(ada, i);
        frozen += qsim_quantizer_is_frozen(q);
    }
    assert_int_equal(frozen, 4);
    assert_int_equal(qsim_compute_encodings(ada, feed, NULL), QSIM_OK);
    float *out_ada = malloc(1000 * sizeof *out_ada), *out_rt = malloc(1000 * sizeof *out_rt);
    double acc_ada = accuracy(ada, out_ada);
    print_message("# W4A8 top-1 on %d test images: nearest %.4f, AdaRound %.4f\n", TEST_N,
                  acc_rtn, acc_ada);
    assert_true(acc_ada >= acc_rtn);

    /* export -> load -> new sim -> set_and_freeze -> the same outputs */
    assert_int_equal(qsim_export(ada, outdir, "ada"), QSIM_OK);
    char onnx[1200], enc[1200];
    snprintf(onnx, sizeof onnx, "%s/ada.onnx", outdir);
    snprintf(enc, sizeof enc, "%s/ada.encodings", outdir);
    qsim_sim *rt = make_sim(onnx, &m3);
    assert_int_equal(qsim_set_and_freeze_param_encodings(rt, enc), QSIM_OK);
    assert_int_equal(qsim_compute_encodings(rt, feed, NULL), QSIM_OK);
    double acc_rt = accuracy(rt, out_rt);
    double maxd = 0;
    for (int i = 0; i < 1000; i++)
        maxd = fmax(maxd, fabs((double)out_ada[i] - out_rt[i]));
    print_message("# round trip: top-1 %.4f, max |diff| %g\n", acc_rt, maxd);
    assert_true(maxd == 0.0);
    assert_true(acc_rt == acc_ada);

    /* the input model is untouched: a fresh RTN sim on it gives the same */
    qsim_sim_free(rt);
    qsim_sim_free(ada);
    qsim_sim_free(rtn);
    qsim_model_free(m1);
    qsim_model_free(m2);
    qsim_model_free(m3);
    qsim_adaround_params_free(p);
    free(out_ada);
    free(out_rt);
}

static qsim_status feed_nothing(qsim_sim *s, void *ud)
{
    (void)s;
    (void)ud;
    return QSIM_OK;
}

static qsim_status feed_fail(qsim_sim *s, void *ud)
{
    (void)s;
    (void)ud;
    return QSIM_ERR_IO;
}

static void test_bad_callbacks(void **st)
{
    (void)st;
    qsim_model *m;
    qsim_sim *s = make_sim(model_path, &m);
    assert_int_equal(qsim_apply_adaround(NULL, feed, NULL, NULL), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_apply_adaround(s, NULL, NULL, NULL), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_apply_adaround(s, feed_nothing, NULL, NULL), QSIM_ERR_STATE);
    assert_non_null(strstr(qsim_last_error(), "no batch"));
    assert_int_equal(qsim_apply_adaround(s, feed_fail, NULL, NULL), QSIM_ERR_IO);
    assert_non_null(strstr(qsim_last_error(), "callback"));
    for (size_t i = 0; i < qsim_quantizer_count(s); i++)
        assert_false(qsim_quantizer_is_frozen(qsim_quantizer_at(s, i)));
    qsim_sim_free(s);
    qsim_model_free(m);
}

/* Mixed precision: FP16 activations and a disabled weight stay as set. */
static void test_mixed(void **st)
{
    (void)st;
    if (!have_data)
        return; /* meson reads a cmocka skip as a failure */
    qsim_model *m;
    qsim_sim *s = make_sim(model_path, &m);
    qsim_quantizer *gemm_w = NULL;
    for (size_t i = 0; i < qsim_quantizer_count(s); i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        if (qsim_quantizer_get_kind(q) == QSIM_QUANTIZER_ACTIVATION)
            assert_int_equal(qsim_quantizer_set_data_type(q, QSIM_DATA_TYPE_FLOAT), QSIM_OK);
        else if (!strcmp(qsim_quantizer_op_type(q), "Gemm") &&
                 strstr(qsim_quantizer_name(q), "weight"))
            gemm_w = q;
    }
    assert_non_null(gemm_w);
    assert_int_equal(qsim_quantizer_set_enabled(gemm_w, 0), QSIM_OK);
    assert_int_equal(qsim_compute_encodings(s, feed, NULL), QSIM_OK);
    qsim_adaround_params *p;
    assert_int_equal(qsim_adaround_params_create(&p), QSIM_OK);
    assert_int_equal(qsim_adaround_params_set_int(p, QSIM_ADAROUND_NUM_ITERATIONS, 200), QSIM_OK);
    assert_int_equal(qsim_apply_adaround(s, feed, NULL, p), QSIM_OK);
    int frozen = 0;
    for (size_t i = 0; i < qsim_quantizer_count(s); i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        frozen += qsim_quantizer_is_frozen(q);
        if (qsim_quantizer_get_kind(q) == QSIM_QUANTIZER_ACTIVATION) {
            assert_int_equal(qsim_quantizer_get_data_type(q), QSIM_DATA_TYPE_FLOAT);
            assert_false(qsim_quantizer_is_frozen(q));
        }
    }
    assert_int_equal(frozen, 3);
    assert_false(qsim_quantizer_is_enabled(gemm_w));
    assert_false(qsim_quantizer_is_frozen(gemm_w));
    double acc = accuracy(s, NULL);
    print_message("# W4 (Gemm float) + FP16 activations after AdaRound: top-1 %.4f\n", acc);
    assert_true(acc > 0.85);
    qsim_adaround_params_free(p);
    qsim_sim_free(s);
    qsim_model_free(m);
}

static qsim_status feed_small(qsim_sim *s, void *ud)
{
    (void)ud;
    float x[16 * 64];
    unsigned r = 3;
    for (int b = 0; b < 4; b++) {
        for (int i = 0; i < 16 * 64; i++) {
            r = r * 1103515245u + 12345u;
            x[i] = (float)((r >> 8) & 0xffff) / 32768.0f - 1.0f;
        }
        int64_t shape[4] = {16, 1, 8, 8};
        qsim_status st = qsim_sim_set_input(s, "x", x, shape, 4);
        if (st == QSIM_OK)
            st = qsim_sim_run(s);
        if (st != QSIM_OK)
            return st;
    }
    return QSIM_OK;
}

static void small_outputs(qsim_sim *s, float *out)
{
    assert_int_equal(feed_small(s, NULL), QSIM_OK); /* last batch's logits */
    const float *y;
    const int64_t *ys;
    size_t r;
    assert_int_equal(qsim_sim_get_output(s, "logits", &y, &ys, &r), QSIM_OK);
    memcpy(out, y, 160 * sizeof *y);
}

static qsim_sim *small_sim(const char *path, qsim_model **m)
{
    qsim_sim_options *o = NULL;
    qsim_sim *s = NULL;
    assert_int_equal(qsim_model_load(path, m), QSIM_OK);
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_DEFAULT_PARAM_BW, 4), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_PER_CHANNEL, 1), QSIM_OK);
    assert_int_equal(qsim_sim_create(*m, o, &s), QSIM_OK);
    qsim_sim_options_free(o);
    return s;
}

/* The generated qs_cnn (Conv with bias, Conv from a Constant node, MatMul,
 * Gemm transB) per-channel W4: AIMET flow and the export round trip. The
 * model is built for test_quantsim; skipped when it is absent. */
static void test_small_round_trip(void **st)
{
    (void)st;
    char path[1200], onnx[1200], enc[1200];
    const char *data = getenv("QSIM_TEST_DATA");
    snprintf(path, sizeof path, "%s/../qs_cnn.onnx", data ? data : ".");
    FILE *f = fopen(path, "rb");
    if (!f) {
        print_message("# %s not built: skipped\n", path);
        return; /* meson reads a cmocka skip as a failure */
    }
    fclose(f);
    qsim_model *m1, *m2;
    qsim_sim *s = small_sim(path, &m1);
    assert_int_equal(qsim_compute_encodings(s, feed_small, NULL), QSIM_OK);
    qsim_adaround_params *p;
    assert_int_equal(qsim_adaround_params_create(&p), QSIM_OK);
    assert_int_equal(qsim_adaround_params_set_int(p, QSIM_ADAROUND_NUM_ITERATIONS, 300), QSIM_OK);
    assert_int_equal(qsim_apply_adaround(s, feed_small, NULL, p), QSIM_OK);
    int frozen = 0;
    for (size_t i = 0; i < qsim_quantizer_count(s); i++)
        frozen += qsim_quantizer_is_frozen(qsim_quantizer_at(s, i));
    print_message("# qs_cnn: %d weights AdaRounded\n", frozen);
    assert_true(frozen >= 3);
    assert_int_equal(qsim_compute_encodings(s, feed_small, NULL), QSIM_OK);
    float a[160], b[160];
    small_outputs(s, a);
    assert_int_equal(qsim_export(s, outdir, "small"), QSIM_OK);
    snprintf(onnx, sizeof onnx, "%s/small.onnx", outdir);
    snprintf(enc, sizeof enc, "%s/small.encodings", outdir);
    qsim_sim *t = small_sim(onnx, &m2);
    assert_int_equal(qsim_set_and_freeze_param_encodings(t, enc), QSIM_OK);
    assert_int_equal(qsim_compute_encodings(t, feed_small, NULL), QSIM_OK);
    small_outputs(t, b);
    assert_memory_equal(a, b, sizeof a);
    qsim_sim_free(t);
    qsim_sim_free(s);
    qsim_model_free(m1);
    qsim_model_free(m2);
    qsim_adaround_params_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_callbacks),
        cmocka_unit_test(test_fmnist),
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_small_round_trip),
    };
    return cmocka_run_group_tests_name("adaround_sim", tests, setup, teardown);
}
