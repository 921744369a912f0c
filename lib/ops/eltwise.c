/* Op family 'eltwise': activations, Clip, PRelu, the binary arithmetic and
 * comparison ops with numpy broadcasting, and Where. float32 runs through
 * the vectorized kernels (lib/kernels/eltwise.h); other types take a typed
 * element-by-element path (int64 shape math, uint8, double, ...). */
#include "lightops.h"

#include "../core/error.h"
#include "../kernels/eltwise.h"

#include <math.h>
#include <string.h>

/* ---- unary activations ------------------------------------------------ */

/* Kinds beyond the kernel table (plain loops): ops that function-expanded
 * models use (Softmax, LayerNormalization bodies). */
enum { UN_NEG = 100, UN_RECIPROCAL, UN_EXP };

typedef struct unary_state {
    int kind;       /* qsim__unary */
    float a, b;     /* attributes */
} unary_state;

static qsim_status unary_init_kind(const qsim__node *n, int kind, void **state)
{
    unary_state st = {kind, 0.0f, 0.0f};
    switch (kind) {
    case QSIM__UN_LEAKY_RELU:
        QSIM__TRY(qsim__attr_float(n, "alpha", 0.01f, &st.a));
        break;
    case QSIM__UN_HARD_SIGMOID:
        QSIM__TRY(qsim__attr_float(n, "alpha", 0.2f, &st.a));
        QSIM__TRY(qsim__attr_float(n, "beta", 0.5f, &st.b));
        break;
    case QSIM__UN_CLIP:
        st.a = -INFINITY;
        st.b = INFINITY;
        if (n->opset < 11) {
            QSIM__TRY(qsim__attr_float(n, "min", -INFINITY, &st.a));
            QSIM__TRY(qsim__attr_float(n, "max", INFINITY, &st.b));
        }
        break;
    default:
        break;
    }
    return qsim__lo_state(&st, sizeof st, state);
}

#define UNARY_INIT(fn, kind)                                                                     \
    static qsim_status fn(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state) \
    {                                                                                            \
        (void)in;                                                                                \
        (void)n_in;                                                                              \
        return unary_init_kind(n, kind, state);                                                  \
    }
UNARY_INIT(relu_init, QSIM__UN_RELU)
UNARY_INIT(leaky_init, QSIM__UN_LEAKY_RELU)
UNARY_INIT(clip_init, QSIM__UN_CLIP)
UNARY_INIT(sigmoid_init, QSIM__UN_SIGMOID)
UNARY_INIT(hsig_init, QSIM__UN_HARD_SIGMOID)
UNARY_INIT(hswish_init, QSIM__UN_HARD_SWISH)
UNARY_INIT(tanh_init, QSIM__UN_TANH)
UNARY_INIT(erf_init, QSIM__UN_ERF)
UNARY_INIT(sqrt_init, QSIM__UN_SQRT)
UNARY_INIT(neg_init, UN_NEG)
UNARY_INIT(recip_init, UN_RECIPROCAL)
UNARY_INIT(exp_init, UN_EXP)

static qsim_status unary_infer(void *state, const qsim__node *n, const qsim__tview *in,
                               size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    const unary_state *st = state;
    if (n_in < 1 || !in[0].dtype || n_out < 1)
        return qsim__fail(QSIM_ERR_PARSE, "%s: needs one input and one output",
                          qsim__node_label(n));
    int dt = in[0].dtype;
    int ok = dt == QSIM__DT_FLOAT ||
             ((st->kind == QSIM__UN_RELU || st->kind == QSIM__UN_CLIP || st->kind == UN_NEG) &&
              (qsim__lo_is_int(dt) || qsim__lo_is_float(dt))) ||
             (qsim__lo_is_float(dt) && st->kind != QSIM__UN_AFFINE);
    if (!ok || dt == QSIM__DT_BOOL)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: input type %s is not supported",
                          qsim__node_label(n), qsim__dtype_name(dt));
    if (st->kind == QSIM__UN_CLIP)
        for (size_t k = 1; k < n_in && k < 3; k++)
            if (in[k].dtype && (in[k].dtype != dt || in[k].numel != 1))
                return qsim__fail(QSIM_ERR_SHAPE, "%s: %s must be a scalar of the input's type",
                                  qsim__node_label(n), k == 1 ? "min" : "max");
    out[0].dtype = dt;
    out[0].shape = in[0].shape;
    *ws = 0;
    return QSIM_OK;
}

