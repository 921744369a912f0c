/* Maps an op type to its implementation by walking the family tables. */
#include "op.h"

#include <string.h>

static const qsim__op_desc *const *const families[] = {
    qsim__ops_conv,   qsim__ops_gemm,    qsim__ops_norm,   qsim__ops_pool,  qsim__ops_resize,
    qsim__ops_qdq,    qsim__ops_eltwise, qsim__ops_reduce, qsim__ops_shape,
};

const qsim__op_desc *qsim__op_lookup(const char *domain, const char *op_type)
{
    if (domain && domain[0] && strcmp(domain, "ai.onnx") != 0)
        return NULL;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const qsim__op_desc *const *d = families[f]; *d; d++)
            if (strcmp((*d)->op_type, op_type) == 0)
                return *d;
    return NULL;
}
