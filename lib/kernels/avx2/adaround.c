/* AVX2 AdaRound step: generic/adaround.c lane by lane (mul/add/sub only,
 * no FMA, so the results are bit-identical). A tail shorter than 8 runs
 * through the same vector code on padded copies. */
#include "../adaround.h"

#include <immintrin.h>
#include <string.h>

static inline __m256 vexp(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    __m256 fx = _mm256_floor_ps(
        _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(fx, _mm256_set1_ps(0.693359375f)));
    r = _mm256_sub_ps(r, _mm256_mul_ps(fx, _mm256_set1_ps(-2.12194440e-4f)));
    __m256 z = _mm256_mul_ps(r, r);
    __m256 y = _mm256_set1_ps(1.9875691500E-4f);
    y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(1.3981999507E-3f));
    y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(8.3334519073E-3f));
    y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(4.1665795894E-2f));
    y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(1.6666665459E-1f));
    y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(5.0000001201E-1f));
    y = _mm256_add_ps(_mm256_mul_ps(y, z), r);
    y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

static inline __m256 vlog(__m256 x)
{
    x = _mm256_max_ps(x, _mm256_set1_ps(1.17549435e-38f));
    __m256i b = _mm256_castps_si256(x);
    __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(b, 23), _mm256_set1_epi32(126)));
    b = _mm256_or_si256(_mm256_and_si256(b, _mm256_set1_epi32((int)0x807fffffu)),
                        _mm256_set1_epi32(0x3f000000));
    __m256 mt = _mm256_castsi256_ps(b);
    __m256 lt = _mm256_cmp_ps(mt, _mm256_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
    __m256 tmp = _mm256_and_ps(lt, mt);
    mt = _mm256_sub_ps(mt, _mm256_set1_ps(1.0f));
    e = _mm256_sub_ps(e, _mm256_and_ps(lt, _mm256_set1_ps(1.0f)));
    mt = _mm256_add_ps(mt, tmp);
    __m256 z = _mm256_mul_ps(mt, mt);
    __m256 y = _mm256_set1_ps(7.0376836292E-2f);
    y = _mm256_add_ps(_mm256_mul_ps(y, mt), _mm256_set1_ps(-1.1514610310E-1f));
    y = _mm256_add_ps(_mm256_mul_ps(y, mt), _mm256_set1_ps(1.1676998740E-1f));
    y = _mm256_add_ps(_mm256_mul_ps(y, mt), _mm256_set1_ps(-1.2420140846E-1f));
    y = _mm256_add_ps(_mm256_mul_ps(y, mt), _mm256_set1_ps(1.4249322787E-1f));
    y = _mm256_add_ps(_mm256_mul_ps(y, mt), _mm256_set1_ps(-1.6668057665E-1f));
    y = _mm256_add_ps(_mm256_mul_ps(y, mt), _mm256_set1_ps(2.0000714765E-1f));
    y = _mm256_add_ps(_mm256_mul_ps(y, mt), _mm256_set1_ps(-2.4999993993E-1f));
    y = _mm256_add_ps(_mm256_mul_ps(y, mt), _mm256_set1_ps(3.3333331174E-1f));
    y = _mm256_mul_ps(_mm256_mul_ps(y, mt), z);
    y = _mm256_add_ps(y, _mm256_mul_ps(e, _mm256_set1_ps(-2.12194440e-4f)));
    y = _mm256_sub_ps(y, _mm256_mul_ps(z, _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_add_ps(mt, y);
    return _mm256_add_ps(r, _mm256_mul_ps(e, _mm256_set1_ps(0.693359375f)));
}

static inline __m256 clamp01(__m256 x)
{
    return _mm256_min_ps(_mm256_max_ps(x, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
}

/* 8 elements; valid masks the reg terms of padding lanes. */
static inline void step8(const qsim__ada_step *p, const float *wf, const float *grad,
                         float *alpha, float *m, float *v, float *sig, float *wsoft, __m256 valid,
                         __m256d *acc_lo, __m256d *acc_hi)
{
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 zg = _mm256_set1_ps(p->zg), gm = _mm256_set1_ps(p->gamma);
    const __m256 off = _mm256_set1_ps(p->off), qmax = _mm256_set1_ps(p->qmax);
    const __m256 delta = _mm256_set1_ps(p->delta);
    __m256 w = _mm256_loadu_ps(wf);
    __m256 sg = _mm256_loadu_ps(sig);
    __m256 hraw = _mm256_add_ps(_mm256_mul_ps(sg, zg), gm);
    __m256 h = clamp01(hraw);
    if (p->update) {
        __m256 x = _mm256_sub_ps(_mm256_add_ps(w, h), off);
        __m256 inr = _mm256_and_ps(_mm256_cmp_ps(x, zero, _CMP_GE_OQ),
                                   _mm256_cmp_ps(x, qmax, _CMP_LE_OQ));
        __m256 gh = _mm256_and_ps(inr, _mm256_mul_ps(_mm256_loadu_ps(grad), delta));
        if (p->with_reg) {
            __m256 t = _mm256_sub_ps(_mm256_mul_ps(_mm256_set1_ps(2.0f), h), one);
            __m256 at = _mm256_andnot_ps(sign, t);
            __m256 pos = _mm256_cmp_ps(at, zero, _CMP_GT_OQ);
            __m256 pw = _mm256_and_ps(
                pos, vexp(_mm256_mul_ps(_mm256_set1_ps(p->beta_m1), vlog(at))));
            __m256 term = _mm256_and_ps(valid, _mm256_sub_ps(one, _mm256_mul_ps(pw, at)));
            *acc_lo = _mm256_add_pd(*acc_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(term)));
            *acc_hi = _mm256_add_pd(*acc_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(term, 1)));
            __m256 d = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(p->cd), pw), _mm256_set1_ps(2.0f));
            __m256 tpos = _mm256_cmp_ps(t, zero, _CMP_GT_OQ);
            d = _mm256_xor_ps(d, _mm256_andnot_ps(tpos, sign));
            gh = _mm256_add_ps(gh, d);
        }
        __m256 inh = _mm256_and_ps(_mm256_cmp_ps(hraw, zero, _CMP_GE_OQ),
                                   _mm256_cmp_ps(hraw, one, _CMP_LE_OQ));
        __m256 g = _mm256_and_ps(
            inh, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(gh, zg), sg), _mm256_sub_ps(one, sg)));
        __m256 mm = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m), _mm256_set1_ps(p->b1)),
                                  _mm256_mul_ps(g, _mm256_set1_ps(p->omb1)));
        __m256 vv = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v), _mm256_set1_ps(p->b2)),
                                  _mm256_mul_ps(_mm256_mul_ps(g, g), _mm256_set1_ps(p->omb2)));
        _mm256_storeu_ps(m, mm);
        _mm256_storeu_ps(v, vv);
        __m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vv), _mm256_set1_ps(p->bc2s)),
                                   _mm256_set1_ps(p->eps));
        __m256 a = _mm256_sub_ps(_mm256_loadu_ps(alpha),
                                 _mm256_mul_ps(_mm256_set1_ps(p->step), _mm256_div_ps(mm, den)));
        _mm256_storeu_ps(alpha, a);
        sg = _mm256_div_ps(one, _mm256_add_ps(one, vexp(_mm256_xor_ps(a, sign))));
        _mm256_storeu_ps(sig, sg);
        hraw = _mm256_add_ps(_mm256_mul_ps(sg, zg), gm);
        h = clamp01(hraw);
    }
    __m256 x = _mm256_sub_ps(_mm256_add_ps(w, h), off);
    x = _mm256_min_ps(_mm256_max_ps(x, zero), qmax);
    _mm256_storeu_ps(wsoft, _mm256_mul_ps(_mm256_add_ps(x, off), delta));
}