typedef struct unary_task {
    qsim__k_unary_fn k;
    int kind;
    const float *x;
    float *y;
    size_t n;
    float a, b;
} unary_task;

static void unary_chunk(void *c, size_t task, int thread)
{
    (void)thread;
    const unary_task *t = c;
    size_t s = task * QSIM__LO_CHUNK, e = s + QSIM__LO_CHUNK;
    if (e > t->n)
        e = t->n;
    t->k(t->kind, t->x + s, t->y + s, e - s, t->a, t->b);
}

static double unary_double(int kind, double x, double a, double b)
{
    switch (kind) {
    case QSIM__UN_RELU: return x > 0 ? x : 0;
    case QSIM__UN_LEAKY_RELU: return x < 0 ? a * x : x;
    case QSIM__UN_CLIP: return x < a ? a : (x > b ? b : x);
    case QSIM__UN_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case QSIM__UN_HARD_SIGMOID: return fmax(0.0, fmin(1.0, a * x + b));
    case QSIM__UN_HARD_SWISH: return x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5));
    case QSIM__UN_TANH: return tanh(x);
    case QSIM__UN_ERF: return erf(x);
    case QSIM__UN_SQRT: return sqrt(x);
    case UN_NEG: return -x;
    case UN_RECIPROCAL: return 1.0 / x;
    case UN_EXP: return exp(x);
    default: return a * x + b;
    }
}

static qsim_status unary_run(void *state, const qsim__node *n, const qsim__exec *ex,
                             const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    const unary_state *st = state;
    int dt = in[0].dtype;
    float a = st->a, b = st->b;
    if (st->kind == QSIM__UN_CLIP && dt == QSIM__DT_FLOAT) {
        if (n_in > 1 && in[1].dtype && in[1].data)
            a = ((const float *)in[1].data)[0];
        if (n_in > 2 && in[2].dtype && in[2].data)
            b = ((const float *)in[2].data)[0];
    }
    if (dt == QSIM__DT_FLOAT && (st->kind == UN_NEG || st->kind == UN_RECIPROCAL)) {
        const float *x = in[0].data;
        float *y = out[0].data;
        for (size_t i = 0; i < in[0].numel; i++)
            y[i] = st->kind == UN_NEG ? -x[i] : 1.0f / x[i];
        return QSIM_OK;
    }
    if (dt == QSIM__DT_FLOAT) {
        int kind = st->kind == UN_EXP ? QSIM__UN_EXP : st->kind;
        if (st->kind == UN_EXP)
            a = 0.0f; /* exp(x - 0) */
        unary_task t = {qsim__k_f32_unary(0), kind, in[0].data, out[0].data,
                        in[0].numel, a, b};
        size_t tasks = (t.n + QSIM__LO_CHUNK - 1) / QSIM__LO_CHUNK;
        if (tasks <= 1)
            t.k(t.kind, t.x, t.y, t.n, a, b);
        else
            qsim__pool_run(ex->pool, tasks, unary_chunk, &t);
        return QSIM_OK;
    }
    if (qsim__lo_is_int(dt) && st->kind == UN_NEG) {
        for (size_t i = 0; i < in[0].numel; i++)
            qsim__lo_set_i(out[0].data, dt, i,
                           (int64_t)(0 - (uint64_t)qsim__lo_get_i(in[0].data, dt, i)));
        return QSIM_OK;
    }
    if (qsim__lo_is_int(dt)) { /* Relu / Clip on integers */
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        if (st->kind == QSIM__UN_CLIP) {
            if (n_in > 1 && in[1].dtype && in[1].data)
                lo = qsim__lo_get_i(in[1].data, dt, 0);
            if (n_in > 2 && in[2].dtype && in[2].data)
                hi = qsim__lo_get_i(in[2].data, dt, 0);
        } else
            lo = 0;
        for (size_t i = 0; i < in[0].numel; i++) {
            int64_t v = qsim__lo_get_i(in[0].data, dt, i);
            qsim__lo_set_i(out[0].data, dt, i, v < lo ? lo : (v > hi ? hi : v));
        }
        return QSIM_OK;
    }
    double da = a, db = b;
    if (st->kind == QSIM__UN_CLIP) {
        da = -INFINITY;
        db = INFINITY;
        if (n_in > 1 && in[1].dtype && in[1].data)
            da = qsim__lo_get_f(in[1].data, dt, 0);
        if (n_in > 2 && in[2].dtype && in[2].data)
            db = qsim__lo_get_f(in[2].data, dt, 0);
    }
    for (size_t i = 0; i < in[0].numel; i++)
        qsim__lo_set_f(out[0].data, dt, i,
                       unary_double(st->kind, qsim__lo_get_f(in[0].data, dt, i), da, db));
    (void)n_out;
    (void)n;
    return QSIM_OK;
}

