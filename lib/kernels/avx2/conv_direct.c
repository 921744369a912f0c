/* AVX2+FMA microkernels of the direct conv path (see conv_impl.h): the 6x16
 * GEMM tile of avx2/sgemm.c, with the 16 columns loaded (unaligned) from the
 * input at x + off[k] instead of a packed B panel. Only called after the
 * run-time CPU check (qsim__cpu_use_avx2). */
#include "kernels/conv_impl.h"

#include <immintrin.h>
#include <stdint.h>

#include "fma_tile.h"

/* first/last k-block handling (cv: the C values, read only when needed),
 * bias per row, activation (as the GEMM's). */
static inline __m256 epi(__m256 v, __m256 cv, int first, int last, __m256 beta, int use_beta,
                         __m256 brow, int act, __m256 lo, __m256 hi)
{
    if (first) {
        if (use_beta)
            v = _mm256_fmadd_ps(beta, cv, v);
    } else {
        v = _mm256_add_ps(v, cv);
    }
    if (last) {
        v = _mm256_add_ps(v, brow);
        v = qsim__act8(v, act, lo, hi);
    }
    return v;
}

/* n < 8 floats at p (the rest 0) / to p, in pieces of 4, 2 and 1: a
 * scalar tile epilogue would cost as much as a short k loop. */
static inline __m256 load_part(const float *p, size_t n)
{
    const float *q = p + (n & 4);
    __m128 part = _mm_setzero_ps();
    if (n & 2)
        part = _mm_loadl_pi(part, (const __m64 *)q);
    if (n & 1)
        part = n & 2 ? _mm_insert_ps(part, _mm_load_ss(q + 2), 0x20) : _mm_load_ss(q);
    if (n & 4)
        return _mm256_set_m128(part, _mm_loadu_ps(p));
    return _mm256_set_m128(_mm_setzero_ps(), part);
}

static inline void store_part(float *p, __m256 v, size_t n)
{
    __m128 x = _mm256_castps256_ps128(v);
    if (n & 4) {
        _mm_storeu_ps(p, x);
        x = _mm256_extractf128_ps(v, 1);
        p += 4;
    }
    if (n & 2) {
        _mm_storel_pi((__m64 *)p, x);
        x = _mm_movehl_ps(x, x);
        p += 2;
    }
    if (n & 1)
        _mm_store_ss(p, x);
}

/* The epilogue's constants, set once per tile. */
typedef struct epi_state {
    __m256 beta, lo, hi;
    int first, last, act, use_beta, need_c, stream;
    const float *bias_row;   /* NULL unless last */
} epi_state;

static inline void epi_init(epi_state *e, const qsim__ukr_out *o, const float *c, size_t ldc,
                            size_t ch, size_t nr0, size_t nr1)
{
    e->beta = _mm256_set1_ps(o->beta);
    e->lo = _mm256_set1_ps(o->act_a);
    e->hi = _mm256_set1_ps(o->act_b);
    e->first = o->first;
    e->last = o->last;
    e->act = o->act;
    e->use_beta = o->beta != 0.0f;
    e->need_c = !o->first || e->use_beta;
    e->bias_row = o->last ? o->bias_row : NULL;
    e->stream = o->stream && nr0 == 8 && (nr1 == 8 || nr1 == 0) && !((uintptr_t)c & 31) &&
                !(ldc & 7) && !(ch & 7);
}

/* n (0..8) columns of one half-row at p. Always inlined with the
 * accumulators in registers (a loop over an array of them spills, a tenth
 * of a short k loop). */
static inline __attribute__((always_inline)) void put(const epi_state *e, float *p, __m256 v,
                                                      size_t n, __m256 brow)
{
    if (n == 8) {
        __m256 cv = e->need_c ? _mm256_loadu_ps(p) : _mm256_setzero_ps();
        v = epi(v, cv, e->first, e->last, e->beta, e->use_beta, brow, e->act, e->lo, e->hi);
        if (e->stream)
            _mm256_stream_ps(p, v);
        else
            _mm256_storeu_ps(p, v);
    } else if (n) {
        __m256 cv = e->need_c ? load_part(p, n) : _mm256_setzero_ps();
        v = epi(v, cv, e->first, e->last, e->beta, e->use_beta, brow, e->act, e->lo, e->hi);
        store_part(p, v, n);
    }
}

static inline __attribute__((always_inline)) __m256 brow_of(const epi_state *e, size_t i)
{
    return _mm256_set1_ps(e->bias_row ? e->bias_row[i] : 0.0f);
}

