/* AVX-512F im2col panel packer for strides 1 and 2 (same contract as
 * qsim__im2col_panel): each run of a 16-column panel row is one masked
 * load (stride 2: two, and a permute keeping the even elements; masked
 * lanes neither read nor fault), merged into one register, so a k-row
 * costs a load or two per run and one store: about half the AVX2 packer's
 * instructions, which matters because packing is ~13% of a 28x28 3x3 conv.
 * Only called after the run-time CPU check. */
#include "kernels/conv_impl.h"

#include <immintrin.h>

/* at most this many runs per panel and taps per row (else the AVX2
 * packer) */
#define MAX_RUNS 4
#define MAX_KW 8

static void panel(const qsim__im2col *g, const qsim__im2col_runs *r, size_t k0, size_t kc,
                  float *d)
{
    const int64_t H = g->H, W = g->W;
    /* per (run, kx): the lanes whose column is inside the row, and the
     * column lane 0 would read (the same for every channel and ky) */
    const int64_t sw = g->sw;
    __mmask16 mask[MAX_RUNS][MAX_KW];
    __mmask16 ma[MAX_RUNS][MAX_KW], mb[MAX_RUNS][MAX_KW];   /* stride 2: source lanes */
    int64_t off[MAX_RUNS][MAX_KW], by[MAX_RUNS];
    for (int s = 0; s < r->n; s++) {
        by[s] = r->oy[s] * g->sh - g->pt;
        for (int64_t kx = 0; kx < g->kw; kx++) {
            /* run lane i (0..len) reads column ix0 + sw * i */
            int64_t ix0 = r->ox[s] * sw - g->pl + kx * g->dw, lo, hi;
            if (sw == 1) {
                lo = ix0 >= 0 ? 0 : -ix0;
                hi = W - ix0;
            } else {
                lo = ix0 >= 0 ? 0 : (-ix0 + 1) / 2;
                hi = W - ix0 <= 0 ? 0 : (W - ix0 + 1) / 2;
            }
            if (hi > r->len[s])
                hi = r->len[s];
            unsigned m = 0, a = 0, b = 0;
            if (lo < hi)
                m = ((1u << (hi - lo)) - 1) << (r->j[s] + lo);
            for (int l = 0; l < QSIM__NR; l++)   /* lane l <- element 2l of a:b */
                if (m >> l & 1) {
                    if (l < 8)
                        a |= 1u << (2 * l);
                    else
                        b |= 1u << (2 * l - 16);
                }
            mask[s][kx] = (__mmask16)m;
            ma[s][kx] = (__mmask16)a;
            mb[s][kx] = (__mmask16)b;
            off[s][kx] = ix0 - sw * r->j[s];
        }
    }
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                           30);
    int64_t ch, ky, kx;
    qsim__ktap_start(g, k0, &ch, &ky, &kx);
    for (size_t kk = 0; kk < kc; kk++) {
        __m512 v = _mm512_setzero_ps();
        for (int s = 0; s < r->n; s++) {
            int64_t iy = by[s] + ky * g->dh;
            if (!mask[s][kx] || iy < 0 || iy >= H)
                continue;
            /* lane l reads row[off + l]: only the masked-in lanes, which
             * lie inside the row */
            const float *row = r->x[s] + (ch * H + iy) * W;
            if (sw == 1) {
                v = _mm512_mask_loadu_ps(v, mask[s][kx], row + off[s][kx]);
            } else {
                const float *src = row + off[s][kx];
                __m512 lo = _mm512_maskz_loadu_ps(ma[s][kx], src);
                __m512 hi = _mm512_maskz_loadu_ps(mb[s][kx], src + 16);
                v = _mm512_mask_mov_ps(v, mask[s][kx], _mm512_permutex2var_ps(lo, even, hi));
            }
        }
        _mm512_store_ps(d + kk * QSIM__NR, v);
        qsim__ktap_next(g, &ch, &ky, &kx);
    }
}

void qsim__im2col_block__avx512(const qsim__im2col *g, size_t k0, size_t kc, size_t n0,
                                size_t nb, float *dst)
{
    if (g->sw > 2 || g->kw > MAX_KW) {
        qsim__im2col_block__avx2(g, k0, kc, n0, nb, dst);
        return;
    }
    for (size_t c0 = 0; c0 < nb; c0 += QSIM__NR) {
        size_t nr = nb - c0 < QSIM__NR ? nb - c0 : QSIM__NR;
        qsim__im2col_runs r;
        qsim__im2col_split(g, n0 + c0, nr, &r);
        if (r.n > MAX_RUNS)
            qsim__im2col_block__avx2(g, k0, kc, n0 + c0, nr, dst + c0 * kc);
        else
            panel(g, &r, k0, kc, dst + c0 * kc);
    }
}