#define UNARY_DESC(var, name, initfn)                                                          \
    static const qsim__op_desc var = {name,        QSIM__OP_INPLACE, initfn, unary_infer,       \
                                      unary_run,   qsim__lo_state_free}
UNARY_DESC(op_relu, "Relu", relu_init);
UNARY_DESC(op_leaky, "LeakyRelu", leaky_init);
UNARY_DESC(op_clip, "Clip", clip_init);
UNARY_DESC(op_sigmoid, "Sigmoid", sigmoid_init);
UNARY_DESC(op_hsig, "HardSigmoid", hsig_init);
UNARY_DESC(op_hswish, "HardSwish", hswish_init);
UNARY_DESC(op_tanh, "Tanh", tanh_init);
UNARY_DESC(op_erf, "Erf", erf_init);
UNARY_DESC(op_sqrt, "Sqrt", sqrt_init);
UNARY_DESC(op_neg, "Neg", neg_init);
UNARY_DESC(op_recip, "Reciprocal", recip_init);
UNARY_DESC(op_exp, "Exp", exp_init);

/* ---- binary ops with broadcasting ------------------------------------- */

enum { B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_EQUAL, B_PRELU, B_WHERE };

typedef struct bin_state {
    int kind;
    int legacy_axis; /* opset < 7 with broadcast=1: B aligned at this axis; -1 none */
} bin_state;

static qsim_status bin_init_kind(const qsim__node *n, int kind, void **state)
{
    bin_state st = {kind, -1};
    if (n->opset < 7 && (kind <= B_POW || kind == B_EQUAL)) {
        int64_t bc, axis;
        QSIM__TRY(qsim__attr_int(n, "broadcast", 0, &bc));
        QSIM__TRY(qsim__attr_int(n, "axis", -1, &axis));
        if (bc && qsim__node_attr(n, "axis"))
            st.legacy_axis = (int)(axis < 0 ? axis : axis);
        if (bc && !qsim__node_attr(n, "axis"))
            st.legacy_axis = -2; /* numpy-style suffix alignment */
    }
    return qsim__lo_state(&st, sizeof st, state);
}

#define BIN_INIT(fn, kind)                                                                       \
    static qsim_status fn(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state) \
    {                                                                                            \
        (void)in;                                                                                \
        (void)n_in;                                                                              \
        return bin_init_kind(n, kind, state);                                                    \
    }
BIN_INIT(add_init, B_ADD)
BIN_INIT(sub_init, B_SUB)
BIN_INIT(mul_init, B_MUL)
BIN_INIT(div_init, B_DIV)
BIN_INIT(pow_init, B_POW)
BIN_INIT(equal_init, B_EQUAL)
BIN_INIT(prelu_init, B_PRELU)
BIN_INIT(where_init, B_WHERE)

/* Inputs as seen by the broadcast: the legacy axis form pads B's shape
 * with trailing 1s so that it lines up at `axis`. */
static qsim_status bin_views(const bin_state *st, const qsim__node *n, const qsim__tview *in,
                             size_t n_in, qsim__tview *v)
{
    size_t want = st->kind == B_WHERE ? 3 : 2;
    if (n_in < want)
        return qsim__fail(QSIM_ERR_PARSE, "%s: needs %zu inputs", qsim__node_label(n), want);
    for (size_t k = 0; k < want; k++) {
        if (!in[k].dtype)
            return qsim__fail(QSIM_ERR_PARSE, "%s: input %zu is missing", qsim__node_label(n), k);
        v[k] = in[k];
    }
    if (st->legacy_axis >= 0 || st->legacy_axis < -2) {
        int ra = in[0].shape.rank, rb = in[1].shape.rank;
        int axis = st->legacy_axis < 0 ? st->legacy_axis + ra : st->legacy_axis;
        if (axis < 0 || axis + rb > ra)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: legacy broadcast axis %d does not fit shapes %s and %s",
                              qsim__node_label(n), st->legacy_axis, qsim__lo_shape(&in[0].shape, 0),
                              qsim__lo_shape(&in[1].shape, 1));
        qsim__shape s = in[1].shape;
        for (int d = rb; d < ra - axis; d++)
            s.dims[d] = 1;
        s.rank = ra - axis;
        v[1].shape = s;
    }
    return QSIM_OK;
}

