/* AVX2 depthwise convolution. 3x3, dilation 1 (the MobileNet case) runs
 * entirely in vectors:
 * - small maps (<= 256 outputs, pads 1; qsim__k_f32_dwconv_planes__avx2):
 *   several planes per call, each laid out flat in a zero-padded buffer
 *   ("flat" below);
 * - stride 1 or 2 otherwise: straight from the input rows, two output rows
 *   per pass (dw3x3_s1_direct, dw3x3_s2_direct);
 * - unequal strides, and wide stride-2 inputs larger than the caches: from
 *   padded row copies (dw3x3_small, dw3x3_rows).
 * Other shapes: outputs whose taps are all in bounds horizontally go 8 at a
 * time (stride 1: unaligned loads; stride 2: pairs with the even elements
 * kept; other strides: gathers); the borders use the scalar formula. Taps
 * are summed in (ky, kx) order, then the bias is added (as in the generic
 * kernel, but with FMA, so results differ in the last bits; the 3x3 paths
 * also add the padding's zeros, and "flat" sums kernel columns first). */
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

/* Output vector at yr[ox..ox+8). A tail vector may spill into the next rows
 * of its plane (written again later, rows go in order) when in_plane says
 * the 8 floats stay inside it: masked stores are slow on some CPUs. Past
 * the plane (another task's) only the valid floats are written. */
static inline void store_out(float *yr, int64_t ox, int64_t OW, int in_plane, __m256 v)
{
    if (ox + 8 <= OW || in_plane) {
        _mm256_storeu_ps(yr + ox, v);
    } else {
        float t[8];
        _mm256_storeu_ps(t, v);
        for (int64_t i = 0; i < OW - ox; i++)
            yr[ox + i] = t[i];
    }
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

/* d[c] = src[c - pl] where that is in the row, else 0, for c in [0, L):
 * masked loads, no libc calls per row. */
/* Bias and activation on the two output rows' vectors at ox (row b
 * absent when yb is NULL), masked past OW. */
static inline void store_pair(const qsim__dw_args *a, float *ya, float *yb, int64_t ox,
                              int64_t OW, __m256 acc_a, __m256 acc_b, __m256 bias, __m256 lo,
                              __m256 hi)
{
    acc_a = activate(_mm256_add_ps(acc_a, bias), a, lo, hi);
    acc_b = activate(_mm256_add_ps(acc_b, bias), a, lo, hi);
    if (ox + 8 <= OW) {
        _mm256_storeu_ps(ya + ox, acc_a);
        if (yb)
            _mm256_storeu_ps(yb + ox, acc_b);
        return;
    }
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i sm = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(OW - ox)), iota);
    _mm256_maskstore_ps(ya + ox, sm, acc_a);
    if (yb)
        _mm256_maskstore_ps(yb + ox, sm, acc_b);
}

static void pad_row(const qsim__dw_args *a, int64_t L, const float *src, float *d)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i wv = _mm256_set1_epi32((int)a->W), neg1 = _mm256_set1_epi32(-1);
    for (int64_t c = 0; c < L; c += 8) {
        int64_t ix = c - a->pl;
        if (ix >= 0 && ix + 8 <= a->W) {
            _mm256_storeu_ps(d + c, _mm256_loadu_ps(src + ix));
            continue;
        }
        __m256i iv = _mm256_add_epi32(_mm256_set1_epi32((int)ix), iota);
        __m256i m = _mm256_and_si256(_mm256_cmpgt_epi32(iv, neg1), _mm256_cmpgt_epi32(wv, iv));
        /* masked-off lanes (outside the row) are never read */
        _mm256_storeu_ps(d + c, _mm256_maskload_ps(src + ix, m));
    }
}

/* Small maps (14x14, 7x7, ...): borders are most of the work, so the plane
 * is copied with its zero padding into a stack buffer wide enough for whole
 * vectors, and every output goes through plain vector loads. */
#define SMALL_FLOATS 4096

