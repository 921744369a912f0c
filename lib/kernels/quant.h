/* Quantize-dequantize (QDQ) and min/max scan kernels (SPEC 3.3).
 *
 * Pure functions over raw float32 buffers: no handles, errors or
 * allocation. Encoding math (deriving the grid from min/max/bw, validating
 * bitwidths) lives in lib/quant/encoding.h; these kernels only apply a grid.
 *
 * Arithmetic contract (identical in every implementation, bit for bit):
 * with  mn = (float)p->min, mx = (float)p->max, d = (float)p->delta,
 *       o = (float)p->offset, all per element in float32:
 *   xc = x > mn ? x : mn;  xc = xc < mx ? xc : mx;   (NaN x gives mn)
 *   q  = round(xc / d - o)         (true IEEE division, no reciprocal)
 *   y  = d * (q + o)
 * round() is half away from zero (C roundf, AIMET's C++ kernels) for
 * QSIM__ROUND_HALF_AWAY, or half to even (nearbyintf in the default
 * rounding mode, onnxruntime's QuantizeLinear) for QSIM__ROUND_HALF_EVEN.
 * No FMA contraction is ever used. y may alias x exactly (in place); other
 * overlaps are not allowed.
 *
 * Threads: the kernels are serial; a caller that wants threads splits the
 * buffer (per-tensor) or the outer dimension (per-channel) into ranges.
 * Results do not depend on the split. */
#ifndef QSIM_KERNELS_QUANT_H
#define QSIM_KERNELS_QUANT_H

#include <stddef.h>
#include <stdint.h>

enum {
    QSIM__ROUND_HALF_AWAY = 0, /* AIMET (C++ round) */
    QSIM__ROUND_HALF_EVEN = 1, /* onnxruntime QuantizeLinear */
};

/* A quantization grid as stored by AIMET (doubles); the kernels round
 * each field to float32 once. offset is integral (AIMET's negative zero
 * point), delta > 0. */
typedef struct qsim__qdq_params {
    double min, max, delta, offset;
} qsim__qdq_params;

/* y[i] = QDQ(x[i]) for i < n with one grid (per-tensor). */
void qsim__qdq_f32(const float *x, float *y, size_t n, const qsim__qdq_params *p, int round_mode);

/* Per-channel QDQ of a tensor seen as [outer, channels, inner] (row-major):
 * element (a, c, b) uses p[c]. An axis `ax` of an N-D shape gives
 * outer = prod(dims[0..ax)), channels = dims[ax], inner = prod(dims(ax..)). */
void qsim__qdq_channels_f32(const float *x, float *y, size_t outer, size_t channels, size_t inner,
                            const qsim__qdq_params *p, int round_mode);

/* Minimum and maximum of x[0..n), ignoring NaN. For n == 0 or all-NaN
 * input *mn = +inf and *mx = -inf. */
void qsim__minmax_f32(const float *x, size_t n, float *mn, float *mx);

/* Histogram counting for lib/quant/stats.c (AIMET GetHistogram_cpu): for
 * each x, t = x / bin - off in float32 and k = round_half_away(t); when
 * 0 <= k < 512, count[k]++ (others, NaN included, are dropped). count has
 * 512 entries and is added to, not cleared. */
void qsim__hist_count_f32(const float *x, size_t n, float bin, float off, uint64_t *count);

/* Thread-pool work items. A job is split into tasks of a fixed number of
 * elements (never dependent on the thread count; results are element-wise
 * so any split gives identical output). Run with
 *   qsim__pool_run(pool, qsim__elem_job_tasks(&job), qsim__elem_job_run, &job)
 * (lib/core/threadpool.h), or serially by calling qsim__elem_job_run for
 * every task. */
enum {
    QSIM__ELEM_QDQ = 0,  /* qsim__qdq_f32 with p and round_mode */
    QSIM__ELEM_FP16 = 1, /* qsim__fp16_qdq_f32 (lib/kernels/fp16.h) */
};
#define QSIM__ELEM_JOB_CHUNK ((size_t)1 << 16)
typedef struct qsim__elem_job {
    int op;                      /* QSIM__ELEM_* */
    const float *x;
    float *y;                    /* may equal x */
    size_t n;
    const qsim__qdq_params *p;   /* QSIM__ELEM_QDQ only */
    int round_mode;
} qsim__elem_job;
size_t qsim__elem_job_tasks(const qsim__elem_job *job);
/* qsim__task_fn-compatible: ctx is a const qsim__elem_job*. */
void qsim__elem_job_run(void *ctx, size_t task, int thread);

/* The implementations behind the dispatchers above, for tests and
 * benchmarks. The __avx2 ones exist only when QSIM_HAVE_AVX2 is defined and
 * may only be called when qsim__cpu_use_avx2() is true. */
void qsim__qdq_f32__generic(const float *x, float *y, size_t n, const qsim__qdq_params *p,
                            int round_mode);
void qsim__minmax_f32__generic(const float *x, size_t n, float *mn, float *mx);
void qsim__hist_count_f32__generic(const float *x, size_t n, float bin, float off, uint64_t *count);
#ifdef QSIM_HAVE_AVX2
void qsim__qdq_f32__avx2(const float *x, float *y, size_t n, const qsim__qdq_params *p,
                         int round_mode);
void qsim__minmax_f32__avx2(const float *x, size_t n, float *mn, float *mx);
void qsim__hist_count_f32__avx2(const float *x, size_t n, float bin, float off, uint64_t *count);
#endif

#endif
