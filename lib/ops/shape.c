/* Op family 'shape': data movement and shape computation ops, for every
 * element type the engine holds (they move bytes). Reshape-like ops alias
 * their input (QSIM__OP_ALIAS); their run copies when the engine gives
 * them a separate buffer. */
#include "lightops.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <inttypes.h>
#include <string.h>

#define MAXV 64 /* most values in a shape-like constant input */

static qsim_status need_inputs(const qsim__node *n, const qsim__tview *in, size_t n_in, size_t k)
{
    if (n_in < k)
        return qsim__fail(QSIM_ERR_PARSE, "%s: needs %zu inputs, has %zu", qsim__node_label(n), k,
                          n_in);
    for (size_t i = 0; i < k; i++)
        if (!in[i].dtype)
            return qsim__fail(QSIM_ERR_PARSE, "%s: input %zu is missing", qsim__node_label(n), i);
    return QSIM_OK;
}

static size_t esize(const qsim__tview *t) { return qsim__dtype_size(t->dtype); }

static qsim_status no_state_init(const qsim__node *n, const qsim__tview *in, size_t n_in,
                                 void **state)
{
    (void)n, (void)in, (void)n_in;
    *state = NULL;
    return QSIM_OK;
}

/* Output 0 holds input 0's bytes: copy unless the engine aliased them. */
static qsim_status copy_run(void *state, const qsim__node *n, const qsim__exec *ex,
                            const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    (void)state, (void)n, (void)ex, (void)n_in;
    if (out[0].data != in[0].data && in[0].numel)
        memmove(out[0].data, in[0].data, in[0].numel * esize(&in[0]));
    /* Dropout's optional mask: all true at inference */
    if (n_out > 1 && out[1].dtype == QSIM__DT_BOOL && out[1].data)
        memset(out[1].data, 1, out[1].numel);
    return QSIM_OK;
}

/* ---- Identity, Dropout ------------------------------------------------- */

static qsim_status identity_infer(void *state, const qsim__node *n, const qsim__tview *in,
                                  size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    (void)state;
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    out[0].dtype = in[0].dtype;
    out[0].shape = in[0].shape;
    if (n_out > 1) { /* Dropout mask */
        out[1].dtype = QSIM__DT_BOOL;
        out[1].shape = in[0].shape;
    }
    *ws = 0;
    return QSIM_OK;
}

static const qsim__op_desc op_identity = {"Identity", QSIM__OP_ALIAS, no_state_init,
                                          identity_infer, copy_run, NULL};
static const qsim__op_desc op_dropout = {"Dropout", QSIM__OP_ALIAS, no_state_init, identity_infer,
                                         copy_run, NULL};

/* ---- Flatten -------------------------------------------------------------- */

static qsim_status flatten_infer(void *state, const qsim__node *n, const qsim__tview *in,
                                 size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    int64_t axis;
    QSIM__TRY(qsim__attr_int(n, "axis", 1, &axis));
    int rank = in[0].shape.rank;
    if (axis < -rank || axis > rank)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: axis %" PRId64 " is out of range for rank %d",
                          qsim__node_label(n), axis, rank);
    if (axis < 0)
        axis += rank;
    int64_t a = 1, b = 1;
    for (int d = 0; d < rank; d++)
        if (d < axis)
            a *= in[0].shape.dims[d];
        else
            b *= in[0].shape.dims[d];
    out[0].dtype = in[0].dtype;
    out[0].shape.rank = 2;
    out[0].shape.dims[0] = a;
    out[0].shape.dims[1] = b;
    *ws = 0;
    return QSIM_OK;
}

static const qsim__op_desc op_flatten = {"Flatten", QSIM__OP_ALIAS, no_state_init, flatten_infer,
                                         copy_run, NULL};

/* ---- Reshape ------------------------------------------------------------- */

static qsim_status reshape_infer(void *state, const qsim__node *n, const qsim__tview *in,
                                 size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    int64_t shape[MAXV];
    size_t count;
    if (n->opset < 5) {
        const int64_t *a;
        QSIM__TRY(qsim__attr_ints(n, "shape", &a, &count));
        if (count > MAXV)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: shape has %zu values", qsim__node_label(n), count);
        if (count)
            memcpy(shape, a, count * sizeof *a);
    } else {
        QSIM__TRY(need_inputs(n, in, n_in, 2));
        QSIM__TRY(qsim__lo_const_ints(n, &in[1], "shape", shape, MAXV, &count));
    }
    if (count > QSIM__MAX_RANK)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: target rank %zu exceeds %d", qsim__node_label(n),
                          count, QSIM__MAX_RANK);
    int64_t allowzero;
    QSIM__TRY(qsim__attr_int(n, "allowzero", 0, &allowzero));
    qsim__shape s = {(int)count, {0}};
    int infer_at = -1;
    int64_t known = 1;
    for (size_t d = 0; d < count; d++) {
        int64_t v = shape[d];
        if (v == 0 && !allowzero) {
            if ((int)d >= in[0].shape.rank)
                return qsim__fail(QSIM_ERR_SHAPE, "%s: 0 at position %zu but the input %s has no such dimension",
                                  qsim__node_label(n), d, qsim__lo_shape(&in[0].shape, 0));
            v = in[0].shape.dims[d];
        }
        if (v == -1) {
            if (infer_at >= 0)
                return qsim__fail(QSIM_ERR_SHAPE, "%s: more than one -1 in the target shape",
                                  qsim__node_label(n));
            infer_at = (int)d;
            continue;
        }
        if (v < 0)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: negative dimension %" PRId64 " in the target shape",
                              qsim__node_label(n), v);
        s.dims[d] = v;
        if (!qsim__mul_i64(known, v, &known))
            return qsim__fail(QSIM_ERR_SHAPE, "%s: target shape overflows", qsim__node_label(n));
    }
    int64_t total = (int64_t)in[0].numel;
    if (infer_at >= 0) {
        if (known == 0 || total % known)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: cannot reshape %s (%" PRId64 " elements) with a -1",
                              qsim__node_label(n), qsim__lo_shape(&in[0].shape, 0), total);
        s.dims[infer_at] = total / known;
    } else if (known != total) {
        return qsim__fail(QSIM_ERR_SHAPE, "%s: cannot reshape %s into %s", qsim__node_label(n),
                          qsim__lo_shape(&in[0].shape, 0), qsim__lo_shape(&s, 1));
    }
    out[0].dtype = in[0].dtype;
    out[0].shape = s;
    *ws = 0;
    return QSIM_OK;
}

