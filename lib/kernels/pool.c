/* Run-time choice between the generic and AVX2 pooling kernels. */
#include "pool.h"

#include "../core/cpu.h"

qsim__k_pool_row_fn qsim__k_f32_pool_row(void)
{
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2())
        return qsim__k_f32_pool_row__avx2;
#endif
    return qsim__k_f32_pool_row__generic;
}

qsim__k_global_pool_fn qsim__k_f32_global_pool(void)
{
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2())
        return qsim__k_f32_global_pool__avx2;
#endif
    return qsim__k_f32_global_pool__generic;
}
