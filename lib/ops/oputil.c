/* Shared op helpers (see oputil.h). */
#include "oputil.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <inttypes.h>
#include <string.h>

qsim_status qsim__check_n_in(const qsim__node *n, size_t n_in, size_t lo, size_t hi)
{
    if (n_in < lo || n_in > hi)
        return qsim__fail(QSIM_ERR_PARSE, "%s: has %zu inputs, expected %zu to %zu",
                          qsim__node_label(n), n_in, lo, hi);
    for (size_t i = 0; i < lo; i++)
        if (n->n_inputs > i && n->inputs[i] < 0)
            return qsim__fail(QSIM_ERR_PARSE, "%s: required input %zu is omitted",
                              qsim__node_label(n), i);
    return QSIM_OK;
}

qsim_status qsim__check_float(const qsim__node *n, const qsim__tview *t, const char *what)
{
    if (t->dtype != QSIM__DT_FLOAT)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: %s has type %s, only float is supported",
                          qsim__node_label(n), what, qsim__dtype_name(t->dtype));
    return QSIM_OK;
}

qsim_status qsim__set_out(const qsim__node *n, qsim__tview *out, int dtype, const qsim__shape *s)
{
    size_t numel;
    if (qsim__shape_numel(s, qsim__node_label(n), &numel) != QSIM_OK)
        return QSIM_ERR_SHAPE;
    size_t bytes;
    if (!qsim__mul_size(numel, qsim__dtype_size(dtype) ? qsim__dtype_size(dtype) : 1, &bytes) ||
        bytes > QSIM__MAX_TENSOR_BYTES)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: output of %zu elements is too large",
                          qsim__node_label(n), numel);
    out->dtype = dtype;
    out->shape = *s;
    out->numel = numel;
    return QSIM_OK;
}

qsim_status qsim__no_extra_outputs(const qsim__node *n, size_t keep)
{
    for (size_t i = keep; i < n->n_outputs; i++)
        if (n->outputs[i] >= 0)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: optional output %zu is not supported",
                              qsim__node_label(n), i);
    return QSIM_OK;
}

const char *qsim__vshape(const qsim__tview *t)
{
    static _Thread_local char buf[4][128];
    static _Thread_local unsigned next;
    char *b = buf[next++ % 4];
    return qsim__shape_str(&t->shape, b, sizeof buf[0]);
}

/* Reads an INTS attribute of exactly `count` values, all >= lo. */
static qsim_status read_ints(const qsim__node *n, const char *name, size_t count, int64_t lo,
                             int64_t def, int64_t *dst, int *given)
{
    const int64_t *v;
    size_t c;
    QSIM__TRY(qsim__attr_ints(n, name, &v, &c));
    if (given)
        *given = c > 0;
    if (c == 0) {
        for (size_t i = 0; i < count; i++)
            dst[i] = def;
        return QSIM_OK;
    }
    if (c != count)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: attribute '%s' has %zu values, expected %zu",
                          qsim__node_label(n), name, c, count);
    for (size_t i = 0; i < c; i++) {
        if (v[i] < lo || v[i] > ((int64_t)1 << 24))
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute '%s' value %" PRId64
                              " is out of range", qsim__node_label(n), name, v[i]);
        dst[i] = v[i];
    }
    return QSIM_OK;
}

