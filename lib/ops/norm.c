/* Op family 'norm': BatchNormalization (inference) and LayerNormalization. */
#include "op.h"

#include "oputil.h"
#include "../core/alloc.h"
#include "../core/error.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* ---- BatchNormalization -------------------------------------------------- */

typedef struct bn_state {
    float eps;
    int spatial;       /* opset <= 8 attribute; 1 = per channel */
    size_t count;      /* length of mul/add when folded at init */
    float *mul, *add;  /* y = x * mul + add, from constant parameters */
} bn_state;

static void bn_free_state(void *st)
{
    bn_state *s = st;
    if (!s)
        return;
    qsim__free(s->mul);
    qsim__free(s);
}

/* Parameters per channel (spatial) or per element of X[1:] (spatial = 0). */
static qsim_status bn_check(const bn_state *s, const qsim__node *n, const qsim__tview *in,
                            size_t *count, size_t *inner)
{
    const qsim__tview *x = &in[0];
    QSIM__TRY(qsim__check_float(n, x, "input X"));
    if (x->shape.rank < 2)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: X %s must have rank >= 2", qsim__node_label(n),
                          qsim__vshape(x));
    size_t per_n = 1;
    for (int i = 2; i < x->shape.rank; i++)
        per_n *= (size_t)x->shape.dims[i];
    size_t c = (size_t)x->shape.dims[1];
    *count = s->spatial ? c : c * per_n;
    *inner = s->spatial ? per_n : 1;
    static const char *const names[] = {"", "scale", "B", "mean", "var"};
    for (int i = 1; i <= 4; i++) {
        QSIM__TRY(qsim__check_float(n, &in[i], names[i]));
        int ok = in[i].numel == *count;
        if (s->spatial)
            ok = ok && in[i].shape.rank == 1;
        if (!ok)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: %s %s does not match X %s%s",
                              qsim__node_label(n), names[i], qsim__vshape(&in[i]),
                              qsim__vshape(x), s->spatial ? "" : " (spatial=0)");
    }
    return QSIM_OK;
}

static void bn_fold(float eps, const qsim__tview *in, size_t count, float *mul, float *add)
{
    const float *sc = in[1].data, *b = in[2].data, *mean = in[3].data, *var = in[4].data;
    for (size_t i = 0; i < count; i++) {
        double a = (double)sc[i] / sqrt((double)var[i] + (double)eps);
        mul[i] = (float)a;
        add[i] = (float)((double)b[i] - (double)mean[i] * a);
    }
}

static int bn_const(const qsim__tview *in)
{
    return in[1].data && in[2].data && in[3].data && in[4].data;
}

static qsim_status bn_init(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state)
{
    QSIM__TRY(qsim__check_n_in(n, n_in, 5, 5));
    int64_t v;
    if (n->opset >= 14) {
        QSIM__TRY(qsim__attr_int(n, "training_mode", 0, &v));
        if (v != 0)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute 'training_mode' = %" PRId64
                              " (only inference is supported)", qsim__node_label(n), v);
    }
    if (n->opset < 7) {
        QSIM__TRY(qsim__attr_int(n, "is_test", 0, &v));
    }
    QSIM__TRY(qsim__no_extra_outputs(n, 1));
    bn_state *s = qsim__calloc(1, sizeof *s);
    if (!s)
        return qsim__oom();
    qsim_status st = qsim__attr_float(n, "epsilon", 1e-5f, &s->eps);
    s->spatial = 1;
    if (st == QSIM_OK && n->opset <= 8) {
        st = qsim__attr_int(n, "spatial", 1, &v);
        s->spatial = v != 0;
    }
    if (st == QSIM_OK && bn_const(in) && in[0].dtype && in[0].shape.rank >= 2) {
        size_t inner;
        st = bn_check(s, n, in, &s->count, &inner);
        if (st == QSIM_OK) {
            s->mul = qsim__malloc_array(s->count ? 2 * s->count : 1, sizeof(float));
            if (!s->mul)
                st = qsim__oom();
            else {
                s->add = s->mul + s->count;
                bn_fold(s->eps, in, s->count, s->mul, s->add);
            }
        }
    }
    if (st != QSIM_OK) {
        bn_free_state(s);
        return st;
    }
    *state = s;
    return QSIM_OK;
}

