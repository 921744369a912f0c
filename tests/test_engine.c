/* Engine internals: the arena reuses memory and the plan aliases and works
 * in place; value hooks see (and may rewrite) each produced value; replaced
 * constants re-initialize their consumers; the AVX2 elementwise kernels
 * agree with the portable ones (libm) at every length around the vector
 * width. Models from tests/tools/gen_engine_models.py. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "kernels/eltwise.h"
#include "sim/sim_internal.h"
#include "sim_test_util.h"

static void run_chain(qsim_sim *s, int64_t n, float *x)
{
    for (int64_t i = 0; i < n * 64; i++)
        x[i] = (float)((i * 37) % 101 - 50) / 20.0f;
    int64_t shape[2] = {n, 64};
    assert_int_equal(qsim_sim_set_input(s, "x", x, shape, 2), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
}

static void test_arena_inplace_alias(void **state)
{
    (void)state;
    qsim_model *m = load("api_chain.onnx");
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    float x[64 * 8];
    run_chain(s, 8, x);
    const qsim__plan *p = s->plan;
    /* 41 values of 2 KiB each (80 KiB+ without reuse) fit in 2 buffers */
    size_t one = 8 * 64 * sizeof(float);
    assert_true(p->arena_bytes <= 2 * one);
    /* in place: t1 lives in t0's buffer; alias: 'flat' shares t39's */
    int32_t t0 = value(s, "t0"), t1 = value(s, "t1"), t39 = value(s, "t39");
    assert_int_equal(p->vals[t1].root, p->vals[t0].root);
    assert_int_equal(p->vals[value(s, "flat")].root, p->vals[t39].root);
    /* batch change: a new plan, still correct (checked in test_sim too) */
    run_chain(s, 3, x);
    assert_int_equal(s->plan->vals[t39].shape.dims[0], 3);
    qsim_sim_free(s);
    qsim_model_free(m);
}

static void check_no_overlap(const qsim__plan *p)
{
    for (size_t a = 0; a < p->n_values; a++)
        for (size_t b = a + 1; b < p->n_values; b++) {
            const qsim__rtval *u = &p->vals[a], *v = &p->vals[b];
            if (u->kind != QSIM__VAL_ARENA || v->kind != QSIM__VAL_ARENA || u->root != (int32_t)a ||
                v->root != (int32_t)b || !u->bytes || !v->bytes)
                continue;
            int live = u->def <= v->last && v->def <= u->last;
            int mem = u->offset < v->offset + v->bytes && v->offset < u->offset + u->bytes;
            if (live && mem)
                fail_msg("values %zu and %zu overlap in time and memory", a, b);
        }
}

