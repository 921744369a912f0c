/* AVX2 depthwise convolution of one plane. Outputs whose taps are all in
 * bounds horizontally go 8 at a time (stride 1: unaligned loads; stride 2:
 * pairs with the even elements kept; other strides: gathers); the borders
 * use the scalar formula. Taps are summed in (ky, kx) order, skipping rows
 * in the padding, then the bias is added (as in the generic kernel, but with
 * FMA, so results differ in the last bits). */
#include "kernels/conv_impl.h"

#include <immintrin.h>
#include <string.h>

static float one_output(const qsim__dw_args *a, int64_t oy, int64_t ox)
{
    float s = 0.0f;
    for (int64_t ky = 0; ky < a->kh; ky++) {
        int64_t iy = oy * a->sh - a->pt + ky * a->dh;
        if (iy < 0 || iy >= a->H)
            continue;
        const float *xr = a->x + iy * a->W;
        const float *wr = a->w + ky * a->kw;
        for (int64_t kx = 0; kx < a->kw; kx++) {
            int64_t ix = ox * a->sw - a->pl + kx * a->dw;
            if (ix >= 0 && ix < a->W)
                s += wr[kx] * xr[ix];
        }
    }
    return qsim__act_apply(s + a->bias, a->act, a->act_a, a->act_b);
}

static inline __m256 load8(const float *p, int64_t sw, __m256i idx)
{
    if (sw == 1)
        return _mm256_loadu_ps(p);
    if (sw == 2) {
        __m256 s = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), 0x88);
        return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
    }
    return _mm256_i32gather_ps(p, idx, 4);
}

static inline __m256 activate(__m256 acc, const qsim__dw_args *a, __m256 lo, __m256 hi)
{
    const __m256 zero = _mm256_setzero_ps();
    if (a->act == QSIM__ACT_RELU) {
        acc = _mm256_max_ps(acc, zero);
    } else if (a->act == QSIM__ACT_CLIP) {
        acc = _mm256_min_ps(_mm256_max_ps(acc, lo), hi);
    } else if (a->act == QSIM__ACT_LEAKY_RELU) {
        __m256 neg = _mm256_cmp_ps(acc, zero, _CMP_LT_OQ);
        acc = _mm256_blendv_ps(acc, _mm256_mul_ps(acc, lo), neg);
    }
    return acc;
}

/* 3x3, dilation 1, stride 1 or 2: the nine weights stay in registers, the
 * three input rows are checked once per output row, and the interior tail
 * (stride 1) is one masked vector instead of scalar outputs. */
/* Small maps (14x14, 7x7, ...): borders are most of the work, so the plane
 * is copied with its zero padding into a stack buffer wide enough for whole
 * vectors, and every output goes through plain vector loads. */
#define SMALL_FLOATS 4096

static int dw3x3_small(const qsim__dw_args *a, const __m256 *w, __m256 bias, __m256 lo,
                       __m256 hi)
{
    const int64_t sw = a->sw;
    int64_t ov = (a->OW + 7) / 8 * 8;               /* outputs covered by vectors */
    int64_t hp = (a->OH - 1) * a->sh + 3;           /* buffer row r: iy = r - pt */
    int64_t wp = (ov - 1) * sw + 3 + 1;             /* col c: ix = c - pl (+1: stride-2 pairs) */
    wp = (wp + 7) / 8 * 8;
    if (hp * wp > SMALL_FLOATS)
        return 0;
    float buf[SMALL_FLOATS];
    /* columns [pl, pl + ncopy) hold input, the rest are zeros */
    int64_t ncopy = a->W < wp - a->pl ? a->W : wp - a->pl;
    if (ncopy < 0)
        ncopy = 0;
    for (int64_t r = 0; r < hp; r++) {
        int64_t iy = r - a->pt;
        float *br = buf + r * wp;
        for (int64_t c = 0; c < wp; c += 8)
            _mm256_storeu_ps(br + c, _mm256_setzero_ps());
        if (iy >= 0 && iy < a->H && ncopy > 0)
            memcpy(br + a->pl, a->x + iy * a->W, (size_t)ncopy * sizeof(float));
    }
    const __m256i idx = _mm256_setzero_si256();
    for (int64_t oy = 0; oy < a->OH; oy++) {
        float *yr = a->y + oy * a->OW;
        for (int64_t ox = 0; ox < a->OW; ox += 8) {
            __m256 acc = _mm256_setzero_ps();
            for (int ky = 0; ky < 3; ky++) {
                const float *p = buf + (oy * a->sh + ky) * wp + ox * sw;
                acc = _mm256_fmadd_ps(w[3 * ky], load8(p, sw, idx), acc);
                acc = _mm256_fmadd_ps(w[3 * ky + 1], load8(p + 1, sw, idx), acc);
                acc = _mm256_fmadd_ps(w[3 * ky + 2], load8(p + 2, sw, idx), acc);
            }
            acc = activate(_mm256_add_ps(acc, bias), a, lo, hi);
            if (ox + 8 <= a->OW) {
                _mm256_storeu_ps(yr + ox, acc);
            } else {
                float out[8];
                _mm256_storeu_ps(out, acc);
                for (int64_t i = 0; i < a->OW - ox; i++)
                    yr[ox + i] = out[i];
            }
        }
    }
    return 1;
}