double qsim__ada_step_f32__avx2(const qsim__ada_step *p, size_t n, const float *wf,
                                const float *grad, float *alpha, float *m, float *v, float *sig,
                                float *wsoft)
{
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    const __m256 all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        step8(p, wf + i, grad ? grad + i : NULL, alpha + i, m + i, v + i, sig + i, wsoft + i,
              all, &lo, &hi);
    if (i < n) {
        size_t r = n - i;
        float b[7][8];
        for (int k = 0; k < 7; k++)
            for (int l = 0; l < 8; l++)
                b[k][l] = k == 5 ? 0.5f : 0.0f; /* sig 0.5, others 0 */
        memcpy(b[0], wf + i, r * sizeof(float));
        if (grad)
            memcpy(b[1], grad + i, r * sizeof(float));
        memcpy(b[2], alpha + i, r * sizeof(float));
        memcpy(b[3], m + i, r * sizeof(float));
        memcpy(b[4], v + i, r * sizeof(float));
        memcpy(b[5], sig + i, r * sizeof(float));
        int32_t mk[8];
        for (int l = 0; l < 8; l++)
            mk[l] = (size_t)l < r ? -1 : 0;
        __m256 valid = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)mk));
        step8(p, b[0], b[1], b[2], b[3], b[4], b[5], b[6], valid, &lo, &hi);
        memcpy(alpha + i, b[2], r * sizeof(float));
        memcpy(m + i, b[3], r * sizeof(float));
        memcpy(v + i, b[4], r * sizeof(float));
        memcpy(sig + i, b[5], r * sizeof(float));
        memcpy(wsoft + i, b[6], r * sizeof(float));
    }
    double acc[8];
    _mm256_storeu_pd(acc, lo);
    _mm256_storeu_pd(acc + 4, hi);
    double s = acc[0];
    for (int l = 1; l < 8; l++)
        s += acc[l];
    return s;
}
