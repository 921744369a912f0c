/* AVX2 QDQ and min/max kernels. Same arithmetic as generic/quant.c, lane by
 * lane: _mm256_round_ps with nearest-int would round ties to even, so the
 * half-away path truncates the magnitude and adds 1 when the (exact)
 * fraction is >= 0.5, then restores the sign. */
#include "../quant.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>

static inline __m256 qdq8(__m256 v, __m256 mn, __m256 mx, __m256 d, __m256 o, int even)
{
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    v = _mm256_max_ps(v, mn); /* NaN v -> mn (second operand) */
    v = _mm256_min_ps(v, mx);
    __m256 t = _mm256_sub_ps(_mm256_div_ps(v, d), o);
    __m256 r;
    if (even) {
        r = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    } else {
        __m256 a = _mm256_andnot_ps(signbit, t);
        __m256 tr = _mm256_round_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m256 up = _mm256_cmp_ps(_mm256_sub_ps(a, tr), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
        tr = _mm256_add_ps(tr, _mm256_and_ps(up, _mm256_set1_ps(1.0f)));
        r = _mm256_or_ps(tr, _mm256_and_ps(signbit, t));
    }
    return _mm256_mul_ps(d, _mm256_add_ps(r, o));
}

static void qdq_body(const float *x, float *y, size_t n, const qsim__qdq_params *p, int even)
{
    const __m256 mn = _mm256_set1_ps((float)p->min), mx = _mm256_set1_ps((float)p->max);
    const __m256 d = _mm256_set1_ps((float)p->delta), o = _mm256_set1_ps((float)p->offset);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        __m256 c = _mm256_loadu_ps(x + i + 16), e = _mm256_loadu_ps(x + i + 24);
        _mm256_storeu_ps(y + i, qdq8(a, mn, mx, d, o, even));
        _mm256_storeu_ps(y + i + 8, qdq8(b, mn, mx, d, o, even));
        _mm256_storeu_ps(y + i + 16, qdq8(c, mn, mx, d, o, even));
        _mm256_storeu_ps(y + i + 24, qdq8(e, mn, mx, d, o, even));
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, qdq8(_mm256_loadu_ps(x + i), mn, mx, d, o, even));
    if (i < n) {
        /* Tail through a stack block: same lane arithmetic, no masked loads. */
        float buf[8] = {0};
        size_t r = n - i;
        for (size_t k = 0; k < r; k++)
            buf[k] = x[i + k];
        _mm256_storeu_ps(buf, qdq8(_mm256_loadu_ps(buf), mn, mx, d, o, even));
        for (size_t k = 0; k < r; k++)
            y[i + k] = buf[k];
    }
}

void qsim__qdq_f32__avx2(const float *x, float *y, size_t n, const qsim__qdq_params *p,
                         int round_mode)
{
    if (round_mode == QSIM__ROUND_HALF_EVEN)
        qdq_body(x, y, n, p, 1);
    else
        qdq_body(x, y, n, p, 0);
}

void qsim__minmax_f32__avx2(const float *x, size_t n, float *mn, float *mx)
{
    __m256 lo0 = _mm256_set1_ps(INFINITY), lo1 = lo0;
    __m256 hi0 = _mm256_set1_ps(-INFINITY), hi1 = hi0;
    size_t i = 0;
    /* min_ps(v, acc) returns acc when v is NaN, so NaN is ignored. */
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        lo0 = _mm256_min_ps(a, lo0);
        hi0 = _mm256_max_ps(a, hi0);
        lo1 = _mm256_min_ps(b, lo1);
        hi1 = _mm256_max_ps(b, hi1);
    }
    lo0 = _mm256_min_ps(lo0, lo1);
    hi0 = _mm256_max_ps(hi0, hi1);
    float l[8], h[8];
    _mm256_storeu_ps(l, lo0);
    _mm256_storeu_ps(h, hi0);
    float lo = l[0], hi = h[0];
    for (int k = 1; k < 8; k++) {
        lo = l[k] < lo ? l[k] : lo;
        hi = h[k] > hi ? h[k] : hi;
    }
    for (; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    *mn = lo;
    *mx = hi;
}

void qsim__hist_count_f32__avx2(const float *x, size_t n, float bin, float off, uint64_t *count)
{
    const __m256 vb = _mm256_set1_ps(bin), vo = _mm256_set1_ps(off);
    const __m256 lo = _mm256_set1_ps(-0.5f), hi = _mm256_set1_ps(511.5f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 t = _mm256_sub_ps(_mm256_div_ps(_mm256_loadu_ps(x + i), vb), vo);
        __m256 ok = _mm256_and_ps(_mm256_cmp_ps(t, lo, _CMP_GT_OQ), _mm256_cmp_ps(t, hi, _CMP_LT_OQ));
        int m = _mm256_movemask_ps(ok);
        if (!m)
            continue;
        /* t is in (-0.5, 511.5) where ok: truncation, then +1 if frac >= .5 */
        __m256 tr = _mm256_round_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m256 up = _mm256_cmp_ps(_mm256_sub_ps(t, tr), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
        __m256i k = _mm256_sub_epi32(_mm256_cvttps_epi32(tr), _mm256_castps_si256(up));
        int32_t idx[8];
        _mm256_storeu_si256((__m256i *)(void *)idx, k);
        for (int j = 0; j < 8; j++)
            if (m & (1 << j))
                count[idx[j]]++;
    }
    for (; i < n; i++) {
        float t = x[i] / bin - off;
        if (!(t > -0.5f && t < 511.5f))
            continue;
        int k = (int)t;
        if (t - (float)k >= 0.5f)
            k++;
        count[k]++;
    }
}