static void dw3x3(const qsim__dw_args *a)
{
    const int64_t sw = a->sw, W = a->W;
    __m256 w[9];
    for (int i = 0; i < 9; i++)
        w[i] = _mm256_broadcast_ss(a->w + i);
    const __m256 bias = _mm256_set1_ps(a->bias);
    const __m256 lo = _mm256_set1_ps(a->act_a), hi = _mm256_set1_ps(a->act_b);
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    if (a->W <= 32 && dw3x3_small(a, w, bias, lo, hi))
        return;
    /* outputs with all three columns in the row: ox*sw - pl >= 0 and
     * ox*sw - pl + 2 <= W - 1; vectors also need the elements they load */
    int64_t ox_lo = (a->pl + sw - 1) / sw;
    int64_t in_num = W - 3 + a->pl;
    int64_t ox_in = in_num < 0 ? 0 : in_num / sw + 1;   /* interior is [ox_lo, ox_in) */
    if (ox_in > a->OW)
        ox_in = a->OW;
    int64_t span = 7 * sw + 2 + (sw == 2 ? 1 : 0);
    int64_t vnum = W - 1 + a->pl - span;
    int64_t ox_last = vnum < 0 ? -1 : vnum / sw;
    for (int64_t oy = 0; oy < a->OH; oy++) {
        float *yr = a->y + oy * a->OW;
        const float *rows[3];
        int valid[3];
        for (int ky = 0; ky < 3; ky++) {
            int64_t iy = oy * a->sh - a->pt + ky;
            valid[ky] = iy >= 0 && iy < a->H;
            rows[ky] = valid[ky] ? a->x + iy * W - a->pl : a->x;
        }
        int64_t ox = 0;
        for (; ox < ox_lo && ox < a->OW; ox++)
            yr[ox] = one_output(a, oy, ox);
        for (; ox <= ox_last && ox + 8 <= a->OW; ox += 8) {
            __m256 acc = _mm256_setzero_ps();
            for (int ky = 0; ky < 3; ky++) {
                if (!valid[ky])
                    continue;
                const float *p = rows[ky] + ox * sw;
                if (sw == 1) {
                    acc = _mm256_fmadd_ps(w[3 * ky], _mm256_loadu_ps(p), acc);
                    acc = _mm256_fmadd_ps(w[3 * ky + 1], _mm256_loadu_ps(p + 1), acc);
                    acc = _mm256_fmadd_ps(w[3 * ky + 2], _mm256_loadu_ps(p + 2), acc);
                } else {
                    __m256 e0 = load8(p, 2, iota), e1 = load8(p + 1, 2, iota);
                    __m256 e2 = load8(p + 2, 2, iota);
                    acc = _mm256_fmadd_ps(w[3 * ky], e0, acc);
                    acc = _mm256_fmadd_ps(w[3 * ky + 1], e1, acc);
                    acc = _mm256_fmadd_ps(w[3 * ky + 2], e2, acc);
                }
            }
            _mm256_storeu_ps(yr + ox, activate(_mm256_add_ps(acc, bias), a, lo, hi));
        }
        if (sw == 1 && ox >= ox_lo && ox < ox_in) {
            /* the rest of the interior: lanes [0, n) only */
            int64_t n = ox_in - ox;
            __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), iota);
            __m256 acc = _mm256_setzero_ps();
            for (int ky = 0; ky < 3; ky++) {
                if (!valid[ky])
                    continue;
                const float *p = rows[ky] + ox;
                acc = _mm256_fmadd_ps(w[3 * ky], _mm256_maskload_ps(p, m), acc);
                acc = _mm256_fmadd_ps(w[3 * ky + 1], _mm256_maskload_ps(p + 1, m), acc);
                acc = _mm256_fmadd_ps(w[3 * ky + 2], _mm256_maskload_ps(p + 2, m), acc);
            }
            _mm256_maskstore_ps(yr + ox, m, activate(_mm256_add_ps(acc, bias), a, lo, hi));
            ox = ox_in;
        }
        for (; ox < a->OW; ox++)
            yr[ox] = one_output(a, oy, ox);
    }
}