static const qsim__op_desc op_reshape = {"Reshape", QSIM__OP_ALIAS, no_state_init, reshape_infer,
                                         copy_run, NULL};

/* ---- Squeeze / Unsqueeze ---------------------------------------------------- */

static qsim_status axes_of(const qsim__node *n, const qsim__tview *in, size_t n_in, int64_t *axes,
                           size_t *count, int *given)
{
    *count = 0;
    *given = 0;
    if (n->opset < 13) {
        const int64_t *a;
        QSIM__TRY(qsim__attr_ints(n, "axes", &a, count));
        if (*count > MAXV)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: too many axes", qsim__node_label(n));
        if (a) {
            memcpy(axes, a, *count * sizeof *a);
            *given = 1;
        }
        return QSIM_OK;
    }
    if (n_in > 1 && in[1].dtype) {
        QSIM__TRY(qsim__lo_const_ints(n, &in[1], "axes", axes, MAXV, count));
        *given = 1;
    }
    return QSIM_OK;
}

static qsim_status squeeze_infer(void *state, const qsim__node *n, const qsim__tview *in,
                                 size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    int64_t axes[MAXV];
    size_t count;
    int given;
    QSIM__TRY(axes_of(n, in, n_in, axes, &count, &given));
    const qsim__shape *is = &in[0].shape;
    int drop[QSIM__MAX_RANK] = {0};
    if (!given || count == 0) {
        for (int d = 0; d < is->rank; d++)
            drop[d] = is->dims[d] == 1;
    } else {
        for (size_t k = 0; k < count; k++) {
            int a;
            QSIM__TRY(qsim__lo_axis(n, axes[k], is->rank, &a));
            if (is->dims[a] != 1)
                return qsim__fail(QSIM_ERR_SHAPE, "%s: cannot squeeze axis %d of shape %s",
                                  qsim__node_label(n), a, qsim__lo_shape(is, 0));
            drop[a] = 1;
        }
    }
    qsim__shape s = {0, {0}};
    for (int d = 0; d < is->rank; d++)
        if (!drop[d])
            s.dims[s.rank++] = is->dims[d];
    out[0].dtype = in[0].dtype;
    out[0].shape = s;
    *ws = 0;
    return QSIM_OK;
}

static qsim_status unsqueeze_infer(void *state, const qsim__node *n, const qsim__tview *in,
                                   size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    int64_t axes[MAXV];
    size_t count;
    int given;
    QSIM__TRY(axes_of(n, in, n_in, axes, &count, &given));
    const qsim__shape *is = &in[0].shape;
    int orank = is->rank + (int)count;
    if (!given)
        return qsim__fail(QSIM_ERR_PARSE, "%s: axes are required", qsim__node_label(n));
    if (orank > QSIM__MAX_RANK)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: result rank %d exceeds %d", qsim__node_label(n),
                          orank, QSIM__MAX_RANK);
    int ins[QSIM__MAX_RANK] = {0};
    for (size_t k = 0; k < count; k++) {
        int a;
        QSIM__TRY(qsim__lo_axis(n, axes[k], orank, &a));
        if (ins[a])
            return qsim__fail(QSIM_ERR_SHAPE, "%s: axis %d repeated", qsim__node_label(n), a);
        ins[a] = 1;
    }
    qsim__shape s = {orank, {0}};
    int src = 0;
    for (int d = 0; d < orank; d++)
        s.dims[d] = ins[d] ? 1 : is->dims[src++];
    out[0].dtype = in[0].dtype;
    out[0].shape = s;
    *ws = 0;
    return QSIM_OK;
}

static const qsim__op_desc op_squeeze = {"Squeeze", QSIM__OP_ALIAS, no_state_init, squeeze_infer,
                                         copy_run, NULL};
static const qsim__op_desc op_unsqueeze = {"Unsqueeze", QSIM__OP_ALIAS, no_state_init,
                                           unsqueeze_infer, copy_run, NULL};

/* ---- Transpose ----------------------------------------------------------- */

static qsim_status transpose_perm(const qsim__node *n, int rank, int *perm)
{
    const int64_t *p;
    size_t count;
    QSIM__TRY(qsim__attr_ints(n, "perm", &p, &count));
    if (!p) {
        for (int d = 0; d < rank; d++)
            perm[d] = rank - 1 - d;
        return QSIM_OK;
    }
    if ((int)count != rank)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: perm has %zu entries for rank %d",
                          qsim__node_label(n), count, rank);
    int seen[QSIM__MAX_RANK] = {0};
    for (int d = 0; d < rank; d++) {
        int a;
        QSIM__TRY(qsim__lo_axis(n, p[d], rank, &a));
        if (seen[a])
            return qsim__fail(QSIM_ERR_SHAPE, "%s: perm repeats axis %d", qsim__node_label(n), a);
        seen[a] = 1;
        perm[d] = a;
    }
    return QSIM_OK;
}

