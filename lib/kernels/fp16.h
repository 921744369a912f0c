/* IEEE binary16 emulation ("FP16 quantizers", SPEC 2.2): float32 ->
 * binary16 with round to nearest even (subnormals kept, overflow to +-inf,
 * NaN kept quiet with its top payload bits) and binary16 -> float32 (exact;
 * a signalling NaN comes back quiet). The portable and F16C paths agree bit
 * for bit on every input (tests/test_fp16.c checks all 2^32 floats). */
#ifndef QSIM_KERNELS_FP16_H
#define QSIM_KERNELS_FP16_H

#include <stddef.h>
#include <stdint.h>

/* Portable scalar conversions (always available, pure C). */
uint16_t qsim__f32_to_f16(float x);
float qsim__f16_to_f32(uint16_t h);

/* Buffer conversions and the QDQ-style round trip y[i] = float(half(x[i]))
 * (y may alias x exactly), dispatched to F16C when qsim__cpu_use_avx2(). */
void qsim__f32_to_f16_buf(const float *x, uint16_t *h, size_t n);
void qsim__f16_to_f32_buf(const uint16_t *h, float *y, size_t n);
void qsim__fp16_qdq_f32(const float *x, float *y, size_t n);

/* Implementations behind the dispatchers (tests, benchmarks). */
void qsim__f32_to_f16_buf__generic(const float *x, uint16_t *h, size_t n);
void qsim__f16_to_f32_buf__generic(const uint16_t *h, float *y, size_t n);
void qsim__fp16_qdq_f32__generic(const float *x, float *y, size_t n);
#ifdef QSIM_HAVE_AVX2
void qsim__f32_to_f16_buf__avx2(const float *x, uint16_t *h, size_t n);
void qsim__f16_to_f32_buf__avx2(const uint16_t *h, float *y, size_t n);
void qsim__fp16_qdq_f32__avx2(const float *x, float *y, size_t n);
#endif

#endif