static qsim_status bn_infer(void *state, const qsim__node *n, const qsim__tview *in, size_t n_in,
                            qsim__tview *out, size_t n_out, size_t *workspace)
{
    bn_state *s = state;
    size_t count, inner;
    QSIM__TRY(qsim__check_n_in(n, n_in, 5, 5));
    QSIM__TRY(bn_check(s, n, in, &count, &inner));
    QSIM__TRY(qsim__set_out(n, &out[0], QSIM__DT_FLOAT, &in[0].shape));
    *workspace = 2 * count * sizeof(float);
    (void)n_out;
    return QSIM_OK;
}

typedef struct bn_ctx {
    const float *x, *mul, *add;
    float *y;
    size_t count, inner;
} bn_ctx;

static void bn_rows(void *c, size_t b, size_t e)
{
    const bn_ctx *k = c;
    for (size_t r = b; r < e; r++) {
        size_t ch = r % k->count;
        float m = k->mul[ch], a = k->add[ch];
        const float *x = k->x + r * k->inner;
        float *y = k->y + r * k->inner;
        for (size_t i = 0; i < k->inner; i++)
            y[i] = x[i] * m + a;
    }
}

static qsim_status bn_run(void *state, const qsim__node *n, const qsim__exec *ex,
                          const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    bn_state *s = state;
    size_t count, inner;
    QSIM__TRY(bn_check(s, n, in, &count, &inner));
    bn_ctx k = {in[0].data, s->mul, s->add, out[0].data, count, inner};
    if (!s->mul || s->count != count) {
        float *ws = ex->workspace;
        bn_fold(s->eps, in, count, ws, ws + count);
        k.mul = ws;
        k.add = ws + count;
    }
    if (count && inner && in[0].numel)
        qsim__op_parallel(ex->pool, in[0].numel / inner, 65536 / inner + 1, bn_rows, &k);
    (void)n_in;
    (void)n_out;
    return QSIM_OK;
}

static const qsim__op_desc bn_op = {"BatchNormalization", QSIM__OP_INPLACE, bn_init, bn_infer,
                                    bn_run, bn_free_state};

/* ---- LayerNormalization -------------------------------------------------- */

typedef struct ln_plan {
    size_t outer, inner;
    int axis;
} ln_plan;

/* Scale/B must broadcast over the normalized dims X[axis:]. */
static qsim_status ln_param(const qsim__node *n, const qsim__tview *x, const qsim__tview *p,
                            int axis, const char *what)
{
    QSIM__TRY(qsim__check_float(n, p, what));
    int nr = x->shape.rank - axis;
    int lead = p->shape.rank - nr; /* leading dims beyond the normalized ones must be 1 */
    for (int i = 0; i < p->shape.rank; i++) {
        int64_t d = p->shape.dims[i];
        int ok;
        if (i < lead)
            ok = d == 1;
        else
            ok = d == 1 || d == x->shape.dims[axis + i - lead];
        if (!ok)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: %s %s does not broadcast to X %s over axes "
                              "from %d", qsim__node_label(n), what, qsim__vshape(p),
                              qsim__vshape(x), axis);
    }
    return QSIM_OK;
}

static qsim_status ln_make(const qsim__node *n, const qsim__tview *in, size_t n_in, ln_plan *p)
{
    const qsim__tview *x = &in[0];
    QSIM__TRY(qsim__check_float(n, x, "input X"));
    int64_t axis, stash;
    QSIM__TRY(qsim__attr_int(n, "axis", -1, &axis));
    QSIM__TRY(qsim__attr_int(n, "stash_type", 1, &stash));
    if (stash != 1)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute 'stash_type' = %" PRId64
                          " (only 1, float, is supported)", qsim__node_label(n), stash);
    int r = x->shape.rank;
    if (axis < -r || axis >= r)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: attribute 'axis' = %" PRId64 " is out of range "
                          "for X %s", qsim__node_label(n), axis, qsim__vshape(x));
    if (axis < 0)
        axis += r;
    p->axis = (int)axis;
    p->outer = 1;
    p->inner = 1;
    for (int i = 0; i < r; i++)
        *(i < axis ? &p->outer : &p->inner) *= (size_t)x->shape.dims[i];
    QSIM__TRY(ln_param(n, x, &in[1], p->axis, "Scale"));
    if (qsim__in_present(in, n_in, 2))
        QSIM__TRY(ln_param(n, x, &in[2], p->axis, "B"));
    return QSIM_OK;
}

static qsim_status ln_init(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state)
{
    QSIM__TRY(qsim__check_n_in(n, n_in, 2, 3));
    QSIM__TRY(qsim__no_extra_outputs(n, 3));
    float eps;
    QSIM__TRY(qsim__attr_float(n, "epsilon", 1e-5f, &eps));
    *state = NULL;
    return QSIM_OK;
}