static __attribute__((noinline)) int dw3x3_small(const qsim__dw_args *a, const __m256 *w,
                                                 __m256 bias, __m256 lo, __m256 hi)
{
    const int64_t sw = a->sw;
    int64_t ov = (a->OW + 7) / 8 * 8;               /* outputs covered by vectors */
    int64_t hp = (a->OH - 1) * a->sh + 3;           /* buffer row r: iy = r - pt */
    int64_t wp = (ov - 1) * sw + 3 + 1;             /* col c: ix = c - pl (+1: stride-2 pairs) */
    wp = (wp + 7) / 8 * 8;
    if (hp * wp > SMALL_FLOATS)
        return 0;
    float buf[SMALL_FLOATS];
    /* column c holds x[iy][c - pl] where that is in the row, else 0 */
    for (int64_t r = 0; r < hp; r++) {
        int64_t iy = r - a->pt;
        float *br = buf + r * wp;
        if (iy >= 0 && iy < a->H) {
            pad_row(a, wp, a->x + iy * a->W, br);
            continue;
        }
        for (int64_t c = 0; c < wp; c += 8)
            _mm256_storeu_ps(br + c, _mm256_setzero_ps());
    }
    const int64_t plane = a->OH * a->OW;
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
            store_out(yr, ox, a->OW, oy * a->OW + ox + 8 <= plane,
                      activate(_mm256_add_ps(acc, bias), a, lo, hi));
        }
    }
    return 1;
}

/* 3x3, dilation 1, stride 1 or 2: every output goes through whole vectors
 * (no scalar borders). Each input row is copied once, with its zero
 * padding, into a ring of three row buffers wide enough for the last vector
 * (rows in the padding read a zero row); stride 2 rows are stored split
 * into even and odd elements so that all three taps are plain loads
 * (output ox reads even[ox], odd[ox], even[ox + 1]). */
#define ROW_MAX 1024   /* padded row floats; wider planes take the general path */

typedef struct rows3 {
    const qsim__dw_args *a;
    int64_t L, half;        /* padded row length (multiple of 16); stride 2: L / 2 */
    int64_t tag[3];         /* input row held by each slot, -1 none */
    float *slot[3];
    const float *zero;
    float *tmp;             /* stride 2: the padded row before the split */
} rows3;

static const float *get_row(rows3 *r, int64_t iy)
{
    const qsim__dw_args *a = r->a;
    if (iy < 0 || iy >= a->H)
        return r->zero;
    /* rows are asked for in increasing order: a miss replaces the oldest
     * (never one of the current output row's, which are all newer) */
    int k = 0;
    for (int i = 0; i < 3; i++) {
        if (r->tag[i] == iy)
            return r->slot[i];
        if (r->tag[i] < r->tag[k])
            k = i;
    }
    float *d = r->slot[k];
    r->tag[k] = iy;
    const float *src = a->x + iy * a->W;
    if (a->sw == 1) {
        pad_row(a, r->L, src, d);
        return d;
    }
    pad_row(a, r->L, src, r->tmp);
    for (int64_t c = 0; c < r->L; c += 16) {
        __m256 lo = _mm256_loadu_ps(r->tmp + c), hi = _mm256_loadu_ps(r->tmp + c + 8);
        __m256 ev = _mm256_shuffle_ps(lo, hi, 0x88), od = _mm256_shuffle_ps(lo, hi, 0xDD);
        ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), 0xD8));
        od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), 0xD8));
        _mm256_storeu_ps(d + c / 2, ev);
        _mm256_storeu_ps(d + r->half + c / 2, od);
    }
    return d;
}

