/* AdaRound's element-wise step over a run of rounding variables that share
 * one quantization grid (lib/adaround/layer.c): the rectified sigmoid, the
 * soft weight, the regulariser and its gradient, torch.optim.Adam, in one
 * pass.
 *
 * Arithmetic contract (identical in every implementation, bit for bit;
 * float32, no FMA contraction, max(a, b) = a > b ? a : b,
 * min(a, b) = a < b ? a : b, exp/ln are qsim__ada_expf/qsim__ada_logf below):
 *   hraw = sg*zg + gamma; h = min(max(hraw, 0), 1)
 *   update:
 *     x = (wf + h) - off; gh = (x >= 0 && x <= qmax) ? grad*delta : 0
 *     with_reg: t = 2h - 1; at = |t|; p = at > 0 ? exp(beta_m1*ln(at)) : 0
 *               reg += 1 - p*at; d = (cd*p)*2; gh = gh + (t > 0 ? d : -d)
 *     g = (hraw >= 0 && hraw <= 1) ? ((gh*zg)*sg)*(1 - sg) : 0
 *     m = m*b1 + g*omb1; v = v*b2 + (g*g)*omb2
 *     alpha = alpha - step*(m/(sqrt(v)/bc2s + eps))
 *     sg = 1/(1 + exp(-alpha)); hraw, h again
 *   wsoft = (min(max((wf + h) - off, 0), qmax) + off)*delta
 * reg terms go to 8 double accumulators, element i (of the call) to i % 8,
 * summed 0..7 in order at the end (the return value). */
#ifndef QSIM_KERNELS_ADAROUND_H
#define QSIM_KERNELS_ADAROUND_H

#include <stddef.h>

typedef struct qsim__ada_step {
    float zg, gamma;        /* zeta - gamma, gamma */
    float delta, off, qmax; /* the grid of these elements */
    int update, with_reg;
    float beta_m1, cd;      /* beta - 1, -lambda*beta */
    float step, bc2s, b1, b2, omb1, omb2, eps; /* Adam: lr/bc1, sqrt(bc2), ... */
} qsim__ada_step;

/* One step over n elements; returns the regulariser sum (0 without reg). */
double qsim__ada_step_f32(const qsim__ada_step *p, size_t n, const float *wf, const float *grad,
                          float *alpha, float *m, float *v, float *sig, float *wsoft);
double qsim__ada_step_f32__generic(const qsim__ada_step *p, size_t n, const float *wf,
                                   const float *grad, float *alpha, float *m, float *v,
                                   float *sig, float *wsoft);
double qsim__ada_step_f32__avx2(const qsim__ada_step *p, size_t n, const float *wf,
                                const float *grad, float *alpha, float *m, float *v, float *sig,
                                float *wsoft);

/* Scalar exp and ln of the contract (Cephes-style, ~1 ulp): exp clamps x
 * to [-87.3, 88.3]; ln is for x > 0 (smaller than FLT_MIN reads FLT_MIN). */
float qsim__ada_expf(float x);
float qsim__ada_logf(float x);

#endif
