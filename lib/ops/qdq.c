/* Op family 'qdq': QuantizeLinear / DequantizeLinear, per tensor or per
 * axis (opset 13+), integer types uint8/int8/uint16/int16/int32 and (opset
 * 21) int4/uint4, which the engine holds one per byte like int8/uint8 and
 * saturates to [-8, 7] / [0, 15]. Rounding is half to even (rint in the
 * default mode) with saturation, as ONNX says. */
#include "op.h"

#include "oputil.h"
#include "../core/error.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

typedef struct qdq_plan {
    int qtype;            /* integer type of y (Quantize) or x (Dequantize) */
    size_t outer, ch, inner;   /* x viewed as [outer, ch, inner]; ch = 1 per tensor */
    const qsim__tview *scale, *zp;
} qdq_plan;

static int int_type_ok(int t)
{
    return t == QSIM__DT_UINT8 || t == QSIM__DT_INT8 || t == QSIM__DT_UINT16 ||
           t == QSIM__DT_INT16 || t == QSIM__DT_INT32 || t == QSIM__DT_UINT4 ||
           t == QSIM__DT_INT4;
}

static void type_range(int t, double *lo, double *hi)
{
    switch (t) {
    case QSIM__DT_UINT4: *lo = 0; *hi = 15; break;
    case QSIM__DT_INT4: *lo = -8; *hi = 7; break;
    case QSIM__DT_UINT8: *lo = 0; *hi = 255; break;
    case QSIM__DT_INT8: *lo = -128; *hi = 127; break;
    case QSIM__DT_UINT16: *lo = 0; *hi = 65535; break;
    case QSIM__DT_INT16: *lo = -32768; *hi = 32767; break;
    default: *lo = -2147483648.0; *hi = 2147483647.0; break;
    }
}

