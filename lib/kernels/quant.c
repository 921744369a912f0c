/* Run-time selection of the QDQ kernels (portable or AVX2). */
#include "quant.h"

#include "../core/cpu.h"
#include "fp16.h"

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

void qsim__hist_count_f32(const float *x, size_t n, float bin, float off, uint64_t *count)
{
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2()) {
        qsim__hist_count_f32__avx2(x, n, bin, off, count);
        return;
    }
#endif
    qsim__hist_count_f32__generic(x, n, bin, off, count);
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

size_t qsim__elem_job_tasks(const qsim__elem_job *job)
{
    return job->n / QSIM__ELEM_JOB_CHUNK + (job->n % QSIM__ELEM_JOB_CHUNK != 0);
}

void qsim__elem_job_run(void *ctx, size_t task, int thread)
{
    (void)thread;
    const qsim__elem_job *j = ctx;
    size_t i = task * QSIM__ELEM_JOB_CHUNK;
    if (i >= j->n)
        return;
    size_t len = j->n - i < QSIM__ELEM_JOB_CHUNK ? j->n - i : QSIM__ELEM_JOB_CHUNK;
    if (j->op == QSIM__ELEM_FP16)
        qsim__fp16_qdq_f32(j->x + i, j->y + i, len);
    else
        qsim__qdq_f32(j->x + i, j->y + i, len, j->p, j->round_mode);
}
