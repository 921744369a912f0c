/* AdaRound for one layer (SPEC 8.3), independent of the sim.
 *
 * Every supported layer is seen as grouped GEMMs ("linear view"):
 *   Yrows[P, N] = out_scale * Xrows[P, K] * Wmat[N, K]^T + bias
 * per sample, where for group g only columns [g*k, (g+1)*k) of Xrows and
 * rows [g*n, (g+1)*n) of Wmat / columns of Yrows take part (N = G*n,
 * K = G*k). Xrows is the sample itself (Gemm/MatMul: P rows of K) or its
 * im2col patches (Conv/ConvTranspose, 1-D as H = 1). ConvTranspose is the
 * equivalent stride-1 convolution over the zero-dilated input with the
 * kernel flipped, so the same im2col serves both. Wmat's rows are the
 * output channels, which is also the per-channel encoding axis of every
 * supported layout (Conv 0, ConvTranspose 1, Gemm 0/1 by transB, MatMul 1). */
#ifndef QSIM_ADAROUND_LAYER_H
#define QSIM_ADAROUND_LAYER_H

#include <qsim/qsim.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/threadpool.h"
#include "../quant/encoding.h"
#include "params.h"

enum {
    QSIM__ADA_ROWS = 0, /* sample = [P, K] rows (Gemm row, MatMul [.., T, K]) */
    QSIM__ADA_CONV = 1, /* sample = [C, H, W]; im2col */
};

/* Native weight layouts mapped onto Wmat. */
enum {
    QSIM__ADA_W_NK = 0,    /* [N, K...]: Conv, Gemm transB=1 */
    QSIM__ADA_W_KN = 1,    /* [K, N]: Gemm transB=0, MatMul */
    QSIM__ADA_W_CONVT = 2, /* [Cin, Cout/G, kh, kw]: ConvTranspose */
};

typedef struct qsim__ada_view {
    int kind, wlayout;
    size_t groups, n, k; /* per group Wmat_g is [n, k] */
    size_t rows;         /* P: rows per sample */
    /* CONV geometry; virtual input coordinate v = o*s + kk*d - p, valid
     * when 0 <= v < (in-1)*u + 1 and v % u == 0 (u > 1: ConvTranspose). */
    int64_t c, h, w, kh, kw, sh, sw, dh, dw, ph, pw, uh, uw, oh, ow;
    /* Per-sample loss denominator: numel(output)/size(output dim 1). */
    double norm;
} qsim__ada_view;

/* Conv (1-D: h = kh = 1). pads are the begin pads; all checked. */
qsim_status qsim__ada_view_conv(qsim__ada_view *v, int64_t cin, int64_t h, int64_t w, int64_t cout,
                                int64_t groups, int64_t kh, int64_t kw, const int64_t stride[2],
                                const int64_t dil[2], const int64_t pads[4]);
/* ConvTranspose: pads [hb, wb, he, we], out_pad [h, w] as ONNX. */
qsim_status qsim__ada_view_convt(qsim__ada_view *v, int64_t cin, int64_t h, int64_t w,
                                 int64_t cout, int64_t groups, int64_t kh, int64_t kw,
                                 const int64_t stride[2], const int64_t dil[2],
                                 const int64_t pads[4], const int64_t out_pad[2]);
/* Gemm (trans_b) or MatMul (trans_b = 0): rows per sample, K inputs, N
 * outputs; norm is the per-sample denominator (1 for 2-D outputs). */
qsim_status qsim__ada_view_rows(qsim__ada_view *v, size_t rows, size_t K, size_t N, int trans_b,
                                double norm);

/* Weight <-> Wmat (both hold G*n*k floats). */
void qsim__ada_weight_to_mat(const qsim__ada_view *v, const float *w, float *wmat);
void qsim__ada_mat_to_weight(const qsim__ada_view *v, const float *wmat, float *w);

/* Sample input -> Xrows [rows, G*k]. */
void qsim__ada_sample_rows(const qsim__ada_view *v, const float *x, float *xrows);

/* Cached samples of one layer: inputs as given, targets in row layout. */
typedef struct qsim__ada_data {
    size_t count, cap, xsz, ysz;
    float *x, *y;
} qsim__ada_data;
qsim_status qsim__ada_data_init(qsim__ada_data *d, const qsim__ada_view *v, size_t cap);
/* Append one sample (ignored when full). y is the layer output of that
 * sample in its native layout: CONV [N, P] (channels first), ROWS [P, N]. */
qsim_status qsim__ada_data_add(qsim__ada_data *d, const qsim__ada_view *v, const float *x,
                               const float *y);
