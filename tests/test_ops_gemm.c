/* Op family 'gemm' (lib/ops/gemm.c) against torch/numpy references and
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
    assert_int_equal(ops_harness_run_family("gemm"), 0);
}

static void out_of_memory(void **state)
{
    (void)state;
    static float a[5 * 7], b[7 * 9], c[9];
    const int64_t ad[] = {5, 7}, bd[] = {7, 9}, cd[] = {9};
    ops_node nb;
    ops_node_init(&nb, "Gemm", 13, 3, 1);
    qsim__tview in[3] = {ops_view(1, a, 2, ad), ops_view(1, b, 2, bd), ops_view(1, c, 1, cd)};
    assert_int_equal(ops_harness_oom(&nb.n, in, 3, 1), 0);
    ops_node_init(&nb, "MatMul", 13, 2, 1);
    assert_int_equal(ops_harness_oom(&nb.n, in, 2, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_cases),
        cmocka_unit_test(out_of_memory),
    };
    return cmocka_run_group_tests_name("ops_gemm", tests, NULL, NULL);
}