static qsim_status qdq_make(const qsim__node *n, int quant, const qsim__tview *in, size_t n_in,
                            qdq_plan *p)
{
    memset(p, 0, sizeof *p);
    const qsim__tview *x = &in[0];
    p->scale = &in[1];
    p->zp = qsim__in_present(in, n_in, 2) ? &in[2] : NULL;
    int64_t v;
    if (n->opset >= 21) {
        QSIM__TRY(qsim__attr_int(n, "block_size", 0, &v));
        if (v != 0)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute 'block_size' (blocked "
                              "quantization) is not supported", qsim__node_label(n));
    }
    if (quant) {
        QSIM__TRY(qsim__check_float(n, x, "input x"));
        p->qtype = p->zp ? p->zp->dtype : QSIM__DT_UINT8;
        if (n->opset >= 21) {
            QSIM__TRY(qsim__attr_int(n, "output_dtype", 0, &v));
            if (v != 0 && p->zp && v != p->zp->dtype)
                return qsim__fail(QSIM_ERR_PARSE, "%s: attribute 'output_dtype' differs from "
                                  "the zero point's type", qsim__node_label(n));
            if (v != 0)
                p->qtype = (int)v;
        }
        if (!int_type_ok(p->qtype))
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: output type %s is not supported",
                              qsim__node_label(n), qsim__dtype_name(p->qtype));
    } else {
        p->qtype = x->dtype;
        if (!int_type_ok(p->qtype))
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: input x has type %s, which is not "
                              "supported", qsim__node_label(n), qsim__dtype_name(x->dtype));
        if (p->zp && p->zp->dtype != x->dtype)
            return qsim__fail(QSIM_ERR_PARSE, "%s: zero point type %s differs from x's %s",
                              qsim__node_label(n), qsim__dtype_name(p->zp->dtype),
                              qsim__dtype_name(x->dtype));
    }
    QSIM__TRY(qsim__check_float(n, p->scale, "scale"));
    if (p->zp && quant && p->zp->dtype != p->qtype)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: zero point has type %s",
                          qsim__node_label(n), qsim__dtype_name(p->zp->dtype));
    /* per tensor: one scale; per axis (opset 13+): a 1-D scale along axis */
    const qsim__tview *s = p->scale;
    p->outer = x->numel;
    p->ch = 1;
    p->inner = 1;
    if (s->shape.rank == 0 || (s->shape.rank == 1 && s->numel == 1 && n->opset < 13)) {
        if (s->numel != 1)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: scale %s must hold one value",
                              qsim__node_label(n), qsim__vshape(s));
    } else if (s->shape.rank == 1 && n->opset >= 13) {
        int64_t axis;
        int r = x->shape.rank;
        QSIM__TRY(qsim__attr_int(n, "axis", 1, &axis));
        if (axis < -r || axis >= r)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: attribute 'axis' = %" PRId64 " is out of "
                              "range for x %s", qsim__node_label(n), axis, qsim__vshape(x));
        if (axis < 0)
            axis += r;
        if (s->shape.dims[0] != x->shape.dims[axis] && s->numel != 1)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: scale %s does not match x %s on axis %" PRId64,
                              qsim__node_label(n), qsim__vshape(s), qsim__vshape(x), axis);
        if (s->numel != 1) {
            p->outer = 1;
            for (int i = 0; i < axis; i++)
                p->outer *= (size_t)x->shape.dims[i];
            p->ch = (size_t)x->shape.dims[axis];
            for (int i = (int)axis + 1; i < r; i++)
                p->inner *= (size_t)x->shape.dims[i];
        }
    } else {
        return qsim__fail(n->opset >= 13 ? QSIM_ERR_SHAPE : QSIM_ERR_UNSUPPORTED,
                          "%s: scale %s must be a scalar%s", qsim__node_label(n),
                          qsim__vshape(s), n->opset >= 13 ? " or 1-D" : "");
    }
    if (p->zp && (p->zp->numel != s->numel || p->zp->shape.rank != s->shape.rank))
        return qsim__fail(QSIM_ERR_SHAPE, "%s: zero point %s does not match scale %s",
                          qsim__node_label(n), qsim__vshape(p->zp), qsim__vshape(s));
    return QSIM_OK;
}

static qsim_status qdq_init(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state)
{
    QSIM__TRY(qsim__check_n_in(n, n_in, 2, 3));
    QSIM__TRY(qsim__no_extra_outputs(n, 1));
    *state = NULL;
    return QSIM_OK;
}

static qsim_status qdq_infer(void *state, const qsim__node *n, const qsim__tview *in, size_t n_in,
                             qsim__tview *out, size_t n_out, size_t *workspace)
{
    int quant = strcmp(n->op_type, "QuantizeLinear") == 0;
    qdq_plan p;
    QSIM__TRY(qsim__check_n_in(n, n_in, 2, 3));
    QSIM__TRY(qdq_make(n, quant, in, n_in, &p));
    QSIM__TRY(qsim__set_out(n, &out[0], quant ? p.qtype : QSIM__DT_FLOAT, &in[0].shape));
    *workspace = 0;
    (void)state;
    (void)n_out;
    return QSIM_OK;
}

/* Round half to even without a libm call: adding and removing 1.5 * 2^23
 * leaves the integer the current (default: nearest-even) rounding mode
 * picks; larger magnitudes are integers already (NaN passes through). */
static inline float round_even(float r)
{
    /* IEEE semantics (no -ffast-math) keep the compiler from folding this */
    if (fabsf(r) < 8388608.0f)
        return (r + 12582912.0f) - 12582912.0f;
    return r;
}

/* One loop per integer type: no type dispatch per element. */
/* ACC is float for the 8/16-bit types (q + zp is exact below 2^24 and
 * anything larger saturates anyway) and double for int32. The clamps are
 * written as selects the compiler turns into branch-free min/max. */