/* A real network: reuse across ~50 live ranges, not just in place. */
static void test_arena_resnet18(void **state)
{
    (void)state;
    qsim_model *m = load("resnet18.onnx");
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    /* the layout itself: every node's output is a buffer (test_fuse checks
     * fusion) */
    qsim__plan_set_fusion(0);
    size_t n = 3 * 224 * 224;
    float *x = calloc(n, sizeof *x);
    assert_non_null(x);
    int64_t shape[4] = {1, 3, 224, 224};
    assert_int_equal(qsim_sim_set_input(s, "input", x, shape, 4), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    const qsim__plan *p = s->plan;
    printf("# resnet18 arena %zu bytes, %zu without reuse, %zu steps\n", p->arena_bytes,
           p->naive_bytes, p->n_sched);
    assert_true(p->arena_bytes * 2 < p->naive_bytes);
    const float *y;
    const int64_t *ys;
    size_t rank;
    assert_int_equal(qsim_sim_get_output(s, "output", &y, &ys, &rank), QSIM_OK);
    float *ref = malloc(1000 * sizeof *ref);
    assert_non_null(ref);
    memcpy(ref, y, 1000 * sizeof *ref);
    /* the first-fit layout (used for very large graphs) on the same model */
    for (int pass = 0; pass < 2; pass++) {
        qsim__plan_set_greedy_max(pass == 0 ? 0 : 4096);
        qsim__sim_invalidate(s);
        assert_int_equal(qsim_sim_run(s), QSIM_OK);
        p = s->plan;
        if (pass == 0)
            printf("# resnet18 first-fit arena %zu bytes\n", p->arena_bytes);
        assert_int_equal(qsim_sim_get_output(s, "output", &y, &ys, &rank), QSIM_OK);
        assert_memory_equal(y, ref, 1000 * sizeof *ref);
        check_no_overlap(p);
    }
    /* fused: fewer buffers, no overlap, results within float rounding */
    size_t unfused_arena = p->arena_bytes;
    qsim__plan_set_fusion(1);
    qsim__sim_invalidate(s);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    p = s->plan;
    printf("# resnet18 fused: arena %zu bytes, %zu steps\n", p->arena_bytes, p->n_sched);
    assert_true(p->arena_bytes <= unfused_arena);
    check_no_overlap(p);
    assert_int_equal(qsim_sim_get_output(s, "output", &y, &ys, &rank), QSIM_OK);
    double md = 0, mr = 0;
    for (size_t i = 0; i < 1000; i++) {
        md = fmax(md, fabs((double)y[i] - ref[i]));
        mr = fmax(mr, fabs((double)ref[i]));
    }
    assert_true(md <= 1e-5 * mr);
    free(ref);
    free(x);
    qsim_sim_free(s);
    qsim_model_free(m);
}

typedef struct hook_log {
    int calls;
    int32_t last_value;
    size_t numel;
} hook_log;

/* zero the value: everything downstream sees it */
static qsim_status zero_hook(void *ctx, qsim_sim *s, int32_t v, qsim__tview *t)
{
    (void)s;
    hook_log *log = ctx;
    log->calls++;
    log->last_value = v;
    log->numel = t->numel;
    memset(t->data, 0, t->numel * sizeof(float));
    return QSIM_OK;
}

static void test_hooks_and_constants(void **state)
{
    (void)state;
    qsim_model *m = load("api_chain.onnx");
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, NULL, &s), QSIM_OK);
    float x[64 * 2];
    run_chain(s, 2, x);
    const float *y;
    const int64_t *shape;
    size_t rank;
    assert_int_equal(qsim_sim_get_output(s, "y", &y, &shape, &rank), QSIM_OK);
    float before = y[5];
    /* a hook on t38 (a Sigmoid output, 39 % 3 == 2 is Tanh next): zeros it,
     * so t39 = tanh(0) = 0 and y = 0 */
    hook_log log = {0, -1, 0};
    int32_t t38 = value(s, "t38");
    assert_int_equal(qsim__sim_set_hook(s, t38, zero_hook, &log), QSIM_OK);
    assert_int_equal(qsim_sim_get_output(s, "y", &y, &shape, &rank), QSIM_ERR_STATE);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.last_value, t38);
    assert_int_equal(log.numel, 128);
    assert_int_equal(qsim_sim_get_output(s, "y", &y, &shape, &rank), QSIM_OK);
    for (int i = 0; i < 128; i++)
        assert_float_equal(y[i], 0.0f, 0.0f);
    /* a hooked graph input is rewritten on a copy: the caller's data and
     * the sim's stored input stay intact across runs */
    hook_log in_log = {0, -1, 0};
    assert_int_equal(qsim__sim_set_hook(s, t38, NULL, NULL), QSIM_OK);
    assert_int_equal(qsim__sim_set_hook(s, value(s, "x"), zero_hook, &in_log), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    assert_int_equal(in_log.calls, 2);
    assert_memory_equal(s->inputs[0]->data, x, sizeof x);
    assert_int_equal(qsim__sim_set_hook(s, value(s, "x"), NULL, NULL), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    assert_int_equal(qsim_sim_get_output(s, "y", &y, &shape, &rank), QSIM_OK);
    assert_float_equal(y[5], before, 0.0f);
    /* replace the constant w = 2 by 3: y scales by 1.5 */
    int32_t w = value(s, "w");
    qsim__tensor *t = qsim__tensor_clone(s->g->values[w].constant);
    assert_non_null(t);
    ((float *)t->data)[0] = 3.0f;
    assert_int_equal(qsim__sim_set_constant(s, w, t), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    assert_int_equal(qsim_sim_get_output(s, "y", &y, &shape, &rank), QSIM_OK);
    assert_float_equal(y[5], before * 1.5f, 1e-6);
    /* a wrong shape is refused; NULL restores the model's constant */
    t->shape.dims[0] = 2;
    assert_int_equal(qsim__sim_set_constant(s, w, t), QSIM_ERR_SHAPE);
    assert_int_equal(qsim__sim_set_constant(s, w, NULL), QSIM_OK);
    assert_int_equal(qsim_sim_run(s), QSIM_OK);
    assert_int_equal(qsim_sim_get_output(s, "y", &y, &shape, &rank), QSIM_OK);
    assert_float_equal(y[5], before, 0.0f);
    qsim__tensor_free(t);
    qsim_sim_free(s);
    qsim_model_free(m);
}

/* ---- kernels: AVX2 vs generic ------------------------------------------------ */

static float tol_for(int op, float ref)
{
    switch (op) {
    case QSIM__UN_SIGMOID: return 3e-7f + 3e-7f * fabsf(ref);
    case QSIM__UN_TANH: return 2e-7f + 4e-7f * fabsf(ref);
    case QSIM__UN_ERF: return 2e-7f + 2e-7f * fabsf(ref);
    case QSIM__UN_AFFINE: return 1e-6f * (1 + fabsf(ref)); /* FMA vs mul+add */
    case QSIM__UN_EXP: return 1e-38f + 4e-7f * fabsf(ref);
    default: return 0.0f;
    }
}

static void test_eltwise_avx2_vs_generic(void **state)
{
    (void)state;
#ifdef QSIM_HAVE_AVX2
    if (!qsim__cpu_use_avx2())
        skip();
    static const size_t lens[] = {1, 7, 8, 9, 15, 16, 17, 1000, 4099};
    float *x = malloc(4099 * sizeof *x), *a = malloc(4099 * sizeof *a), *b = malloc(4099 * sizeof *b);
    float *y1 = malloc(4099 * sizeof *y1), *y2 = malloc(4099 * sizeof *y2);
    assert_non_null(x && a && b && y1 && y2);
    for (size_t i = 0; i < 4099; i++) {
        x[i] = (float)((double)((i * 7919) % 4099) / 4099.0 * 24.0 - 12.0); /* [-12, 12] */
        if (i % 13 == 0)
            x[i] *= 1e-4f; /* tiny values */
        if (i % 97 == 0)
            x[i] = (i % 2 ? 1.0f : -1.0f) * 95.0f; /* saturation */
        a[i] = x[i] * 0.5f + 0.25f;
        b[i] = 1.5f + (float)(i % 17);
    }
    for (int op = 0; op < QSIM__UN_COUNT; op++) {
        float pa = op == QSIM__UN_CLIP ? -0.5f : (op == QSIM__UN_EXP ? 12.0f : 0.2f);
        float pb = op == QSIM__UN_CLIP ? 6.0f : 0.5f;
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t n = lens[li];
            const float *in = op == QSIM__UN_SQRT ? b : x;
            qsim__k_f32_unary__generic(op, in, y1, n, pa, pb);
            qsim__k_f32_unary__avx2(op, in, y2, n, pa, pb);
            for (size_t i = 0; i < n; i++)
                if (!(fabsf(y1[i] - y2[i]) <= tol_for(op, y1[i])))
                    fail_msg("unary op %d n %zu at %zu: x %g generic %.9g avx2 %.9g", op, n, i,
                             (double)in[i], (double)y1[i], (double)y2[i]);
        }
    }
    for (int op = 0; op < QSIM__BIN_COUNT; op++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t n = lens[li];
            for (int mode = 0; mode < 3; mode++) {
                size_t sa = mode != 1, sb = mode != 2;
                qsim__k_f32_binary__generic(op, a, sa, b, sb, y1, n);
                qsim__k_f32_binary__avx2(op, a, sa, b, sb, y2, n);
                assert_memory_equal(y1, y2, n * sizeof *y1);
            }
        }
    /* in place (y == x) */
    memcpy(y1, x, 4099 * sizeof *x);
    qsim__k_f32_unary__avx2(QSIM__UN_RELU, y1, y1, 4099, 0, 0);
    for (size_t i = 0; i < 4099; i++)
        assert_float_equal(y1[i], x[i] > 0 ? x[i] : 0.0f, 0.0f);
    free(x), free(a), free(b), free(y1), free(y2);
#else
    skip();
#endif
}

/* The generic kernels against double-precision math. */
static void test_eltwise_generic_reference(void **state)
{
    (void)state;
    float x[64], y[64];
    for (int i = 0; i < 64; i++)
        x[i] = (float)(i - 32) / 5.0f;
    qsim__k_f32_unary__generic(QSIM__UN_HARD_SWISH, x, y, 64, 0, 0);
    for (int i = 0; i < 64; i++)
        assert_float_equal(y[i], x[i] * fmin(fmax(x[i] / 6.0 + 0.5, 0), 1), 1e-6);
    qsim__k_f32_unary__generic(QSIM__UN_LEAKY_RELU, x, y, 64, 0.1f, 0);
    for (int i = 0; i < 64; i++)
        assert_float_equal(y[i], x[i] < 0 ? 0.1 * x[i] : x[i], 1e-6);
    qsim__k_f32_unary__generic(QSIM__UN_HARD_SIGMOID, x, y, 64, 0.2f, 0.5f);
    for (int i = 0; i < 64; i++)
        assert_float_equal(y[i], fmin(fmax(0.2 * x[i] + 0.5, 0), 1), 1e-6);
}

/* Fail the Nth allocation for every N through create, set_input and run
 * (with folding, replanning and a hook): each failure is a clean status,
 * never a crash or a leak (ASan / valgrind check the leaks). */
static void test_out_of_memory(void **state)
{
    (void)state;
    qsim_model *m = load("api_io.onnx");
    float a[6] = {1, 2, 3, 4, 5, 6};
    int64_t idx[2] = {1, 0}, s23[2] = {2, 3}, s13[2] = {1, 3}, s2[1] = {2};
    int succeeded = 0;
    for (size_t n = 1; n < 5000 && !succeeded; n++) {
        qsim_sim *s = NULL;
        qsim__alloc_fail_after(n);
        qsim_status st = qsim_sim_create(m, NULL, &s);
        if (st == QSIM_OK)
            st = qsim_sim_set_input(s, "a", a, s23, 2);
        if (st == QSIM_OK)
            st = qsim_sim_set_input(s, "b", a, s23, 2);
        if (st == QSIM_OK)
            st = qsim_sim_set_input_typed(s, "idx", 7, idx, s2, 1);
        if (st == QSIM_OK)
            st = qsim_sim_run(s);
        if (st == QSIM_OK)
            st = qsim_sim_set_input(s, "b", a, s13, 2);
        if (st == QSIM_OK)
            st = qsim_sim_run(s);
        qsim__alloc_fail_after(0);
        if (st == QSIM_OK)
            succeeded = 1;
        else if (st != QSIM_ERR_OUT_OF_MEMORY)
            fail_msg("allocation %zu: %s: %s", n, qsim_status_string(st), qsim_last_error());
        qsim_sim_free(s);
    }
    assert_true(succeeded);
    qsim_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_inplace_alias),
        cmocka_unit_test(test_arena_resnet18),
        cmocka_unit_test(test_hooks_and_constants),
        cmocka_unit_test(test_eltwise_avx2_vs_generic),
        cmocka_unit_test(test_eltwise_generic_reference),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
