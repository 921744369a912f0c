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

#define PANELS (QSIM__NC_MAX / QSIM__NR)

typedef struct run {
    const float *x;      /* image base */
    int64_t by, bx;      /* input row/col of the run's first output, tap (0, 0) */
    int j, len;          /* lanes [j, j + len) */
} run;

/* One k-row (plane offset `plane`, tap ky, kx) of one panel. */
static inline void pack_row(const qsim__im2col *g, const run *rs, int nrun, int whole,
                            int64_t plane, int64_t ky, int64_t kx, float *o)
{
    const int64_t sw = g->sw, W = g->W, H = g->H;
    __m256 v0 = _mm256_setzero_ps(), v1 = _mm256_setzero_ps();
    for (int s = 0; s < nrun; s++) {
        int64_t iy = rs[s].by + ky * g->dh;
        if (iy < 0 || iy >= H)
            continue;
        int64_t ix0 = rs[s].bx + kx * g->dw, len = rs[s].len, lo, hi;
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
        const float *row = rs[s].x + (plane + iy) * W;
        int64_t j = rs[s].j;
        if (whole && lo == 0 && hi == QSIM__NR) {
            if (sw == 1) {
                v0 = _mm256_loadu_ps(row + ix0);
                v1 = _mm256_loadu_ps(row + ix0 + 8);
                continue;
            }
            if (sw == 2 && ix0 + 32 <= W) {   /* the odd elements are in the row too */
                const float *src = row + ix0;
                __m256 a = _mm256_shuffle_ps(_mm256_loadu_ps(src), _mm256_loadu_ps(src + 8), 0x88);
                __m256 b = _mm256_shuffle_ps(_mm256_loadu_ps(src + 16), _mm256_loadu_ps(src + 24),
                                             0x88);
                v0 = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(a), 0xD8));
                v1 = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(b), 0xD8));
                continue;
            }
        }
        /* lanes [j + lo, j + hi) read row[ix0 + (lane - j) * sw] */
        __m256i m0, m1;
        lane_masks(j + lo, j + hi, &m0, &m1);
        if (sw == 1) {
            const float *src = row + ix0 - j;
            if (src >= g->lo && src + 16 <= g->hi) {
                /* plain loads (inside the buffer), lanes of other runs cleared */
                v0 = _mm256_or_ps(v0, _mm256_and_ps(_mm256_loadu_ps(src), _mm256_castsi256_ps(m0)));
                v1 = _mm256_or_ps(v1, _mm256_and_ps(_mm256_loadu_ps(src + 8),
                                                    _mm256_castsi256_ps(m1)));
            } else {
                v0 = _mm256_or_ps(v0, _mm256_maskload_ps(src, m0));
                v1 = _mm256_or_ps(v1, _mm256_maskload_ps(src + 8, m1));
            }
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
    _mm256_store_ps(o, v0);
    _mm256_store_ps(o + 8, v1);
}

/* Stride 1 or 2, at most TAB_RUNS runs and TAB_KW taps per row: the horizontal
 * clipping of every (run, kx) is the same for all channels and kernel rows,
 * so it is computed once per panel into a table. */
#define TAB_RUNS 4
#define TAB_KW 8

typedef struct tap {
    __m256i m0, m1;      /* lanes this (run, kx) fills */
    int64_t off;         /* input column of lane 0 */
    int kind;            /* 0 nothing in bounds, 1 masked, 2 all 16 lanes */
} tap;