qsim_status qsim__spatial_read(const qsim__node *n, int nd, int need_kernel, int dilations,
                               qsim__spatial *sp)
{
    memset(sp, 0, sizeof *sp);
    if (nd < 1 || nd > QSIM__MAX_SPATIAL)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: %d spatial dimensions (1 to %d supported)",
                          qsim__node_label(n), nd, QSIM__MAX_SPATIAL);
    sp->nd = nd;
    size_t u = (size_t)nd;
    QSIM__TRY(read_ints(n, "kernel_shape", u, 1, 1, sp->k, &sp->has_kernel));
    if (need_kernel && !sp->has_kernel)
        return qsim__fail(QSIM_ERR_PARSE, "%s: attribute 'kernel_shape' is required",
                          qsim__node_label(n));
    QSIM__TRY(read_ints(n, "strides", u, 1, 1, sp->s, NULL));
    QSIM__TRY(read_ints(n, "dilations", u, 1, 1, sp->d, NULL));
    if (!dilations)
        for (int i = 0; i < nd; i++)
            if (sp->d[i] != 1)
                return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute 'dilations' is not "
                                  "supported in opset %" PRId64, qsim__node_label(n), n->opset);
    int64_t pads[2 * QSIM__MAX_SPATIAL];
    QSIM__TRY(read_ints(n, "pads", 2 * u, 0, 0, pads, NULL));
    for (int i = 0; i < nd; i++) {
        sp->pb[i] = pads[i];
        sp->pe[i] = pads[i + nd];
    }
    const char *ap;
    QSIM__TRY(qsim__attr_string(n, "auto_pad", "NOTSET", &ap));
    if (strcmp(ap, "NOTSET") == 0 || ap[0] == 0)
        sp->auto_pad = QSIM__PAD_NOTSET;
    else if (strcmp(ap, "SAME_UPPER") == 0)
        sp->auto_pad = QSIM__PAD_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0)
        sp->auto_pad = QSIM__PAD_SAME_LOWER;
    else if (strcmp(ap, "VALID") == 0)
        sp->auto_pad = QSIM__PAD_VALID;
    else
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute 'auto_pad' value '%s' is not "
                          "supported", qsim__node_label(n), ap);
    return QSIM_OK;
}

qsim_status qsim__spatial_out(const qsim__node *n, const qsim__spatial *sp, const int64_t *in,
                              int ceil_mode, int64_t *pb, int64_t *pe, int64_t *out)
{
    for (int i = 0; i < sp->nd; i++) {
        int64_t dk = (sp->k[i] - 1) * sp->d[i] + 1; /* dilated kernel extent */
        int64_t b = sp->pb[i], e = sp->pe[i], o;
        switch (sp->auto_pad) {
        case QSIM__PAD_SAME_UPPER:
        case QSIM__PAD_SAME_LOWER: {
            o = (in[i] + sp->s[i] - 1) / sp->s[i];
            int64_t total = (o - 1) * sp->s[i] + dk - in[i];
            if (total < 0)
                total = 0;
            if (sp->auto_pad == QSIM__PAD_SAME_UPPER) {
                b = total / 2;
                e = total - b;
            } else {
                e = total / 2;
                b = total - e;
            }
            break;
        }
        case QSIM__PAD_VALID:
            b = e = 0;
            /* fall through */
        default: {
            int64_t span = in[i] + b + e - dk;
            if (span < 0) {
                o = 0;
                break;
            }
            if (ceil_mode) {
                o = (span + sp->s[i] - 1) / sp->s[i] + 1;
                /* the last window must start inside the input or left pad */
                if ((o - 1) * sp->s[i] >= in[i] + b)
                    o--;
            } else {
                o = span / sp->s[i] + 1;
            }
        }
        }
        if (o < 1)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: spatial dim %d: input %" PRId64
                              " with kernel %" PRId64 ", dilation %" PRId64 ", pads %" PRId64
                              "+%" PRId64 " gives no output", qsim__node_label(n), i, in[i],
                              sp->k[i], sp->d[i], b, e);
        pb[i] = b;
        pe[i] = e;
        out[i] = o;
    }
    return QSIM_OK;
}

void qsim__op_free_none(void *state) { (void)state; }

typedef struct par_ctx {
    qsim__range_fn fn;
    void *ctx;
    size_t count, grain;
} par_ctx;

static void par_task(void *c, size_t task, int thread)
{
    const par_ctx *p = c;
    size_t b = task * p->grain, e = b + p->grain;
    p->fn(p->ctx, b, e < p->count ? e : p->count);
    (void)thread;
}

void qsim__op_parallel(qsim__pool *pool, size_t count, size_t grain, qsim__range_fn fn, void *ctx)
{
    if (count == 0)
        return;
    if (grain == 0)
        grain = 1;
    size_t tasks = count / grain + (count % grain != 0);
    if (!pool || tasks == 1 || qsim__pool_threads(pool) <= 1) {
        fn(ctx, 0, count);
        return;
    }
    par_ctx p = {fn, ctx, count, grain};
    qsim__pool_run(pool, tasks, par_task, &p);
}
