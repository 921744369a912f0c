/* AVX2 im2col panel packer (same contract as qsim__im2col_panel). Each
 * output-row run of the panel becomes masked vector loads over the 16 lanes
 * (masked lanes neither fault nor read), so a k-row costs a few loads and
 * two stores instead of a scalar loop. Stride > 1 uses gathers. */
#include "kernels/conv_impl.h"

#include <immintrin.h>

void qsim__im2col_panel__avx2(const qsim__im2col *g, size_t k0, size_t kc, size_t n0,
                              size_t nr, float *dst)
{
    int64_t seg_oy[QSIM__NR], seg_ox[QSIM__NR], seg_j[QSIM__NR], seg_len[QSIM__NR];
    int nseg = 0;
    int64_t oy = (int64_t)n0 / g->OW, ox = (int64_t)n0 % g->OW;
    for (size_t j = 0; j < nr;) {
        int64_t len = g->OW - ox;
        if (len > (int64_t)(nr - j))
            len = (int64_t)(nr - j);
        seg_oy[nseg] = oy;
        seg_ox[nseg] = ox;
        seg_j[nseg] = (int64_t)j;
        seg_len[nseg] = len;
        nseg++;
        j += (size_t)len;
        ox = 0;
        oy++;
    }
    const __m256i iota0 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i iota1 = _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15);
    const int64_t sw = g->sw, W = g->W, H = g->H;
    const __m256i vsw = _mm256_set1_epi32((int)sw);
    int64_t khw = g->kh * g->kw;
    int64_t ch = (int64_t)k0 / khw, rem = (int64_t)k0 % khw;
    int64_t ky = rem / g->kw, kx = rem % g->kw;
    for (size_t kk = 0; kk < kc; kk++) {
        const float *xc = g->x + ch * H * W;
        __m256 v0 = _mm256_setzero_ps(), v1 = _mm256_setzero_ps();
        for (int s = 0; s < nseg; s++) {
            int64_t iy = seg_oy[s] * g->sh - g->pt + ky * g->dh;
            if (iy < 0 || iy >= H)
                continue;
            int64_t ix0 = seg_ox[s] * sw - g->pl + kx * g->dw, len = seg_len[s];
            int64_t lo = ix0 >= 0 ? 0 : (-ix0 + sw - 1) / sw;
            int64_t hi = W - ix0 <= 0 ? 0 : (W - ix0 + sw - 1) / sw;
            if (hi > len)
                hi = len;
            if (lo >= hi)
                continue;
            /* lanes [j + lo, j + hi) read row[ix0 + (lane - j) * sw] */
            int64_t j = seg_j[s];
            __m256i vlo = _mm256_set1_epi32((int)(j + lo) - 1), vhi = _mm256_set1_epi32((int)(j + hi));
            __m256i m0 = _mm256_and_si256(_mm256_cmpgt_epi32(iota0, vlo), _mm256_cmpgt_epi32(vhi, iota0));
            __m256i m1 = _mm256_and_si256(_mm256_cmpgt_epi32(iota1, vlo), _mm256_cmpgt_epi32(vhi, iota1));
            const float *row = xc + iy * W;
            if (sw == 1) {
                /* base address for lane 0; only masked-in lanes are read */
                const float *src = row + ix0 - j;
                if (!_mm256_testz_si256(m0, m0))
                    v0 = _mm256_or_ps(v0, _mm256_maskload_ps(src, m0));
                if (!_mm256_testz_si256(m1, m1))
                    v1 = _mm256_or_ps(v1, _mm256_maskload_ps(src + 8, m1));
            } else {
                /* index of lane L: (ix0 - j*sw) + L*sw, relative to row */
                __m256i base = _mm256_set1_epi32((int)(ix0 - j * sw));
                __m256i i0 = _mm256_add_epi32(base, _mm256_mullo_epi32(iota0, vsw));
                __m256i i1 = _mm256_add_epi32(base, _mm256_mullo_epi32(iota1, vsw));
                if (!_mm256_testz_si256(m0, m0))
                    v0 = _mm256_or_ps(v0, _mm256_mask_i32gather_ps(_mm256_setzero_ps(), row, i0,
                                                                   _mm256_castsi256_ps(m0), 4));
                if (!_mm256_testz_si256(m1, m1))
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