/* Kept out of line: each has a big stack buffer (probed page by page). */
static __attribute__((noinline)) int dw3x3_rows(const qsim__dw_args *a, const __m256 *w,
                                                __m256 bias, __m256 lo, __m256 hi)
{
    const int64_t sw = a->sw;
    int64_t ov = (a->OW + 7) / 8 * 8;               /* outputs covered by vectors */
    int64_t L = ((ov - 1) * sw + 4 + 15) / 16 * 16;
    if (L > ROW_MAX)
        return 0;
    float buf[5 * ROW_MAX];
    rows3 r = {.a = a, .L = L, .half = L / 2, .tag = {-1, -1, -1},
               .slot = {buf, buf + ROW_MAX, buf + 2 * ROW_MAX},
               .zero = buf + 3 * ROW_MAX, .tmp = buf + 4 * ROW_MAX};
    memset(buf + 3 * ROW_MAX, 0, (size_t)L * sizeof(float));
    const int64_t plane = a->OH * a->OW;
    for (int64_t oy = 0; oy < a->OH; oy++) {
        const float *p[3];
        for (int ky = 0; ky < 3; ky++)
            p[ky] = get_row(&r, oy * a->sh - a->pt + ky);
        float *yr = a->y + oy * a->OW;
        for (int64_t ox = 0; ox < ov; ox += 8) {
            __m256 acc = _mm256_setzero_ps();
            for (int ky = 0; ky < 3; ky++) {
                const float *q = p[ky];
                if (sw == 1) {
                    acc = _mm256_fmadd_ps(w[3 * ky], _mm256_loadu_ps(q + ox), acc);
                    acc = _mm256_fmadd_ps(w[3 * ky + 1], _mm256_loadu_ps(q + ox + 1), acc);
                    acc = _mm256_fmadd_ps(w[3 * ky + 2], _mm256_loadu_ps(q + ox + 2), acc);
                } else {
                    acc = _mm256_fmadd_ps(w[3 * ky], _mm256_loadu_ps(q + ox), acc);
                    acc = _mm256_fmadd_ps(w[3 * ky + 1], _mm256_loadu_ps(q + r.half + ox),
                                          acc);
                    acc = _mm256_fmadd_ps(w[3 * ky + 2], _mm256_loadu_ps(q + ox + 1), acc);
                }
            }
            store_out(yr, ox, a->OW, oy * a->OW + ox + 8 <= plane,
                      activate(_mm256_add_ps(acc, bias), a, lo, hi));
        }
    }
    return 1;
}

/* 3x3, stride 1, dilation 1, straight from the input rows (no copies, so
 * no store-to-load forwarding stalls): vectors whose taps are all inside
 * the row use plain loads, the others masked loads (zeros outside). Two
 * output rows at a time share the loads of their four input rows. */
static inline __m256i cols_inside(int64_t ix, int64_t W)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i iv = _mm256_add_epi32(_mm256_set1_epi32((int)ix), iota);
    return _mm256_and_si256(_mm256_cmpgt_epi32(iv, _mm256_set1_epi32(-1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32((int)W), iv));
}

static __attribute__((noinline)) void dw3x3_s1_direct(const qsim__dw_args *a, const __m256 *w,
                                                      __m256 bias, __m256 lo, __m256 hi)
{
    const int64_t W = a->W, OW = a->OW, OH = a->OH;
    for (int64_t oy = 0; oy < OH; oy += 2) {
        const float *rp[4];
        for (int i = 0; i < 4; i++) {
            int64_t iy = oy - a->pt + i;
            rp[i] = iy >= 0 && iy < a->H ? a->x + iy * W : NULL;
        }
        float *ya = a->y + oy * OW, *yb = oy + 1 < OH ? ya + OW : NULL;
        for (int64_t ox = 0; ox < OW; ox += 8) {
            const int64_t ix = ox - a->pl;
            const int inside = ix >= 0 && ix + 10 <= W;
            __m256i m[3];
            if (!inside)
                for (int kx = 0; kx < 3; kx++)
                    m[kx] = cols_inside(ix + kx, W);
            __m256 acc_a = _mm256_setzero_ps(), acc_b = _mm256_setzero_ps();
            for (int i = 0; i < 4; i++) {
                if (!rp[i])
                    continue;
                const float *p = rp[i] + ix;
                __m256 v[3];
                for (int kx = 0; kx < 3; kx++)
                    v[kx] = inside ? _mm256_loadu_ps(p + kx) : _mm256_maskload_ps(p + kx, m[kx]);
                if (i < 3)
                    for (int kx = 0; kx < 3; kx++)
                        acc_a = _mm256_fmadd_ps(w[3 * i + kx], v[kx], acc_a);
                if (i > 0)
                    for (int kx = 0; kx < 3; kx++)
                        acc_b = _mm256_fmadd_ps(w[3 * (i - 1) + kx], v[kx], acc_b);
            }
            store_pair(a, ya, yb, ox, OW, acc_a, acc_b, bias, lo, hi);
        }
    }
}

