/* Run-time selection of the QDQ kernels (portable or AVX2). */
#include "quant.h"

#include "../core/cpu.h"

void qsim__qdq_f32(const float *x, float *y, size_t n, const qsim__qdq_params *p, int round_mode)
{
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2()) {
        qsim__qdq_f32__avx2(x, y, n, p, round_mode);
        return;
    }
#endif
    qsim__qdq_f32__generic(x, y, n, p, round_mode);
}

void qsim__minmax_f32(const float *x, size_t n, float *mn, float *mx)
{
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2()) {
        qsim__minmax_f32__avx2(x, n, mn, mx);
        return;
    }
#endif
    qsim__minmax_f32__generic(x, n, mn, mx);
}

void qsim__qdq_channels_f32(const float *x, float *y, size_t outer, size_t channels, size_t inner,
                            const qsim__qdq_params *p, int round_mode)
{
    if (inner == 1) {
        /* Channel axis last: one grid per element, the scalar row kernel
         * has the least per-call overhead and the same arithmetic. */
        for (size_t a = 0; a < outer; a++)
            for (size_t c = 0; c < channels; c++) {
                size_t k = a * channels + c;
                qsim__qdq_f32__generic(x + k, y + k, 1, &p[c], round_mode);
            }
        return;
    }
    for (size_t a = 0; a < outer; a++)
        for (size_t c = 0; c < channels; c++) {
            size_t k = (a * channels + c) * inner;
            qsim__qdq_f32(x + k, y + k, inner, &p[c], round_mode);
        }
}
