/* Shared driver for the op tests (test_ops_*.c): reads the case file that
 * tests/tools/gen_op_cases.py writes for a family and runs every case
 * through qsim__op_lookup -> init -> infer -> run, comparing with the
 * reference outputs (torch/numpy or ONNX's backend node tests). */
#ifndef QSIM_TESTS_OPS_HARNESS_H
#define QSIM_TESTS_OPS_HARNESS_H

#include "core/alloc.h"
#include "ops/op.h"

/* Generates the family's cases (via $PYTHON3) and runs them all, each in
 * two ways: every constant-capable input constant at init and no pool;
 * only must-be-constant inputs constant and a 2-thread pool. Returns the
 * number of failed cases (details printed). */
int ops_harness_run_family(const char *family);

/* A hand-built node: attributes added with the helpers below. */
typedef struct ops_node {
    qsim__node n;
    qsim__attr attrs[16];
    int32_t ins[8], outs[4];
} ops_node;

void ops_node_init(ops_node *b, const char *op_type, int64_t opset, size_t n_in, size_t n_out);
void ops_node_int(ops_node *b, const char *name, int64_t v);
void ops_node_ints(ops_node *b, const char *name, const int64_t *v, size_t n);
void ops_node_string(ops_node *b, const char *name, const char *v);

/* Fault injection: runs init/infer/run of `n` on `in` (all data set, so
 * constants are visible at init) with the k-th allocation failing, for
 * k = 1, 2, ... until it succeeds; each failure must be OUT_OF_MEMORY and
 * leak nothing. Returns the number of wrong statuses. */
int ops_harness_oom(const qsim__node *n, qsim__tview *in, size_t n_in, size_t n_out);

/* A float tensor view over caller memory. */
qsim__tview ops_view(int dtype, void *data, int rank, const int64_t *dims);

#endif