#define QDQ_LOOPS(T, SUFFIX, ACC)                                                              \
    static void quant_##SUFFIX(const qdq_plan *p, const float *x, const float *sc, T *y,       \
                               double lo_, double hi_)                                         \
    {                                                                                          \
        size_t i = 0;                                                                          \
        ACC lo = (ACC)lo_, hi = (ACC)hi_;                                                      \
        for (size_t o = 0; o < p->outer; o++)                                                  \
            for (size_t c = 0; c < p->ch; c++) {                                               \
                float s = sc[c];                                                               \
                ACC zp = p->zp ? (ACC)((const T *)p->zp->data)[c] : (ACC)0;                    \
                for (size_t j = 0; j < p->inner; j++, i++) {                                   \
                    float q = round_even(x[i] / s);                                            \
                    ACC v = q == q ? (ACC)q + zp : zp; /* NaN -> the zero point */             \
                    v = v > lo ? v : lo;                                                       \
                    v = v < hi ? v : hi;                                                       \
                    y[i] = (T)v;                                                               \
                }                                                                              \
            }                                                                                  \
    }                                                                                          \
    static void dequant_##SUFFIX(const qdq_plan *p, const T *x, const float *sc, float *y)     \
    {                                                                                          \
        size_t i = 0;                                                                          \
        for (size_t o = 0; o < p->outer; o++)                                                  \
            for (size_t c = 0; c < p->ch; c++) {                                               \
                float s = sc[c];                                                               \
                float zf = p->zp ? (float)((const T *)p->zp->data)[c] : 0.0f;                  \
                for (size_t j = 0; j < p->inner; j++, i++)                                     \
                    y[i] = ((float)x[i] - zf) * s;                                             \
            }                                                                                  \
    }

QDQ_LOOPS(uint8_t, u8, float)
QDQ_LOOPS(int8_t, s8, float)
QDQ_LOOPS(uint16_t, u16, float)
QDQ_LOOPS(int16_t, s16, float)
QDQ_LOOPS(int32_t, s32, double)

static qsim_status qdq_run(void *state, const qsim__node *n, const qsim__exec *ex,
                           const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    int quant = strcmp(n->op_type, "QuantizeLinear") == 0;
    qdq_plan p;
    QSIM__TRY(qdq_make(n, quant, in, n_in, &p));
    const float *sc = p.scale->data;
    double lo, hi;
    type_range(p.qtype, &lo, &hi);
    void *x = in[0].data, *y = out[0].data;
    switch (p.qtype) {
    case QSIM__DT_UINT8:
    case QSIM__DT_UINT4: /* held as uint8 */
        quant ? quant_u8(&p, x, sc, y, lo, hi) : dequant_u8(&p, x, sc, y);
        break;
    case QSIM__DT_INT8:
    case QSIM__DT_INT4: /* held as int8 */
        quant ? quant_s8(&p, x, sc, y, lo, hi) : dequant_s8(&p, x, sc, y);
        break;
    case QSIM__DT_UINT16:
        quant ? quant_u16(&p, x, sc, y, lo, hi) : dequant_u16(&p, x, sc, y);
        break;
    case QSIM__DT_INT16:
        quant ? quant_s16(&p, x, sc, y, lo, hi) : dequant_s16(&p, x, sc, y);
        break;
    default:
        quant ? quant_s32(&p, x, sc, y, lo, hi) : dequant_s32(&p, x, sc, y);
        break;
    }
    (void)state;
    (void)ex;
    (void)n_out;
    return QSIM_OK;
}

static const qsim__op_desc quant_op = {"QuantizeLinear", 0, qdq_init, qdq_infer, qdq_run,
                                       qsim__op_free_none};
static const qsim__op_desc dequant_op = {"DequantizeLinear", 0, qdq_init, qdq_infer, qdq_run,
                                         qsim__op_free_none};

const qsim__op_desc *const qsim__ops_qdq[] = {&quant_op, &dequant_op, NULL};
