/* AVX-512F tall GEMM microkernels: (6 * np) x 16 tiles over np = 1..4
 * consecutive packed A panels (see zmm_tile.h). Rows past mr (a last
 * partial panel) are not stored; the columns are masked (edge tiles, tiles
 * split between two images). Only called after the run-time CPU check
 * (qsim__cpu_use_avx512). */
#include "kernels/gemm_impl.h"

#include <immintrin.h>
#include <stdint.h>

#include "zmm_tile.h"

/* The epilogue's constants, set once per tile. */
typedef struct gepi {
    __m512 alpha, beta, lo, hi, bcol;
    int first, last, act, use_beta, has_bcol, stream;
    __mmask16 m1, m2;   /* columns stored at c, at c2 */
    const float *bias_row;
} gepi;

/* avx2/sgemm.c's epilogue, operation for operation (the same bits) */
static inline __attribute__((always_inline)) void put(const gepi *e, float *cp, float *cp2,
                                                      __m512 v, int i)
{
    v = _mm512_mul_ps(v, e->alpha);
    if (!e->first || e->use_beta) {
        __m512 cv = _mm512_mask_loadu_ps(_mm512_maskz_loadu_ps(e->m1, cp), e->m2, cp2);
        v = e->first ? _mm512_add_ps(v, _mm512_mul_ps(e->beta, cv)) : _mm512_add_ps(v, cv);
    }
    if (e->last) {
        v = _mm512_add_ps(v, _mm512_set1_ps(e->bias_row ? e->bias_row[i] : 0.0f));
        if (e->has_bcol)
            v = _mm512_add_ps(v, e->bcol);
        v = qsim__zact(v, e->act, e->lo, e->hi);
    }
    if (e->stream) {
        _mm512_stream_ps(cp, v);
    } else {
        _mm512_mask_storeu_ps(cp, e->m1, v);
        if (e->m2)
            _mm512_mask_storeu_ps(cp2, e->m2, v);
    }
}

static inline __attribute__((always_inline)) void tall(size_t kc, const float *a, size_t as,
                                                       const float *b, float *c, float *c2,
                                                       size_t split, size_t nr, size_t mr,
                                                       size_t ldc, const qsim__ukr_out *o,
                                                       const int np)
{
    __mmask16 all = (__mmask16)((1u << nr) - 1), m1 = (__mmask16)((1u << split) - 1);
    QSIM__ZTALL_LOOP(np, mr, kc, a, as, _mm512_loadu_ps(b + k * QSIM__NR));
    gepi e = {
        .alpha = _mm512_set1_ps(o->alpha), .beta = _mm512_set1_ps(o->beta),
        .lo = _mm512_set1_ps(o->act_a), .hi = _mm512_set1_ps(o->act_b),
        .bcol = o->bias_col ? _mm512_maskz_loadu_ps(all, o->bias_col) : _mm512_setzero_ps(),
        .first = o->first, .last = o->last, .act = o->act, .use_beta = o->beta != 0.0f,
        .has_bcol = o->bias_col != NULL,
        .m1 = m1, .m2 = (__mmask16)(all & ~m1),
        .stream = o->stream && split == QSIM__NR && !((uintptr_t)c & 63) && !(ldc & 15),
        .bias_row = o->bias_row,
    };
#define QSIM_ZG_ROW(i, v) put(&e, c + (size_t)(i) * ldc, c2 + (size_t)(i) * ldc, v, i)
    QSIM__ZTALL_ROWS(np, mr, QSIM_ZG_ROW);
#undef QSIM_ZG_ROW
}

#define QSIM_ZG_KERNEL(np)                                                                        \
    static void tall##np(size_t kc, const float *a, size_t as, const float *b, float *c,           \
                         float *c2, size_t split, size_t nr, size_t mr, size_t ldc,                \
                         const qsim__ukr_out *o)                                                   \
    {                                                                                             \
        tall(kc, a, as, b, c, c2, split, nr, mr, ldc, o, np);                                     \
    }
QSIM_ZG_KERNEL(1)
QSIM_ZG_KERNEL(2)
QSIM_ZG_KERNEL(3)
QSIM_ZG_KERNEL(4)
#undef QSIM_ZG_KERNEL

const qsim__tall_ukr_fn qsim__k_f32_gemm_tall__avx512[4] = {tall1, tall2, tall3, tall4};