static qsim_status transpose_infer(void *state, const qsim__node *n, const qsim__tview *in,
                                   size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    int perm[QSIM__MAX_RANK];
    QSIM__TRY(transpose_perm(n, in[0].shape.rank, perm));
    out[0].dtype = in[0].dtype;
    out[0].shape.rank = in[0].shape.rank;
    for (int d = 0; d < in[0].shape.rank; d++)
        out[0].shape.dims[d] = in[0].shape.dims[perm[d]];
    *ws = 0;
    return QSIM_OK;
}

/* Strided gather: out is contiguous over `dims`; the source element of
 * index i is sum(i_d * st[d]). Specialized on element size. */
static void strided_copy(void *dst, const void *src, size_t es, int rank, const int64_t *dims,
                         const int64_t *st, size_t total)
{
    if (total == 0)
        return;
    if (rank == 0) {
        memcpy(dst, src, es);
        return;
    }
    /* strides may be negative (Slice with negative steps): offsets are
     * signed element counts from src */
    int64_t idx[QSIM__MAX_RANK] = {0};
    int64_t off = 0;
    size_t inner = (size_t)dims[rank - 1];
    int64_t ist = st[rank - 1];
    char *o = dst;
    for (size_t i = 0; i < total; i += inner) {
        if (es == 4) {
            const uint32_t *s = (const uint32_t *)src;
            uint32_t *d = (uint32_t *)(void *)o;
            for (size_t k = 0; k < inner; k++)
                d[k] = s[off + (int64_t)k * ist];
        } else {
            for (size_t k = 0; k < inner; k++)
                memcpy(o + k * es, (const char *)src + (off + (int64_t)k * ist) * (int64_t)es, es);
        }
        o += inner * es;
        for (int d = rank - 2; d >= 0; d--) {
            idx[d]++;
            off += st[d];
            if (idx[d] < dims[d])
                break;
            off -= st[d] * dims[d];
            idx[d] = 0;
        }
    }
}

static qsim_status transpose_run(void *state, const qsim__node *n, const qsim__exec *ex,
                                 const qsim__tview *in, size_t n_in, qsim__tview *out,
                                 size_t n_out)
{
    int perm[QSIM__MAX_RANK];
    QSIM__TRY(transpose_perm(n, in[0].shape.rank, perm));
    int64_t ist[QSIM__MAX_RANK], st[QSIM__MAX_RANK];
    qsim__lo_strides(&in[0].shape, ist);
    for (int d = 0; d < in[0].shape.rank; d++)
        st[d] = ist[perm[d]];
    strided_copy(out[0].data, in[0].data, esize(&in[0]), out[0].shape.rank, out[0].shape.dims, st,
                 out[0].numel);
    return QSIM_OK;
}

static const qsim__op_desc op_transpose = {"Transpose", 0, no_state_init, transpose_infer,
                                           transpose_run, NULL};

/* ---- Concat ---------------------------------------------------------------- */

static qsim_status concat_infer(void *state, const qsim__node *n, const qsim__tview *in,
                                size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    int64_t axis;
    QSIM__TRY(qsim__attr_int(n, "axis", n->opset < 4 ? 1 : INT64_MIN, &axis));
    if (axis == INT64_MIN)
        return qsim__fail(QSIM_ERR_PARSE, "%s: attribute 'axis' is required", qsim__node_label(n));
    const qsim__tview *first = NULL;
    for (size_t k = 0; k < n_in; k++)
        if (in[k].dtype) {
            first = &in[k];
            break;
        }
    if (!first)
        return qsim__fail(QSIM_ERR_PARSE, "%s: no inputs", qsim__node_label(n));
    int a;
    QSIM__TRY(qsim__lo_axis(n, axis, first->shape.rank, &a));
    qsim__shape s = first->shape;
    s.dims[a] = 0;
    for (size_t k = 0; k < n_in; k++) {
        if (!in[k].dtype)
            continue;
        if (in[k].dtype != first->dtype || in[k].shape.rank != s.rank)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: input %zu (%s %s) does not match input 0 (%s %s)",
                              qsim__node_label(n), k, qsim__dtype_name(in[k].dtype),
                              qsim__lo_shape(&in[k].shape, 0), qsim__dtype_name(first->dtype),
                              qsim__lo_shape(&first->shape, 1));
        for (int d = 0; d < s.rank; d++)
            if (d != a && in[k].shape.dims[d] != s.dims[d])
                return qsim__fail(QSIM_ERR_SHAPE, "%s: input %zu shape %s differs from %s outside axis %d",
                                  qsim__node_label(n), k, qsim__lo_shape(&in[k].shape, 0),
                                  qsim__lo_shape(&first->shape, 1), a);
        s.dims[a] += in[k].shape.dims[a];
    }
    out[0].dtype = first->dtype;
    out[0].shape = s;
    *ws = 0;
    return QSIM_OK;
}

