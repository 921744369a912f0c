/* MaxPool/AveragePool row kernels and the global pool kernels
 * (lib/kernels/pool.h, used by lib/ops/pool.c) against numpy float64
 * (tests/tools/gen_pool_cases.py): AVX2 and generic paths, 1 and 2
 * threads; both paths and both thread counts bit-identical. */
#include "core/cpu.h"
#include "core/threadpool.h"
#include "kernels/pool.h"
#include "ops_harness.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel_test_util.h"


/* Runs the op once; y gets the output. */
static void run_op(const int64_t *h, const float *x, float *y, size_t ny, qsim__pool *pool)
{
    int rank = (int)h[0], nd = rank - 2;
    int64_t k[2] = {h[6], h[7]}, s[2] = {h[8], h[9]}, d[2] = {h[16], 1};
    int64_t pads[4] = {h[10], h[11], h[12], h[13]};
    int64_t k1[1] = {h[7]}, s1[1] = {h[9]}, pads1[2] = {h[11], h[13]};
    static const char *const ops[4] = {"MaxPool", "AveragePool", "GlobalAveragePool",
                                       "GlobalMaxPool"};
    const char *opname = ops[h[5]];
    ops_node b;
    ops_node_init(&b, opname, h[5] == 1 ? 19 : 12, 1, 1);
    if (h[5] >= 2)
        goto node_done;
    ops_node_ints(&b, "kernel_shape", nd == 2 ? k : k1, (size_t)nd);
    ops_node_ints(&b, "strides", nd == 2 ? s : s1, (size_t)nd);
    ops_node_ints(&b, "pads", nd == 2 ? pads : pads1, (size_t)(2 * nd));
    if (nd == 2)
        ops_node_ints(&b, "dilations", d, 2);
    ops_node_int(&b, "ceil_mode", h[14]);
    if (h[5])
        ops_node_int(&b, "count_include_pad", h[15]);
node_done:;
    int64_t xd[4] = {h[1], h[2], h[3], h[4]}, x1[3] = {h[1], h[2], h[4]};
    qsim__tview in = ops_view(QSIM__DT_FLOAT, NULL, rank, nd == 2 ? xd : x1), out;
    memset(&out, 0, sizeof out);
    const qsim__op_desc *op = qsim__op_lookup("", opname);
    assert_non_null(op);
    void *state = NULL;
    size_t ws = 0;
    assert_int_equal(op->init(&b.n, &in, 1, &state), QSIM_OK);
    assert_int_equal(op->infer(state, &b.n, &in, 1, &out, 1, &ws), QSIM_OK);
    assert_int_equal(out.numel, ny);
    assert_int_equal(out.shape.dims[rank - 1], h[18]);
    in.data = (void *)x;
    out.data = y;
    void *w = ws ? qsim__malloc_aligned(ws) : NULL;
    qsim__exec ex = {pool, w};
    for (size_t i = 0; i < ny; i++)
        y[i] = 12345.0f;
    assert_int_equal(op->run(state, &b.n, &ex, &in, 1, &out, 1), QSIM_OK);
    qsim__free_aligned(w);
    op->free_state(state);
}

static void check_ref(int64_t cs, const char *variant, const float *y, const float *want,
                      size_t ny, int avg)
{
    for (size_t i = 0; i < ny; i++) {
        int ok = isnan(want[i]) ? isnan(y[i])
                 : avg          ? fabsf(y[i] - want[i]) <= 1e-6f + 2e-6f * fabsf(want[i])
                                : y[i] == want[i];
        if (!ok)
            fail_msg("pool case %lld (%s): y[%zu] = %.9g, numpy %.9g", (long long)cs, variant, i,
                     (double)y[i], (double)want[i]);
    }
}

static void against_numpy(void **state)
{
    (void)state;
    int64_t ncases;
    FILE *f = kt_open_cases("gen_pool_cases.py", "pool_cases.bin", &ncases);
    for (int64_t cs = 0; cs < ncases; cs++) {
        int64_t h[19];
        assert_true(read_all(f, h, sizeof h));
        size_t nx = (size_t)(h[1] * h[2] * h[3] * h[4]), ny = (size_t)(h[1] * h[2] * h[17] * h[18]);
        float *x = malloc(nx * 4), *want = malloc(ny * 4);
        float *y = malloc(ny * 4), *first = malloc(ny * 4);
        assert_true(x && want && y && first);
        assert_true(read_all(f, x, nx * 4) && read_all(f, want, ny * 4));
        for (int generic = 0; generic < 2; generic++) {
            qsim__cpu_force_generic(generic);
            for (int t = 0; t < 2; t++) {
                run_op(h, x, y, ny, t ? pools[1] : NULL);
                char variant[64];
                snprintf(variant, sizeof variant, "%s, %d thread(s)",
                         generic ? "generic" : "auto", t + 1);
                check_ref(cs, variant, y, want, ny, h[5] == 1 || h[5] == 2);
                if (generic == 0 && t == 0)
                    memcpy(first, y, ny * 4);
                else if (memcmp(first, y, ny * 4) != 0)
                    fail_msg("pool case %lld (%s): not bit-identical to auto, 1 thread",
                             (long long)cs, variant);
            }
        }
        qsim__cpu_force_generic(0);
        free(x);
        free(want);
        free(y);
        free(first);
    }
    fclose(f);
}

/* The row kernel's edge cases directly: an empty window (no input rows),
 * zero divisors, and the NaN report. */
static void row_kernel_edges(void **state)
{
    (void)state;
    float x[20], y[8], coldiv[16];
    for (int i = 0; i < 20; i++)
        x[i] = (float)i - 3.0f;
    for (int i = 0; i < 16; i++)
        coldiv[i] = i == 2 ? 0.0f : 2.0f;
    qsim__k_pool_row_fn fns[2] = {qsim__k_f32_pool_row__generic, qsim__k_f32_pool_row()};
    for (int v = 0; v < 2; v++) {
        qsim__pool_row a = {.x = x, .xstride = 10, .nrows = 0, .W = 10, .OW = 5, .kw = 2,
                            .sw = 2, .pl = 0, .avg = 0, .rowdiv = 1.0f, .coldiv = coldiv,
                            .y = y};
        assert_int_equal(fns[v](&a), 0);
        for (int i = 0; i < 5; i++)
            assert_true(isinf(y[i]) && y[i] < 0);
        a.nrows = 2;
        a.avg = 1;
        assert_int_equal(fns[v](&a), 0);
        /* outputs: (x0+x1+x10+x11)/(1*2) ... with output 2's divisor 0 -> 0 */
        float want[5] = {(-3.0f - 2.0f + 7.0f + 8.0f) / 2.0f, (-1.0f + 0.0f + 9.0f + 10.0f) / 2.0f,
                         0.0f, (3.0f + 4.0f + 13.0f + 14.0f) / 2.0f,
                         (5.0f + 6.0f + 15.0f + 16.0f) / 2.0f};
        assert_memory_equal(y, want, sizeof want);
        a.avg = 0;
        x[13] = NAN;
        assert_int_equal(fns[v](&a), 1);
        x[13] = 10.0f;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(against_numpy),
        cmocka_unit_test(row_kernel_edges),
    };
    return cmocka_run_group_tests_name("pool_kernels", tests, kt_setup, kt_teardown);
}
