/* AVX2 im2col panel packer (same contract as qsim__im2col_panel). Each run
 * of the panel (columns within one output row of one image) becomes masked
 * vector loads over the 16 lanes (masked lanes neither fault nor read), so a
 * k-row costs a few loads and two stores instead of a scalar loop. Stride 2
 * loads pairs and keeps the even elements; larger strides gather. */
#include "kernels/conv_impl.h"

#include <immintrin.h>

/* Lanes [a, b) of a 16-lane row as two masks. */
static inline void lane_masks(int64_t a, int64_t b, __m256i *m0, __m256i *m1)
{
    const __m256i iota0 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i iota1 = _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15);
    __m256i va = _mm256_set1_epi32((int)a - 1), vb = _mm256_set1_epi32((int)b);
    *m0 = _mm256_and_si256(_mm256_cmpgt_epi32(iota0, va), _mm256_cmpgt_epi32(vb, iota0));
    *m1 = _mm256_and_si256(_mm256_cmpgt_epi32(iota1, va), _mm256_cmpgt_epi32(vb, iota1));
}

/* Even elements of src[0..16) as 8 lanes, loading only element 2*L for the
 * lanes L in mask m (the odd ones in between may lie past the buffer). */
static inline __m256 load_even(const float *src, __m256i m)
{
    /* element e of the pair vectors belongs to lane e / 2 */
    __m256i lo = _mm256_permutevar8x32_epi32(m, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
    __m256i hi = _mm256_permutevar8x32_epi32(m, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7));
    const __m256i even = _mm256_setr_epi32(-1, 0, -1, 0, -1, 0, -1, 0);
    __m256 a = _mm256_maskload_ps(src, _mm256_and_si256(lo, even));
    __m256 b = _mm256_maskload_ps(src + 8, _mm256_and_si256(hi, even));
    /* a0 a2 b0 b2 | a4 a6 b4 b6 -> a0 a2 a4 a6 b0 b2 b4 b6 */
    __m256 s = _mm256_shuffle_ps(a, b, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
}

void qsim__im2col_panel__avx2(const qsim__im2col *g, size_t k0, size_t kc, size_t n0,
                              size_t nr, float *dst)
{
    qsim__im2col_runs r;
    qsim__im2col_split(g, n0, nr, &r);
    const int64_t sw = g->sw, W = g->W, H = g->H;
    int64_t by[QSIM__NR], bx[QSIM__NR];
    for (int s = 0; s < r.n; s++) {
        by[s] = r.oy[s] * g->sh - g->pt;
        bx[s] = r.ox[s] * sw - g->pl;
    }
    /* one run over the whole panel: the common case of wide maps */
    int whole = r.n == 1 && r.len[0] == QSIM__NR;
    int64_t khw = g->kh * g->kw;
    int64_t ch = (int64_t)k0 / khw, rem = (int64_t)k0 % khw;
    int64_t ky = rem / g->kw, kx = rem % g->kw;
    for (size_t kk = 0; kk < kc; kk++) {
        __m256 v0 = _mm256_setzero_ps(), v1 = _mm256_setzero_ps();
        int64_t plane = ch * H;
        for (int s = 0; s < r.n; s++) {
            int64_t iy = by[s] + ky * g->dh;
            if (iy < 0 || iy >= H)
                continue;
            int64_t ix0 = bx[s] + kx * g->dw, len = r.len[s], lo, hi;
            if (sw == 1) {
                lo = ix0 >= 0 ? 0 : -ix0;
                hi = W - ix0;
            } else if (sw == 2) {
                lo = ix0 >= 0 ? 0 : (-ix0 + 1) >> 1;
                hi = W - ix0 <= 0 ? 0 : (W - ix0 + 1) >> 1;
            } else {
                lo = ix0 >= 0 ? 0 : (-ix0 + sw - 1) / sw;
                hi = W - ix0 <= 0 ? 0 : (W - ix0 + sw - 1) / sw;
            }
            if (hi > len)
                hi = len;
            if (lo >= hi)
                continue;
            const float *row = r.x[s] + (plane + iy) * W;
            int64_t j = r.j[s];
            if (sw == 1 && whole && lo == 0 && hi == QSIM__NR) {
                v0 = _mm256_loadu_ps(row + ix0);
                v1 = _mm256_loadu_ps(row + ix0 + 8);
                continue;
            }
            /* lanes [j + lo, j + hi) read row[ix0 + (lane - j) * sw] */
            __m256i m0, m1;
            lane_masks(j + lo, j + hi, &m0, &m1);
            if (sw == 1) {
                const float *src = row + ix0 - j;
                v0 = _mm256_or_ps(v0, _mm256_maskload_ps(src, m0));
                v1 = _mm256_or_ps(v1, _mm256_maskload_ps(src + 8, m1));
            } else if (sw == 2) {
                const float *src = row + ix0 - 2 * j;
                v0 = _mm256_or_ps(v0, load_even(src, m0));
                v1 = _mm256_or_ps(v1, load_even(src + 16, m1));
            } else {
                const __m256i iota0 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
                const __m256i iota1 = _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15);
                __m256i vsw = _mm256_set1_epi32((int)sw);
                __m256i base = _mm256_set1_epi32((int)(ix0 - j * sw));
                __m256i i0 = _mm256_add_epi32(base, _mm256_mullo_epi32(iota0, vsw));
                __m256i i1 = _mm256_add_epi32(base, _mm256_mullo_epi32(iota1, vsw));
                v0 = _mm256_or_ps(v0, _mm256_mask_i32gather_ps(_mm256_setzero_ps(), row, i0,
                                                               _mm256_castsi256_ps(m0), 4));
                v1 = _mm256_or_ps(v1, _mm256_mask_i32gather_ps(_mm256_setzero_ps(), row, i1,
                                                               _mm256_castsi256_ps(m1), 4));
            }
        }
        float *o = dst + kk * QSIM__NR;
        _mm256_store_ps(o, v0);
        _mm256_store_ps(o + 8, v1);
        if (++kx == g->kw) {
            kx = 0;
            if (++ky == g->kh) {
                ky = 0;
                ch++;
            }
        }
    }
}