static qsim_status concat_run(void *state, const qsim__node *n, const qsim__exec *ex,
                              const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    const qsim__shape *s = &out[0].shape;
    int64_t axis;
    QSIM__TRY(qsim__attr_int(n, "axis", 1, &axis));
    int a;
    QSIM__TRY(qsim__lo_axis(n, axis, s->rank, &a));
    size_t outer = 1, inner = 1, es = esize(&out[0]);
    for (int d = 0; d < a; d++)
        outer *= (size_t)s->dims[d];
    for (int d = a + 1; d < s->rank; d++)
        inner *= (size_t)s->dims[d];
    size_t orow = (size_t)s->dims[a] * inner * es, pos = 0;
    for (size_t k = 0; k < n_in; k++) {
        if (!in[k].dtype)
            continue;
        size_t row = (size_t)in[k].shape.dims[a] * inner * es;
        for (size_t o = 0; o < outer && row; o++)
            memcpy((char *)out[0].data + o * orow + pos, (const char *)in[k].data + o * row, row);
        pos += row;
    }
    return QSIM_OK;
}

static const qsim__op_desc op_concat = {"Concat", 0, no_state_init, concat_infer, concat_run, NULL};

/* ---- Split ------------------------------------------------------------------ */

static qsim_status split_sizes(const qsim__node *n, const qsim__tview *in, size_t n_in,
                               size_t n_out, int *axis, int64_t *sizes)
{
    int64_t ax;
    QSIM__TRY(qsim__attr_int(n, "axis", 0, &ax));
    QSIM__TRY(qsim__lo_axis(n, ax, in[0].shape.rank, axis));
    int64_t dim = in[0].shape.dims[*axis];
    int64_t given[MAXV];
    size_t count = 0;
    if (n->opset < 13) {
        const int64_t *a;
        QSIM__TRY(qsim__attr_ints(n, "split", &a, &count));
        if (count > MAXV)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: too many splits", qsim__node_label(n));
        if (count)
            memcpy(given, a, count * sizeof *a);
    } else if (n_in > 1 && in[1].dtype) {
        QSIM__TRY(qsim__lo_const_ints(n, &in[1], "split", given, MAXV, &count));
    }
    if (n_out > MAXV || n_out == 0)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: %zu outputs (1..%d supported)",
                          qsim__node_label(n), n_out, MAXV);
    if (count) {
        if (count != n_out)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: %zu split sizes for %zu outputs",
                              qsim__node_label(n), count, n_out);
        int64_t sum = 0;
        for (size_t k = 0; k < count; k++) {
            if (given[k] < 0)
                return qsim__fail(QSIM_ERR_SHAPE, "%s: negative split size", qsim__node_label(n));
            sizes[k] = given[k];
            sum += given[k];
        }
        if (sum != dim)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: split sizes add up to %" PRId64 ", axis %d has %" PRId64,
                              qsim__node_label(n), sum, *axis, dim);
        return QSIM_OK;
    }
    int64_t num;
    QSIM__TRY(qsim__attr_int(n, "num_outputs", 0, &num));
    if (num && (size_t)num != n_out)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: num_outputs %" PRId64 " but %zu outputs",
                          qsim__node_label(n), num, n_out);
    int64_t k = (int64_t)n_out;
    if (!num && dim % k)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: axis %d of size %" PRId64 " does not split evenly in %" PRId64,
                          qsim__node_label(n), *axis, dim, k);
    int64_t chunk = (dim + k - 1) / k; /* opset 18: the last one may be smaller */
    int64_t left = dim;
    for (size_t i = 0; i < n_out; i++) {
        sizes[i] = left < chunk ? left : chunk;
        left -= sizes[i];
    }
    return QSIM_OK;
}

static qsim_status split_infer(void *state, const qsim__node *n, const qsim__tview *in,
                               size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    int axis;
    int64_t sizes[MAXV];
    QSIM__TRY(split_sizes(n, in, n_in, n_out, &axis, sizes));
    for (size_t k = 0; k < n_out; k++) {
        out[k].dtype = in[0].dtype;
        out[k].shape = in[0].shape;
        out[k].shape.dims[axis] = sizes[k];
    }
    *ws = 0;
    return QSIM_OK;
}

static qsim_status split_run(void *state, const qsim__node *n, const qsim__exec *ex,
                             const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    int axis;
    int64_t sizes[MAXV];
    QSIM__TRY(split_sizes(n, in, n_in, n_out, &axis, sizes));
    const qsim__shape *s = &in[0].shape;
    size_t outer = 1, inner = 1, es = esize(&in[0]);
    for (int d = 0; d < axis; d++)
        outer *= (size_t)s->dims[d];
    for (int d = axis + 1; d < s->rank; d++)
        inner *= (size_t)s->dims[d];
    size_t irow = (size_t)s->dims[axis] * inner * es, pos = 0;
    for (size_t k = 0; k < n_out; k++) {
        size_t row = (size_t)sizes[k] * inner * es;
        if (out[k].data)
            for (size_t o = 0; o < outer && row; o++)
                memcpy((char *)out[k].data + o * row, (const char *)in[0].data + o * irow + pos, row);
        pos += row;
    }
    return QSIM_OK;
}

static const qsim__op_desc op_split = {"Split", 0, no_state_init, split_infer, split_run, NULL};

/* ---- Slice ------------------------------------------------------------------ */

typedef struct slice_geom {
    int64_t start[QSIM__MAX_RANK], step[QSIM__MAX_RANK];
    qsim__shape out;
} slice_geom;

