/* Model summary printing shared by qsim-inspect and `qsim inspect`:
 * inputs and outputs with shapes, opsets, parameters, op histogram and
 * optionally every node. Public API only. */
#ifndef QSIM_MODEL_PRINT_H
#define QSIM_MODEL_PRINT_H

#include <qsim/qsim.h>

/* Prints the summary of `m` (loaded from `path`) to stdout. */
void qsim_print_model(const qsim_model *m, const char *path, int list_nodes);

#endif
