/* 1-D/2-D convolution (NCHW, groups incl. depthwise, strides, dilations,
 * explicit pads) with weights packed once at create. 1-D convs use H = 1. */
#ifndef QSIM_KERNELS_CONV_H
#define QSIM_KERNELS_CONV_H

#include <qsim/qsim.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/threadpool.h"
#include "gemm.h"

typedef struct qsim__conv_desc {
    int64_t C, M, group;           /* input channels, output channels, groups */
    int64_t kh, kw;                /* kernel size (kh = 1 for 1-D) */
    int64_t sh, sw;                /* strides */
    int64_t dh, dw;                /* dilations */
    int64_t pt, pl, pb, pr;        /* pads: top, left, bottom, right */
} qsim__conv_desc;

typedef struct qsim__conv qsim__conv;

/* weight: [M, C/group, kh, kw]; bias: M values or NULL; ep NULL = none.
 * The kernel copies what it needs: weight/bias may be freed afterwards. */
qsim_status qsim__conv_create(const qsim__conv_desc *d, const float *weight, const float *bias,
                              const qsim__epilogue *ep, qsim__conv **out);
void qsim__conv_free(qsim__conv *c);

/* Output size for an input of H x W (the ops layer checks it is >= 1). */
void qsim__conv_out_size(const qsim__conv_desc *d, int64_t H, int64_t W, int64_t *OH, int64_t *OW);

/* Scratch bytes qsim__conv_run needs for this input size and pool. */
size_t qsim__conv_workspace(const qsim__conv *c, int64_t N, int64_t H, int64_t W,
                            const qsim__pool *pool);
/* x: [N, C, H, W] -> y: [N, M, OH, OW]. workspace: qsim__conv_workspace bytes
 * for this pool, 64-byte aligned (may be NULL when that is 0). NULL when it
 * is not 0 still works: the kernel then allocates, or if that fails runs a
 * slow scratch-free loop. Results do not depend on the pool's threads. */
void qsim__conv_run(const qsim__conv *c, qsim__pool *pool, const float *x, int64_t N, int64_t H,
                    int64_t W, float *y, void *workspace);

/* Plan-level fusion (lib/sim/fuse.c) edits a packed conv it owns: */
/* 1 for the direct depthwise kind (group == C == M). */
int qsim__conv_is_depthwise(const qsim__conv *c);
/* Fold y' = y * mul[m] + add[m] per output channel into the weights and
 * bias (each rounded once from double), e.g. a following BatchNormalization. */
qsim_status qsim__conv_fold_affine(qsim__conv *c, const double *mul, const double *add);
/* Replace the activation epilogue (ep NULL = none). */
void qsim__conv_set_epilogue(qsim__conv *c, const qsim__epilogue *ep);
/* As qsim__conv_run, but y already holds a tensor of the output's shape
 * (a residual) that is added to the product before the bias and the
 * activation. Not for depthwise convs (returns without writing). */
void qsim__conv_run_accumulate(const qsim__conv *c, qsim__pool *pool, const float *x, int64_t N,
                               int64_t H, int64_t W, float *y, void *workspace);

#endif
