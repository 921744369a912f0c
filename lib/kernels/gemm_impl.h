/* Internals shared by the GEMM/conv drivers and their per-ISA microkernels.
 *
 * Packed layouts (the same for every ISA, so weights packed once stay valid
 * when a test pins the generic kernels):
 * - A panel: MR rows over k, a[k * MR + i]; rows past M are zero.
 * - B panel: NR columns over k, b[k * NR + j]; columns past N are zero.
 * A matrix packed whole is a sequence of panels of K * MR floats each, so a
 * k-block starting at kb is at panel + kb * MR (likewise for B). */
#ifndef QSIM_KERNELS_GEMM_IMPL_H
#define QSIM_KERNELS_GEMM_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "gemm.h"

#define QSIM__MR 6
#define QSIM__NR 16
#define QSIM__NC_MAX 256   /* GEMM block columns (B block 600 KiB at KC) */

/* What a microkernel does with its MR x NR accumulator tile `acc`. */
typedef struct qsim__ukr_out {
    float alpha;
    float beta;          /* used only when first */
    int first;           /* first k-block: C = alpha*acc + beta*C (beta 0: C unread) */
    int last;            /* last k-block: then + bias, then activation */
    const float *bias_row;  /* mr values (bias per row) or NULL */
    const float *bias_col;  /* nr values (bias per column) or NULL */
    int act;
    float act_a, act_b;
    float *acc_out;      /* non-NULL: only write the raw MR x NR tile here */
    int stream;          /* C is written once and is too big for the caches: full
                            tiles may use non-temporal stores (same values) */
} qsim__ukr_out;

/* C[mr x nr] (row stride ldc) <- acc of a (MR x kc panel) times b (kc x NR). */
typedef void (*qsim__ukr_fn)(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                             size_t mr, size_t nr, const qsim__ukr_out *o);

void qsim__k_f32_gemm_6x16__generic(size_t kc, const float *a, const float *b, float *c,
                                    size_t ldc, size_t mr, size_t nr, const qsim__ukr_out *o);
#ifdef QSIM_HAVE_AVX2
void qsim__k_f32_gemm_6x16__avx2(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                                 size_t mr, size_t nr, const qsim__ukr_out *o);
/* nr <= 8 only (reads the first 8 columns of the B panel) */
void qsim__k_f32_gemm_6x8__avx2(size_t kc, const float *a, const float *b, float *c, size_t ldc,
                                size_t mr, size_t nr, const qsim__ukr_out *o);
#endif

/* AVX-512F tall tiles: np = 1..4 consecutive MR panels of A (panel i at
 * a + i * as) times one B panel; rows from mr on (a last partial panel's
 * zero padding) are not stored; of the nr columns (1..NR) those below split
 * go to c, the others to c2 (a tile crossing into the next image: c2 = that
 * image's first column - split), both with row stride ldc; acc_out unused.
 * Bit-identical to the 6x16 kernels. Index np - 1. */
typedef void (*qsim__tall_ukr_fn)(size_t kc, const float *a, size_t as, const float *b, float *c,
                                  float *c2, size_t split, size_t nr, size_t mr, size_t ldc,
                                  const qsim__ukr_out *o);
#ifdef QSIM_HAVE_AVX512
extern const qsim__tall_ukr_fn qsim__k_f32_gemm_tall__avx512[4];
#endif

/* Packers (portable; memory-bound). op(X)[r][k] = trans ? X[k*ld + r] : X[r*ld + k].
 * pack_a: rows [m0, m0+mr) of op(A), k in [k0, k0+kc) -> one MR panel.
 * pack_b: columns [n0, n0+nr) of op(B), k in [k0, k0+kc) -> one NR panel. */
void qsim__pack_a_panel(int trans, const float *A, size_t lda, size_t m0, size_t mr, size_t k0,
                        size_t kc, float *dst);
void qsim__pack_b_panel(int trans, const float *B, size_t ldb, size_t k0, size_t kc, size_t n0,
                        size_t nr, float *dst);
/* columns [n0, n0+nb) as consecutive panels of kc * NR floats; reads each
 * row of B once front to back (prefetch-friendly for wide B) */
void qsim__pack_b_block(int trans, const float *B, size_t ldb, size_t k0, size_t kc, size_t n0,
                        size_t nb, float *dst);

/* Shared epilogue for the generic kernel and the edge tiles of SIMD ones:
 * applies o to the MR x NR tile acc (row stride NR) into C. */
static inline float qsim__act_apply(float v, int act, float a, float b)
{
    switch (act) {
    case QSIM__ACT_RELU:
        return v > 0.0f ? v : 0.0f;
    case QSIM__ACT_CLIP:
        return v < a ? a : v > b ? b : v;
    case QSIM__ACT_LEAKY_RELU:
        return v < 0.0f ? a * v : v;
    default:
        return v;
    }
}

static inline void qsim__ukr_store_tile(const float *acc, float *c, size_t ldc, size_t mr,
                                        size_t nr, const qsim__ukr_out *o)
{
    for (size_t i = 0; i < mr; i++) {
        float *crow = c + i * ldc;
        for (size_t j = 0; j < nr; j++) {
            float v = o->alpha * acc[i * QSIM__NR + j];
            if (o->first) {
                if (o->beta != 0.0f)
                    v += o->beta * crow[j];
            } else {
                v += crow[j];
            }
            if (o->last) {
                if (o->bias_row)
                    v += o->bias_row[i];
                if (o->bias_col)
                    v += o->bias_col[j];
                v = qsim__act_apply(v, o->act, o->act_a, o->act_b);
            }
            crow[j] = v;
        }
    }
}

/* k-blocking depends only on K (never on threads): blocks of at most KC,
 * balanced so that no block is tiny. Each block costs every C tile a load
 * and a store; 600 puts a 3x3 conv over 64 channels (K 576) in one block
 * and halves the blocks of the deeper ones. Measured with bench_kernels on
 * the resnet18 convs at batch 8 (1 thread): 256 -> 600 is 1.8% faster
 * with the AVX-512 tiles (which read A and B at well under the L2
 * bandwidth, so the larger blocks cost nothing), the same with AVX2. */
#define QSIM__KC 600
static inline size_t qsim__kblocks(size_t K)
{
    return K == 0 ? 1 : (K + QSIM__KC - 1) / QSIM__KC;
}
static inline void qsim__kblock(size_t K, size_t nkb, size_t kb, size_t *k0, size_t *kc)
{
    size_t base = K / nkb, rem = K % nkb;
    /* the first `rem` blocks get one more; keep blocks multiples of 1 */
    *k0 = kb * base + (kb < rem ? kb : rem);
    *kc = base + (kb < rem ? 1 : 0);
}

/* The microkernel for the current ISA; *narrow gets the one for tiles of at
 * most NR/2 columns (the same per-element arithmetic). */
qsim__ukr_fn qsim__gemm_ukr(qsim__ukr_fn *narrow);
/* The tall kernels of this CPU (index np - 1), NULL if none. */
const qsim__tall_ukr_fn *qsim__gemm_tall_ukr(void);

#endif
