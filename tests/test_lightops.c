/* The light op families on hand-made nodes (no model file): hostile
 * attributes and inputs must give a status and a message naming the node,
 * never a crash; plus a few exact results (int64 shape math, Slice with
 * negative steps and clamping, Pad modes, Gather with negative indices). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "ops/lightops.h"

typedef struct fixture {
    qsim__node n;
    qsim__attr attrs[4];
    int32_t ins[5], outs[2];
} fixture;

static void make_node(fixture *f, const char *op, int64_t opset, size_t n_in, size_t n_out)
{
    memset(f, 0, sizeof *f);
    f->n.name = "victim";
    f->n.op_type = (char *)op;
    f->n.domain = "";
    f->n.opset = opset;
    f->n.n_inputs = n_in;
    f->n.inputs = f->ins;
    f->n.n_outputs = n_out;
    f->n.outputs = f->outs;
    f->n.attrs = f->attrs;
    for (size_t i = 0; i < 5; i++)
        f->ins[i] = (int32_t)i;
    f->outs[0] = 10;
    f->outs[1] = 11;
}

static void attr_int(fixture *f, const char *name, int64_t v)
{
    qsim__attr *a = &f->attrs[f->n.n_attrs++];
    a->name = (char *)name;
    a->type = QSIM__ATTR_INT;
    a->i = v;
}

static void attr_ints(fixture *f, const char *name, int64_t *v, size_t n)
{
    qsim__attr *a = &f->attrs[f->n.n_attrs++];
    a->name = (char *)name;
    a->type = QSIM__ATTR_INTS;
    a->ints = v;
    a->n = n;
}

static void attr_str(fixture *f, const char *name, const char *v)
{
    qsim__attr *a = &f->attrs[f->n.n_attrs++];
    a->name = (char *)name;
    a->type = QSIM__ATTR_STRING;
    a->s = (char *)v;
    a->s_len = strlen(v);
}

static qsim__tview view(int dtype, void *data, int rank, const int64_t *dims)
{
    qsim__tview v;
    memset(&v, 0, sizeof v);
    v.dtype = dtype;
    v.data = data;
    v.shape.rank = rank;
    v.numel = 1;
    for (int d = 0; d < rank; d++) {
        v.shape.dims[d] = dims[d];
        v.numel *= (size_t)dims[d];
    }
    return v;
}

/* init + infer (+ run into buf when it fits); returns the first non-OK. */
static qsim_status exec(fixture *f, qsim__tview *in, qsim__tview *out, void *buf, size_t cap)
{
    const qsim__op_desc *op = qsim__op_lookup("", f->n.op_type);
    if (!op)
        fail_msg("no op %s", f->n.op_type);
    void *st = NULL;
    size_t ws = 0;
    qsim_status s = op->init(&f->n, in, f->n.n_inputs, &st);
    if (s == QSIM_OK)
        s = op->infer(st, &f->n, in, f->n.n_inputs, out, f->n.n_outputs, &ws);
    if (s == QSIM_OK) {
        size_t numel = 0;
        s = qsim__shape_numel(&out[0].shape, "out", &numel);
        if (s == QSIM_OK && numel * qsim__dtype_size(out[0].dtype) <= cap && ws == 0) {
            out[0].numel = numel;
            out[0].data = buf;
            qsim__exec ex = {NULL, NULL};
            s = op->run(st, &f->n, &ex, in, f->n.n_inputs, out, f->n.n_outputs);
        }
    }
    if (op->free_state)
        op->free_state(st);
    return s;
}

static void expect_fail_at(qsim_status s, int line)
{
    if (s == QSIM_OK)
        fail_msg("line %d: expected a failure", line);
    if (!strstr(qsim_last_error(), "victim"))
        fail_msg("line %d: message does not name the node: %s", line, qsim_last_error());
}
#define expect_fail(s) expect_fail_at((s), __LINE__)