static qsim_status slice_geometry(const qsim__node *n, const qsim__tview *in, size_t n_in,
                                  slice_geom *g)
{
    const qsim__shape *s = &in[0].shape;
    int64_t starts[MAXV], ends[MAXV], axes[MAXV], steps[MAXV];
    size_t ns, ne, na = 0, nst = 0;
    if (n->opset < 10) {
        const int64_t *a;
        QSIM__TRY(qsim__attr_ints(n, "starts", &a, &ns));
        if (ns > MAXV) return qsim__fail(QSIM_ERR_SHAPE, "%s: too many starts", qsim__node_label(n));
        if (ns) memcpy(starts, a, ns * sizeof *a);
        QSIM__TRY(qsim__attr_ints(n, "ends", &a, &ne));
        if (ne > MAXV) return qsim__fail(QSIM_ERR_SHAPE, "%s: too many ends", qsim__node_label(n));
        if (ne) memcpy(ends, a, ne * sizeof *a);
        QSIM__TRY(qsim__attr_ints(n, "axes", &a, &na));
        if (na > MAXV) return qsim__fail(QSIM_ERR_SHAPE, "%s: too many axes", qsim__node_label(n));
        if (na) memcpy(axes, a, na * sizeof *a);
        if (!a)
            na = (size_t)-1;
    } else {
        QSIM__TRY(need_inputs(n, in, n_in, 3));
        QSIM__TRY(qsim__lo_const_ints(n, &in[1], "starts", starts, MAXV, &ns));
        QSIM__TRY(qsim__lo_const_ints(n, &in[2], "ends", ends, MAXV, &ne));
        na = (size_t)-1;
        if (n_in > 3 && in[3].dtype)
            QSIM__TRY(qsim__lo_const_ints(n, &in[3], "axes", axes, MAXV, &na));
        if (n_in > 4 && in[4].dtype)
            QSIM__TRY(qsim__lo_const_ints(n, &in[4], "steps", steps, MAXV, &nst));
    }
    if (ns != ne)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: %zu starts but %zu ends", qsim__node_label(n), ns, ne);
    if (na == (size_t)-1) {
        if (ns > (size_t)s->rank)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: %zu starts for rank %d", qsim__node_label(n), ns,
                              s->rank);
        na = ns;
        for (size_t k = 0; k < ns; k++)
            axes[k] = (int64_t)k;
    }
    if (na != ns || (nst && nst != ns))
        return qsim__fail(QSIM_ERR_SHAPE, "%s: starts, ends, axes and steps differ in length",
                          qsim__node_label(n));
    g->out = *s;
    for (int d = 0; d < s->rank; d++) {
        g->start[d] = 0;
        g->step[d] = 1;
    }
    int seen[QSIM__MAX_RANK] = {0};
    for (size_t k = 0; k < ns; k++) {
        int a;
        QSIM__TRY(qsim__lo_axis(n, axes[k], s->rank, &a));
        if (seen[a])
            return qsim__fail(QSIM_ERR_SHAPE, "%s: axis %d repeated", qsim__node_label(n), a);
        seen[a] = 1;
        int64_t dim = s->dims[a], st = nst ? steps[k] : 1, b = starts[k], e = ends[k];
        if (st == 0)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: step 0 on axis %d", qsim__node_label(n), a);
        if (b < 0)
            b += dim;
        if (e < 0)
            e += dim;
        if (st > 0) {
            if (b < 0) b = 0;
            if (b > dim) b = dim;
            if (e > dim) e = dim;
            if (e < 0) e = 0;
        } else {
            if (b < 0) b = -1;
            if (b > dim - 1) b = dim - 1;
            if (e > dim - 1) e = dim - 1;
            if (e < -1) e = -1;
        }
        if (st == INT64_MIN)
            st = -INT64_MAX; /* same slice, and -st stays representable */
        /* b and e are within [-1, dim] here: no overflow */
        int64_t len = st > 0 ? (e > b ? (e - b - 1) / st + 1 : 0)
                             : (b > e ? (b - e - 1) / (-st) + 1 : 0);
        g->start[a] = b;
        g->step[a] = st;
        g->out.dims[a] = len;
    }
    return QSIM_OK;
}

static qsim_status slice_infer(void *state, const qsim__node *n, const qsim__tview *in,
                               size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    slice_geom g;
    QSIM__TRY(slice_geometry(n, in, n_in, &g));
    out[0].dtype = in[0].dtype;
    out[0].shape = g.out;
    *ws = 0;
    return QSIM_OK;
}

static qsim_status slice_run(void *state, const qsim__node *n, const qsim__exec *ex,
                             const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    slice_geom g;
    QSIM__TRY(slice_geometry(n, in, n_in, &g));
    int64_t ist[QSIM__MAX_RANK], st[QSIM__MAX_RANK];
    qsim__lo_strides(&in[0].shape, ist);
    size_t base = 0;
    for (int d = 0; d < in[0].shape.rank; d++) {
        st[d] = ist[d] * g.step[d];
        if (g.out.dims[d] > 0)
            base += (size_t)(g.start[d] * ist[d]);
    }
    size_t es = esize(&in[0]);
    strided_copy(out[0].data, (const char *)in[0].data + base * es, es, g.out.rank, g.out.dims, st,
                 out[0].numel);
    return QSIM_OK;
}

static const qsim__op_desc op_slice = {"Slice", 0, no_state_init, slice_infer, slice_run, NULL};

/* ---- Pad ---------------------------------------------------------------------- */

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE };

typedef struct pad_geom {
    int mode;
    int64_t begin[QSIM__MAX_RANK];
    qsim__shape out;
    double value;
} pad_geom;

