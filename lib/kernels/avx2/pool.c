/* AVX2 pooling row kernel (see pool.h): the same float operations in the
 * same order as the generic one, 8 columns or outputs at a time. */
#include "../pool.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

/* Room past L for the last vectors' reads and the even/odd split. */
#define SLACK 48

int qsim__k_f32_pool_row__avx2(const qsim__pool_row *a)
{
    float t[QSIM__POOL_ROW_MAX + SLACK], eo[QSIM__POOL_ROW_MAX + SLACK];
    const int64_t sw = a->sw, kw = a->kw, OW = a->OW;
    const int64_t OV = (OW + 7) / 8 * 8;            /* outputs covered by vectors */
    const int64_t L = (OW - 1) * sw + kw;            /* floats the outputs use */
    const int64_t LV = (OV - 1) * sw + kw + sw;      /* ... that the vectors read */
    const float padv = a->avg ? 0.0f : -INFINITY;
    const __m256 padvv = _mm256_set1_ps(padv);
    int64_t c0 = a->pl < L ? a->pl : L;
    int64_t c1 = a->pl + a->W < L ? a->pl + a->W : L;
    for (int64_t c = 0; c < c0; c++)
        t[c] = padv;
    for (int64_t c = c1; c < LV + 16; c += 8)
        _mm256_storeu_ps(t + c, padvv);
    float *d = t + c0;
    const int64_t n = c1 - c0, n8 = n / 8 * 8;
    __m256 nanv = _mm256_setzero_ps();
    int nan = 0;
    if (a->nrows == 0)
        for (int64_t i = 0; i < n; i++)
            d[i] = padv;
    for (int64_t r = 0; r < a->nrows; r++) {
        const float *xr = a->x + r * a->xstride;
        int64_t i = 0;
        if (r == 0) {
            for (; i < n8; i += 8) {
                __m256 v = _mm256_loadu_ps(xr + i);
                nanv = _mm256_or_ps(nanv, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
                _mm256_storeu_ps(d + i, v);
            }
            for (; i < n; i++) {
                d[i] = xr[i];
                nan |= xr[i] != xr[i];
            }
        } else if (a->avg) {
            for (; i < n8; i += 8)
                _mm256_storeu_ps(d + i, _mm256_add_ps(_mm256_loadu_ps(d + i),
                                                      _mm256_loadu_ps(xr + i)));
            for (; i < n; i++)
                d[i] += xr[i];
        } else {
            for (; i < n8; i += 8) {
                __m256 v = _mm256_loadu_ps(xr + i);
                nanv = _mm256_or_ps(nanv, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
                /* max_ps(v, m) = v > m ? v : m: the earlier row wins ties */
                _mm256_storeu_ps(d + i, _mm256_max_ps(v, _mm256_loadu_ps(d + i)));
            }
            for (; i < n; i++) {
                d[i] = xr[i] > d[i] ? xr[i] : d[i];
                nan |= xr[i] != xr[i];
            }
        }
    }
    if (!a->avg && (nan || _mm256_movemask_ps(nanv)))
        return 1;
    /* stride 2: split into even and odd elements so every tap is a plain
     * load (tap j of output ox is t[2ox + j] = (j even ? ev : od)[ox + j/2]) */
    const float *ev = t, *od = t;
    int64_t half = 0;
    if (sw == 2) {
        half = (LV + 15) / 16 * 8;
        for (int64_t c = 0; c < 2 * half; c += 16) {
            __m256 lo = _mm256_loadu_ps(t + c), hi = _mm256_loadu_ps(t + c + 8);
            __m256 e = _mm256_shuffle_ps(lo, hi, 0x88), o = _mm256_shuffle_ps(lo, hi, 0xDD);
            e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
            o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xD8));
            _mm256_storeu_ps(eo + c / 2, e);
            _mm256_storeu_ps(eo + half + c / 2, o);
        }
        ev = eo;
        od = eo + half;
    }
    const __m256 rowdiv = _mm256_set1_ps(a->rowdiv), zero = _mm256_setzero_ps();
    for (int64_t ox = 0; ox < OV; ox += 8) {
        __m256 acc;
        if (sw == 1) {
            acc = _mm256_loadu_ps(t + ox);
            for (int64_t j = 1; j < kw; j++) {
                __m256 v = _mm256_loadu_ps(t + ox + j);
                acc = a->avg ? _mm256_add_ps(acc, v) : _mm256_max_ps(v, acc);
            }
        } else {
            acc = _mm256_loadu_ps(ev + ox);
            for (int64_t j = 1; j < kw; j++) {
                __m256 v = _mm256_loadu_ps((j & 1 ? od : ev) + ox + j / 2);
                acc = a->avg ? _mm256_add_ps(acc, v) : _mm256_max_ps(v, acc);
            }
        }
        if (a->avg) {
            __m256 div = _mm256_mul_ps(rowdiv, _mm256_loadu_ps(a->coldiv + ox));
            acc = _mm256_andnot_ps(_mm256_cmp_ps(div, zero, _CMP_EQ_OQ), _mm256_div_ps(acc, div));
        }
        if (ox + 8 <= OW) {
            _mm256_storeu_ps(a->y + ox, acc);
        } else {
            float tail[8];
            _mm256_storeu_ps(tail, acc);
            memcpy(a->y + ox, tail, (size_t)(OW - ox) * sizeof(float));
        }
    }
    return 0;
}

void qsim__k_f32_global_pool__avx2(const float *x, size_t n, size_t planes, float *y, int max)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const size_t n8 = n / 8 * 8;
    /* the tail's lanes past n load as 0 (adds nothing) or -inf (max) */
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - n8)), iota);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    for (size_t p = 0; p < planes; p++, x += n) {
        if (max) {
            __m256 m = ninf, nan = _mm256_setzero_ps();
            for (size_t i = 0; i <= n; i += 8) {
                __m256 v;
                if (i + 8 <= n)
                    v = _mm256_loadu_ps(x + i);
                else if (i < n)
                    v = _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + i, tail),
                                         _mm256_castsi256_ps(tail));
                else
                    break;
                nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
                m = _mm256_max_ps(v, m);
            }
            float t[8];
            _mm256_storeu_ps(t, m);
            float r = t[0];
            for (int i = 1; i < 8; i++)
                r = t[i] > r ? t[i] : r;
            y[p] = _mm256_movemask_ps(nan) ? NAN : r;
            continue;
        }
        __m256d a = _mm256_setzero_pd(), b = _mm256_setzero_pd();
        size_t i = 0;
        for (; i < n8; i += 8) {
            __m256 v = _mm256_loadu_ps(x + i);
            a = _mm256_add_pd(a, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
            b = _mm256_add_pd(b, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
        }
        if (i < n) {
            __m256 v = _mm256_maskload_ps(x + i, tail);
            a = _mm256_add_pd(a, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
            b = _mm256_add_pd(b, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
        }
        double s[4];
        _mm256_storeu_pd(s, _mm256_add_pd(a, b));
        y[p] = (float)(((s[0] + s[1]) + (s[2] + s[3])) / (double)n);
    }
}
