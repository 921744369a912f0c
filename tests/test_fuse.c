/* Plan-level fusion (lib/sim/fuse.c) on tests/tools/gen_engine_models.py's
 * fuse_chain model: which chains fuse, that fused and unfused runs agree
 * (and both agree with numpy: test_models), that a hook, a second consumer
 * or a graph output keeps a value materialized with results bit-identical
 * to the unfused path, that a replaced BN parameter is folded anew, and
 * that a calibrated W8A8 sim gives the same bits with fusion on and off,
 * that every Conv of the torchvision models fuses, and that a stem's
 * MaxPool joins its group at batch 3 with the same bits. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "sim/sim_internal.h"
#include "sim_test_util.h"

#define N 3
#define XN (N * 8 * 9 * 11)
#define YN (N * 8 * 5 * 6)

static float xin[XN];

/* Run with fusion on or off (a fresh plan) and copy outputs y and c6. */
static void run(qsim_sim *s, int fuse, float *y, float *c6)
{
    for (size_t i = 0; i < XN; i++)
        xin[i] = (float)((int)(i * 7919 % 211) - 105) / 50.0f;
    int64_t shape[4] = {N, 8, 9, 11};
    qsim__plan_set_fusion(fuse);
    qsim__sim_invalidate(s);
    assert_int_equal(qsim_sim_set_input(s, "x", xin, shape, 4), QSIM_OK);
    if (qsim_sim_run(s) != QSIM_OK)
        fail_msg("run: %s", qsim_last_error());
    qsim__plan_set_fusion(1);
    const float *d;
    const int64_t *ds;
    size_t rank;
    assert_int_equal(qsim_sim_get_output(s, "y", &d, &ds, &rank), QSIM_OK);
    memcpy(y, d, YN * sizeof *y);
    assert_int_equal(qsim_sim_get_output(s, "c6", &d, &ds, &rank), QSIM_OK);
    memcpy(c6, d, YN * sizeof *c6);
}

static size_t fused_steps(const qsim__plan *p)
{
    size_t c = 0;
    for (size_t k = 0; k < p->n_sched; k++)
        c += p->mode[k] == QSIM__NODE_FUSED;
    return c;
}

static double rel_diff(const float *a, const float *b, size_t n)
{
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        md = fmax(md, fabs((double)a[i] - b[i]));
        mr = fmax(mr, fabs((double)b[i]));
    }
    return md / (mr > 0 ? mr : 1);
}

static qsim_sim *fp32_sim(qsim_model *m)
{
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    return s;
}

static void test_fused_vs_unfused(void **state)
{
    (void)state;
    qsim_model *m = load("fuse_chain.onnx");
    qsim_sim *s = fp32_sim(m);
    static float y0[YN], c60[YN], y1[YN], c61[YN];
    run(s, 0, y0, c60);
    assert_int_equal(fused_steps(s->plan), 0);
    size_t unfused_steps = s->plan->n_sched;
    run(s, 1, y1, c61);
    const qsim__plan *p = s->plan;
    /* c1+n1+r1, c2+n2+a2+r2, c3+n3+k3, c5+l5, c4+n4+a4 */
    assert_int_equal(fused_steps(p), 5);
    assert_int_equal(p->n_sched, unfused_steps - 10);
    const char *gone[] = {"c1", "n1", "c2", "n2", "a2", "c3", "n3", "c5", "c4", "n4"};
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
        assert_int_equal(p->vals[value(s, gone[i])].kind, QSIM__VAL_UNUSED);
    /* a graph output and a value with two consumers stay */
    assert_int_equal(p->vals[value(s, "c6")].kind, QSIM__VAL_ARENA);
    assert_int_equal(p->vals[value(s, "c7")].kind, QSIM__VAL_ARENA);
    /* the residual l5 dies at a4: the group writes over it; r1 is also the
     * conv's input, so a2 gets its own buffer */
    assert_int_equal(p->vals[value(s, "a4")].root, p->vals[value(s, "l5")].root);
    assert_int_not_equal(p->vals[value(s, "r2")].root, p->vals[value(s, "r1")].root);
    double d = rel_diff(y1, y0, YN), d6 = rel_diff(c61, c60, YN);
    printf("# fused vs unfused: y %.3g, c6 %.3g relative\n", d, d6);
    assert_true(d < 1e-5 && d6 < 1e-5);
    /* a fused plan reused for a second run gives the same bits */
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    const float *yy;
    const int64_t *ys;
    size_t rank;
    assert_int_equal(qsim_sim_get_output(s, "y", &yy, &ys, &rank), QSIM_OK);
    assert_memory_equal(yy, y1, sizeof y1);
    qsim_sim_free(s);
    qsim_model_free(m);
}

