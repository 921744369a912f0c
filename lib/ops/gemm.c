/* Op family 'gemm' (see op.h for the table it exports). */
#include "op.h"

const qsim__op_desc *const qsim__ops_gemm[] = {NULL};