void qsim__ada_data_free(qsim__ada_data *d);
/* Store sample i (< cap) of the inputs / the targets (layouts as above). */
void qsim__ada_data_put_x(qsim__ada_data *d, size_t i, const float *x);
void qsim__ada_data_put_y(qsim__ada_data *d, const qsim__ada_view *v, size_t i, const float *y);

/* Activation applied to prediction and target inside the loss. */
enum {
    QSIM__ADA_ACT_NONE = 0,
    QSIM__ADA_ACT_RELU,
    QSIM__ADA_ACT_CLIP,  /* [a, b] */
    QSIM__ADA_ACT_LEAKY, /* slope a */
    QSIM__ADA_ACT_PRELU, /* slope[col % nslope] */
    QSIM__ADA_ACT_SIGMOID,
    QSIM__ADA_ACT_TANH,
    QSIM__ADA_ACT_SOFTMAX, /* over dim 1: the N columns of each row */
};
typedef struct qsim__ada_act {
    int kind;
    float a, b;
    const float *slope;
    size_t nslope;
} qsim__ada_act;

typedef struct qsim__ada_layer {
    qsim__ada_view view;
    /* 1 (per-tensor), G*n (per Wmat row), or n for ConvTranspose, whose
     * axis 1 holds Cout/G channels shared by the groups: row r uses
     * enc[r % nenc]. */
    const qsim__encoding *enc;
    size_t nenc;
    const float *bias; /* G*n, already times Gemm beta, or NULL */
    float out_scale;   /* Gemm alpha, else 1 */
    qsim__ada_act act;
} qsim__ada_layer;

/* Per-run results and diagnostics. */
typedef struct qsim__ada_result {
    int formulation;    /* QSIM__ADA_FORM_DIRECT or _GRAM, as chosen */
    double flops_iter;  /* FLOPs of the GEMMs of one iteration */
    double seconds;     /* whole optimisation */
    double setup_seconds; /* of which before the first step (Gram: X^T X) */
    float *recon_trace; /* optional, caller's, num_iterations entries */
    float *round_trace; /* optional, ditto */
} qsim__ada_result;

/* The direct formulation keeps every sample's im2col rows (count * P * K
 * floats) when they fit this many bytes, instead of gathering the patches
 * of the minibatch at every step. */
#define QSIM__ADA_XCACHE_BYTES ((size_t)512 << 20)

typedef void (*qsim__ada_progress)(void *ctx, uint64_t done, uint64_t total);

/* Optimise the rounding of wmat (in: FP32 weights in Wmat layout; out: the
 * chosen grid values delta*(q + offset), q = clamp(floor(W/delta) + up -
 * offset, 0, 2^bw - 1), up = alpha >= 0, so that nearest-rounding QDQ with
 * the same encodings reproduces them). up (optional, G*n*k bytes) receives
 * the decisions. QSIM_ERR_STATE without samples. */
qsim_status qsim__ada_optimize(qsim__pool *pool, const qsim__ada_layer *L, const qsim__ada_data *d,
                               const qsim_adaround_params *p, float *wmat, uint8_t *up,
                               qsim__ada_result *res, qsim__ada_progress prog, void *prog_ctx);

/* Direct-formulation products for grouped layers with tiny groups
 * (group_small.c): applies when groups > 1 and n*k <= 64. Y[rows, N] =
 * s*X*W^T + bias per group; grad = s * dY^T X per group, with part scratch
 * of qsim__ada_gs_tasks(rows) * N * k floats. */
int qsim__ada_gs_applies(const qsim__ada_view *v);
size_t qsim__ada_gs_tasks(size_t rows);
void qsim__ada_gs_forward(qsim__pool *pool, const qsim__ada_view *v, float s, const float *X,
                          const float *W, const float *bias, float *Y, size_t rows);
void qsim__ada_gs_backward(qsim__pool *pool, const qsim__ada_view *v, float s, float *dY,
                           const float *X, float *grad, size_t rows, float *part);

/* The minibatch sampler (documented for independent re-implementation):
 * splitmix64 seeded with `seed`; a permutation perm of [0, S) starting as
 * the identity persists across iterations; each iteration does, for
 * i < B, j = i + next() % (S - i), swap(perm[i], perm[j]), and uses
 * perm[0..B). When S <= B all samples are used in index order and nothing
 * is drawn. */
typedef struct qsim__ada_rng {
    uint64_t state;
} qsim__ada_rng;
uint64_t qsim__ada_rng_next(qsim__ada_rng *r);

#endif
