/* 2-D float MaxPool/AveragePool, one output row at a time: a portable
 * version in generic/pool.c and an AVX2 one in avx2/pool.c, picked at run
 * time. The window's input rows are first reduced column by column into a
 * padded row (pad value -inf for max, 0 for average), then each output
 * reduces kw consecutive (stride 1) or every-other (stride 2, via an
 * even/odd split) elements of it. lib/ops/pool.c keeps its general loops
 * for everything else (width dilation or stride > 2, 3-D, Indices, 8-bit).
 * Both versions do the same float operations in the same order, so they
 * give identical results. */
#ifndef QSIM_KERNELS_POOL_H
#define QSIM_KERNELS_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Largest padded row, in floats: (OW - 1) * sw + kw must not exceed it. */
#define QSIM__POOL_ROW_MAX 2048

typedef struct qsim__pool_row {
    const float *x;        /* first input row of the window (W floats each) */
    int64_t xstride;       /* floats between consecutive window rows */
    int64_t nrows;         /* window rows inside the input (0: none) */
    int64_t W, OW;         /* input and output row lengths */
    int64_t kw, sw, pl;    /* kernel width, stride (1 or 2), left pad */
    int avg;               /* 0: max; 1: sum / (rowdiv * coldiv[ox]), 0 where that is 0 */
    float rowdiv;
    const float *coldiv;   /* OW values, readable up to OW rounded up to 8 */
    float *y;              /* OW outputs */
} qsim__pool_row;

/* Returns 1 when a max pool met a NaN in the window rows: y is then not
 * written as the NaN rules want and the caller redoes the row. */
typedef int (*qsim__k_pool_row_fn)(const qsim__pool_row *a);

int qsim__k_f32_pool_row__generic(const qsim__pool_row *a);
#ifdef QSIM_HAVE_AVX2
int qsim__k_f32_pool_row__avx2(const qsim__pool_row *a);
#endif

/* Global pools over `planes` planes of n floats: y[p] = mean (summed in
 * double into 8 partial sums, element i into sum i % 8, combined as
 * ((s0+s4) + (s1+s5)) + ((s2+s6) + (s3+s7)), then divided by n) or max
 * (NaN when the plane holds one) of x[p*n .. p*n + n). n >= 1. Both
 * versions give identical results. */
typedef void (*qsim__k_global_pool_fn)(const float *x, size_t n, size_t planes, float *y,
                                       int max);

void qsim__k_f32_global_pool__generic(const float *x, size_t n, size_t planes, float *y, int max);
#ifdef QSIM_HAVE_AVX2
void qsim__k_f32_global_pool__avx2(const float *x, size_t n, size_t planes, float *y, int max);
#endif

/* The implementation to use (generic when the CPU lacks AVX2 or it was not
 * built, or qsim__cpu_force_generic is on). */
qsim__k_pool_row_fn qsim__k_f32_pool_row(void);
qsim__k_global_pool_fn qsim__k_f32_global_pool(void);

/* 1 when a row of this geometry fits the kernels. */
static inline int qsim__pool_row_fits(int64_t OW, int64_t kw, int64_t sw)
{
    return (sw == 1 || sw == 2) && kw >= 1 && OW >= 1 && OW <= QSIM__POOL_ROW_MAX &&
           kw <= QSIM__POOL_ROW_MAX && (OW - 1) * sw + kw <= QSIM__POOL_ROW_MAX;
}

#endif
