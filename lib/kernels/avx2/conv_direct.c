/* AVX2+FMA microkernels of the direct conv path (see conv_impl.h): the 6x16
 * GEMM tile of avx2/sgemm.c, with the 16 columns loaded (unaligned) from the
 * input at x + off[k] instead of a packed B panel. Only called after the
 * run-time CPU check (qsim__cpu_use_avx2). */
#include "kernels/conv_impl.h"

#include <immintrin.h>
#include <stdint.h>

/* first/last k-block handling (cv: the C values, read only when needed),
 * bias per row, activation (as the GEMM's). */
static inline __m256 epi(__m256 v, __m256 cv, int first, int last, __m256 beta, int use_beta,
                         __m256 brow, int act, __m256 lo, __m256 hi)
{
    if (first) {
        if (use_beta)
            v = _mm256_fmadd_ps(beta, cv, v);
    } else {
        v = _mm256_add_ps(v, cv);
    }
    if (last) {
        v = _mm256_add_ps(v, brow);
        if (act == QSIM__ACT_RELU) {
            v = _mm256_max_ps(v, _mm256_setzero_ps());
        } else if (act == QSIM__ACT_CLIP) {
            v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        } else if (act == QSIM__ACT_LEAKY_RELU) {
            __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
            v = _mm256_blendv_ps(v, _mm256_mul_ps(v, lo), neg);
        }
    }
    return v;
}

/* n < 8 floats at p (the rest 0) / to p, in pieces of 4, 2 and 1: a
 * scalar tile epilogue would cost as much as a short k loop. */
static inline __m256 load_part(const float *p, size_t n)
{
    const float *q = p + (n & 4);
    __m128 part = _mm_setzero_ps();
    if (n & 2)
        part = _mm_loadl_pi(part, (const __m64 *)q);
    if (n & 1)
        part = n & 2 ? _mm_insert_ps(part, _mm_load_ss(q + 2), 0x20) : _mm_load_ss(q);
    if (n & 4)
        return _mm256_set_m128(part, _mm_loadu_ps(p));
    return _mm256_set_m128(_mm_setzero_ps(), part);
}

static inline void store_part(float *p, __m256 v, size_t n)
{
    __m128 x = _mm256_castps256_ps128(v);
    if (n & 4) {
        _mm_storeu_ps(p, x);
        x = _mm256_extractf128_ps(v, 1);
        p += 4;
    }
    if (n & 2) {
        _mm_storel_pi((__m64 *)p, x);
        x = _mm_movehl_ps(x, x);
        p += 2;
    }
    if (n & 1)
        _mm_store_ss(p, x);
}

/* rows[halves*i + h]: row i, half h (nr0 / nr1 valid columns at c / c + ch) */
static inline void store_rows(const __m256 *rows, int halves, float *c, size_t ldc, size_t ch,
                              size_t mr, size_t nr0, size_t nr1, const qsim__ukr_out *o)
{
    __m256 beta = _mm256_set1_ps(o->beta);
    __m256 lo = _mm256_set1_ps(o->act_a), hi = _mm256_set1_ps(o->act_b);
    int first = o->first, last = o->last, act = o->act, ub = o->beta != 0.0f;
    int need_c = !first || ub;
    int stream = o->stream && !((uintptr_t)c & 31) && !(ldc & 7) && !(ch & 7);
    for (size_t i = 0; i < mr; i++) {
        __m256 br = _mm256_set1_ps(last && o->bias_row ? o->bias_row[i] : 0.0f);
        for (int h = 0; h < halves; h++) {
            size_t n = h ? nr1 : nr0;
            float *p = c + i * ldc + (size_t)h * ch;
            if (n == 8) {
                __m256 cv = need_c ? _mm256_loadu_ps(p) : _mm256_setzero_ps();
                __m256 v = epi(rows[halves * i + h], cv, first, last, beta, ub, br, act, lo, hi);
                if (stream)
                    _mm256_stream_ps(p, v);
                else
                    _mm256_storeu_ps(p, v);
            } else if (n) {
                __m256 cv = need_c ? load_part(p, n) : _mm256_setzero_ps();
                __m256 v = epi(rows[halves * i + h], cv, first, last, beta, ub, br, act, lo, hi);
                store_part(p, v, n);
            }
        }
    }
}

void qsim__k_f32_conv_6x16__avx2(size_t kc, const float *a, const float *x, const ptrdiff_t *off,
                                 size_t xh, float *c, size_t ldc, size_t ch, size_t mr,
                                 size_t nr0, size_t nr1, const qsim__ukr_out *o)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    const float *x1 = x + xh;
    for (size_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(x + off[k]);
        __m256 b1 = _mm256_loadu_ps(x1 + off[k]);
        __m256 av;
        av = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
        a += QSIM__MR;
    }
    const __m256 rows[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    store_rows(rows, 2, c, ldc, ch, mr, nr0, nr1, o);
}

void qsim__k_f32_conv_6x8__avx2(size_t kc, const float *a, const float *x, const ptrdiff_t *off,
                                size_t xh, float *c, size_t ldc, size_t ch, size_t mr,
                                size_t nr0, size_t nr1, const qsim__ukr_out *o)
{
    __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps(), c2 = _mm256_setzero_ps();
    __m256 c3 = _mm256_setzero_ps(), c4 = _mm256_setzero_ps(), c5 = _mm256_setzero_ps();
    for (size_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(x + off[k]);
        c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 0), b0, c0);
        c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 1), b0, c1);
        c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 2), b0, c2);
        c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 3), b0, c3);
        c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 4), b0, c4);
        c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 5), b0, c5);
        a += QSIM__MR;
    }
    const __m256 rows[6] = {c0, c1, c2, c3, c4, c5};
    (void)xh, (void)nr1;
    store_rows(rows, 1, c, ldc, ch, mr, nr0, 0, o);
}
