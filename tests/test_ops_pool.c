/* Op family 'pool' (lib/ops/pool.c) against torch/numpy references and
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
    assert_int_equal(ops_harness_run_family("pool"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_cases),
    };
    return cmocka_run_group_tests_name("ops_pool", tests, NULL, NULL);
}
