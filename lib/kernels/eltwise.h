/* Elementwise float32 kernels (unary activations, affine, binary
 * arithmetic): a portable version in generic/eltwise.c and an AVX2/FMA one
 * in avx2/eltwise.c, picked at run time. Pure functions over buffers. */
#ifndef QSIM_KERNELS_ELTWISE_H
#define QSIM_KERNELS_ELTWISE_H

#include <stddef.h>

typedef enum qsim__unary {
    QSIM__UN_RELU = 0,        /* max(x, 0) */
    QSIM__UN_LEAKY_RELU,      /* x < 0 ? a*x : x */
    QSIM__UN_CLIP,            /* min(max(x, a), b) */
    QSIM__UN_SIGMOID,         /* 1 / (1 + exp(-x)) */
    QSIM__UN_HARD_SIGMOID,    /* max(0, min(1, a*x + b)) */
    QSIM__UN_HARD_SWISH,      /* x * max(0, min(1, x/6 + 1/2)) */
    QSIM__UN_TANH,
    QSIM__UN_ERF,
    QSIM__UN_SQRT,
    QSIM__UN_AFFINE,          /* a*x + b (BatchNorm-like, one channel) */
    QSIM__UN_EXP,             /* exp(x - a) (Softmax after its max) */
    QSIM__UN_COUNT
} qsim__unary;

typedef enum qsim__binary {
    QSIM__BIN_ADD = 0,
    QSIM__BIN_SUB,
    QSIM__BIN_MUL,
    QSIM__BIN_DIV,
    QSIM__BIN_COUNT
} qsim__binary;

/* y[i] = f(x[i]) for i < n; y may equal x. */
typedef void (*qsim__k_unary_fn)(int op, const float *x, float *y, size_t n, float a, float b);
/* y[i] = a[i*sa] OP b[i*sb], sa and sb 0 (broadcast one value) or 1; y may
 * equal a or b. */
typedef void (*qsim__k_binary_fn)(int op, const float *a, size_t sa, const float *b, size_t sb,
                                  float *y, size_t n);

void qsim__k_f32_unary__generic(int op, const float *x, float *y, size_t n, float a, float b);
void qsim__k_f32_binary__generic(int op, const float *a, size_t sa, const float *b, size_t sb,
                                 float *y, size_t n);
#ifdef QSIM_HAVE_AVX2
void qsim__k_f32_unary__avx2(int op, const float *x, float *y, size_t n, float a, float b);
void qsim__k_f32_binary__avx2(int op, const float *a, size_t sa, const float *b, size_t sb,
                              float *y, size_t n);
#endif

/* The implementation to use: generic when `force_generic` is set, the CPU
 * lacks AVX2/FMA or it was not built. */
qsim__k_unary_fn qsim__k_f32_unary(int force_generic);
qsim__k_binary_fn qsim__k_f32_binary(int force_generic);

#endif
