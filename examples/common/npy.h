/* .npy reader for the examples: our own, small and strict.
 *
 * Accepts format versions 1.0, 2.0 and 3.0, C order only, and the dtypes
 * '<f4' (copied), '<f8', '<f2', '|u1', '|i1', '<i4', '<i8', '|b1' (converted
 * to float32; large integers round). Big-endian data, fortran_order True,
 * structured or object dtypes, unknown header keys, a data size that does not
 * match the shape, and headers over QEX_NPY_MAX_HEADER bytes are errors. */
#ifndef QEX_NPY_H
#define QEX_NPY_H

#include <stddef.h>

#include "qex_util.h"

#define QEX_NPY_MAX_DIMS 8
#define QEX_NPY_MAX_HEADER ((size_t)1 << 20)
#define QEX_NPY_MAX_BYTES ((size_t)1 << 31)

typedef struct qex_npy {
    float *data;                    /* count floats, C order (NULL if count is 0) */
    size_t ndim;                    /* 0 for a scalar (count 1) */
    size_t shape[QEX_NPY_MAX_DIMS];
    size_t count;                   /* prod(shape) */
    char descr[8];                  /* dtype as stored, e.g. "<f4" */
} qex_npy;

/* Reads a .npy file. On success *out owns its data (qex_npy_free); on
 * failure *out is zeroed and err names the file and the problem. */
int qex_npy_read(const char *path, qex_npy *out, qex_err *err);

/* Same, from memory; `name` is used in messages only. */
int qex_npy_parse(const void *buf, size_t len, const char *name, qex_npy *out, qex_err *err);

void qex_npy_free(qex_npy *npy);

#endif
