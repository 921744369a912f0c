/* The internal tensor: element type, shape and a buffer. Used for
 * initializers, Constant values and the engine's run-time values. */
#ifndef QSIM_CORE_TENSOR_H
#define QSIM_CORE_TENSOR_H

#include <qsim/qsim.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"

/* Element types: the values of ONNX TensorProto.DataType. */
typedef enum qsim__dtype {
    QSIM__DT_UNDEFINED = 0,
    QSIM__DT_FLOAT = 1,
    QSIM__DT_UINT8 = 2,
    QSIM__DT_INT8 = 3,
    QSIM__DT_UINT16 = 4,
    QSIM__DT_INT16 = 5,
    QSIM__DT_INT32 = 6,
    QSIM__DT_INT64 = 7,
    QSIM__DT_STRING = 8,
    QSIM__DT_BOOL = 9,
    QSIM__DT_FLOAT16 = 10,
    QSIM__DT_DOUBLE = 11,
    QSIM__DT_UINT32 = 12,
    QSIM__DT_UINT64 = 13,
    QSIM__DT_BFLOAT16 = 16,
    QSIM__DT_UINT4 = 21,
    QSIM__DT_INT4 = 22,
} qsim__dtype;

/* Bytes per element as the engine stores it (bool as 1 byte); 0 for types
 * the engine does not hold in memory (string, undefined). int4/uint4 are
 * held unpacked, one value per byte (int4 sign-extended like int8, uint4
 * like uint8, always within [-8, 7] / [0, 15]); only the ONNX files pack
 * them two per byte (qsim__int4_packed_size). */
size_t qsim__dtype_size(int dtype);
/* "float", "int64", ... ; "dtype(N)" style names for unknown values are
 * written into a static per-thread buffer. */
const char *qsim__dtype_name(int dtype);

/* 1 for int4/uint4, 0 otherwise. */
int qsim__dtype_is_4bit(int dtype);
/* Bytes of numel int4/uint4 values packed two per byte (low nibble first;
 * an odd count leaves the last high nibble as padding). */
static inline size_t qsim__int4_packed_size(size_t numel) { return numel / 2 + numel % 2; }

typedef struct qsim__shape {
    int rank;                         /* 0 = scalar */
    int64_t dims[QSIM__MAX_RANK];     /* all >= 0 */
} qsim__shape;

/* Product of dims with overflow and negative checks; 0 on error with
 * last_error set (names `what`). */
qsim_status qsim__shape_numel(const qsim__shape *s, const char *what, size_t *out);
/* "[1,3,224,224]" into buf (always terminated). */
const char *qsim__shape_str(const qsim__shape *s, char *buf, size_t size);
int qsim__shape_equal(const qsim__shape *a, const qsim__shape *b);

typedef struct qsim__tensor {
    int dtype;
    qsim__shape shape;
    size_t numel;
    void *data;        /* numel * dtype_size bytes, 64-byte aligned, owned */
} qsim__tensor;

/* Allocate a zeroed tensor of the given type and shape. */
qsim_status qsim__tensor_new(int dtype, const qsim__shape *shape, const char *what,
                             qsim__tensor **out);
qsim__tensor *qsim__tensor_clone(const qsim__tensor *t);
void qsim__tensor_free(qsim__tensor *t);

#endif