void qsim__k_f32_dwconv__avx2(const qsim__dw_args *a)
{
    if (a->kh == 3 && a->kw == 3 && a->dh == 1 && a->dw == 1 && (a->sw == 1 || a->sw == 2)) {
        dw3x3(a);
        return;
    }
    const int64_t sw = a->sw, W = a->W;
    /* ox is vectorizable when every element a load touches is in the row:
     * from ox*sw - pl up to (ox+7)*sw - pl + (kw-1)*dw (+1 for stride 2,
     * whose loads also read the odd element after the last one kept) */
    int64_t span = 7 * sw + (a->kw - 1) * a->dw + (sw == 2 ? 1 : 0);
    int64_t ox_lo = (a->pl + sw - 1) / sw;
    int64_t num = W - 1 + a->pl - span;   /* ox*sw <= num */
    int64_t ox_last = num < 0 ? -1 : num / sw;   /* last ox starting a vector */
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                           _mm256_set1_epi32((int)sw));
    const __m256 bias = _mm256_set1_ps(a->bias), zero = _mm256_setzero_ps();
    const __m256 lo = _mm256_set1_ps(a->act_a), hi = _mm256_set1_ps(a->act_b);
    for (int64_t oy = 0; oy < a->OH; oy++) {
        float *yr = a->y + oy * a->OW;
        int64_t ox = 0;
        for (; ox < ox_lo && ox < a->OW; ox++)
            yr[ox] = one_output(a, oy, ox);
        for (; ox <= ox_last && ox + 8 <= a->OW; ox += 8) {
            __m256 acc = _mm256_setzero_ps();
            for (int64_t ky = 0; ky < a->kh; ky++) {
                int64_t iy = oy * a->sh - a->pt + ky * a->dh;
                if (iy < 0 || iy >= a->H)
                    continue;
                const float *xr = a->x + iy * W + ox * sw - a->pl;
                const float *wr = a->w + ky * a->kw;
                for (int64_t kx = 0; kx < a->kw; kx++)
                    acc = _mm256_fmadd_ps(_mm256_broadcast_ss(wr + kx),
                                          load8(xr + kx * a->dw, sw, idx), acc);
            }
            acc = _mm256_add_ps(acc, bias);
            if (a->act == QSIM__ACT_RELU) {
                acc = _mm256_max_ps(acc, zero);
            } else if (a->act == QSIM__ACT_CLIP) {
                acc = _mm256_min_ps(_mm256_max_ps(acc, lo), hi);
            } else if (a->act == QSIM__ACT_LEAKY_RELU) {
                __m256 neg = _mm256_cmp_ps(acc, zero, _CMP_LT_OQ);
                acc = _mm256_blendv_ps(acc, _mm256_mul_ps(acc, lo), neg);
            }
            _mm256_storeu_ps(yr + ox, acc);
        }
        for (; ox < a->OW; ox++)
            yr[ox] = one_output(a, oy, ox);
    }
}
