/* Op family 'conv' (lib/ops/conv.c) against torch/numpy references and
 * ONNX's backend node tests (cases from tests/tools/gen_op_cases.py). */
#include "ops_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void reference_cases(void **state)
{
    (void)state;
    assert_int_equal(ops_harness_run_family("conv"), 0);
}

/* Packing constant weights at init, run-time weights, and the GEMM of
 * ConvTranspose all survive failing allocations. */
static void out_of_memory(void **state)
{
    (void)state;
    static float x[1 * 4 * 6 * 6], w[8 * 2 * 3 * 3], b[8];
    const int64_t xd[] = {1, 4, 6, 6}, wd[] = {8, 2, 3, 3}, bd[] = {8};
    ops_node nb;
    ops_node_init(&nb, "Conv", 11, 3, 1);
    ops_node_int(&nb, "group", 2);
    ops_node_string(&nb, "auto_pad", "SAME_UPPER");
    qsim__tview in[3] = {ops_view(1, x, 4, xd), ops_view(1, w, 4, wd), ops_view(1, b, 1, bd)};
    assert_int_equal(ops_harness_oom(&nb.n, in, 3, 1), 0);
    const int64_t twd[] = {4, 3, 3, 3};
    ops_node_init(&nb, "ConvTranspose", 11, 2, 1);
    qsim__tview tin[2] = {ops_view(1, x, 4, xd), ops_view(1, w, 4, twd)};
    assert_int_equal(ops_harness_oom(&nb.n, tin, 2, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_cases),
        cmocka_unit_test(out_of_memory),
    };
    return cmocka_run_group_tests_name("ops_conv", tests, NULL, NULL);
}