static qsim_status pad_geometry(const qsim__node *n, const qsim__tview *in, size_t n_in,
                                pad_geom *g)
{
    const qsim__shape *s = &in[0].shape;
    const char *mode;
    QSIM__TRY(qsim__attr_string(n, "mode", "constant", &mode));
    if (!strcmp(mode, "constant"))
        g->mode = PAD_CONSTANT;
    else if (!strcmp(mode, "reflect"))
        g->mode = PAD_REFLECT;
    else if (!strcmp(mode, "edge"))
        g->mode = PAD_EDGE;
    else
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: mode '%s' is not supported",
                          qsim__node_label(n), mode);
    int64_t pads[2 * MAXV], axes[MAXV];
    size_t np = 0, na = (size_t)-1;
    g->value = 0.0;
    if (n->opset < 11) {
        const int64_t *a;
        QSIM__TRY(qsim__attr_ints(n, n->opset < 2 ? "paddings" : "pads", &a, &np));
        if (np > 2 * MAXV) return qsim__fail(QSIM_ERR_SHAPE, "%s: too many pads", qsim__node_label(n));
        if (np) memcpy(pads, a, np * sizeof *a);
        float v;
        QSIM__TRY(qsim__attr_float(n, "value", 0.0f, &v));
        g->value = v;
    } else {
        QSIM__TRY(need_inputs(n, in, n_in, 2));
        QSIM__TRY(qsim__lo_const_ints(n, &in[1], "pads", pads, 2 * MAXV, &np));
        if (n_in > 2 && in[2].dtype && in[2].numel) {
            /* a run-time value: known at run, not needed for the shape */
            if (in[2].data)
                g->value = qsim__lo_get_f(in[2].data, in[2].dtype, 0);
        }
        if (n_in > 3 && in[3].dtype)
            QSIM__TRY(qsim__lo_const_ints(n, &in[3], "axes", axes, MAXV, &na));
    }
    if (na == (size_t)-1) {
        na = (size_t)s->rank;
        for (size_t k = 0; k < na; k++)
            axes[k] = (int64_t)k;
    }
    if (np != 2 * na)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: %zu pads for %zu axes", qsim__node_label(n), np, na);
    g->out = *s;
    memset(g->begin, 0, sizeof g->begin);
    for (size_t k = 0; k < na; k++) {
        int a;
        QSIM__TRY(qsim__lo_axis(n, axes[k], s->rank, &a));
        int64_t b = pads[k], e = pads[k + na], dim;
        if (__builtin_add_overflow(s->dims[a], b, &dim) || __builtin_add_overflow(dim, e, &dim) ||
            dim < 0)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: pads make axis %d negative", qsim__node_label(n), a);
        if (g->mode != PAD_CONSTANT && s->dims[a] == 0 && dim > 0)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: cannot %s-pad an empty axis", qsim__node_label(n),
                              mode);
        g->begin[a] = b;
        g->out.dims[a] = dim;
    }
    return QSIM_OK;
}

static qsim_status pad_infer(void *state, const qsim__node *n, const qsim__tview *in, size_t n_in,
                             qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    pad_geom g;
    QSIM__TRY(pad_geometry(n, in, n_in, &g));
    out[0].dtype = in[0].dtype;
    out[0].shape = g.out;
    *ws = 0;
    return QSIM_OK;
}

static int64_t pad_coord(int mode, int64_t c, int64_t dim)
{
    if (c >= 0 && c < dim)
        return c;
    if (mode == PAD_CONSTANT)
        return -1;
    if (mode == PAD_EDGE)
        return c < 0 ? 0 : dim - 1;
    if (dim == 1)
        return 0;
    int64_t period = 2 * (dim - 1);
    c %= period;
    if (c < 0)
        c += period;
    return c < dim ? c : period - c;
}

static qsim_status pad_run(void *state, const qsim__node *n, const qsim__exec *ex,
                           const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    pad_geom g;
    QSIM__TRY(pad_geometry(n, in, n_in, &g));
    const qsim__shape *is = &in[0].shape;
    int64_t ist[QSIM__MAX_RANK];
    qsim__lo_strides(is, ist);
    size_t es = esize(&in[0]);
    char fill[16];
    qsim__lo_set_f(fill, in[0].dtype, 0, g.value);
    int rank = g.out.rank;
    int64_t idx[QSIM__MAX_RANK] = {0};
    for (size_t i = 0; i < out[0].numel; i++) {
        int64_t off = 0;
        int inside = 1;
        for (int d = 0; d < rank && inside; d++) {
            int64_t c = pad_coord(g.mode, idx[d] - g.begin[d], is->dims[d]);
            if (c < 0)
                inside = 0;
            else
                off += c * ist[d];
        }
        memcpy((char *)out[0].data + i * es,
               inside ? (const char *)in[0].data + (size_t)off * es : fill, es);
        for (int d = rank - 1; d >= 0; d--) {
            if (++idx[d] < g.out.dims[d])
                break;
            idx[d] = 0;
        }
    }
    return QSIM_OK;
}

static const qsim__op_desc op_pad = {"Pad", 0, no_state_init, pad_infer, pad_run, NULL};

/* ---- Cast ----------------------------------------------------------------------- */

