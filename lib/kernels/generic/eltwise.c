/* Portable elementwise kernels: the reference the AVX2 versions are tested
 * against. libm for the transcendental functions. */
#include "../eltwise.h"

#include <math.h>

static float unary1(int op, float x, float a, float b)
{
    switch (op) {
    case QSIM__UN_RELU: return x > 0.0f ? x : 0.0f;
    case QSIM__UN_LEAKY_RELU: return x < 0.0f ? a * x : x;
    case QSIM__UN_CLIP: return x < a ? a : (x > b ? b : x);
    case QSIM__UN_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case QSIM__UN_HARD_SIGMOID: {
        float v = a * x + b;
        return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
    case QSIM__UN_HARD_SWISH: {
        float v = x * (1.0f / 6.0f) + 0.5f;
        return x * (v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v));
    }
    case QSIM__UN_TANH: return tanhf(x);
    case QSIM__UN_ERF: return erff(x);
    case QSIM__UN_SQRT: return sqrtf(x);
    case QSIM__UN_AFFINE: return a * x + b;
    case QSIM__UN_EXP: return expf(x - a);
    default: return x;
    }
}

void qsim__k_f32_unary__generic(int op, const float *x, float *y, size_t n, float a, float b)
{
    switch (op) {
    case QSIM__UN_RELU:
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        return;
    case QSIM__UN_AFFINE:
        for (size_t i = 0; i < n; i++)
            y[i] = a * x[i] + b;
        return;
    default:
        for (size_t i = 0; i < n; i++)
            y[i] = unary1(op, x[i], a, b);
    }
}

void qsim__k_f32_binary__generic(int op, const float *a, size_t sa, const float *b, size_t sb,
                                 float *y, size_t n)
{
    switch (op) {
    case QSIM__BIN_ADD:
        for (size_t i = 0; i < n; i++)
            y[i] = a[i * sa] + b[i * sb];
        return;
    case QSIM__BIN_SUB:
        for (size_t i = 0; i < n; i++)
            y[i] = a[i * sa] - b[i * sb];
        return;
    case QSIM__BIN_MUL:
        for (size_t i = 0; i < n; i++)
            y[i] = a[i * sa] * b[i * sb];
        return;
    case QSIM__BIN_DIV:
        for (size_t i = 0; i < n; i++)
            y[i] = a[i * sa] / b[i * sb];
        return;
    default:
        return;
    }
}
