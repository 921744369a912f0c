/* Op family 'norm' (lib/ops/norm.c) against torch/numpy references and
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
    assert_int_equal(ops_harness_run_family("norm"), 0);
}

static void out_of_memory(void **state)
{
    (void)state;
    static float x[2 * 3 * 4], p[3] = {1, 1, 1};
    const int64_t xd[] = {2, 3, 4}, pd[] = {3};
    ops_node nb;
    ops_node_init(&nb, "BatchNormalization", 15, 5, 1);
    qsim__tview in[5] = {ops_view(1, x, 3, xd), ops_view(1, p, 1, pd), ops_view(1, p, 1, pd),
                         ops_view(1, p, 1, pd), ops_view(1, p, 1, pd)};
    assert_int_equal(ops_harness_oom(&nb.n, in, 5, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_cases),
        cmocka_unit_test(out_of_memory),
    };
    return cmocka_run_group_tests_name("ops_norm", tests, NULL, NULL);
}