static void test_hostile(void **state)
{
    (void)state;
    fixture f;
    float data[64] = {0}, buf[4096];
    int64_t d23[2] = {2, 3}, d4[1] = {4}, d2[1] = {2}, d1[1] = {1}, d8[1] = {8};
    qsim__tview in[5], out[2];

    /* Reshape: two -1, impossible size, non-constant shape */
    int64_t sh1[2] = {-1, -1}, sh2[2] = {4, 4};
    make_node(&f, "Reshape", 13, 2, 1);
    in[0] = view(QSIM__DT_FLOAT, data, 2, d23);
    in[1] = view(QSIM__DT_INT64, sh1, 1, d2);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    in[1] = view(QSIM__DT_INT64, sh2, 1, d2);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    in[1] = view(QSIM__DT_INT64, NULL, 1, d2);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    in[1] = view(QSIM__DT_FLOAT, data, 1, d2);
    expect_fail(exec(&f, in, out, buf, sizeof buf));

    /* Slice: extreme starts/ends/steps clamp; step 0 fails */
    int64_t st[1] = {INT64_MAX}, en[1] = {INT64_MIN}, ax[1] = {1}, sp[1] = {INT64_MIN}, zero[1] = {0};
    make_node(&f, "Slice", 13, 5, 1);
    in[0] = view(QSIM__DT_FLOAT, data, 2, d23);
    in[1] = view(QSIM__DT_INT64, st, 1, d1);
    in[2] = view(QSIM__DT_INT64, en, 1, d1);
    in[3] = view(QSIM__DT_INT64, ax, 1, d1);
    in[4] = view(QSIM__DT_INT64, sp, 1, d1);
    assert_int_equal(exec(&f, in, out, buf, sizeof buf), QSIM_OK);
    assert_int_equal(out[0].shape.dims[1], 1); /* from the last element, one huge step */
    in[4] = view(QSIM__DT_INT64, zero, 1, d1);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    int64_t badax[1] = {5};
    in[3] = view(QSIM__DT_INT64, badax, 1, d1);
    in[4] = view(QSIM__DT_INT64, sp, 1, d1);
    expect_fail(exec(&f, in, out, buf, sizeof buf));

    /* Pad: overflowing pads, bad mode */
    int64_t pads[4] = {INT64_MAX, 0, INT64_MAX, 0};
    make_node(&f, "Pad", 13, 2, 1);
    in[0] = view(QSIM__DT_FLOAT, data, 2, d23);
    in[1] = view(QSIM__DT_INT64, pads, 1, d4);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    int64_t pads2[4] = {-3, 0, 0, 0};
    in[1] = view(QSIM__DT_INT64, pads2, 1, d4);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    attr_str(&f, "mode", "wrap-around");
    in[1] = view(QSIM__DT_INT64, zero, 1, d1);
    expect_fail(exec(&f, in, out, buf, sizeof buf));

    /* Gather: index out of range at run */
    int64_t idx[2] = {0, -4};
    make_node(&f, "Gather", 13, 2, 1);
    in[0] = view(QSIM__DT_FLOAT, data, 2, d23);
    in[1] = view(QSIM__DT_INT64, idx, 1, d2);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    attr_int(&f, "axis", 2);
    expect_fail(exec(&f, in, out, buf, sizeof buf));

    /* Transpose: repeated axis; Squeeze: non-1 axis; Unsqueeze: repeated */
    int64_t perm[2] = {0, 0};
    make_node(&f, "Transpose", 13, 1, 1);
    attr_ints(&f, "perm", perm, 2);
    in[0] = view(QSIM__DT_FLOAT, data, 2, d23);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    make_node(&f, "Squeeze", 13, 2, 1);
    in[1] = view(QSIM__DT_INT64, ax, 1, d1);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    int64_t uax[2] = {1, -3}; /* -3 is axis 1 of the rank-4 result */
    make_node(&f, "Unsqueeze", 13, 2, 1);
    in[1] = view(QSIM__DT_INT64, uax, 1, d2);
    expect_fail(exec(&f, in, out, buf, sizeof buf));

    /* Concat: mismatched shapes; Split: sizes that do not add up */
    int64_t d22[2] = {2, 2};
    make_node(&f, "Concat", 13, 2, 1);
    attr_int(&f, "axis", 0);
    in[0] = view(QSIM__DT_FLOAT, data, 2, d23);
    in[1] = view(QSIM__DT_FLOAT, data, 2, d22);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    int64_t split[2] = {1, 5};
    make_node(&f, "Split", 13, 2, 2);
    attr_int(&f, "axis", 1);
    in[1] = view(QSIM__DT_INT64, split, 1, d2);
    expect_fail(exec(&f, in, out, buf, sizeof buf));

    /* Add: shapes that do not broadcast; Where: non-bool condition */
    make_node(&f, "Add", 14, 2, 1);
    in[0] = view(QSIM__DT_FLOAT, data, 2, d23);
    in[1] = view(QSIM__DT_FLOAT, data, 1, d2);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    in[1] = view(QSIM__DT_INT64, data, 2, d23);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    make_node(&f, "Where", 16, 3, 1);
    in[0] = view(QSIM__DT_FLOAT, data, 2, d23);
    in[1] = view(QSIM__DT_FLOAT, data, 2, d23);
    in[2] = view(QSIM__DT_FLOAT, data, 2, d23);
    expect_fail(exec(&f, in, out, buf, sizeof buf));

    /* ConstantOfShape: negative or oversized; Expand: incompatible */
    int64_t neg[2] = {2, -1};
    make_node(&f, "ConstantOfShape", 9, 1, 1);
    in[0] = view(QSIM__DT_INT64, neg, 1, d2);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    int64_t huge[8] = {1 << 20, 1 << 20, 1 << 20, 1 << 20, 1, 1, 1, 1};
    in[0] = view(QSIM__DT_INT64, huge, 1, d8);
    assert_int_not_equal(exec(&f, in, out, buf, sizeof buf), QSIM_OK); /* numel overflows */
    int64_t ex[2] = {4, 4};
    make_node(&f, "Expand", 13, 2, 1);
    in[0] = view(QSIM__DT_FLOAT, data, 2, d23);
    in[1] = view(QSIM__DT_INT64, ex, 1, d2);
    expect_fail(exec(&f, in, out, buf, sizeof buf));

    /* Softmax and ReduceMean: axes out of range; Cast to string */
    make_node(&f, "Softmax", 13, 1, 1);
    attr_int(&f, "axis", 2);
    in[0] = view(QSIM__DT_FLOAT, data, 2, d23);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    int64_t rax[1] = {-3};
    make_node(&f, "ReduceMean", 13, 1, 1);
    attr_ints(&f, "axes", rax, 1);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    make_node(&f, "Cast", 13, 1, 1);
    attr_int(&f, "to", QSIM__DT_STRING);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
    make_node(&f, "Relu", 14, 1, 1);
    in[0] = view(QSIM__DT_STRING, data, 2, d23);
    expect_fail(exec(&f, in, out, buf, sizeof buf));
}

