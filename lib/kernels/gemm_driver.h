/* The blocked GEMM driver shared by qsim__sgemm* and the convolutions.
 * A job is a batch of independent products C_b = op(A_b) * B_b; each product
 * is cut into mt x nc blocks (one pool task each) and every block runs the
 * full K loop in fixed k-blocks, so results never depend on the threads. */
#ifndef QSIM_KERNELS_GEMM_DRIVER_H
#define QSIM_KERNELS_GEMM_DRIVER_H

#include "gemm_impl.h"

typedef struct qsim__gemm_job qsim__gemm_job;

/* Packs columns [n0, n0+nb) x k [k0, k0+kc) of batch item b's B as
 * ceil(nb / NR) panels of kc * NR floats each (zero-padded past nb). */
typedef void (*qsim__pack_b_fn)(const qsim__gemm_job *j, size_t b, size_t k0, size_t kc,
                                size_t n0, size_t nr, float *dst);
/* Per batch item pointers: packed A, C, bias (may stay as set in the job).
 * a_packed must stay NULL or non-NULL as in the job (scratch is planned so). */
typedef void (*qsim__bind_fn)(const qsim__gemm_job *j, size_t b, const float **a_packed,
                              const float **A, float **C, const float **bias);

struct qsim__gemm_job {
    size_t M, N, K, nbatch;
    /* A: prepacked (a_packed, whole-K panels) or strided (A, lda, transA) */
    const float *a_packed;
    const float *A;
    size_t lda;
    int transA;
    /* B: prepacked (b_packed), strided (B, ldb, transB) or pack_b */
    const float *b_packed;
    const float *B;
    size_t ldb;
    int transB;
    qsim__pack_b_fn pack_b;
    const void *pack_ctx;
    qsim__bind_fn bind;
    const void *bind_ctx;
    float *C;
    size_t ldc;
    /* img_cols > 0: the columns are images of img_cols columns each, and
     * column n is at C + (n / img_cols) * img_stride + n % img_cols (convs
     * batch small images into one product this way) */
    size_t img_cols, img_stride;
    float alpha, beta;
    int stream;          /* set by qsim__gemm_run: non-temporal C stores */
    const float *bias;
    int bias_per_row;
    int act;
    float act_a, act_b;
    /* blocking, set by qsim__gemm_plan: tasks of mt rows x nc columns
     * (mblocks x nblocks per batch item); mc = rows per cache block */
    size_t mc, mt, nc, mblocks, nblocks;
    /* per-thread scratch: ws + thread * ws_floats */
    float *ws;
    size_t ws_floats, ws_a_floats;   /* slice size; A block part of it */
};

/* Fill mc/nc/mblocks/nblocks/ws_floats from the shapes and sources (never
 * from the thread count). Returns 0 if a size overflows. */
int qsim__gemm_plan(qsim__gemm_job *j);
/* Bytes of scratch for `threads` threads after qsim__gemm_plan (0 if none),
 * SIZE_MAX on overflow. */
size_t qsim__gemm_ws_bytes(const qsim__gemm_job *j, int threads);
/* Runs the job on the pool (j->ws must hold qsim__gemm_ws_bytes). */
void qsim__gemm_run(qsim__pool *pool, qsim__gemm_job *j);

#endif