void qsim__k_f32_conv_6x16__avx2(size_t kc, const float *a, const float *x, const ptrdiff_t *off,
                                 size_t xh, float *c, size_t ldc, size_t ch, size_t mr,
                                 size_t nr0, size_t nr1, const qsim__ukr_out *o)
{
    QSIM__ACC_6X16;
    const float *x1 = x + xh;
#define QSIM_X_COLS(k, b0, b1)                                                                    \
    (b0 = _mm256_loadu_ps(x + off[k]), b1 = _mm256_loadu_ps(x1 + off[k]))
    QSIM__KLOOP_6X16(kc, a, mr, QSIM_X_COLS);
#undef QSIM_X_COLS
    if (mr == QSIM__MR && nr0 == 8 && nr1 == 8) {
        /* full tile: straight from the registers, no branch per row */
        __m256 beta = _mm256_set1_ps(o->beta);
        __m256 lo = _mm256_set1_ps(o->act_a), hi = _mm256_set1_ps(o->act_b);
        int first = o->first, last = o->last, act = o->act, ub = o->beta != 0.0f;
        int need_c = !first || ub;
        const float *br = last ? o->bias_row : NULL;
        int stream = o->stream && !((uintptr_t)c & 31) && !(ldc & 7) && !(ch & 7);
#define QSIM_CONV_FULL(i, v0, v1)                                                                 \
    do {                                                                                          \
        float *p = c + (i) * ldc;                                                                 \
        __m256 b = _mm256_set1_ps(br ? br[i] : 0.0f);                                             \
        __m256 z = _mm256_setzero_ps();                                                           \
        __m256 r0 = epi(v0, need_c ? _mm256_loadu_ps(p) : z, first, last, beta, ub, b, act, lo,   \
                        hi);                                                                      \
        __m256 r1 = epi(v1, need_c ? _mm256_loadu_ps(p + ch) : z, first, last, beta, ub, b, act,  \
                        lo, hi);                                                                  \
        if (stream) {                                                                             \
            _mm256_stream_ps(p, r0);                                                              \
            _mm256_stream_ps(p + ch, r1);                                                         \
        } else {                                                                                  \
            _mm256_storeu_ps(p, r0);                                                              \
            _mm256_storeu_ps(p + ch, r1);                                                         \
        }                                                                                         \
    } while (0)
        QSIM_CONV_FULL(0, c00, c01);
        QSIM_CONV_FULL(1, c10, c11);
        QSIM_CONV_FULL(2, c20, c21);
        QSIM_CONV_FULL(3, c30, c31);
        QSIM_CONV_FULL(4, c40, c41);
        QSIM_CONV_FULL(5, c50, c51);
#undef QSIM_CONV_FULL
        return;
    }
    epi_state e;
    epi_init(&e, o, c, ldc, ch, nr0, nr1);
    /* rows past mr are not stored (their weights are zero padding) */
#define QSIM_CONV_ROW(i, v0, v1)                                                                  \
    if (mr > (i)) {                                                                               \
        __m256 br = brow_of(&e, i);                                                               \
        put(&e, c + (i) * ldc, v0, nr0, br);                                                      \
        put(&e, c + (i) * ldc + ch, v1, nr1, br);                                                 \
    }
    QSIM_CONV_ROW(0, c00, c01)
    QSIM_CONV_ROW(1, c10, c11)
    QSIM_CONV_ROW(2, c20, c21)
    QSIM_CONV_ROW(3, c30, c31)
    QSIM_CONV_ROW(4, c40, c41)
    QSIM_CONV_ROW(5, c50, c51)
#undef QSIM_CONV_ROW
}

void qsim__k_f32_conv_6x8__avx2(size_t kc, const float *a, const float *x, const ptrdiff_t *off,
                                size_t xh, float *c, size_t ldc, size_t ch, size_t mr,
                                size_t nr0, size_t nr1, const qsim__ukr_out *o)
{
    QSIM__ACC_6X8;
    for (size_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(x + off[k]);
        QSIM__STEP_6X8(a, b0);
        a += QSIM__MR;
    }
    epi_state e;
    epi_init(&e, o, c, ldc, ch, nr0, 0);
#define QSIM_CONV_ROW8(i, v0)                                                                     \
    if (mr > (i))                                                                                 \
        put(&e, c + (i) * ldc, v0, nr0, brow_of(&e, i));
    QSIM_CONV_ROW8(0, c0)
    QSIM_CONV_ROW8(1, c1)
    QSIM_CONV_ROW8(2, c2)
    QSIM_CONV_ROW8(3, c3)
    QSIM_CONV_ROW8(4, c4)
    QSIM_CONV_ROW8(5, c5)
#undef QSIM_CONV_ROW8
    (void)xh, (void)nr1;
}
