/* AVX2+FMA 6x16 FP32 GEMM microkernel: 12 ymm accumulators, two B vectors
 * and one A broadcast per k (15 of 16 registers). Only called after the
 * run-time CPU check (qsim__cpu_use_avx2). */
#include "kernels/gemm_impl.h"

#include <immintrin.h>
#include <stdint.h>

#include "fma_tile.h"

static inline __m256 epi(__m256 v, const float *cp, int first, int last, __m256 alpha,
                         __m256 beta, int use_beta, float brow, const float *bcol, int act,
                         __m256 lo, __m256 hi)
{
    v = _mm256_mul_ps(v, alpha);
    if (first) {
        if (use_beta)
            v = _mm256_add_ps(v, _mm256_mul_ps(beta, _mm256_loadu_ps(cp)));
    } else {
        v = _mm256_add_ps(v, _mm256_loadu_ps(cp));
    }
    if (last) {
        v = _mm256_add_ps(v, _mm256_set1_ps(brow));
        if (bcol)
            v = _mm256_add_ps(v, _mm256_loadu_ps(bcol));
        v = qsim__act8(v, act, lo, hi);
    }
    return v;
}

void qsim__k_f32_gemm_6x16__avx2(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                                 size_t mr, size_t nr, const qsim__ukr_out *o)
{
    QSIM__ACC_6X16;
#define QSIM_B_PANEL(k, b0, b1)                                                                   \
    (b0 = _mm256_load_ps(b + (k) * QSIM__NR), b1 = _mm256_load_ps(b + (k) * QSIM__NR + 8))
    QSIM__KLOOP_6X16(kc, a, mr, QSIM_B_PANEL);
#undef QSIM_B_PANEL
    if (mr == QSIM__MR && nr == QSIM__NR && !o->acc_out) {
        __m256 alpha = _mm256_set1_ps(o->alpha), beta = _mm256_set1_ps(o->beta);
        __m256 lo = _mm256_set1_ps(o->act_a), hi = _mm256_set1_ps(o->act_b);
        int first = o->first, last = o->last, act = o->act, ub = o->beta != 0.0f;
        const float *bc = o->bias_col;
        __m256 rows[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
        for (int i = 0; i < QSIM__MR; i++) {
            float *cp = c + (size_t)i * ldc;
            float br = o->bias_row ? o->bias_row[i] : 0.0f;
            __m256 v0 = epi(rows[2 * i], cp, first, last, alpha, beta, ub, br, bc, act, lo, hi);
            __m256 v1 = epi(rows[2 * i + 1], cp + 8, first, last, alpha, beta, ub, br,
                            bc ? bc + 8 : NULL, act, lo, hi);
            if (o->stream && !((uintptr_t)cp & 31)) {
                _mm256_stream_ps(cp, v0);
                _mm256_stream_ps(cp + 8, v1);
            } else {
                _mm256_storeu_ps(cp, v0);
                _mm256_storeu_ps(cp + 8, v1);
            }
        }
        return;
    }
    float tile[QSIM__MR * QSIM__NR] __attribute__((aligned(32)));
    float *acc = o->acc_out ? o->acc_out : tile;
    _mm256_storeu_ps(acc + 0, c00);
    _mm256_storeu_ps(acc + 8, c01);
    _mm256_storeu_ps(acc + 16, c10);
    _mm256_storeu_ps(acc + 24, c11);
    _mm256_storeu_ps(acc + 32, c20);
    _mm256_storeu_ps(acc + 40, c21);
    _mm256_storeu_ps(acc + 48, c30);
    _mm256_storeu_ps(acc + 56, c31);
    _mm256_storeu_ps(acc + 64, c40);
    _mm256_storeu_ps(acc + 72, c41);
    _mm256_storeu_ps(acc + 80, c50);
    _mm256_storeu_ps(acc + 88, c51);
    if (!o->acc_out)
        qsim__ukr_store_tile(acc, c, ldc, mr, nr, o);
}

/* 6x8: the same arithmetic for the left half of a B panel, for edge tiles
 * of at most 8 columns (half the FMAs of a 6x16 call). */
void qsim__k_f32_gemm_6x8__avx2(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                                size_t mr, size_t nr, const qsim__ukr_out *o)
{
    QSIM__ACC_6X8;
    for (size_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(b);
        QSIM__STEP_6X8(a, b0);
        a += QSIM__MR;
        b += QSIM__NR;
    }
    float tile[QSIM__MR * QSIM__NR] __attribute__((aligned(32)));
    float *acc = o->acc_out ? o->acc_out : tile;
    const __m256 z = _mm256_setzero_ps();
    _mm256_storeu_ps(acc + 0, c0);
    _mm256_storeu_ps(acc + 8, z);
    _mm256_storeu_ps(acc + 16, c1);
    _mm256_storeu_ps(acc + 24, z);
    _mm256_storeu_ps(acc + 32, c2);
    _mm256_storeu_ps(acc + 40, z);
    _mm256_storeu_ps(acc + 48, c3);
    _mm256_storeu_ps(acc + 56, z);
    _mm256_storeu_ps(acc + 64, c4);
    _mm256_storeu_ps(acc + 72, z);
    _mm256_storeu_ps(acc + 80, c5);
    _mm256_storeu_ps(acc + 88, z);
    if (!o->acc_out)
        qsim__ukr_store_tile(acc, c, ldc, mr, nr, o);
}