/* Even elements of p[0..16) (even = 1) or odd ones, in order. */
static inline __m256 pick(__m256 lo, __m256 hi, int even)
{
    __m256 s = even ? _mm256_shuffle_ps(lo, hi, 0x88) : _mm256_shuffle_ps(lo, hi, 0xDD);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
}

/* 3x3, stride 2, dilation 1, straight from the input rows: each input row
 * gives the three taps of 8 outputs from four loads (cols ix..ix+17) and
 * even/odd shuffles; two output rows at a time share their middle input
 * row. Loads that would leave the row are masked (zeros outside). */
static __attribute__((noinline)) void dw3x3_s2_direct(const qsim__dw_args *a, const __m256 *w,
                                                      __m256 bias, __m256 lo, __m256 hi)
{
    const int64_t W = a->W, OW = a->OW, OH = a->OH;
    for (int64_t oy = 0; oy < OH; oy += 2) {
        const float *rp[5];
        for (int i = 0; i < 5; i++) {
            int64_t iy = 2 * oy - a->pt + i;
            rp[i] = iy >= 0 && iy < a->H ? a->x + iy * W : NULL;
        }
        float *ya = a->y + oy * OW, *yb = oy + 1 < OH ? ya + OW : NULL;
        for (int64_t ox = 0; ox < OW; ox += 8) {
            const int64_t ix = 2 * ox - a->pl;
            const int inside = ix >= 0 && ix + 18 <= W;
            static const int off[4] = {0, 8, 2, 10};
            __m256i m[4];
            if (!inside)
                for (int k = 0; k < 4; k++)
                    m[k] = cols_inside(ix + off[k], W);
            __m256 acc_a = _mm256_setzero_ps(), acc_b = _mm256_setzero_ps();
            for (int i = 0; i < 5; i++) {
                if (!rp[i] || (i > 2 && !yb))
                    continue;
                const float *p = rp[i] + ix;
                __m256 l[4];
                for (int k = 0; k < 4; k++)
                    l[k] = inside ? _mm256_loadu_ps(p + off[k]) : _mm256_maskload_ps(p + off[k], m[k]);
                __m256 v0 = pick(l[0], l[1], 1), v1 = pick(l[0], l[1], 0), v2 = pick(l[2], l[3], 1);
                if (i < 3) {
                    acc_a = _mm256_fmadd_ps(w[3 * i], v0, acc_a);
                    acc_a = _mm256_fmadd_ps(w[3 * i + 1], v1, acc_a);
                    acc_a = _mm256_fmadd_ps(w[3 * i + 2], v2, acc_a);
                }
                if (i > 1) {
                    acc_b = _mm256_fmadd_ps(w[3 * (i - 2)], v0, acc_b);
                    acc_b = _mm256_fmadd_ps(w[3 * (i - 2) + 1], v1, acc_b);
                    acc_b = _mm256_fmadd_ps(w[3 * (i - 2) + 2], v2, acc_b);
                }
            }
            store_pair(a, ya, yb, ox, OW, acc_a, acc_b, bias, lo, hi);
        }
    }
}

