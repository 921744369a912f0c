/* The k-loop body of the AVX-512F tall microkernels (sgemm.c and
 * conv_direct.c): 16 columns in one ZMM register times np = 1..4
 * consecutive MR = 6 row panels of packed A, so np * 6 accumulators. With
 * 32 registers the tile reuses each B load for 24 rows instead of 6, which
 * keeps loads and broadcasts off the FMA ports (measured: the AVX2 6x16 tile
 * reaches ~85% of the FMA peak inside a conv, this one ~95%). The packing
 * is the AVX2 kernels' (MR 6, NR 16), and every output element is the same
 * chain of FMAs over k, so results are bit-identical to avx2/. */
#ifndef QSIM_KERNELS_AVX512_ZMM_TILE_H
#define QSIM_KERNELS_AVX512_ZMM_TILE_H

#include <immintrin.h>

#include "kernels/gemm.h"

#define QSIM__ZACC6(p)                                                                            \
    __m512 p##0 = _mm512_setzero_ps(), p##1 = p##0, p##2 = p##0, p##3 = p##0, p##4 = p##0,        \
           p##5 = p##0

/* p(i) += a[i] * b for the first n (a constant, 1..6) rows of one A panel */
#define QSIM__ZSTEPN(p, a, b, n)                                                                  \
    do {                                                                                          \
        p##0 = _mm512_fmadd_ps(_mm512_set1_ps((a)[0]), b, p##0);                                  \
        if ((n) > 1)                                                                              \
            p##1 = _mm512_fmadd_ps(_mm512_set1_ps((a)[1]), b, p##1);                              \
        if ((n) > 2)                                                                              \
            p##2 = _mm512_fmadd_ps(_mm512_set1_ps((a)[2]), b, p##2);                              \
        if ((n) > 3)                                                                              \
            p##3 = _mm512_fmadd_ps(_mm512_set1_ps((a)[3]), b, p##3);                              \
        if ((n) > 4)                                                                              \
            p##4 = _mm512_fmadd_ps(_mm512_set1_ps((a)[4]), b, p##4);                              \
        if ((n) > 5)                                                                              \
            p##5 = _mm512_fmadd_ps(_mm512_set1_ps((a)[5]), b, p##5);                              \
    } while (0)

/* One k loop over np panels whose last one contributes its first `last`
 * rows (constants). */
#define QSIM__ZTALL_KLOOP(np, last, kc, load)                                                     \
    for (size_t k = 0; k < (kc); k++) {                                                           \
        __m512 bv_ = load;                                                                        \
        QSIM__ZSTEPN(p, a0_ + 6 * k, bv_, (np) > 1 ? 6 : (last));                                 \
        if ((np) > 1)                                                                             \
            QSIM__ZSTEPN(q, a1_ + 6 * k, bv_, (np) > 2 ? 6 : (last));                             \
        if ((np) > 2)                                                                             \
            QSIM__ZSTEPN(r, a2_ + 6 * k, bv_, (np) > 3 ? 6 : (last));                             \
        if ((np) > 3)                                                                             \
            QSIM__ZSTEPN(s, a3_ + 6 * k, bv_, (last));                                            \
    }

/* The k loop over np (1..4, a constant) panels at a + i * as, of which the
 * first mr rows are stored; `load` yields the B vector of step k. The
 * rows of a last partial panel past mr are zero padding: when they are 2
 * or 4 of its 6, a loop without their FMAs runs instead (M = 64 or 128
 * otherwise spends 3% on them). Declares the accumulators p*, q*, r*, s*
 * (those past np stay unused and are optimised away). */
#define QSIM__ZTALL_LOOP(np, mr, kc, a, as, load)                                                 \
    QSIM__ZACC6(p);                                                                               \
    QSIM__ZACC6(q);                                                                               \
    QSIM__ZACC6(r);                                                                               \
    QSIM__ZACC6(s);                                                                               \
    do {                                                                                          \
        const float *a0_ = (a);                                                                   \
        const float *a1_ = (np) > 1 ? a0_ + (as) : a0_;                                           \
        const float *a2_ = (np) > 2 ? a1_ + (as) : a0_;                                           \
        const float *a3_ = (np) > 3 ? a2_ + (as) : a0_;                                           \
        size_t last_ = (mr) - 6 * ((np) - 1);                                                     \
        if (last_ <= 2)                                                                           \
            QSIM__ZTALL_KLOOP(np, 2, kc, load)                                                    \
        else if (last_ <= 4)                                                                      \
            QSIM__ZTALL_KLOOP(np, 4, kc, load)                                                    \
        else                                                                                      \
            QSIM__ZTALL_KLOOP(np, 6, kc, load)                                                    \
    } while (0)

/* Calls row(i, v) for the first mr (<= np * 6) rows in order: the rows of
 * a last partial panel past M are zero padding and are not stored. */
#define QSIM__ZROW6(p, base, mr, row)                                                             \
    do {                                                                                          \
        if ((mr) > (base) + 0) row((base) + 0, p##0);                                             \
        if ((mr) > (base) + 1) row((base) + 1, p##1);                                             \
        if ((mr) > (base) + 2) row((base) + 2, p##2);                                             \
        if ((mr) > (base) + 3) row((base) + 3, p##3);                                             \
        if ((mr) > (base) + 4) row((base) + 4, p##4);                                             \
        if ((mr) > (base) + 5) row((base) + 5, p##5);                                             \
    } while (0)
#define QSIM__ZTALL_ROWS(np, mr, row)                                                             \
    do {                                                                                          \
        QSIM__ZROW6(p, 0, mr, row);                                                               \
        if ((np) > 1)                                                                             \
            QSIM__ZROW6(q, 6, mr, row);                                                           \
        if ((np) > 2)                                                                             \
            QSIM__ZROW6(r, 12, mr, row);                                                          \
        if ((np) > 3)                                                                             \
            QSIM__ZROW6(s, 18, mr, row);                                                          \
    } while (0)

/* The activations of gemm.h on 16 lanes, as the AVX2 kernels do them. */
static inline __m512 qsim__zact(__m512 v, int act, __m512 lo, __m512 hi)
{
    if (act == QSIM__ACT_RELU)
        return _mm512_max_ps(v, _mm512_setzero_ps());
    if (act == QSIM__ACT_CLIP)
        return _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    if (act == QSIM__ACT_LEAKY_RELU) {
        __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(v, neg, v, lo);
    }
    return v;
}

#endif
