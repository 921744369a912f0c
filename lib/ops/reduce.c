/* Op family 'reduce': Softmax and ReduceMean (plus ReduceSum and
 * ReduceMax, which function-expanded Softmax uses) on float32. */
#include "lightops.h"

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/eltwise.h"

#include <math.h>
#include <string.h>

/* ---- Softmax ------------------------------------------------------------ */

typedef struct softmax_state {
    int64_t axis;
} softmax_state;

static qsim_status softmax_init(const qsim__node *n, const qsim__tview *in, size_t n_in,
                                void **state)
{
    softmax_state st;
    /* opset 1-12: coerce to 2-D at axis (default 1); 13+: one axis (default -1) */
    QSIM__TRY(qsim__attr_int(n, "axis", n->opset < 13 ? 1 : -1, &st.axis));
    return qsim__lo_state(&st, sizeof st, state);
}

static qsim_status softmax_infer(void *state, const qsim__node *n, const qsim__tview *in,
                                 size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    const softmax_state *st = state;
    if (n_in < 1 || in[0].dtype != QSIM__DT_FLOAT)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: input must be float, not %s",
                          qsim__node_label(n), qsim__dtype_name(n_in ? in[0].dtype : 0));
    int rank = in[0].shape.rank, axis;
    if (rank == 0)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: input is a scalar", qsim__node_label(n));
    QSIM__TRY(qsim__lo_axis(n, st->axis, rank, &axis));
    out[0].dtype = QSIM__DT_FLOAT;
    out[0].shape = in[0].shape;
    *ws = 0;
    return QSIM_OK;
}

typedef struct softmax_task {
    const float *x;
    float *y;
    size_t outer, axis_len, inner;
    qsim__k_unary_fn k; /* exp kernel for contiguous lines */
} softmax_task;

/* One (outer, inner) line: x[o, 0..axis_len, i] with stride inner.
 * Contiguous lines (the common last-axis case) use the vector exp. */
static void softmax_line(const softmax_task *t, const float *x, float *y, size_t len,
                         size_t stride)
{
    float m = -INFINITY;
    for (size_t k = 0; k < len; k++)
        if (x[k * stride] > m)
            m = x[k * stride];
    double sum = 0.0;
    if (stride == 1 && isfinite(m)) {
        t->k(QSIM__UN_EXP, x, y, len, m, 0.0f);
        for (size_t k = 0; k < len; k++)
            sum += y[k];
    } else {
        for (size_t k = 0; k < len; k++) {
            float e = expf(x[k * stride] - m);
            y[k * stride] = e;
            sum += e;
        }
    }
    float inv = (float)(1.0 / sum);
    for (size_t k = 0; k < len; k++)
        y[k * stride] *= inv;
}

static void softmax_chunk(void *c, size_t task, int thread)
{
    (void)thread;
    const softmax_task *t = c;
    size_t total = t->outer * t->inner;
    size_t per = QSIM__LO_CHUNK / (t->axis_len ? t->axis_len : 1);
    if (per == 0)
        per = 1;
    size_t s = task * per, e = s + per;
    if (e > total)
        e = total;
    for (size_t l = s; l < e; l++) {
        size_t o = l / t->inner, i = l % t->inner;
        size_t base = o * t->axis_len * t->inner + i;
        softmax_line(t, t->x + base, t->y + base, t->axis_len, t->inner);
    }
}

static qsim_status softmax_run(void *state, const qsim__node *n, const qsim__exec *ex,
                               const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    const softmax_state *st = state;
    const qsim__shape *s = &in[0].shape;
    int axis;
    QSIM__TRY(qsim__lo_axis(n, st->axis, s->rank, &axis));
    softmax_task t = {in[0].data, out[0].data, 1, 1, 1, qsim__k_f32_unary(0)};
    for (int d = 0; d < axis; d++)
        t.outer *= (size_t)s->dims[d];
    if (n->opset < 13) {
        for (int d = axis; d < s->rank; d++)
            t.axis_len *= (size_t)s->dims[d];
    } else {
        t.axis_len = (size_t)s->dims[axis];
        for (int d = axis + 1; d < s->rank; d++)
            t.inner *= (size_t)s->dims[d];
    }
    size_t lines = t.outer * t.inner;
    if (!lines || !t.axis_len)
        return QSIM_OK;
    size_t per = QSIM__LO_CHUNK / t.axis_len;
    if (per == 0)
        per = 1;
    size_t tasks = (lines + per - 1) / per;
    if (tasks <= 1)
        softmax_chunk(&t, 0, 0);
    else
        qsim__pool_run(ex->pool, tasks, softmax_chunk, &t);
    return QSIM_OK;
}

static const qsim__op_desc op_softmax = {"Softmax", 0, softmax_init, softmax_infer, softmax_run,
                                         qsim__lo_state_free};

/* ---- ReduceMean ----------------------------------------------------------- */

enum { R_MEAN, R_SUM, R_MAX };

typedef struct reduce_state {
    int kind;
    int64_t keepdims, noop_empty;
    size_t n_axes;                 /* from the attribute (opset < 18) */
    int64_t axes[QSIM__MAX_RANK];
    int has_attr_axes;
} reduce_state;

static qsim_status reduce_init_kind(const qsim__node *n, int kind, void **state)
{
    reduce_state st;
    memset(&st, 0, sizeof st);
    st.kind = kind;
    QSIM__TRY(qsim__attr_int(n, "keepdims", 1, &st.keepdims));
    QSIM__TRY(qsim__attr_int(n, "noop_with_empty_axes", 0, &st.noop_empty));
    const int64_t *axes;
    size_t count;
    QSIM__TRY(qsim__attr_ints(n, "axes", &axes, &count));
    if (count > QSIM__MAX_RANK)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: %zu axes", qsim__node_label(n), count);
    st.has_attr_axes = axes != NULL;
    st.n_axes = count;
    if (count)
        memcpy(st.axes, axes, count * sizeof *axes);
    return qsim__lo_state(&st, sizeof st, state);
}

