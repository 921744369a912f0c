/* Portable depthwise convolution of one plane (any kernel, stride, dilation
 * and padding). */
#include "kernels/conv_impl.h"

void qsim__k_f32_dwconv__generic(const qsim__dw_args *a)
{
    for (int64_t oy = 0; oy < a->OH; oy++) {
        for (int64_t ox = 0; ox < a->OW; ox++) {
            float s = 0.0f;
            for (int64_t ky = 0; ky < a->kh; ky++) {
                int64_t iy = oy * a->sh - a->pt + ky * a->dh;
                if (iy < 0 || iy >= a->H)
                    continue;
                const float *xr = a->x + iy * a->W;
                const float *wr = a->w + ky * a->kw;
                for (int64_t kx = 0; kx < a->kw; kx++) {
                    int64_t ix = ox * a->sw - a->pl + kx * a->dw;
                    if (ix >= 0 && ix < a->W)
                        s += wr[kx] * xr[ix];
                }
            }
            s += a->bias;
            a->y[oy * a->OW + ox] = qsim__act_apply(s, a->act, a->act_a, a->act_b);
        }
    }
}

void qsim__k_f32_dwconv_planes__generic(const qsim__dw_planes *p)
{
    qsim__dw_args a;
    for (size_t i = 0; i < p->n; i++) {
        qsim__dw_plane_args(p, i, &a);
        qsim__k_f32_dwconv__generic(&a);
    }
}

void qsim__im2col_block__generic(const qsim__im2col *g, size_t k0, size_t kc, size_t n0,
                                 size_t nb, float *dst)
{
    for (size_t c0 = 0; c0 < nb; c0 += QSIM__NR) {
        size_t nr = nb - c0 < QSIM__NR ? nb - c0 : QSIM__NR;
        qsim__im2col_panel(g, k0, kc, n0 + c0, nr, dst + c0 * kc);
    }
}