static void test_exact(void **state)
{
    (void)state;
    fixture f;
    qsim__tview in[5], out[2];
    /* int64 shape math with broadcasting: [2,1] * [3] */
    int64_t a[2] = {2, -3}, b[3] = {1, 10, 100}, r[6];
    int64_t d21[2] = {2, 1}, d3[1] = {3};
    make_node(&f, "Mul", 14, 2, 1);
    in[0] = view(QSIM__DT_INT64, a, 2, d21);
    in[1] = view(QSIM__DT_INT64, b, 1, d3);
    assert_int_equal(exec(&f, in, out, r, sizeof r), QSIM_OK);
    int64_t want[6] = {2, 20, 200, -3, -30, -300};
    assert_memory_equal(r, want, sizeof want);
    /* Slice with a negative step: x[0, 4:0:-2] of [[0..5]] */
    float x[6] = {0, 1, 2, 3, 4, 5}, y[8];
    int64_t d16[2] = {1, 6}, s0[1] = {4}, e0[1] = {0}, ax[1] = {-1}, sp[1] = {-2}, d1[1] = {1};
    make_node(&f, "Slice", 13, 5, 1);
    in[0] = view(QSIM__DT_FLOAT, x, 2, d16);
    in[1] = view(QSIM__DT_INT64, s0, 1, d1);
    in[2] = view(QSIM__DT_INT64, e0, 1, d1);
    in[3] = view(QSIM__DT_INT64, ax, 1, d1);
    in[4] = view(QSIM__DT_INT64, sp, 1, d1);
    assert_int_equal(exec(&f, in, out, y, sizeof y), QSIM_OK);
    assert_int_equal(out[0].shape.dims[1], 2);
    assert_float_equal(y[0], 4.0f, 0.0f);
    assert_float_equal(y[1], 2.0f, 0.0f);
    /* Pad reflect and edge on [0..5] by (3, 2) along the last axis */
    int64_t pads[4] = {0, 3, 0, 2}, d4[1] = {4};
    const char *modes[2] = {"reflect", "edge"};
    float wantp[2][11] = {{3, 2, 1, 0, 1, 2, 3, 4, 5, 4, 3}, {0, 0, 0, 0, 1, 2, 3, 4, 5, 5, 5}};
    for (int k = 0; k < 2; k++) {
        float p[11];
        make_node(&f, "Pad", 13, 2, 1);
        attr_str(&f, "mode", modes[k]);
        in[0] = view(QSIM__DT_FLOAT, x, 2, d16);
        in[1] = view(QSIM__DT_INT64, pads, 1, d4);
        assert_int_equal(exec(&f, in, out, p, sizeof p), QSIM_OK);
        assert_memory_equal(p, wantp[k], sizeof p);
    }
    /* Cast-1 names its target type; float to int truncates toward zero */
    float cf[3] = {1.7f, -2.5f, 300.9f};
    int64_t ci[3], d3c[1] = {3};
    make_node(&f, "Cast", 1, 1, 1);
    attr_str(&f, "to", "INT64");
    in[0] = view(QSIM__DT_FLOAT, cf, 1, d3c);
    assert_int_equal(exec(&f, in, out, ci, sizeof ci), QSIM_OK);
    assert_int_equal(out[0].dtype, QSIM__DT_INT64);
    assert_int_equal(ci[0], 1);
    assert_int_equal(ci[1], -2);
    assert_int_equal(ci[2], 300);
    /* Gather with negative int32 indices along axis 1 */
    int32_t gi[2] = {-1, 0};
    int64_t d2[1] = {2};
    float g[2];
    make_node(&f, "Gather", 13, 2, 1);
    attr_int(&f, "axis", 1);
    in[0] = view(QSIM__DT_FLOAT, x, 2, d16);
    in[1] = view(QSIM__DT_INT32, gi, 1, d2);
    assert_int_equal(exec(&f, in, out, g, sizeof g), QSIM_OK);
    assert_float_equal(g[0], 5.0f, 0.0f);
    assert_float_equal(g[1], 0.0f, 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_exact),
    };
    return cmocka_run_group_tests_name("lightops", tests, NULL, NULL);
}