static qsim_status mean_init(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state)
{
    (void)in, (void)n_in;
    return reduce_init_kind(n, R_MEAN, state);
}
static qsim_status sum_init(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state)
{
    (void)in, (void)n_in;
    return reduce_init_kind(n, R_SUM, state);
}
static qsim_status max_init(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state)
{
    (void)in, (void)n_in;
    return reduce_init_kind(n, R_MAX, state);
}

/* The reduced-axis mask; *noop when nothing is reduced. */
static qsim_status reduce_mask(const reduce_state *st, const qsim__node *n, const qsim__tview *in,
                               size_t n_in, int *mask, int *noop)
{
    int rank = in[0].shape.rank;
    int64_t axes[QSIM__MAX_RANK];
    size_t count = st->n_axes;
    memcpy(axes, st->axes, sizeof axes);
    if (n_in > 1 && in[1].dtype)
        QSIM__TRY(qsim__lo_const_ints(n, &in[1], "axes", axes, QSIM__MAX_RANK, &count));
    *noop = 0;
    memset(mask, 0, sizeof(int) * QSIM__MAX_RANK);
    if (count == 0) {
        if (st->noop_empty) {
            *noop = 1;
            return QSIM_OK;
        }
        for (int d = 0; d < rank; d++)
            mask[d] = 1;
        return QSIM_OK;
    }
    for (size_t k = 0; k < count; k++) {
        int a;
        QSIM__TRY(qsim__lo_axis(n, axes[k], rank, &a));
        mask[a] = 1;
    }
    return QSIM_OK;
}

static qsim_status reduce_infer(void *state, const qsim__node *n, const qsim__tview *in,
                                size_t n_in, qsim__tview *out, size_t n_out, size_t *ws)
{
    const reduce_state *st = state;
    if (n_in < 1 || in[0].dtype != QSIM__DT_FLOAT)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: input must be float, not %s",
                          qsim__node_label(n), qsim__dtype_name(n_in ? in[0].dtype : 0));
    int mask[QSIM__MAX_RANK], noop;
    QSIM__TRY(reduce_mask(st, n, in, n_in, mask, &noop));
    out[0].dtype = QSIM__DT_FLOAT;
    qsim__shape s = {0, {0}};
    for (int d = 0; d < in[0].shape.rank; d++) {
        if (noop || !mask[d])
            s.dims[s.rank++] = in[0].shape.dims[d];
        else if (st->keepdims)
            s.dims[s.rank++] = 1;
    }
    out[0].shape = s;
    *ws = 0;
    return QSIM_OK;
}

static qsim_status reduce_run(void *state, const qsim__node *n, const qsim__exec *ex,
                              const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    const reduce_state *st = state;
    int mask[QSIM__MAX_RANK], noop;
    QSIM__TRY(reduce_mask(st, n, in, n_in, mask, &noop));
    const float *x = in[0].data;
    float *y = out[0].data;
    if (noop) {
        memcpy(y, x, in[0].numel * sizeof *x);
        return QSIM_OK;
    }
    /* output index = input index with reduced dims dropped; sum in double */
    size_t on = out[0].numel;
    double *acc = qsim__calloc(on ? on : 1, sizeof *acc);
    if (!acc)
        return qsim__oom();
    if (st->kind == R_MAX)
        for (size_t i = 0; i < on; i++)
            acc[i] = -INFINITY;
    const qsim__shape *s = &in[0].shape;
    int64_t ost[QSIM__MAX_RANK], tmp = 1;
    for (int d = s->rank - 1; d >= 0; d--) {
        ost[d] = mask[d] ? 0 : tmp;
        if (!mask[d])
            tmp *= s->dims[d];
    }
    int64_t idx[QSIM__MAX_RANK] = {0};
    size_t o = 0;
    for (size_t i = 0; i < in[0].numel; i++) {
        if (st->kind == R_MAX)
            acc[o] = x[i] > acc[o] || isnan(x[i]) ? x[i] : acc[o];
        else
            acc[o] += x[i];
        for (int d = s->rank - 1; d >= 0; d--) {
            idx[d]++;
            o += (size_t)ost[d];
            if (idx[d] < s->dims[d])
                break;
            o -= (size_t)(ost[d] * s->dims[d]);
            idx[d] = 0;
        }
    }
    size_t cnt = on ? in[0].numel / on : 0;
    for (size_t i = 0; i < on; i++)
        y[i] = st->kind != R_MEAN ? (float)acc[i] : cnt ? (float)(acc[i] / (double)cnt) : NAN;
    qsim__free(acc);
    (void)ex;
    return QSIM_OK;
}

static const qsim__op_desc op_reduce_mean = {"ReduceMean", 0, mean_init, reduce_infer,
                                             reduce_run, qsim__lo_state_free};
static const qsim__op_desc op_reduce_sum = {"ReduceSum", 0, sum_init, reduce_infer, reduce_run,
                                            qsim__lo_state_free};
static const qsim__op_desc op_reduce_max = {"ReduceMax", 0, max_init, reduce_infer, reduce_run,
                                            qsim__lo_state_free};

const qsim__op_desc *const qsim__ops_reduce[] = {&op_softmax, &op_reduce_mean, &op_reduce_sum,
                                                 &op_reduce_max, NULL};
