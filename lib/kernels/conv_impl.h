/* Internals of the convolution kernels shared by conv.c and the per-ISA
 * direct (depthwise) kernels. */
#ifndef QSIM_KERNELS_CONV_IMPL_H
#define QSIM_KERNELS_CONV_IMPL_H

#include "conv.h"
#include "gemm_impl.h"

/* One depthwise plane: y[OH][OW] = act(sum_{ky,kx} w[ky][kx] * x[...] + bias).
 * Taps are summed in (ky, kx) order, then the bias is added. */
typedef struct qsim__dw_args {
    const float *x;    /* [H][W] */
    float *y;          /* [OH][OW] */
    const float *w;    /* [kh][kw] */
    float bias;
    int64_t H, W, OH, OW;
    int64_t kh, kw, sh, sw, dh, dw, pt, pl;
    int act;
    float act_a, act_b;
} qsim__dw_args;

void qsim__k_f32_dwconv__generic(const qsim__dw_args *a);
#ifdef QSIM_HAVE_AVX2
void qsim__k_f32_dwconv__avx2(const qsim__dw_args *a);
#endif

#endif
