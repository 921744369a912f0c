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

/* The implementations behind the dispatchers above, for tests and
 * benchmarks. The __avx2 ones exist only when QSIM_HAVE_AVX2 is defined and
 * may only be called when qsim__cpu_use_avx2() is true. */
void qsim__qdq_f32__generic(const float *x, float *y, size_t n, const qsim__qdq_params *p,
                            int round_mode);
void qsim__minmax_f32__generic(const float *x, size_t n, float *mn, float *mx);
#ifdef QSIM_HAVE_AVX2
void qsim__qdq_f32__avx2(const float *x, float *y, size_t n, const qsim__qdq_params *p,
                         int round_mode);
void qsim__minmax_f32__avx2(const float *x, size_t n, float *mn, float *mx);
#endif

#endif