static int dw3x3(const qsim__dw_args *a)
{
    __m256 w[9];
    for (int i = 0; i < 9; i++)
        w[i] = _mm256_broadcast_ss(a->w + i);
    const __m256 bias = _mm256_set1_ps(a->bias);
    const __m256 lo = _mm256_set1_ps(a->act_a), hi = _mm256_set1_ps(a->act_b);
    if (a->sh == 1 && a->sw == 1 && a->W < ((int64_t)1 << 30)) {
        dw3x3_s1_direct(a, w, bias, lo, hi);
        return 1;
    }
    /* wide stride-2 planes streamed from memory: the row copies below read
     * the input strictly in order, which measured faster there than the
     * direct kernel's five interleaved rows (112x112 at batch 8) */
    if (a->sh == 2 && a->sw == 2 && a->W < ((int64_t)1 << 30) && !(a->streamed && a->W > 64)) {
        dw3x3_s2_direct(a, w, bias, lo, hi);
        return 1;
    }
    /* small planes: one padded copy of the whole plane is cheaper */
    if (a->W <= 32 && dw3x3_small(a, w, bias, lo, hi))
        return 1;
    return dw3x3_rows(a, w, bias, lo, hi);
}

void qsim__k_f32_dwconv__avx2(const qsim__dw_args *a)
{
    if (a->kh == 3 && a->kw == 3 && a->dh == 1 && a->dw == 1 && (a->sw == 1 || a->sw == 2) &&
        dw3x3(a))
        return;
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

/* ---- small planes, several per call ----
 * 3x3, dilation 1, top/left pad 1, at most FLAT_MAX outputs per plane. The
 * plane is laid out flat (row after row, no gaps) in a buffer with zeros
 * before and after it, so that every tap of 8 consecutive outputs - even
 * across row ends - is one plain load at a fixed offset: rows above the
 * plane read the zeros before it, and a tap left of column 0 (or right of
 * the last column) reads the neighbouring row's element, which a per-output
 * column mask zeroes. Taps of one kernel column are summed first
 * (ky order), then the columns as kx = 1, 0, 2; then the bias.
 * Stride 1 (same size out as in): one buffered copy of the plane.
 * Stride 2: the plane split into four quarter planes by row and column
 * parity, each [OH][OW], so that output (oy, ox) reads quarter elements
 * (oy + {-1, 0}, ox + {-1, 0}); parts past the input are zeros.
 * Two buffers: plane i + 1 is copied before plane i is computed, so the
 * loads do not wait for the copy's stores (store-to-load forwarding fails
 * for loads that straddle two stores). Larger maps (28x28 and up)
 * measured no faster than the padded row copies above. */
#define FLAT_MAX 256
#define FLAT_PRE 48                                  /* >= a row + 1, 16-aligned */
#define FLAT_STRIDE (FLAT_PRE + FLAT_MAX + 64)       /* floats per buffered plane */

typedef struct flat {
    const qsim__dw_args *a;
    int64_t RW, n;          /* row length in the buffer (W or OW), outputs */
    float *buf;             /* 4 planes of FLAT_STRIDE (stride 1 uses the first) */
    const float *m0, *m2;   /* column masks for kx = 0 and kx = 2 */
} flat;

static inline __m256i lanes_below(int64_t n)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)), iota);
}

/* Plane copy for stride 1: lanes past the plane load as 0, so the zeros
 * after it stay zeros. */
static void flat_fill_s1(const flat *f, const float *x)
{
    float *d = f->buf + FLAT_PRE;
    int64_t i = 0;
    for (; i + 8 <= f->n; i += 8)
        _mm256_storeu_ps(d + i, _mm256_loadu_ps(x + i));
    if (i < f->n)
        _mm256_storeu_ps(d + i, _mm256_maskload_ps(x + i, lanes_below(f->n - i)));
}

/* Quarter planes for stride 2: q[2*rp + cp][r][j] = x[2r + rp][2j + cp]
 * (0 past the input). Rows go in order, so a row's 8-lane spill past OW is
 * overwritten by the next row (the last one spills into the slack). */