static qsim_status cast_infer(void *state, const qsim__node *n, const qsim__tview *in, size_t n_in,
                              qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    int64_t to = 0;
    const qsim__attr *ta = qsim__node_attr(n, "to");
    if (ta && ta->type == QSIM__ATTR_STRING) {
        /* Cast-1 names the type: "FLOAT", "INT64", ... */
        static const char *const names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16",
                                            "INT16", "INT32", "INT64", "STRING", "BOOL",
                                            "FLOAT16", "DOUBLE", "UINT32", "UINT64"};
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if (ta->s && !strcmp(ta->s, names[k]))
                to = (int64_t)k;
    } else {
        QSIM__TRY(qsim__attr_int(n, "to", 0, &to));
    }
    if (to < 0 || to > 64)
        to = 0;
    int t = (int)to;
    if (!(qsim__lo_is_float(t) || qsim__lo_is_int(t)))
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: cast to %s is not supported",
                          qsim__node_label(n), qsim__dtype_name(t));
    if (!(qsim__lo_is_float(in[0].dtype) || qsim__lo_is_int(in[0].dtype)))
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: cast from %s is not supported",
                          qsim__node_label(n), qsim__dtype_name(in[0].dtype));
    out[0].dtype = t;
    out[0].shape = in[0].shape;
    *ws = 0;
    return QSIM_OK;
}

static qsim_status cast_run(void *state, const qsim__node *n, const qsim__exec *ex,
                            const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    int from = in[0].dtype, to = out[0].dtype;
    if (from == to) {
        memcpy(out[0].data, in[0].data, in[0].numel * esize(&in[0]));
        return QSIM_OK;
    }
    int fl = qsim__lo_is_float(from);
    for (size_t i = 0; i < in[0].numel; i++) {
        if (fl)
            qsim__lo_set_f(out[0].data, to, i, qsim__lo_get_f(in[0].data, from, i));
        else if (from == QSIM__DT_UINT64 && qsim__lo_is_float(to))
            qsim__lo_set_f(out[0].data, to, i, qsim__lo_get_f(in[0].data, from, i));
        else
            qsim__lo_set_i(out[0].data, to, i, qsim__lo_get_i(in[0].data, from, i));
    }
    return QSIM_OK;
}

static const qsim__op_desc op_cast = {"Cast", 0, no_state_init, cast_infer, cast_run, NULL};

/* ---- Shape, ConstantOfShape ---------------------------------------------------- */

static void shape_range(const qsim__node *n, int rank, int64_t *b, int64_t *e)
{
    int64_t s = 0, t = rank;
    if (qsim__attr_int(n, "start", 0, &s) != QSIM_OK)
        s = 0;
    if (qsim__attr_int(n, "end", rank, &t) != QSIM_OK)
        t = rank;
    if (s < 0) s += rank;
    if (t < 0) t += rank;
    if (s < 0) s = 0;
    if (s > rank) s = rank;
    if (t < 0) t = 0;
    if (t > rank) t = rank;
    *b = s;
    *e = t < s ? s : t;
}

static qsim_status shape_infer(void *state, const qsim__node *n, const qsim__tview *in,
                               size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    int64_t b, e;
    shape_range(n, in[0].shape.rank, &b, &e);
    out[0].dtype = QSIM__DT_INT64;
    out[0].shape.rank = 1;
    out[0].shape.dims[0] = e - b;
    *ws = 0;
    return QSIM_OK;
}

static qsim_status shape_run(void *state, const qsim__node *n, const qsim__exec *ex,
                             const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    int64_t b, e;
    shape_range(n, in[0].shape.rank, &b, &e);
    for (int64_t d = b; d < e; d++)
        ((int64_t *)out[0].data)[d - b] = in[0].shape.dims[d];
    return QSIM_OK;
}

static const qsim__op_desc op_shape = {"Shape", 0, no_state_init, shape_infer, shape_run, NULL};

/* Size: the element count as an int64 scalar (folded like Shape). */
static qsim_status size_infer(void *state, const qsim__node *n, const qsim__tview *in,
                              size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    out[0].dtype = QSIM__DT_INT64;
    out[0].shape.rank = 0;
    *ws = 0;
    return QSIM_OK;
}

static qsim_status size_run(void *state, const qsim__node *n, const qsim__exec *ex,
                            const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    *(int64_t *)out[0].data = (int64_t)in[0].numel;
    return QSIM_OK;
}

static const qsim__op_desc op_size = {"Size", 0, no_state_init, size_infer, size_run, NULL};

static qsim_status cos_infer(void *state, const qsim__node *n, const qsim__tview *in, size_t n_in,
                             qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 1));
    int64_t dims[MAXV];
    size_t count;
    QSIM__TRY(qsim__lo_const_ints(n, &in[0], "input", dims, MAXV, &count));
    if (count > QSIM__MAX_RANK)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: rank %zu exceeds %d", qsim__node_label(n), count,
                          QSIM__MAX_RANK);
    const qsim__attr *v = qsim__node_attr(n, "value");
    if (v && (v->type != QSIM__ATTR_TENSOR || !v->t || v->t->numel != 1 ||
              !qsim__dtype_size(v->t->dtype)))
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: 'value' must be a one-element tensor",
                          qsim__node_label(n));
    out[0].dtype = v ? v->t->dtype : QSIM__DT_FLOAT;
    out[0].shape.rank = (int)count;
    for (size_t d = 0; d < count; d++) {
        if (dims[d] < 0)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: negative dimension", qsim__node_label(n));
        out[0].shape.dims[d] = dims[d];
    }
    *ws = 0;
    return QSIM_OK;
}

static qsim_status cos_run(void *state, const qsim__node *n, const qsim__exec *ex,
                           const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    const qsim__attr *v = qsim__node_attr(n, "value");
    size_t es = esize(&out[0]);
    char zero[16] = {0};
    const void *src = v ? v->t->data : zero;
    for (size_t i = 0; i < out[0].numel; i++)
        memcpy((char *)out[0].data + i * es, src, es);
    return QSIM_OK;
}

