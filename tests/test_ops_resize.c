/* Op family 'resize' (lib/ops/resize.c) against torch/numpy references and
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
    assert_int_equal(ops_harness_run_family("resize"), 0);
}

/* Hostile sizes: a huge requested output is refused, not allocated. */
static void huge_output(void **state)
{
    (void)state;
    static float x[1 * 1 * 2 * 2];
    static int64_t sizes[] = {1, 1, 4000000000LL, 4000000000LL};
    const int64_t xd[] = {1, 1, 2, 2}, sd[] = {4}, ed[] = {0};
    ops_node nb;
    ops_node_init(&nb, "Resize", 13, 4, 1);
    qsim__tview in[4] = {ops_view(1, x, 4, xd), ops_view(1, x, 1, ed), ops_view(1, x, 1, ed),
                         ops_view(7, sizes, 1, sd)};
    const qsim__op_desc *op = qsim__op_lookup("", "Resize");
    void *st = NULL;
    qsim__tview out[1];
    size_t ws = 0;
    assert_int_equal(op->init(&nb.n, in, 4, &st), QSIM_OK);
    assert_int_equal(op->infer(st, &nb.n, in, 4, out, 1, &ws), QSIM_ERR_SHAPE);
    op->free_state(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_cases),
        cmocka_unit_test(huge_output),
    };
    return cmocka_run_group_tests_name("ops_resize", tests, NULL, NULL);
}
