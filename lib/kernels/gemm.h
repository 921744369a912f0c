/* Single-precision GEMM for the engine: packed weights, AVX2/FMA
 * microkernels chosen at run time with a portable fallback, fused
 * bias + activation epilogue, threads through qsim__pool. */
#ifndef QSIM_KERNELS_GEMM_H
#define QSIM_KERNELS_GEMM_H

#include <qsim/qsim.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/threadpool.h"

/* Activation fused into a kernel's output. */
typedef enum qsim__act {
    QSIM__ACT_NONE = 0,
    QSIM__ACT_RELU = 1,        /* max(x, 0) */
    QSIM__ACT_CLIP = 2,        /* clamp(x, a, b) */
    QSIM__ACT_LEAKY_RELU = 3,  /* x < 0 ? a*x : x */
} qsim__act;

typedef struct qsim__epilogue {
    int act;      /* qsim__act */
    float a, b;   /* CLIP bounds / LEAKY_RELU slope */
} qsim__epilogue;

/* C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, then + bias, then act.
 * Row-major; op(X) = X or X^T per trans flag. bias: NULL, or N values (one
 * per column) when bias_per_row == 0, or M values when bias_per_row == 1.
 * ep NULL = no activation. beta == 0 never reads C (it may hold NaN). */
void qsim__sgemm(qsim__pool *pool, int transA, int transB, size_t M, size_t N, size_t K,
                 float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                 float beta, float *C, size_t ldc, const float *bias, int bias_per_row,
                 const qsim__epilogue *ep);

/* `batch` independent products (MatMul with batch dimensions): item i uses
 * A + i*strideA, B + i*strideB, C + i*strideC (a stride may be 0 to share an
 * operand), otherwise as qsim__sgemm. Small products of a batch share the
 * threads (tasks span items). */
void qsim__sgemm_batch(qsim__pool *pool, size_t batch, int transA, int transB, size_t M,
                       size_t N, size_t K, float alpha, const float *A, size_t lda,
                       size_t strideA, const float *B, size_t ldb, size_t strideB, float beta,
                       float *C, size_t ldc, size_t strideC, const float *bias,
                       int bias_per_row, const qsim__epilogue *ep);

/* A constant right-hand side packed once for repeated products
 * (Gemm/MatMul weights). */
typedef struct qsim__packed_b qsim__packed_b;
qsim_status qsim__pack_b(int transB, size_t K, size_t N, const float *B, size_t ldb,
                         qsim__packed_b **out);
void qsim__packed_b_free(qsim__packed_b *p);
/* C[M,N] = op(A)[M,K] * packedB + bias[N], then act (beta = 0). */
void qsim__sgemm_packed(qsim__pool *pool, int transA, size_t M, const float *A, size_t lda,
                        const qsim__packed_b *B, float *C, size_t ldc, const float *bias,
                        const qsim__epilogue *ep);

/* Which implementation the dispatcher picked: "avx2" or "generic". */
/* Which implementation the dispatcher picked: "avx2" or "generic"
 * (lib/core/cpu.h decides; QSIM_FORCE_GENERIC=1 pins generic). */
const char *qsim__kernels_isa(void);

#endif