typedef struct hook_ctx {
    int calls;
    size_t numel;
} hook_ctx;

/* A stand-in quantizer: rounds to a 1/8 grid. */
static qsim_status grid_hook(void *ctx, qsim_sim *s, int32_t v, qsim__tview *t)
{
    hook_ctx *h = ctx;
    float *x = t->data;
    for (size_t i = 0; i < t->numel; i++)
        x[i] = roundf(x[i] * 8.0f) / 8.0f;
    h->calls++;
    h->numel = t->numel;
    (void)s;
    (void)v;
    return QSIM_OK;
}

static void test_hook_blocks_fusion(void **state)
{
    (void)state;
    qsim_model *m = load("fuse_chain.onnx");
    qsim_sim *s = fp32_sim(m);
    hook_ctx h = {0, 0};
    assert_int_equal(qsim__sim_set_hook(s, value(s, "n2"), grid_hook, &h), QSIM_OK);
    static float y0[YN], c60[YN], y1[YN], c61[YN];
    run(s, 0, y0, c60);
    run(s, 1, y1, c61);
    assert_int_equal(h.calls, 2);
    assert_int_equal(h.numel, (size_t)N * 16 * 9 * 11);
    const qsim__plan *p = s->plan;
    assert_int_equal(p->vals[value(s, "n2")].kind, QSIM__VAL_ARENA);
    /* with a hook anywhere only the bit-exact Conv+activation fusion runs:
     * c5+l5 (c6 is an output, c7 has two consumers, no BN folds) */
    assert_int_equal(fused_steps(p), 1);
    assert_int_equal(p->vals[value(s, "c5")].kind, QSIM__VAL_UNUSED);
    assert_int_equal(p->vals[value(s, "c1")].kind, QSIM__VAL_ARENA);
    assert_memory_equal(y1, y0, sizeof y0);
    assert_memory_equal(c61, c60, sizeof c60);
    qsim_sim_free(s);
    qsim_model_free(m);
}

/* A BN parameter replaced after a fused run is folded from the new data. */
static void test_constant_refolds(void **state)
{
    (void)state;
    qsim_model *m = load("fuse_chain.onnx");
    qsim_sim *s = fp32_sim(m);
    static float y0[YN], c60[YN], y1[YN], c61[YN], y2[YN], c62[YN];
    run(s, 1, y0, c60);
    int32_t v = value(s, "bn4_s");
    const qsim__tensor *orig = qsim__sim_constant(s, v);
    qsim__tensor *t = qsim__tensor_clone(orig);
    assert_non_null(t);
    for (size_t i = 0; i < t->numel; i++)
        ((float *)t->data)[i] *= -1.5f;
    assert_int_equal(qsim__sim_set_constant(s, v, t), QSIM_OK);
    qsim__tensor_free(t);
    run(s, 1, y1, c61);
    assert_int_equal(fused_steps(s->plan), 5);
    run(s, 0, y2, c62);
    assert_true(rel_diff(y1, y2, YN) < 1e-5);
    assert_true(rel_diff(y1, y0, YN) > 1e-2); /* the change is visible */
    /* and restoring the model's constant folds the original again */
    assert_int_equal(qsim__sim_set_constant(s, v, NULL), QSIM_OK);
    run(s, 1, y1, c61);
    assert_memory_equal(y1, y0, sizeof y0);
    qsim_sim_free(s);
    qsim_model_free(m);
}

static qsim_status forward(qsim_sim *s, void *user)
{
    (void)user;
    int64_t shape[4] = {N, 8, 9, 11};
    qsim_status st = qsim_sim_set_input(s, "x", xin, shape, 4);
    return st != QSIM_OK ? st : qsim_sim_run(s);
}

/* Default W8A8 placement, calibrated: fusion changes no bit. */
static void test_quantsim_unchanged(void **state)
{
    (void)state;
    qsim_model *m = load("fuse_chain.onnx");
    qsim_sim *s = fp32_sim(m);
    static float y0[YN], c60[YN], y1[YN], c61[YN];
    run(s, 1, y0, c60);
    if (qsim_compute_encodings(s, forward, NULL) != QSIM_OK)
        fail_msg("compute_encodings: %s", qsim_last_error());
    run(s, 0, y0, c60);
    run(s, 1, y1, c61);
    assert_memory_equal(y1, y0, sizeof y0);
    assert_memory_equal(c61, c60, sizeof c60);
    qsim_sim_free(s);
    qsim_model_free(m);
}

