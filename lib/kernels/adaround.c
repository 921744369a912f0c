/* Run-time selection of the AdaRound step kernel (portable or AVX2). */
#include "adaround.h"

#include "../core/cpu.h"

double qsim__ada_step_f32(const qsim__ada_step *p, size_t n, const float *wf, const float *grad,
                          float *alpha, float *m, float *v, float *sig, float *wsoft)
{
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2())
        return qsim__ada_step_f32__avx2(p, n, wf, grad, alpha, m, v, sig, wsoft);
#endif
    return qsim__ada_step_f32__generic(p, n, wf, grad, alpha, m, v, sig, wsoft);
}
