/* Portable microkernels of the direct conv path (see conv_impl.h): the
 * generic 6x16 GEMM tile with the columns read from x + off[k]. */
#include "kernels/conv_impl.h"

#include <string.h>

/* `halves` halves of 8 columns, as the generic GEMM kernel */
static void conv_tile(size_t halves, size_t kc, const float *a, const float *x,
                      const ptrdiff_t *off, size_t xh, float *c, size_t ldc, size_t ch,
                      size_t mr, size_t nr0, size_t nr1, const qsim__ukr_out *o)
{
    float acc[QSIM__MR * QSIM__NR];
    memset(acc, 0, sizeof acc);
    for (size_t h = 0; h < halves; h++) {
        float t[QSIM__MR][8];
        memset(t, 0, sizeof t);
        for (size_t k = 0; k < kc; k++) {
            const float *ak = a + k * QSIM__MR;
            const float *xk = x + off[k] + h * xh;
            for (size_t i = 0; i < QSIM__MR; i++)
                for (size_t j = 0; j < 8; j++)
                    t[i][j] += ak[i] * xk[j];
        }
        for (size_t i = 0; i < QSIM__MR; i++)
            memcpy(acc + i * QSIM__NR + 8 * h, t[i], sizeof t[i]);
    }
    qsim__ukr_out oo = *o;
    oo.alpha = 1.0f;
    oo.bias_col = NULL;
    if (!oo.last)
        oo.bias_row = NULL;
    qsim__ukr_store_tile(acc, c, ldc, mr, nr0, &oo);
    if (halves == 2 && nr1)
        qsim__ukr_store_tile(acc + 8, c + ch, ldc, mr, nr1, &oo);
}

void qsim__k_f32_conv_6x16__generic(size_t kc, const float *a, const float *x,
                                    const ptrdiff_t *off, size_t xh, float *c, size_t ldc,
                                    size_t ch, size_t mr, size_t nr0, size_t nr1,
                                    const qsim__ukr_out *o)
{
    conv_tile(2, kc, a, x, off, xh, c, ldc, ch, mr, nr0, nr1, o);
}

void qsim__k_f32_conv_6x8__generic(size_t kc, const float *a, const float *x,
                                   const ptrdiff_t *off, size_t xh, float *c, size_t ldc,
                                   size_t ch, size_t mr, size_t nr0, size_t nr1,
                                   const qsim__ukr_out *o)
{
    conv_tile(1, kc, a, x, off, xh, c, ldc, ch, mr, nr0, nr1, o);
}
