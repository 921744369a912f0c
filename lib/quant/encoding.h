/* Encoding math (SPEC 3): AIMET's TfEncoding and the ways to compute one.
 * All functions are pure apart from setting the last error on failure.
 *
 * Rounding: "round" below is half away from zero (C round, AIMET's C++)
 * unless it says banker's (Python round, the CMN/quantsim.py helpers).
 * Precision: getComputedEncodings, TF and the Python helpers work in
 * double; TF-enhanced and percentile reproduce AIMET's float32 analyzer
 * arithmetic (their analyzers are instantiated for float) on a double PDF. */
#ifndef QSIM_QUANT_ENCODING_H
#define QSIM_QUANT_ENCODING_H

#include <qsim/qsim.h>
#include <stdint.h>

#include "../kernels/quant.h"
#include "stats.h"

/* AIMET TfEncoding. offset is AIMET's: the negated unsigned zero point
 * (-128 for signed-symmetric int8), so the grid is delta*(q + offset),
 * q in [0, 2^bw - 1]. */
typedef struct qsim__encoding {
    double min, max, delta;
    int64_t offset;
    int bw;
} qsim__encoding;

/* Encoding flags (TensorQuantizer's use_symmetric_encodings,
 * use_strict_symmetric, use_unsigned_symmetric). */
enum {
    QSIM__ENC_SYMMETRIC = 1u,
    QSIM__ENC_STRICT = 2u,   /* symmetric only: 2^bw - 2 steps */
    QSIM__ENC_UNSIGNED = 4u, /* symmetric only: unsigned grid when min == 0 */
};

#define QSIM__ENC_MIN_BW 2
#define QSIM__ENC_MAX_BW 32
#define QSIM__MIN_RANGE 0.01       /* TF / histogram minimum range */
#define QSIM__QDQ_MIN_RANGE 1e-5   /* per-tensor QDQ gate */

/* QSIM_OK when bw is in [2, 32], else QSIM_ERR_INVALID_ARGUMENT. */
qsim_status qsim__encoding_check_bw(int bw);

/* getComputedEncodings (SPEC 3.1 steps 1-3) on an already pre-processed
 * range. +-inf become +-FLT_MAX. Errors (QSIM_ERR_INVALID_ARGUMENT): bad
 * bw, NaN, min > max, or a range that gives no positive step. */
qsim_status qsim__encoding_compute(int bw, double min, double max, unsigned flags,
                                   qsim__encoding *out);

/* TF (min-max): min(0, min), max(0, max), max = max(max, min + 0.01), then
 * qsim__encoding_compute. QSIM_ERR_STATE if s saw no batch. */
qsim_status qsim__encoding_tf(const qsim__minmax *s, int bw, unsigned flags, qsim__encoding *out);

/* TF-enhanced SQNR search (SPEC 3.2) over the histogram: asymmetric or
 * symmetric candidates, cost 3*sat + quant, first lowest wins. As in AIMET
 * the asymmetric grid's delta is clamped in place, so each clamped
 * candidate's delta carries over to the next offset of the same factor;
 * unlike AIMET a clamp that leaves an empty range is rejected (SPEC).
 * Data seen but histogram never initialised (all zero): the [-1, 1]
 * encoding. QSIM_ERR_STATE when no batch was seen or no candidate has a
 * finite cost. */
qsim_status qsim__encoding_tf_enhanced(const qsim__hist *h, int bw, unsigned flags,
                                       qsim__encoding *out);

/* The TF-enhanced cost of one (delta, offset) candidate (float32, AIMET's
 * _quantAndSatCost); h must be initialised. For tests and diagnostics. */
float qsim__tfe_cost(const qsim__hist *h, int bw, float delta, int64_t offset);

/* Percentile (SPEC 3.1): percentile 100 takes the left edges of the lowest
 * and highest non-empty bins (with 0 and the 0.01 minimum range added);
 * below 100 the CDF cut-offs of AIMET's PercentileEncodingAnalyzer. Then 0
 * is included and qsim__encoding_compute runs. percentile must be in
 * [50, 100] (QSIM_ERR_INVALID_ARGUMENT). Same no-data rules as TF-enhanced. */
#define QSIM__PERCENTILE_DEFAULT 100.0f
qsim_status qsim__encoding_percentile(const qsim__hist *h, float percentile, int bw,
                                      unsigned flags, qsim__encoding *out);

/* compute_min_max_given_delta_offset: min = scale*offset,
 * max = scale*(2^bw - 1 + offset) (loading an encodings file).
 * QSIM_ERR_INVALID_ARGUMENT for bad bw or scale not finite and > 0. */
qsim_status qsim__encoding_from_scale_offset(double scale, int64_t offset, int bw,
                                             qsim__encoding *out);

/* create_encoding_from_min_max + recompute_grid_params (fixed ranges,
 * clamping). Symmetric: P = 2^(bw-1) - 1, delta = max(|min|,|max|)/P,
 * offset = -(P + !strict), min = delta*offset, max = delta*P. Otherwise:
 * min(min, 0), max(max, 0), max = max(max, min + 0.01), delta = range/N,
 * offset = banker's round(min/delta), min = delta*offset,
 * max = min + N*delta. QSIM_ERR_INVALID_ARGUMENT for bad bw, NaN, or a
 * symmetric range of 0. */
qsim_status qsim__encoding_from_min_max(double min, double max, int bw, unsigned flags,
                                        qsim__encoding *out);

/* calculate_delta_offset: gate (min(min,0), max(max,0),
 * max = max(max, min + 1e-5)); symmetric with min < 0:
 * delta = max/floor(N/2), offset = -floor(N/2) - (strict ? 0 : 1);
 * else delta = (max - min)/N, offset = banker's round(min/delta). N is
 * 2^bw - 1, minus 1 when symmetric and strict. */
qsim_status qsim__calc_delta_offset(double min, double max, int bw, unsigned flags,
                                    double *delta, int64_t *offset);

/* The grid the per-tensor QDQ kernel uses, regenerated from (min, max, bw)
 * only (SPEC 3.3 steps 1-3): gate with 1e-5, N = 2^bw - 1 minus 1 when
 * min == -max exactly, delta = (max - min)/N, offset = round(min/delta),
 * min = offset*delta, max = min + N*delta. QSIM_ERR_INVALID_ARGUMENT for a
 * bad bw or NaN. */
qsim_status qsim__qdq_params_tensor(double min, double max, int bw, qsim__qdq_params *out);

/* The stored grid, unchanged (per-channel QDQ uses it directly). */
void qsim__qdq_params_from_encoding(const qsim__encoding *e, qsim__qdq_params *out);

#endif