static qsim_status ln_infer(void *state, const qsim__node *n, const qsim__tview *in, size_t n_in,
                            qsim__tview *out, size_t n_out, size_t *workspace)
{
    ln_plan p;
    QSIM__TRY(qsim__check_n_in(n, n_in, 2, 3));
    QSIM__TRY(ln_make(n, in, n_in, &p));
    QSIM__TRY(qsim__set_out(n, &out[0], QSIM__DT_FLOAT, &in[0].shape));
    qsim__shape ms = in[0].shape;
    for (int i = p.axis; i < ms.rank; i++)
        ms.dims[i] = 1;
    for (size_t i = 1; i < n_out && i < 3; i++)
        QSIM__TRY(qsim__set_out(n, &out[i], QSIM__DT_FLOAT, &ms));
    /* Scale and B expanded to the normalized length */
    *workspace = 2 * p.inner * sizeof(float);
    (void)state;
    return QSIM_OK;
}

/* Expands a broadcastable parameter into `inner` values. */
static void ln_expand(const qsim__tview *x, int axis, const qsim__tview *p, float *dst,
                      size_t inner)
{
    const float *src = p->data;
    int nr = x->shape.rank - axis, lead = p->shape.rank - nr;
    size_t idx[QSIM__MAX_RANK] = {0};
    for (size_t j = 0; j < inner; j++) {
        size_t off = 0, str = 1;
        for (int i = nr - 1; i >= 0; i--) {
            int pi = i + lead;
            if (pi < 0)
                continue;
            int64_t d = p->shape.dims[pi];
            if (d != 1)
                off += idx[i] * str;
            str *= (size_t)d;
        }
        dst[j] = src[off];
        for (int i = nr - 1; i >= 0; i--) {
            if (++idx[i] < (size_t)x->shape.dims[axis + i])
                break;
            idx[i] = 0;
        }
    }
}

typedef struct ln_ctx {
    const float *x, *scale, *bias;
    float *y, *mean, *istd;
    size_t inner;
    float eps;
} ln_ctx;

static void ln_rows(void *c, size_t b, size_t e)
{
    const ln_ctx *k = c;
    size_t m = k->inner;
    for (size_t r = b; r < e; r++) {
        const float *x = k->x + r * m;
        float *y = k->y + r * m;
        double sum = 0.0, sq = 0.0;
        for (size_t i = 0; i < m; i++)
            sum += x[i];
        double mu = sum / (double)m;
        for (size_t i = 0; i < m; i++)
            sq += ((double)x[i] - mu) * ((double)x[i] - mu);
        double inv = 1.0 / sqrt(sq / (double)m + (double)k->eps);
        for (size_t i = 0; i < m; i++)
            y[i] = (float)(((double)x[i] - mu) * inv) * k->scale[i] + (k->bias ? k->bias[i] : 0.0f);
        if (k->mean)
            k->mean[r] = (float)mu;
        if (k->istd)
            k->istd[r] = (float)inv;
    }
}

static qsim_status ln_run(void *state, const qsim__node *n, const qsim__exec *ex,
                          const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    ln_plan p;
    QSIM__TRY(ln_make(n, in, n_in, &p));
    float eps;
    QSIM__TRY(qsim__attr_float(n, "epsilon", 1e-5f, &eps));
    float *ws = ex->workspace;
    ln_ctx k = {in[0].data, ws, NULL, out[0].data, NULL, NULL, p.inner, eps};
    if (p.inner == 0 || p.outer == 0)
        return QSIM_OK;
    ln_expand(&in[0], p.axis, &in[1], ws, p.inner);
    if (qsim__in_present(in, n_in, 2)) {
        ln_expand(&in[0], p.axis, &in[2], ws + p.inner, p.inner);
        k.bias = ws + p.inner;
    }
    if (n_out > 1 && out[1].data)
        k.mean = out[1].data;
    if (n_out > 2 && out[2].data)
        k.istd = out[2].data;
    qsim__op_parallel(ex->pool, p.outer, 16384 / p.inner + 1, ln_rows, &k);
    (void)state;
    return QSIM_OK;
}

static const qsim__op_desc ln_op = {"LayerNormalization", 0, ln_init, ln_infer, ln_run,
                                    qsim__op_free_none};

const qsim__op_desc *const qsim__ops_norm[] = {&bn_op, &ln_op, NULL};