static void flat_fill_s2(const flat *f, const float *x)
{
    const qsim__dw_args *a = f->a;
    const int64_t OW = a->OW;
    for (int64_t iy = 0; iy < 2 * a->OH; iy++) {
        int64_t r = iy >> 1, rp = iy & 1;
        float *qe = f->buf + (2 * rp) * FLAT_STRIDE + FLAT_PRE + r * OW;
        float *qo = qe + FLAT_STRIDE;
        if (iy >= a->H) {
            for (int64_t j = 0; j < OW; j += 8) {
                _mm256_storeu_ps(qe + j, _mm256_setzero_ps());
                _mm256_storeu_ps(qo + j, _mm256_setzero_ps());
            }
            continue;
        }
        const float *src = x + iy * a->W;
        for (int64_t j = 0; j < OW; j += 8) {
            int64_t c = 2 * j;
            __m256 lo, hi;
            if (c + 16 <= a->W) {
                lo = _mm256_loadu_ps(src + c);
                hi = _mm256_loadu_ps(src + c + 8);
            } else {
                lo = _mm256_maskload_ps(src + c, lanes_below(a->W - c));
                hi = a->W - c > 8 ? _mm256_maskload_ps(src + c + 8, lanes_below(a->W - c - 8))
                                  : _mm256_setzero_ps();
            }
            __m256 e = _mm256_shuffle_ps(lo, hi, 0x88), o = _mm256_shuffle_ps(lo, hi, 0xDD);
            e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
            o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xD8));
            _mm256_storeu_ps(qe + j, e);
            _mm256_storeu_ps(qo + j, o);
        }
    }
}

static void flat_fill(const flat *f, const float *x)
{
    if (f->a->sh == 1)
        flat_fill_s1(f, x);
    else
        flat_fill_s2(f, x);
}

static void flat_plane(const flat *f, float *y, const float *wt, float b)
{
    const qsim__dw_args *a = f->a;
    __m256 w[9];
    for (int i = 0; i < 9; i++)
        w[i] = _mm256_broadcast_ss(wt + i);
    const __m256 bias = _mm256_set1_ps(b);
    const __m256 lo = _mm256_set1_ps(a->act_a), hi = _mm256_set1_ps(a->act_b);
    const int64_t RW = f->RW, n = f->n;
    /* tap (ky, kx) of output o reads src[ky][kx] + o */
    const float *src[3][3];
    if (a->sh == 1) {
        const float *p = f->buf + FLAT_PRE;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
                src[ky][kx] = p + (ky - 1) * RW + (kx - 1);
    } else {
        /* input row 2*oy - 1 + ky: ky 0 -> odd rows, oy - 1; 1 -> even, oy;
         * 2 -> odd, oy (columns alike) */
        static const int par[3] = {1, 0, 1}, back[3] = {1, 0, 0};
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
                src[ky][kx] = f->buf + (2 * par[ky] + par[kx]) * FLAT_STRIDE + FLAT_PRE -
                              back[ky] * RW - back[kx];
    }
    for (int64_t o = 0; o < n; o += 8) {
        __m256 c0 = _mm256_mul_ps(w[0], _mm256_loadu_ps(src[0][0] + o));
        __m256 c1 = _mm256_mul_ps(w[1], _mm256_loadu_ps(src[0][1] + o));
        __m256 c2 = _mm256_mul_ps(w[2], _mm256_loadu_ps(src[0][2] + o));
        c0 = _mm256_fmadd_ps(w[3], _mm256_loadu_ps(src[1][0] + o), c0);
        c1 = _mm256_fmadd_ps(w[4], _mm256_loadu_ps(src[1][1] + o), c1);
        c2 = _mm256_fmadd_ps(w[5], _mm256_loadu_ps(src[1][2] + o), c2);
        c0 = _mm256_fmadd_ps(w[6], _mm256_loadu_ps(src[2][0] + o), c0);
        c1 = _mm256_fmadd_ps(w[7], _mm256_loadu_ps(src[2][1] + o), c1);
        c2 = _mm256_fmadd_ps(w[8], _mm256_loadu_ps(src[2][2] + o), c2);
        c1 = _mm256_add_ps(c1, _mm256_and_ps(c0, _mm256_loadu_ps(f->m0 + o)));
        c1 = _mm256_add_ps(c1, _mm256_and_ps(c2, _mm256_loadu_ps(f->m2 + o)));
        __m256 acc = activate(_mm256_add_ps(c1, bias), a, lo, hi);
        if (o + 8 <= n)
            _mm256_storeu_ps(y + o, acc);
        else
            _mm256_maskstore_ps(y + o, lanes_below(n - o), acc);
    }
}

