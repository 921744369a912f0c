/* Encoding math and QDQ used by the quantizer layer (SPEC 3.1, 3.3, 2.2).
 * TEMPORARY home until lib/quant/encoding.h and lib/kernels/quant.h from
 * the quant branch are merged; the calls below then forward to them. */
#ifndef QSIM_QUANT_QMATH_H
#define QSIM_QUANT_QMATH_H

#include <stddef.h>

#include "quantizer.h"

/* getComputedEncodings after the TF pre-processing (include 0, 0.01 range). */
void qsim__qm_tf_encoding(double min, double max, int bw, int sym, int strict, int unsigned_sym,
                          qsim__qenc *out);
/* create_encoding_from_min_max (fixed ranges, SPEC 3.3 Python helpers). */
void qsim__qm_fixed_encoding(double min, double max, int bw, int sym, int strict,
                             qsim__qenc *out);
/* Per-tensor QDQ in place: delta/offset regenerated from (min, max, bw). */
void qsim__qm_qdq_tensor(float *x, size_t n, const qsim__qenc *e);
/* QDQ with the stored (min, max, delta, offset) of one channel. */
void qsim__qm_qdq_stored(float *x, size_t n, size_t stride, const qsim__qenc *e);
/* FP16 round trip (binary16, round to nearest even) in place. */
void qsim__qm_fp16(float *x, size_t n);

#endif