static void pack_panel_s12(const qsim__im2col *g, const run *rs, int nrun, size_t k0, size_t kc,
                           float *d)
{
    const int64_t W = g->W, H = g->H, sw = g->sw;
    tap tab[TAB_RUNS][TAB_KW];
    for (int s = 0; s < nrun; s++)
        for (int64_t kx = 0; kx < g->kw; kx++) {
            tap *t = &tab[s][kx];
            int64_t ix0 = rs[s].bx + kx * g->dw, len = rs[s].len, lo, hi;
            if (sw == 1) {
                lo = ix0 >= 0 ? 0 : -ix0;
                hi = W - ix0;
            } else {
                lo = ix0 >= 0 ? 0 : (-ix0 + 1) >> 1;
                hi = W - ix0 <= 0 ? 0 : (W - ix0 + 1) >> 1;
            }
            hi = hi < len ? hi : len;
            t->off = ix0 - sw * rs[s].j;
            t->kind = lo >= hi ? 0 : lo == 0 && hi == QSIM__NR ? 2 : 1;
            if (t->kind == 1)
                lane_masks(rs[s].j + lo, rs[s].j + hi, &t->m0, &t->m1);
        }
    int64_t ch, ky, kx;
    qsim__ktap_start(g, k0, &ch, &ky, &kx);
    for (size_t kk = 0; kk < kc; kk++) {
        __m256 v0 = _mm256_setzero_ps(), v1 = _mm256_setzero_ps();
        for (int s = 0; s < nrun; s++) {
            const tap *t = &tab[s][kx];
            int64_t iy = rs[s].by + ky * g->dh;
            if (t->kind == 0 || iy < 0 || iy >= H)
                continue;
            const float *src = rs[s].x + (ch * H + iy) * W + t->off;
            if (sw == 2) {
                if (src >= g->lo && src + 32 <= g->hi) {
                    /* pairs loaded plainly, even elements kept, other lanes cleared */
                    __m256 a = _mm256_shuffle_ps(_mm256_loadu_ps(src), _mm256_loadu_ps(src + 8),
                                                 0x88);
                    __m256 b = _mm256_shuffle_ps(_mm256_loadu_ps(src + 16),
                                                 _mm256_loadu_ps(src + 24), 0x88);
                    a = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(a), 0xD8));
                    b = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(b), 0xD8));
                    if (t->kind == 2) {
                        v0 = a;
                        v1 = b;
                    } else {
                        v0 = _mm256_or_ps(v0, _mm256_and_ps(a, _mm256_castsi256_ps(t->m0)));
                        v1 = _mm256_or_ps(v1, _mm256_and_ps(b, _mm256_castsi256_ps(t->m1)));
                    }
                } else {
                    __m256i m0 = t->m0, m1 = t->m1;
                    if (t->kind == 2)
                        m0 = m1 = _mm256_set1_epi32(-1);
                    v0 = _mm256_or_ps(v0, load_even(src, m0));
                    v1 = _mm256_or_ps(v1, load_even(src + 16, m1));
                }
                continue;
            }
            if (t->kind == 2) {
                v0 = _mm256_loadu_ps(src);
                v1 = _mm256_loadu_ps(src + 8);
            } else if (src >= g->lo && src + 16 <= g->hi) {
                v0 = _mm256_or_ps(v0, _mm256_and_ps(_mm256_loadu_ps(src),
                                                    _mm256_castsi256_ps(t->m0)));
                v1 = _mm256_or_ps(v1, _mm256_and_ps(_mm256_loadu_ps(src + 8),
                                                    _mm256_castsi256_ps(t->m1)));
            } else {
                v0 = _mm256_or_ps(v0, _mm256_maskload_ps(src, t->m0));
                v1 = _mm256_or_ps(v1, _mm256_maskload_ps(src + 8, t->m1));
            }
        }
        _mm256_store_ps(d + kk * QSIM__NR, v0);
        _mm256_store_ps(d + kk * QSIM__NR + 8, v1);
        qsim__ktap_next(g, &ch, &ky, &kx);
    }
}

/* k outer, panels inner: consecutive panels read consecutive input, so each
 * input row streams front to back. */
void qsim__im2col_block__avx2(const qsim__im2col *g, size_t k0, size_t kc, size_t n0,
                              size_t nb, float *dst)
{
    for (size_t p0 = 0; p0 < nb; p0 += PANELS * QSIM__NR) {
        size_t np = (nb - p0 + QSIM__NR - 1) / QSIM__NR;
        if (np > PANELS)
            np = PANELS;
        run runs[PANELS][QSIM__NR];
        int nrun[PANELS], whole[PANELS];
        for (size_t p = 0; p < np; p++) {
            size_t c0 = p0 + p * QSIM__NR;
            size_t nr = nb - c0 < QSIM__NR ? nb - c0 : QSIM__NR;
            qsim__im2col_runs r;
            qsim__im2col_split(g, n0 + c0, nr, &r);
            nrun[p] = r.n;
            whole[p] = r.n == 1 && r.len[0] == QSIM__NR;
            for (int s = 0; s < r.n; s++) {
                runs[p][s].x = r.x[s];
                runs[p][s].by = r.oy[s] * g->sh - g->pt;
                runs[p][s].bx = r.ox[s] * g->sw - g->pl;
                runs[p][s].j = (int)r.j[s];
                runs[p][s].len = (int)r.len[s];
            }
        }
        float *d = dst + p0 * kc;
        if ((g->sw == 1 || g->sw == 2) && g->kw <= TAB_KW) {
            for (size_t p = 0; p < np; p++)
                if (nrun[p] <= TAB_RUNS)
                    pack_panel_s12(g, runs[p], nrun[p], k0, kc, d + p * kc * QSIM__NR);
                else
                    break;
            /* all panels done unless some had too many runs */
            int done = 1;
            for (size_t p = 0; p < np; p++)
                done &= nrun[p] <= TAB_RUNS;
            if (done)
                continue;
        }
        int64_t ch, ky, kx;
        qsim__ktap_start(g, k0, &ch, &ky, &kx);
        for (size_t kk = 0; kk < kc; kk++) {
            int64_t plane = ch * g->H;
            for (size_t p = 0; p < np; p++)
                pack_row(g, runs[p], nrun[p], whole[p], plane, ky, kx,
                         d + p * kc * QSIM__NR + kk * QSIM__NR);
            qsim__ktap_next(g, &ch, &ky, &kx);
        }
    }
}