static qsim_status bin_infer(void *state, const qsim__node *n, const qsim__tview *in, size_t n_in,
                             qsim__tview *out, size_t n_out, size_t *ws)
{
    const bin_state *st = state;
    qsim__tview v[3];
    QSIM__TRY(bin_views(st, n, in, n_in, v));
    size_t nv = st->kind == B_WHERE ? 3 : 2;
    int dt = v[0].dtype;
    if (st->kind == B_WHERE) {
        if (v[0].dtype != QSIM__DT_BOOL)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: condition must be bool, not %s",
                              qsim__node_label(n), qsim__dtype_name(v[0].dtype));
        if (v[1].dtype != v[2].dtype)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: X is %s but Y is %s", qsim__node_label(n),
                              qsim__dtype_name(v[1].dtype), qsim__dtype_name(v[2].dtype));
        dt = v[1].dtype;
    } else if (st->kind != B_POW && v[0].dtype != v[1].dtype) {
        return qsim__fail(QSIM_ERR_SHAPE, "%s: input types differ (%s and %s)",
                          qsim__node_label(n), qsim__dtype_name(v[0].dtype),
                          qsim__dtype_name(v[1].dtype));
    }
    for (size_t k = 0; k < nv; k++) {
        int t = v[k].dtype;
        if (!(qsim__lo_is_float(t) || qsim__lo_is_int(t)))
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: input type %s is not supported",
                              qsim__node_label(n), qsim__dtype_name(t));
    }
    qsim__shape shape;
    QSIM__TRY(qsim__lo_broadcast(n, v, nv, &shape));
    if (st->kind == B_PRELU && !qsim__shape_equal(&shape, &v[0].shape))
        return qsim__fail(QSIM_ERR_SHAPE, "%s: slope %s does not broadcast to X %s",
                          qsim__node_label(n), qsim__lo_shape(&v[1].shape, 0),
                          qsim__lo_shape(&v[0].shape, 1));
    if (n_out < 1)
        return qsim__fail(QSIM_ERR_PARSE, "%s: needs an output", qsim__node_label(n));
    out[0].dtype = st->kind == B_EQUAL ? QSIM__DT_BOOL : dt;
    out[0].shape = shape;
    *ws = 0;
    return QSIM_OK;
}

typedef struct bin_ctx {
    int kind;
    qsim__k_binary_fn k;
    const void *in[3];
    int dt[3];
    void *out;
    int odt;
} bin_ctx;

static void row_f32(void *c, size_t oo, const size_t *io, const int64_t *step, size_t len)
{
    const bin_ctx *b = c;
    const float *a = (const float *)b->in[0] + io[0], *x = (const float *)b->in[1] + io[1];
    float *y = (float *)b->out + oo;
    size_t sa = (size_t)step[0], sb = (size_t)step[1];
    if (b->kind == B_PRELU) {
        for (size_t i = 0; i < len; i++) {
            float v = a[i * sa];
            y[i] = v < 0.0f ? v * x[i * sb] : v;
        }
        return;
    }
    if (b->kind == B_POW) {
        for (size_t i = 0; i < len; i++)
            y[i] = powf(a[i * sa], x[i * sb]);
        return;
    }
    b->k(b->kind, a, sa, x, sb, y, len); /* B_ADD..B_DIV == QSIM__BIN_* */
}

static int64_t ipow(int64_t base, int64_t e)
{
    if (e < 0)
        return base == 1 ? 1 : (base == -1 ? ((e & 1) ? -1 : 1) : 0);
    uint64_t r = 1, b = (uint64_t)base;
    while (e) {
        if (e & 1)
            r *= b;
        b *= b;
        e >>= 1;
    }
    return (int64_t)r;
}

