/* AVX2/FMA elementwise kernels. exp, tanh and erf use polynomial
 * approximations (relative error about 1e-7 against libm); the rest is
 * exact IEEE arithmetic like the generic versions. Tails run through the
 * generic kernel so every element sees the same math per lane width. */
#include "../eltwise.h"

#include <immintrin.h>

/* exp(x) for x in [-87, 88]: 2^n * p(r), r = x - n*ln2, |r| <= ln2/2,
 * p = Taylor series to degree 7 (error ~5e-9); 0 below -87.34, exp(88)
 * above 88. */
static inline __m256 exp_ps(__m256 x)
{
    /* below ln(FLT_MIN) the result is subnormal or 0: give 0 */
    __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(-87.33654f), _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(tiny, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

static inline __m256 sigmoid_ps(__m256 x)
{
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

static inline __m256 abs_ps(__m256 x, __m256 *sign)
{
    __m256 sm = _mm256_set1_ps(-0.0f);
    *sign = _mm256_and_ps(x, sm);
    return _mm256_andnot_ps(sm, x);
}

/* tanh: odd Taylor series near 0 (no cancellation), else
 * 1 - 2/(exp(2|x|)+1) with the sign restored. */
static inline __m256 tanh_ps(__m256 x)
{
    __m256 sign, ax = abs_ps(x, &sign);
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = exp_ps(_mm256_min_ps(_mm256_add_ps(ax, ax), _mm256_set1_ps(80.0f)));
    __m256 big = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
    __m256 x2 = _mm256_mul_ps(ax, ax);
    __m256 p = _mm256_set1_ps(-17.0f / 315.0f);
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.0f / 15.0f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-1.0f / 3.0f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, x2), ax, ax);
    __m256 r = _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.1f), _CMP_LT_OQ));
    return _mm256_or_ps(r, sign);
}

/* erf: Maclaurin series (12 terms) for |x| <= 1; for larger |x|,
 * 1 - erfc with erfc from a Chebyshev-fitted exponential form (fractional
 * error < 1.2e-7, i.e. < 2e-8 absolute there); 1 from |x| >= 4. */
static inline __m256 erf_ps(__m256 x)
{
    __m256 sign, ax = abs_ps(x, &sign);
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 x2 = _mm256_mul_ps(ax, ax);
    static const float c[12] = {
        1.1283791671e+00f, -3.7612638903e-01f, 1.1283791671e-01f, -2.6866170645e-02f,
        5.2239776254e-03f, -8.5483270235e-04f, 1.2055332982e-04f, -1.4925650358e-05f,
        1.6462114366e-06f, -1.6365844691e-07f, 1.4807192816e-08f, -1.2290555302e-09f,
    };
    __m256 p = _mm256_set1_ps(c[11]);
    for (int i = 10; i >= 0; i--)
        p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(c[i]));
    __m256 small = _mm256_mul_ps(p, ax);
    __m256 z = _mm256_min_ps(ax, _mm256_set1_ps(4.0f));
    __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.5f), z, one));
    static const float q[10] = {
        -1.26551223f, 1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f,
        0.27886807f, -1.13520398f, 1.48851587f, -0.82215223f, 0.17087277f,
    };
    __m256 s = _mm256_set1_ps(q[9]);
    for (int i = 8; i >= 0; i--)
        s = _mm256_fmadd_ps(s, t, _mm256_set1_ps(q[i]));
    __m256 erfc = _mm256_mul_ps(t, exp_ps(_mm256_fnmadd_ps(z, z, s)));
    __m256 big = _mm256_sub_ps(one, erfc);
    big = _mm256_blendv_ps(big, one, _mm256_cmp_ps(ax, _mm256_set1_ps(4.0f), _CMP_GE_OQ));
    __m256 r = _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, one, _CMP_LE_OQ));
    return _mm256_or_ps(r, sign);
}

static inline __m256 clamp01(__m256 v)
{
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
}