/* QSIM_OPT_FUSION 0 runs every node; values other than 0/1 are refused. */
static void test_option(void **state)
{
    (void)state;
    qsim_model *m = load("fuse_chain.onnx");
    qsim_sim_options *o = NULL;
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_FUSION, 2), QSIM_ERR_INVALID_ARGUMENT);
    assert_true(strstr(qsim_last_error(), "QSIM_OPT_FUSION") != NULL);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_FUSION, 0), QSIM_OK);
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, o, &s), QSIM_OK);
    static float y0[YN], c60[YN], y1[YN], c61[YN];
    run(s, 1, y0, c60);
    assert_int_equal(fused_steps(s->plan), 0);
    qsim_sim_free(s);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_FUSION, 1), QSIM_OK);
    assert_int_equal(qsim_sim_create(m, o, &s), QSIM_OK);
    run(s, 1, y1, c61);
    assert_int_equal(fused_steps(s->plan), 5);
    assert_true(rel_diff(y1, y0, YN) < 1e-5);
    qsim_sim_free(s);
    qsim_sim_options_free(o);
    qsim_model_free(m);
}

/* The torchvision models (unfused BN, opset 13): every Conv fuses; only
 * the pooling/classifier nodes run on their own. (Accuracy against torch:
 * test_models.) */
static void test_vision_models(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        size_t fused, steps;
    } want[] = {{"mobilenet_v2.onnx", 52, 55}, {"resnet18.onnx", 20, 24}};
    float *x = calloc(3 * 224 * 224, sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < 3 * 224 * 224; i++)
        x[i] = (float)(i % 23) / 23.0f - 0.5f;
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        qsim_model *m = load(want[i].file);
        qsim_sim *s = fp32_sim(m);
        int64_t shape[4] = {1, 3, 224, 224};
        assert_int_equal(qsim_sim_set_input(s, "input", x, shape, 4), QSIM_OK);
        assert_int_equal(qsim_sim_run(s), QSIM_OK);
        const qsim__plan *p = s->plan;
        printf("# %s: %zu steps, %zu fused\n", want[i].file, p->n_sched, fused_steps(p));
        assert_int_equal(fused_steps(p), want[i].fused);
        assert_int_equal(p->n_sched, want[i].steps);
        qsim_sim_free(s);
        qsim_model_free(m);
    }
    free(x);
}

/* fuse_stem (Conv-BN-Relu-MaxPool, one image's conv output 512 KiB) at
 * batch 3: the MaxPool joins the group and the group runs image by image;
 * the outputs are the bits of the plan without it (the conv's sums do not
 * depend on the batch tiling; against numpy: test_models). At batch 1 it
 * stays out. */
static void test_maxpool_joins(void **state)
{
    (void)state;
    enum { B = 3, IMG = 3 * 64 * 64, OUT = 32 * 32 * 32 };
    float *x = malloc(B * IMG * sizeof *x), *y0 = malloc(B * OUT * sizeof *y0);
    assert_non_null(x);
    assert_non_null(y0);
    for (size_t i = 0; i < B * IMG; i++)
        x[i] = (float)((int)(i * 7919 % 211) - 105) / 100.0f;
    qsim_model *m = load("fuse_stem.onnx");
    qsim_sim *s = fp32_sim(m);
    for (int64_t n = 1; n <= B; n += B - 1)
        for (int on = 0; on < 2; on++) {
            int64_t shape[4] = {n, 3, 64, 64};
            qsim__plan_set_pool_fusion(on);
            qsim__sim_invalidate(s);
            if (qsim_sim_set_input(s, "x", x, shape, 4) != QSIM_OK || qsim_sim_run(s) != QSIM_OK)
                fail_msg("run: %s", qsim_last_error());
            qsim__plan_set_pool_fusion(1);
            const qsim__plan *p = s->plan;
            int joined = on && n > 1;
            assert_int_equal(p->n_sched, joined ? 1 : 2);
            assert_int_equal(p->mode[0], QSIM__NODE_FUSED);
            assert_string_equal(qsim__plan_step_node(s, p, 0)->op_type, joined ? "MaxPool" : "Relu");
            const float *y;
            const int64_t *ys;
            size_t rank;
            assert_int_equal(qsim_sim_get_output(s, "y", &y, &ys, &rank), QSIM_OK);
            if (n == 1)
                continue;
            if (!on)
                memcpy(y0, y, B * OUT * sizeof *y);
            else
                assert_memory_equal(y, y0, B * OUT * sizeof *y);
        }
    qsim_sim_free(s);
    qsim_model_free(m);
    free(x);
    free(y0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fused_vs_unfused),
        cmocka_unit_test(test_hook_blocks_fusion),
        cmocka_unit_test(test_constant_refolds),
        cmocka_unit_test(test_quantsim_unchanged),
        cmocka_unit_test(test_option),
        cmocka_unit_test(test_vision_models),
        cmocka_unit_test(test_maxpool_joins),
    };
    return cmocka_run_group_tests_name("fuse", tests, NULL, NULL);
}
