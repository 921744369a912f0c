/* The k-loop body and the activation shared by the AVX2 6x16 / 6x8
 * microkernels of the packed GEMM (sgemm.c) and of the direct convolution
 * (conv_direct.c): they differ only in where the 16 (8) B values of a step
 * come from. The accumulators are named locals (c00..c51, c0..c5) so that
 * they stay in registers. */
#ifndef QSIM_KERNELS_AVX2_FMA_TILE_H
#define QSIM_KERNELS_AVX2_FMA_TILE_H

#include <immintrin.h>

#include "kernels/gemm.h"

#define QSIM__ACC_6X16                                                                            \
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();                                  \
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();                                  \
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();                                  \
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();                                  \
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();                                  \
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps()

/* c(i)0 += a[i] * b0, c(i)1 += a[i] * b1 for the first n (a constant: 2,
 * 4 or 6) rows: one A broadcast per row, 2n FMAs. */
#define QSIM__STEPN_6X16(a, b0, b1, n)                                                            \
    do {                                                                                          \
        __m256 av_;                                                                               \
        av_ = _mm256_broadcast_ss((a) + 0);                                                       \
        c00 = _mm256_fmadd_ps(av_, b0, c00);                                                      \
        c01 = _mm256_fmadd_ps(av_, b1, c01);                                                      \
        av_ = _mm256_broadcast_ss((a) + 1);                                                       \
        c10 = _mm256_fmadd_ps(av_, b0, c10);                                                      \
        c11 = _mm256_fmadd_ps(av_, b1, c11);                                                      \
        if ((n) > 2) {                                                                            \
            av_ = _mm256_broadcast_ss((a) + 2);                                                   \
            c20 = _mm256_fmadd_ps(av_, b0, c20);                                                  \
            c21 = _mm256_fmadd_ps(av_, b1, c21);                                                  \
            av_ = _mm256_broadcast_ss((a) + 3);                                                   \
            c30 = _mm256_fmadd_ps(av_, b0, c30);                                                  \
            c31 = _mm256_fmadd_ps(av_, b1, c31);                                                  \
        }                                                                                         \
        if ((n) > 4) {                                                                            \
            av_ = _mm256_broadcast_ss((a) + 4);                                                   \
            c40 = _mm256_fmadd_ps(av_, b0, c40);                                                  \
            c41 = _mm256_fmadd_ps(av_, b1, c41);                                                  \
            av_ = _mm256_broadcast_ss((a) + 5);                                                   \
            c50 = _mm256_fmadd_ps(av_, b0, c50);                                                  \
            c51 = _mm256_fmadd_ps(av_, b1, c51);                                                  \
        }                                                                                         \
    } while (0)

/* One 6x16 k loop over the first n (a constant) rows. */
#define QSIM__KLOOPN_6X16(kc, a, load, n)                                                         \
    for (size_t k = 0; k < (kc); k++) {                                                           \
        __m256 b0, b1;                                                                            \
        load(k, b0, b1);                                                                          \
        QSIM__STEPN_6X16((a) + k * QSIM__MR, b0, b1, n);                                          \
    }

/* The 6x16 k loop; `load(k, b0, b1)` sets step k's two B vectors. Rows
 * past mr are zero padding of a last partial panel: with 4 or 2 rows to
 * keep (M = 64: the 11th panel) a loop without their FMAs runs. */
#define QSIM__KLOOP_6X16(kc, a, mr, load)                                                         \
    do {                                                                                          \
        if ((mr) <= 2)                                                                            \
            QSIM__KLOOPN_6X16(kc, a, load, 2)                                                     \
        else if ((mr) <= 4)                                                                       \
            QSIM__KLOOPN_6X16(kc, a, load, 4)                                                     \
        else                                                                                      \
            QSIM__KLOOPN_6X16(kc, a, load, 6)                                                     \
    } while (0)

#define QSIM__ACC_6X8                                                                             \
    __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps(), c2 = _mm256_setzero_ps();         \
    __m256 c3 = _mm256_setzero_ps(), c4 = _mm256_setzero_ps(), c5 = _mm256_setzero_ps()

#define QSIM__STEP_6X8(a, b0)                                                                     \
    do {                                                                                          \
        c0 = _mm256_fmadd_ps(_mm256_broadcast_ss((a) + 0), b0, c0);                               \
        c1 = _mm256_fmadd_ps(_mm256_broadcast_ss((a) + 1), b0, c1);                               \
        c2 = _mm256_fmadd_ps(_mm256_broadcast_ss((a) + 2), b0, c2);                               \
        c3 = _mm256_fmadd_ps(_mm256_broadcast_ss((a) + 3), b0, c3);                               \
        c4 = _mm256_fmadd_ps(_mm256_broadcast_ss((a) + 4), b0, c4);                               \
        c5 = _mm256_fmadd_ps(_mm256_broadcast_ss((a) + 5), b0, c5);                               \
    } while (0)

/* The activations of gemm.h on 8 lanes (lo: the Clip minimum or the
 * LeakyRelu slope, hi: the Clip maximum), shared by the tiles' epilogues. */
static inline __m256 qsim__act8(__m256 v, int act, __m256 lo, __m256 hi)
{
    if (act == QSIM__ACT_RELU)
        return _mm256_max_ps(v, _mm256_setzero_ps());
    if (act == QSIM__ACT_CLIP)
        return _mm256_min_ps(_mm256_max_ps(v, lo), hi);
    if (act == QSIM__ACT_LEAKY_RELU) {
        __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
        return _mm256_blendv_ps(v, _mm256_mul_ps(v, lo), neg);
    }
    return v;
}

#endif