void qsim__k_f32_unary__avx2(int op, const float *x, float *y, size_t n, float a, float b)
{
    size_t i = 0;
    __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b), zero = _mm256_setzero_ps();
    switch (op) {
    case QSIM__UN_RELU:
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_max_ps(_mm256_loadu_ps(x + i), zero));
        break;
    case QSIM__UN_LEAKY_RELU:
        for (; i + 8 <= n; i += 8) {
            __m256 v = _mm256_loadu_ps(x + i);
            __m256 neg = _mm256_cmp_ps(v, zero, _CMP_LT_OQ);
            _mm256_storeu_ps(y + i, _mm256_blendv_ps(v, _mm256_mul_ps(v, va), neg));
        }
        break;
    case QSIM__UN_CLIP:
        for (; i + 8 <= n; i += 8) {
            __m256 v = _mm256_loadu_ps(x + i);
            /* x < a ? a : (x > b ? b : x), as the generic code */
            __m256 r = _mm256_blendv_ps(v, vb, _mm256_cmp_ps(v, vb, _CMP_GT_OQ));
            r = _mm256_blendv_ps(r, va, _mm256_cmp_ps(v, va, _CMP_LT_OQ));
            _mm256_storeu_ps(y + i, r);
        }
        break;
    case QSIM__UN_SIGMOID:
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, sigmoid_ps(_mm256_loadu_ps(x + i)));
        break;
    case QSIM__UN_HARD_SIGMOID:
        for (; i + 8 <= n; i += 8) {
            __m256 v = _mm256_add_ps(_mm256_mul_ps(va, _mm256_loadu_ps(x + i)), vb);
            _mm256_storeu_ps(y + i, clamp01(v));
        }
        break;
    case QSIM__UN_HARD_SWISH:
        for (; i + 8 <= n; i += 8) {
            __m256 v = _mm256_loadu_ps(x + i);
            __m256 h = _mm256_add_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.0f / 6.0f)),
                                     _mm256_set1_ps(0.5f));
            _mm256_storeu_ps(y + i, _mm256_mul_ps(v, clamp01(h)));
        }
        break;
    case QSIM__UN_TANH:
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, tanh_ps(_mm256_loadu_ps(x + i)));
        break;
    case QSIM__UN_ERF:
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, erf_ps(_mm256_loadu_ps(x + i)));
        break;
    case QSIM__UN_SQRT:
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_sqrt_ps(_mm256_loadu_ps(x + i)));
        break;
    case QSIM__UN_AFFINE:
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), vb));
        break;
    case QSIM__UN_EXP:
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), va)));
        break;
    default:
        break;
    }
    if (i < n)
        qsim__k_f32_unary__generic(op, x + i, y + i, n - i, a, b);
}

static inline __m256 bin_ps(int op, __m256 a, __m256 b)
{
    switch (op) {
    case QSIM__BIN_ADD: return _mm256_add_ps(a, b);
    case QSIM__BIN_SUB: return _mm256_sub_ps(a, b);
    case QSIM__BIN_MUL: return _mm256_mul_ps(a, b);
    default: return _mm256_div_ps(a, b);
    }
}

void qsim__k_f32_binary__avx2(int op, const float *a, size_t sa, const float *b, size_t sb,
                              float *y, size_t n)
{
    size_t i = 0;
    if (op < 0 || op >= QSIM__BIN_COUNT)
        return;
    if (sa && sb) {
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, bin_ps(op, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    } else if (sa) {
        __m256 vb = _mm256_set1_ps(b[0]);
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, bin_ps(op, _mm256_loadu_ps(a + i), vb));
    } else if (sb) {
        __m256 va = _mm256_set1_ps(a[0]);
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, bin_ps(op, va, _mm256_loadu_ps(b + i)));
    }
    if (i < n)
        qsim__k_f32_binary__generic(op, a + i * sa, sa, b + i * sb, sb, y + i, n - i);
}