static const qsim__op_desc op_cos = {"ConstantOfShape", 0, no_state_init, cos_infer, cos_run, NULL};

/* ---- Gather ---------------------------------------------------------------------- */

static qsim_status gather_infer(void *state, const qsim__node *n, const qsim__tview *in,
                                size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 2));
    if (in[1].dtype != QSIM__DT_INT64 && in[1].dtype != QSIM__DT_INT32)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: indices must be int32 or int64, not %s",
                          qsim__node_label(n), qsim__dtype_name(in[1].dtype));
    int64_t ax;
    QSIM__TRY(qsim__attr_int(n, "axis", 0, &ax));
    int a;
    const qsim__shape *ds = &in[0].shape, *is = &in[1].shape;
    QSIM__TRY(qsim__lo_axis(n, ax, ds->rank, &a));
    int rank = ds->rank - 1 + is->rank;
    if (rank > QSIM__MAX_RANK)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: result rank %d exceeds %d", qsim__node_label(n), rank,
                          QSIM__MAX_RANK);
    qsim__shape s = {0, {0}};
    for (int d = 0; d < a; d++)
        s.dims[s.rank++] = ds->dims[d];
    for (int d = 0; d < is->rank; d++)
        s.dims[s.rank++] = is->dims[d];
    for (int d = a + 1; d < ds->rank; d++)
        s.dims[s.rank++] = ds->dims[d];
    out[0].dtype = in[0].dtype;
    out[0].shape = s;
    *ws = 0;
    return QSIM_OK;
}

static qsim_status gather_run(void *state, const qsim__node *n, const qsim__exec *ex,
                              const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    int64_t ax;
    QSIM__TRY(qsim__attr_int(n, "axis", 0, &ax));
    int a;
    const qsim__shape *ds = &in[0].shape;
    QSIM__TRY(qsim__lo_axis(n, ax, ds->rank, &a));
    size_t outer = 1, inner = 1, es = esize(&in[0]);
    for (int d = 0; d < a; d++)
        outer *= (size_t)ds->dims[d];
    for (int d = a + 1; d < ds->rank; d++)
        inner *= (size_t)ds->dims[d];
    int64_t dim = ds->dims[a];
    size_t ni = in[1].numel, row = inner * es;
    for (size_t j = 0; j < ni; j++) {
        int64_t k = qsim__lo_get_i(in[1].data, in[1].dtype, j);
        if (k < -dim || k >= dim)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: index %" PRId64 " is out of range for axis %d of size %" PRId64,
                              qsim__node_label(n), k, a, dim);
    }
    for (size_t o = 0; o < outer; o++)
        for (size_t j = 0; j < ni; j++) {
            int64_t k = qsim__lo_get_i(in[1].data, in[1].dtype, j);
            if (k < 0)
                k += dim;
            memcpy((char *)out[0].data + (o * ni + j) * row,
                   (const char *)in[0].data + (o * (size_t)dim + (size_t)k) * row, row);
        }
    return QSIM_OK;
}

static const qsim__op_desc op_gather = {"Gather", 0, no_state_init, gather_infer, gather_run, NULL};

/* ---- Expand ------------------------------------------------------------------------- */

static qsim_status expand_infer(void *state, const qsim__node *n, const qsim__tview *in,
                                size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    QSIM__TRY(need_inputs(n, in, n_in, 2));
    int64_t dims[MAXV];
    size_t count;
    QSIM__TRY(qsim__lo_const_ints(n, &in[1], "shape", dims, MAXV, &count));
    if (count > QSIM__MAX_RANK)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: rank %zu exceeds %d", qsim__node_label(n), count,
                          QSIM__MAX_RANK);
    qsim__tview v[2] = {in[0], in[0]};
    v[1].shape.rank = (int)count;
    for (size_t d = 0; d < count; d++)
        v[1].shape.dims[d] = dims[d];
    qsim__shape s;
    QSIM__TRY(qsim__lo_broadcast(n, v, 2, &s));
    out[0].dtype = in[0].dtype;
    out[0].shape = s;
    *ws = 0;
    return QSIM_OK;
}

typedef struct expand_ctx {
    const char *src;
    char *dst;
    size_t es;
} expand_ctx;

static void expand_row(void *c, size_t oo, const size_t *io, const int64_t *step, size_t len)
{
    const expand_ctx *e = c;
    for (size_t i = 0; i < len; i++)
        memcpy(e->dst + (oo + i) * e->es, e->src + (io[0] + i * (size_t)step[0]) * e->es, e->es);
}

static qsim_status expand_run(void *state, const qsim__node *n, const qsim__exec *ex,
                              const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    const qsim__shape *shapes[1] = {&in[0].shape};
    qsim__lo_bcast b;
    qsim__lo_bcast_init(&b, &out[0].shape, shapes, 1);
    expand_ctx c = {in[0].data, out[0].data, esize(&in[0])};
    qsim__lo_bcast_run(NULL, &b, expand_row, &c);
    return QSIM_OK;
}

static const qsim__op_desc op_expand = {"Expand", 0, no_state_init, expand_infer, expand_run, NULL};

const qsim__op_desc *const qsim__ops_shape[] = {
    &op_identity, &op_dropout, &op_flatten, &op_reshape, &op_squeeze, &op_unsqueeze,
    &op_transpose, &op_concat, &op_split, &op_slice, &op_pad, &op_cast, &op_shape, &op_cos,
    &op_gather, &op_expand, &op_size, NULL,
};
