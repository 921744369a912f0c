/* AVX-512F tall microkernels of the direct conv path: the (6 * np) x 16
 * tiles of sgemm.c with the 16 columns read from the input at x + off[k]
 * (one unaligned load for 16 consecutive pixels, two halves for paired
 * rows). np = 1..4 panels, rows past mr not stored, both halves present
 * (1..8 columns each, stores masked); the driver leaves single-half tiles
 * to the AVX2 kernels. Only called after the run-time CPU check
 * (qsim__cpu_use_avx512). */
#include "kernels/conv_impl.h"

#include <immintrin.h>
#include <stdint.h>

#include "zmm_tile.h"

typedef struct cepi {
    __m512 beta, lo, hi;
    int first, last, act, use_beta, need_c, stream;
    size_t ch;
    __mmask16 m0, m1;   /* the columns of each half (nr0, nr1 of 8) */
    const float *bias_row;
} cepi;

static inline __m512 join(__m256 lo, __m256 hi)
{
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)),
                                               _mm256_castps_pd(hi), 1));
}

static inline __m256 hi_half(__m512 v)
{
    return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

/* avx2/conv_direct.c's epilogue, operation for operation (the same bits);
 * the row's halves are at p and p + ch, masked to their columns. */
static inline __attribute__((always_inline)) void put(const cepi *e, float *p, __m512 v, int i)
{
    int joint = e->ch == 8;   /* the halves are adjacent: one 16-lane access */
    __mmask16 m = (__mmask16)(e->m0 | (e->m1 << 8));
    if (e->need_c) {
        __m512 cv = joint ? _mm512_maskz_loadu_ps(m, p)
                          : join(_mm512_castps512_ps256(_mm512_maskz_loadu_ps(e->m0, p)),
                                 _mm512_castps512_ps256(_mm512_maskz_loadu_ps(e->m1, p + e->ch)));
        v = e->first ? _mm512_fmadd_ps(e->beta, cv, v) : _mm512_add_ps(v, cv);
    }
    if (e->last) {
        v = _mm512_add_ps(v, _mm512_set1_ps(e->bias_row ? e->bias_row[i] : 0.0f));
        v = qsim__zact(v, e->act, e->lo, e->hi);
    }
    if (e->stream) {
        _mm256_stream_ps(p, _mm512_castps512_ps256(v));
        _mm256_stream_ps(p + e->ch, hi_half(v));
    } else if (joint) {
        _mm512_mask_storeu_ps(p, m, v);
    } else {
        _mm512_mask_storeu_ps(p, e->m0, v);
        _mm512_mask_storeu_ps(p + e->ch, e->m1, _mm512_castps256_ps512(hi_half(v)));
    }
}

static inline __attribute__((always_inline)) void tall(size_t kc, const float *a, size_t as,
                                                       const float *x, const ptrdiff_t *off,
                                                       size_t xh, float *c, size_t ldc,
                                                       size_t ch, size_t mr, size_t nr0,
                                                       size_t nr1, const qsim__ukr_out *o,
                                                       const int np)
{
    cepi e = {
        .beta = _mm512_set1_ps(o->beta), .lo = _mm512_set1_ps(o->act_a),
        .hi = _mm512_set1_ps(o->act_b), .first = o->first, .last = o->last, .act = o->act,
        .use_beta = o->beta != 0.0f, .ch = ch, .bias_row = o->last ? o->bias_row : NULL,
        .m0 = (__mmask16)((1u << nr0) - 1), .m1 = (__mmask16)((1u << nr1) - 1),
        .stream = o->stream && nr0 == 8 && nr1 == 8 && !((uintptr_t)c & 31) && !(ldc & 7) &&
                  !(ch & 7),
    };
    e.need_c = !e.first || e.use_beta;
#define QSIM_ZC_ROW(i, v) put(&e, c + (size_t)(i) * ldc, v, i)
    if (xh == 8) {
        QSIM__ZTALL_LOOP(np, mr, kc, a, as, _mm512_loadu_ps(x + off[k]));
        QSIM__ZTALL_ROWS(np, mr, QSIM_ZC_ROW);
    } else {
        const float *x1 = x + xh;
        QSIM__ZTALL_LOOP(np, mr, kc, a, as,
                         join(_mm256_loadu_ps(x + off[k]), _mm256_loadu_ps(x1 + off[k])));
        QSIM__ZTALL_ROWS(np, mr, QSIM_ZC_ROW);
    }
#undef QSIM_ZC_ROW
}

#define QSIM_ZC_KERNEL(np)                                                                        \
    static void tall##np(size_t kc, const float *a, size_t as, const float *x,                     \
                         const ptrdiff_t *off, size_t xh, float *c, size_t ldc, size_t ch,         \
                         size_t mr, size_t nr0, size_t nr1, const qsim__ukr_out *o)               \
    {                                                                                             \
        tall(kc, a, as, x, off, xh, c, ldc, ch, mr, nr0, nr1, o, np);                             \
    }
QSIM_ZC_KERNEL(1)
QSIM_ZC_KERNEL(2)
QSIM_ZC_KERNEL(3)
QSIM_ZC_KERNEL(4)
#undef QSIM_ZC_KERNEL

const qsim__tall_cukr_fn qsim__k_f32_conv_tall__avx512[4] = {tall1, tall2, tall3, tall4};