/* 1 when the flat kernels take this shape. */
static int flat_fits(const qsim__dw_args *a)
{
    if (a->kh != 3 || a->kw != 3 || a->dh != 1 || a->dw != 1 || a->pt != 1 || a->pl != 1 ||
        a->OH * a->OW > FLAT_MAX || a->sh != a->sw)
        return 0;
    if (a->sh == 1)   /* same size: pads 1 on every side */
        return a->OH == a->H && a->OW == a->W && a->W + 1 <= FLAT_PRE;
    /* stride 2 reads input rows/cols up to 2*OH - 1 / 2*OW - 1 */
    return a->sh == 2 && a->OW + 1 <= FLAT_PRE && 2 * a->OH - 1 <= a->H + 1 &&
           2 * a->OW - 1 <= a->W + 1;
}

static __attribute__((noinline)) void flat_planes(const qsim__dw_planes *p)
{
    const qsim__dw_args *a = &p->a;
    float buf[2][4 * FLAT_STRIDE], m[2][FLAT_MAX + 8];
    flat f[2];
    for (int b = 0; b < 2; b++)
        f[b] = (flat){.a = a, .RW = a->sh == 1 ? a->W : a->OW, .n = a->OH * a->OW,
                      .buf = buf[b], .m0 = m[0], .m2 = m[1]};
    const int64_t n = f[0].n, RW = f[0].RW;
    /* zeros around the plane(s): what the fills never write */
    int nq = a->sh == 1 ? 1 : 4;
    for (int b = 0; b < 2; b++)
        for (int q = 0; q < nq; q++) {
            memset(buf[b] + q * FLAT_STRIDE, 0, FLAT_PRE * sizeof(float));
            memset(buf[b] + q * FLAT_STRIDE + FLAT_PRE + n, 0,
                   (size_t)(FLAT_STRIDE - FLAT_PRE - n) * sizeof(float));
        }
    const uint32_t ones = 0xFFFFFFFFu, zero = 0;
    for (int64_t o = 0, col = 0; o < (n + 7) / 8 * 8; o++, col = col + 1 == RW ? 0 : col + 1) {
        /* stride 2's kx = 2 tap never leaves the row (zeros past the input) */
        memcpy(&m[0][o], col != 0 ? &ones : &zero, 4);
        memcpy(&m[1][o], col != RW - 1 || a->sh == 2 ? &ones : &zero, 4);
    }
    size_t hw = (size_t)(a->H * a->W), ohw = (size_t)n;
    if (p->n)
        flat_fill(&f[0], a->x);
    for (size_t i = 0; i < p->n; i++) {
        if (i + 1 < p->n)
            flat_fill(&f[(i + 1) & 1], a->x + (i + 1) * hw);
        size_t ch = (p->ch0 + i) % p->C;
        flat_plane(&f[i & 1], a->y + i * ohw, p->wall + ch * 9, p->ball ? p->ball[ch] : 0.0f);
    }
}

void qsim__k_f32_dwconv_planes__avx2(const qsim__dw_planes *p)
{
    if (flat_fits(&p->a)) {
        flat_planes(p);
        return;
    }
    qsim__dw_args a;
    for (size_t i = 0; i < p->n; i++) {
        qsim__dw_plane_args(p, i, &a);
        qsim__k_f32_dwconv__avx2(&a);
    }
}