static void row_generic(void *c, size_t oo, const size_t *io, const int64_t *step, size_t len)
{
    const bin_ctx *b = c;
    if (b->kind == B_WHERE) {
        size_t es = qsim__dtype_size(b->odt);
        const uint8_t *cond = (const uint8_t *)b->in[0];
        for (size_t i = 0; i < len; i++) {
            int pick = cond[io[0] + i * (size_t)step[0]] ? 1 : 2;
            size_t src = io[pick] + i * (size_t)step[pick];
            memcpy((char *)b->out + (oo + i) * es, (const char *)b->in[pick] + src * es, es);
        }
        return;
    }
    int fl = qsim__lo_is_float(b->dt[0]) || qsim__lo_is_float(b->dt[1]);
    for (size_t i = 0; i < len; i++) {
        size_t ia = io[0] + i * (size_t)step[0], ib = io[1] + i * (size_t)step[1];
        if (fl) {
            double x = qsim__lo_get_f(b->in[0], b->dt[0], ia);
            double y = qsim__lo_get_f(b->in[1], b->dt[1], ib), r;
            switch (b->kind) {
            case B_ADD: r = x + y; break;
            case B_SUB: r = x - y; break;
            case B_MUL: r = x * y; break;
            case B_DIV: r = x / y; break;
            case B_POW: r = pow(x, y); break;
            case B_EQUAL: r = x == y; break;
            default: r = x < 0 ? x * y : x; break; /* PRelu */
            }
            if (b->kind == B_EQUAL)
                ((uint8_t *)b->out)[oo + i] = (uint8_t)r;
            else
                qsim__lo_set_f(b->out, b->odt, oo + i, r);
        } else {
            int64_t x = qsim__lo_get_i(b->in[0], b->dt[0], ia);
            int64_t y = qsim__lo_get_i(b->in[1], b->dt[1], ib), r;
            /* wrap-around arithmetic in uint64, like numpy's fixed-width ints */
            switch (b->kind) {
            case B_ADD: r = (int64_t)((uint64_t)x + (uint64_t)y); break;
            case B_SUB: r = (int64_t)((uint64_t)x - (uint64_t)y); break;
            case B_MUL: r = (int64_t)((uint64_t)x * (uint64_t)y); break;
            case B_DIV: r = y == 0 ? 0 : (y == -1 ? (int64_t)(0 - (uint64_t)x) : x / y); break;
            case B_POW: r = ipow(x, y); break;
            case B_EQUAL: r = x == y; break;
            default: r = x < 0 ? (int64_t)((uint64_t)x * (uint64_t)y) : x; break;
            }
            if (b->kind == B_EQUAL)
                ((uint8_t *)b->out)[oo + i] = (uint8_t)r;
            else
                qsim__lo_set_i(b->out, b->odt, oo + i, r);
        }
    }
}

static qsim_status bin_run(void *state, const qsim__node *n, const qsim__exec *ex,
                           const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    const bin_state *st = state;
    qsim__tview v[3];
    QSIM__TRY(bin_views(st, n, in, n_in, v));
    size_t nv = st->kind == B_WHERE ? 3 : 2;
    const qsim__shape *shapes[3] = {&v[0].shape, &v[1].shape, nv > 2 ? &v[2].shape : NULL};
    qsim__lo_bcast b;
    qsim__lo_bcast_init(&b, &out[0].shape, shapes, nv);
    bin_ctx c = {st->kind, qsim__k_f32_binary(0), {v[0].data, v[1].data, nv > 2 ? v[2].data : NULL},
                 {v[0].dtype, v[1].dtype, nv > 2 ? v[2].dtype : 0}, out[0].data, out[0].dtype};
    int f32 = st->kind != B_WHERE && st->kind != B_EQUAL && v[0].dtype == QSIM__DT_FLOAT &&
              v[1].dtype == QSIM__DT_FLOAT;
    qsim__lo_bcast_run(f32 ? ex->pool : NULL, &b, f32 ? row_f32 : row_generic, &c);
    (void)n_out;
    return QSIM_OK;
}

#define BIN_DESC(var, name, initfn, flags)                                                       \
    static const qsim__op_desc var = {name, flags, initfn, bin_infer, bin_run, qsim__lo_state_free}
BIN_DESC(op_add, "Add", add_init, QSIM__OP_INPLACE);
BIN_DESC(op_sub, "Sub", sub_init, QSIM__OP_INPLACE);
BIN_DESC(op_mul, "Mul", mul_init, QSIM__OP_INPLACE);
BIN_DESC(op_div, "Div", div_init, QSIM__OP_INPLACE);
BIN_DESC(op_pow, "Pow", pow_init, 0);
BIN_DESC(op_equal, "Equal", equal_init, 0);
BIN_DESC(op_prelu, "PRelu", prelu_init, QSIM__OP_INPLACE);
BIN_DESC(op_where, "Where", where_init, 0);

const qsim__op_desc *const qsim__ops_eltwise[] = {
    &op_relu,  &op_leaky, &op_clip, &op_sigmoid, &op_hsig, &op_hswish, &op_tanh,
    &op_erf,   &op_sqrt,  &op_add,  &op_sub,     &op_mul,  &op_div,    &op_pow,
    &op_equal, &op_prelu, &op_where, &op_neg,  &op_recip,  &op_exp,  NULL,
};
