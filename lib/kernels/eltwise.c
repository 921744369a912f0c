/* Run-time choice between the generic and AVX2 elementwise kernels. */
#include "eltwise.h"

#include "../core/cpu.h"

qsim__k_unary_fn qsim__k_f32_unary(int force_generic)
{
#ifdef QSIM_HAVE_AVX2
    if (!force_generic && qsim__cpu_use_avx2())
        return qsim__k_f32_unary__avx2;
#endif
    (void)force_generic;
    return qsim__k_f32_unary__generic;
}

qsim__k_binary_fn qsim__k_f32_binary(int force_generic)
{
#ifdef QSIM_HAVE_AVX2
    if (!force_generic && qsim__cpu_use_avx2())
        return qsim__k_f32_binary__avx2;
#endif
    (void)force_generic;
    return qsim__k_f32_binary__generic;
}
