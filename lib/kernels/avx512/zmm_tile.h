/* The k-loop body of the AVX-512F tall microkernels (sgemm.c and
 * conv_direct.c): 16 columns in one ZMM register times np = 2 or 4
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

/* p(i) += a[i] * b for the 6 rows of one A panel */
#define QSIM__ZSTEP6(p, a, b)                                                                     \
    do {                                                                                          \
        p##0 = _mm512_fmadd_ps(_mm512_set1_ps((a)[0]), b, p##0);                                  \
        p##1 = _mm512_fmadd_ps(_mm512_set1_ps((a)[1]), b, p##1);                                  \
        p##2 = _mm512_fmadd_ps(_mm512_set1_ps((a)[2]), b, p##2);                                  \
        p##3 = _mm512_fmadd_ps(_mm512_set1_ps((a)[3]), b, p##3);                                  \
        p##4 = _mm512_fmadd_ps(_mm512_set1_ps((a)[4]), b, p##4);                                  \
        p##5 = _mm512_fmadd_ps(_mm512_set1_ps((a)[5]), b, p##5);                                  \
    } while (0)

/* The k loop over np panels (a + i * as); `load` yields the B vector of
 * step k. Declares the accumulators p*, q*, r*, s* (r, s unused at np 2). */
#define QSIM__ZTALL_LOOP(np, kc, a, as, load)                                                     \
    QSIM__ZACC6(p);                                                                               \
    QSIM__ZACC6(q);                                                                               \
    QSIM__ZACC6(r);                                                                               \
    QSIM__ZACC6(s);                                                                               \
    do {                                                                                          \
        const float *a0_ = (a), *a1_ = a0_ + (as), *a2_ = a1_ + (as), *a3_ = a2_ + (as);          \
        for (size_t k = 0; k < (kc); k++) {                                                       \
            __m512 bv_ = load;                                                                    \
            QSIM__ZSTEP6(p, a0_, bv_);                                                            \
            QSIM__ZSTEP6(q, a1_, bv_);                                                            \
            if ((np) == 4) {                                                                      \
                QSIM__ZSTEP6(r, a2_, bv_);                                                        \
                QSIM__ZSTEP6(s, a3_, bv_);                                                        \
            }                                                                                     \
            a0_ += 6;                                                                             \
            a1_ += 6;                                                                             \
            a2_ += 6;                                                                             \
            a3_ += 6;                                                                             \
        }                                                                                         \
    } while (0)

/* Calls row(i, v) for the np * 6 rows in order. */
#define QSIM__ZTALL_ROWS(np, row)                                                                 \
    do {                                                                                          \
        row(0, p0); row(1, p1); row(2, p2); row(3, p3); row(4, p4); row(5, p5);                   \
        row(6, q0); row(7, q1); row(8, q2); row(9, q3); row(10, q4); row(11, q5);                 \
        if ((np) == 4) {                                                                          \
            row(12, r0); row(13, r1); row(14, r2); row(15, r3); row(16, r4); row(17, r5);         \
            row(18, s0); row(19, s1); row(20, s2); row(21, s3); row(22, s4); row(23, s5);         \
        }                                                                                         \
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
