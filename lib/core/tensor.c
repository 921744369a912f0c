#include "tensor.h"

#include "alloc.h"
#include "error.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

size_t qsim__dtype_size(int dtype)
{
    switch (dtype) {
    case QSIM__DT_FLOAT: case QSIM__DT_INT32: case QSIM__DT_UINT32: return 4;
    case QSIM__DT_UINT8: case QSIM__DT_INT8: case QSIM__DT_BOOL: return 1;
    case QSIM__DT_UINT4: case QSIM__DT_INT4: return 1; /* unpacked, see tensor.h */
    case QSIM__DT_UINT16: case QSIM__DT_INT16: case QSIM__DT_FLOAT16: case QSIM__DT_BFLOAT16: return 2;
    case QSIM__DT_INT64: case QSIM__DT_DOUBLE: case QSIM__DT_UINT64: return 8;
    default: return 0;
    }
}

int qsim__dtype_is_4bit(int dtype)
{
    return dtype == QSIM__DT_UINT4 || dtype == QSIM__DT_INT4;
}

const char *qsim__dtype_name(int dtype)
{
    switch (dtype) {
    case QSIM__DT_UNDEFINED: return "undefined";
    case QSIM__DT_FLOAT: return "float";
    case QSIM__DT_UINT8: return "uint8";
    case QSIM__DT_INT8: return "int8";
    case QSIM__DT_UINT16: return "uint16";
    case QSIM__DT_INT16: return "int16";
    case QSIM__DT_INT32: return "int32";
    case QSIM__DT_INT64: return "int64";
    case QSIM__DT_STRING: return "string";
    case QSIM__DT_BOOL: return "bool";
    case QSIM__DT_FLOAT16: return "float16";
    case QSIM__DT_DOUBLE: return "double";
    case QSIM__DT_UINT32: return "uint32";
    case QSIM__DT_UINT64: return "uint64";
    case QSIM__DT_BFLOAT16: return "bfloat16";
    case QSIM__DT_UINT4: return "uint4";
    case QSIM__DT_INT4: return "int4";
    default: {
        static _Thread_local char buf[32];
        snprintf(buf, sizeof buf, "dtype(%d)", dtype);
        return buf;
    }
    }
}

qsim_status qsim__shape_numel(const qsim__shape *s, const char *what, size_t *out)
{
    if (s->rank < 0 || s->rank > QSIM__MAX_RANK)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: rank %d is outside 0..%d", what, s->rank,
                          QSIM__MAX_RANK);
    size_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->dims[i] < 0)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: dimension %d is negative (%" PRId64 ")", what,
                              i, s->dims[i]);
        if ((uint64_t)s->dims[i] > SIZE_MAX || !qsim__mul_size(n, (size_t)s->dims[i], &n))
            return qsim__fail(QSIM_ERR_SHAPE, "%s: element count overflows", what);
    }
    *out = n;
    return QSIM_OK;
}

const char *qsim__shape_str(const qsim__shape *s, char *buf, size_t size)
{
    size_t pos = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    int n = snprintf(buf, size, "[");
    pos = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < s->rank && pos < size; i++) {
        n = snprintf(buf + pos, size - pos, "%s%" PRId64, i ? "," : "", s->dims[i]);
        if (n < 0)
            break;
        pos += (size_t)n;
    }
    if (pos < size)
        snprintf(buf + pos, size - pos, "]");
    return buf;
}

int qsim__shape_equal(const qsim__shape *a, const qsim__shape *b)
{
    if (a->rank != b->rank)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return 0;
    return 1;
}

qsim_status qsim__tensor_new(int dtype, const qsim__shape *shape, const char *what,
                             qsim__tensor **out)
{
    size_t es = qsim__dtype_size(dtype);
    if (es == 0)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: element type %s is not supported", what,
                          qsim__dtype_name(dtype));
    size_t numel, bytes;
    QSIM__TRY(qsim__shape_numel(shape, what, &numel));
    if (!qsim__mul_size(numel, es, &bytes) || bytes > QSIM__MAX_TENSOR_BYTES)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: %zu elements of %s exceed the tensor size limit",
                          what, numel, qsim__dtype_name(dtype));
    qsim__tensor *t = qsim__calloc(1, sizeof *t);
    if (!t)
        return qsim__oom();
    t->data = qsim__malloc_aligned(bytes);
    if (!t->data) {
        qsim__free(t);
        return qsim__oom();
    }
    memset(t->data, 0, bytes);
    t->dtype = dtype;
    t->shape = *shape;
    t->numel = numel;
    *out = t;
    return QSIM_OK;
}

qsim__tensor *qsim__tensor_clone(const qsim__tensor *t)
{
    qsim__tensor *c;
    if (qsim__tensor_new(t->dtype, &t->shape, "clone", &c) != QSIM_OK)
        return NULL;
    memcpy(c->data, t->data, t->numel * qsim__dtype_size(t->dtype));
    return c;
}

void qsim__tensor_free(qsim__tensor *t)
{
    if (!t)
        return;
    qsim__free_aligned(t->data);
    qsim__free(t);
}
