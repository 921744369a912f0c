/* TensorProto -> qsim__tensor. The data may be in raw_data (little-endian
 * bytes), in one of the typed repeated fields, or in an external file. The
 * amount of data must match the declared shape exactly: both shorter and
 * longer data are errors, since either means the model is corrupt.
 * int4/uint4 are stored packed two per byte and unpacked here (one byte
 * per value, see core/tensor.h). */
#include "loader.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

qsim_status qsim__onnx_tensor_shape(const Onnx__TensorProto *tp, const char *what,
                                    qsim__shape *shape, size_t *numel)
{
    if (tp->n_dims > QSIM__MAX_RANK)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: rank %zu exceeds the supported maximum of %d",
                          what, tp->n_dims, QSIM__MAX_RANK);
    memset(shape, 0, sizeof *shape);
    shape->rank = (int)tp->n_dims;
    for (size_t i = 0; i < tp->n_dims; i++)
        shape->dims[i] = tp->dims[i];
    return qsim__shape_numel(shape, what, numel);
}

/* Swap bytes of each element on big-endian hosts: ONNX raw_data and
 * external data are little-endian. */
static void from_le(void *data, size_t numel, size_t es)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint8_t *p = data;
    for (size_t i = 0; i < numel; i++, p += es)
        for (size_t a = 0, b = es - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
#else
    (void)data;
    (void)numel;
    (void)es;
#endif
}

static const char *shape_text(const qsim__shape *s)
{
    static _Thread_local char buf[200];
    return qsim__shape_str(s, buf, sizeof buf);
}

/* Copy from the typed field (its length was checked against the shape).
 * The typed repeated fields: int32_data carries every type of 32 bits or
 * less (float16/bfloat16 as their bit patterns), uint64_data the unsigned
 * 32/64-bit types. */
static qsim_status decode_typed(const Onnx__TensorProto *tp, const char *what, qsim__tensor *t)
{
    size_t n = t->numel;
    switch (t->dtype) {
    case QSIM__DT_FLOAT:
        if (n)
            memcpy(t->data, tp->float_data, n * sizeof(float));
        return QSIM_OK;
    case QSIM__DT_DOUBLE:
        if (n)
            memcpy(t->data, tp->double_data, n * sizeof(double));
        return QSIM_OK;
    case QSIM__DT_INT64:
        if (n)
            memcpy(t->data, tp->int64_data, n * sizeof(int64_t));
        return QSIM_OK;
    case QSIM__DT_UINT32:
    case QSIM__DT_UINT64:
        for (size_t i = 0; i < n; i++) {
            if (t->dtype == QSIM__DT_UINT32)
                ((uint32_t *)t->data)[i] = (uint32_t)tp->uint64_data[i];
            else
                ((uint64_t *)t->data)[i] = tp->uint64_data[i];
        }
        return QSIM_OK;
    default:
        break;
    }
    const int32_t *s = tp->int32_data;
    for (size_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case QSIM__DT_INT32: ((int32_t *)t->data)[i] = s[i]; break;
        case QSIM__DT_INT16: ((int16_t *)t->data)[i] = (int16_t)s[i]; break;
        case QSIM__DT_UINT16:
        case QSIM__DT_FLOAT16:
        case QSIM__DT_BFLOAT16: ((uint16_t *)t->data)[i] = (uint16_t)s[i]; break;
        case QSIM__DT_INT8: ((int8_t *)t->data)[i] = (int8_t)s[i]; break;
        case QSIM__DT_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)s[i]; break;
        case QSIM__DT_BOOL: ((uint8_t *)t->data)[i] = s[i] != 0; break;
        default: return qsim__fail(QSIM_ERR_INTERNAL, "%s: no typed field for dtype", what);
        }
    }
    return QSIM_OK;
}

/* The typed field that holds this dtype, and its length. */
static size_t typed_field(const Onnx__TensorProto *tp, int dtype, const char **field)
{
    switch (dtype) {
    case QSIM__DT_FLOAT: *field = "float_data"; return tp->n_float_data;
    case QSIM__DT_DOUBLE: *field = "double_data"; return tp->n_double_data;
    case QSIM__DT_INT64: *field = "int64_data"; return tp->n_int64_data;
    case QSIM__DT_UINT32:
    case QSIM__DT_UINT64: *field = "uint64_data"; return tp->n_uint64_data;
    default: *field = "int32_data"; return tp->n_int32_data;
    }
}

static size_t typed_count(const Onnx__TensorProto *tp)
{
    return tp->n_float_data + tp->n_int32_data + tp->n_int64_data + tp->n_double_data +
           tp->n_uint64_data + tp->n_string_data;
}

/* int4/uint4 (ONNX 1.16, opset 21): two values per byte, the first in the
 * low nibble; an odd count pads the last high nibble (ignored). Unpacked
 * into one byte each, int4 sign-extended. src holds packed_size bytes. */
static void unpack4(const uint8_t *src, size_t numel, int is_signed, uint8_t *dst)
{
    for (size_t i = 0; i < numel; i++) {
        unsigned nib = (i & 1) ? (unsigned)src[i / 2] >> 4 : (unsigned)src[i / 2] & 0xfu;
        dst[i] = is_signed ? (uint8_t)(int8_t)((int)(nib ^ 8u) - 8) : (uint8_t)nib;
    }
}

/* 4-bit int32_data: one packed byte per entry. Negative entries are
 * accepted as the same byte written as int8; anything else is corrupt. */
