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