static qsim_status unpack4_typed(const Onnx__TensorProto *tp, const char *what, qsim__tensor *t)
{
    size_t nb = qsim__int4_packed_size(t->numel);
    uint8_t *tmp = qsim__malloc(nb ? nb : 1);
    if (!tmp)
        return qsim__oom();
    for (size_t i = 0; i < nb; i++) {
        int32_t v = tp->int32_data[i];
        if (v < -128 || v > 255) {
            qsim__free(tmp);
            return qsim__fail(QSIM_ERR_PARSE, "%s: int32_data[%zu] = %" PRId32 " is not a byte of "
                              "two packed %s values", what, i, v, qsim__dtype_name(t->dtype));
        }
        tmp[i] = (uint8_t)(v & 0xff);
    }
    unpack4(tmp, t->numel, t->dtype == QSIM__DT_INT4, t->data);
    qsim__free(tmp);
    return QSIM_OK;
}

/* Read packed 4-bit external data (bytes = packed size) and unpack. */
static qsim_status read_external4(int fd, uint64_t offset, const char *what, qsim__tensor *t,
                                  size_t bytes)
{
    uint8_t *tmp = qsim__malloc(bytes ? bytes : 1);
    if (!tmp) {
        close(fd);
        return qsim__oom();
    }
    qsim_status st = qsim__onnx_read_external(fd, offset, what, tmp, bytes);
    if (st == QSIM_OK)
        unpack4(tmp, t->numel, t->dtype == QSIM__DT_INT4, t->data);
    qsim__free(tmp);
    return st;
}

qsim_status qsim__onnx_decode_tensor(const qsim__onnx_ctx *ctx, const Onnx__TensorProto *tp,
                                     const char *what, qsim__tensor **out)
{
    int dtype = tp->has_data_type ? tp->data_type : 0;
    size_t es = qsim__dtype_size(dtype);
    int four = qsim__dtype_is_4bit(dtype);
    if (es == 0)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: element type %s is not supported", what,
                          qsim__dtype_name(dtype));
    qsim__shape shape;
    size_t numel, bytes;
    QSIM__TRY(qsim__onnx_tensor_shape(tp, what, &shape, &numel));
    if (!qsim__mul_size(numel, es, &bytes) || bytes > QSIM__MAX_TENSOR_BYTES)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: shape %s of %s exceeds the tensor size limit", what,
                          shape_text(&shape), qsim__dtype_name(dtype));
    /* bytes in the file (raw_data, external data); 4-bit types are packed */
    size_t stored = four ? qsim__int4_packed_size(numel) : bytes;
    int external = tp->has_data_location &&
                   tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (!external && tp->has_raw_data && typed_count(tp) > 0)
        return qsim__fail(QSIM_ERR_PARSE, "%s: has both raw_data and typed data", what);
    if (!external && tp->has_raw_data && tp->raw_data.len != stored)
        return qsim__fail(QSIM_ERR_PARSE,
                          "%s: raw_data has %zu bytes but shape %s of %s needs %zu%s (data too %s)",
                          what, tp->raw_data.len, shape_text(&shape), qsim__dtype_name(dtype),
                          stored, four ? " (two values per byte)" : "",
                          tp->raw_data.len < stored ? "short" : "long");
    /* Check that the data is all there before allocating for the shape,
     * so a small file cannot make us allocate gigabytes. */
    if (!external && !tp->has_raw_data) {
        const char *field;
        size_t have = typed_field(tp, dtype, &field);
        size_t need = four ? stored : numel;
        if (have != need)
            return qsim__fail(QSIM_ERR_PARSE,
                              "%s: %s has %zu values but shape %s of %s needs %zu%s (%s)", what,
                              field, have, shape_text(&shape), qsim__dtype_name(dtype), need,
                              four ? " (two values per entry)" : "",
                              have < need ? "data too short" : "data too long");
    }
    int fd = -1;
    uint64_t offset = 0;
    if (external)
        QSIM__TRY(qsim__onnx_open_external(ctx, tp, what, stored, &fd, &offset));

    qsim__tensor *t;
    qsim_status st = qsim__tensor_new(dtype, &shape, what, &t);
    if (st != QSIM_OK) {
        if (fd >= 0)
            close(fd);
        return st;
    }
    if (external && four) {
        st = read_external4(fd, offset, what, t, stored);
    } else if (external) {
        st = qsim__onnx_read_external(fd, offset, what, t->data, bytes);
        if (st == QSIM_OK)
            from_le(t->data, numel, es);
    } else if (tp->has_raw_data && four) {
        unpack4(tp->raw_data.data, numel, dtype == QSIM__DT_INT4, t->data);
    } else if (tp->has_raw_data) {
        if (bytes)
            memcpy(t->data, tp->raw_data.data, bytes);
        from_le(t->data, numel, es);
    } else if (four) {
        st = unpack4_typed(tp, what, t);
    } else {
        st = decode_typed(tp, what, t);
    }
    if (st == QSIM_OK && dtype == QSIM__DT_BOOL && (external || tp->has_raw_data)) {
        uint8_t *b = t->data;
        for (size_t i = 0; i < numel; i++)
            b[i] = b[i] != 0;
    }
    if (st != QSIM_OK) {
        qsim__tensor_free(t);
        return st;
    }
    *out = t;
    return QSIM_OK;
}
