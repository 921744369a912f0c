/* Op family 'conv': Conv (1-D/2-D through lib/kernels/conv.h, weights packed
 * once when constant) and ConvTranspose (1-D to 3-D: GEMM into columns, then col2im). */
#include "op.h"

#include "conv_take.h"
#include "oputil.h"
#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/conv.h"
#include "../kernels/gemm.h"

#include <inttypes.h>
#include <string.h>

/* ---- Conv ---------------------------------------------------------------- */

typedef struct conv_state {
    int64_t group;
    qsim__conv *conv;        /* built from constant weights, or NULL */
    qsim__conv_desc desc;    /* what `conv` was built for */
    /* Scratch kept across runs when the engine's workspace (sized at infer,
     * which does not know the pool's thread count) is short. */
    void *scratch;
    size_t scratch_bytes;
} conv_state;

static void conv_free_state(void *st)
{
    conv_state *s = st;
    if (!s)
        return;
    qsim__conv_free(s->conv);
    qsim__free_aligned(s->scratch);
    qsim__free(s);
}

/* Checks shapes and fills the kernel descriptor and output shape. */
static qsim_status conv_plan(const qsim__node *n, int64_t group, const qsim__tview *in,
                             size_t n_in, qsim__conv_desc *d, qsim__shape *os)
{
    const qsim__tview *x = &in[0], *w = &in[1];
    QSIM__TRY(qsim__check_float(n, x, "input X"));
    QSIM__TRY(qsim__check_float(n, w, "weight W"));
    int rank = x->shape.rank;
    if (rank != 3 && rank != 4) {
        if (rank == 5)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: 3-D convolution (X %s) is not supported",
                              qsim__node_label(n), qsim__vshape(x));
        return qsim__fail(QSIM_ERR_SHAPE, "%s: X %s must have rank 3 or 4", qsim__node_label(n),
                          qsim__vshape(x));
    }
    if (w->shape.rank != rank)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: W %s and X %s differ in rank",
                          qsim__node_label(n), qsim__vshape(w), qsim__vshape(x));
    int nd = rank - 2;
    const int64_t *xd = x->shape.dims, *wd = w->shape.dims;
    int64_t C = xd[1], M = wd[0];
    if (group < 1 || C % group != 0 || M % group != 0 || wd[1] * group != C)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: X %s and W %s do not match for group %" PRId64,
                          qsim__node_label(n), qsim__vshape(x), qsim__vshape(w), group);
    if (qsim__in_present(in, n_in, 2)) {
        QSIM__TRY(qsim__check_float(n, &in[2], "bias B"));
        if (in[2].shape.rank != 1 || in[2].shape.dims[0] != M)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: B %s does not match W %s",
                              qsim__node_label(n), qsim__vshape(&in[2]), qsim__vshape(w));
    }
    qsim__spatial sp;
    QSIM__TRY(qsim__spatial_read(n, nd, 0, 1, &sp));
    for (int i = 0; i < nd; i++) {
        if (sp.has_kernel && sp.k[i] != wd[2 + i])
            return qsim__fail(QSIM_ERR_SHAPE, "%s: kernel_shape does not match W %s",
                              qsim__node_label(n), qsim__vshape(w));
        sp.k[i] = wd[2 + i];
        if (sp.k[i] < 1)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: W %s has an empty kernel",
                              qsim__node_label(n), qsim__vshape(w));
    }
    int64_t pb[3], pe[3], od[3];
    QSIM__TRY(qsim__spatial_out(n, &sp, xd + 2, 0, pb, pe, od));
    memset(d, 0, sizeof *d);
    d->C = C;
    d->M = M;
    d->group = group;
    int o = nd == 2 ? 1 : 0; /* index of the width dim */
    d->kh = nd == 2 ? sp.k[0] : 1;
    d->kw = sp.k[o];
    d->sh = nd == 2 ? sp.s[0] : 1;
    d->sw = sp.s[o];
    d->dh = nd == 2 ? sp.d[0] : 1;
    d->dw = sp.d[o];
    d->pt = nd == 2 ? pb[0] : 0;
    d->pb = nd == 2 ? pe[0] : 0;
    d->pl = pb[o];
    d->pr = pe[o];
    os->rank = rank;
    os->dims[0] = xd[0];
    os->dims[1] = M;
    for (int i = 0; i < nd; i++)
        os->dims[2 + i] = od[i];
    return QSIM_OK;
}

static int has_const_weights(const qsim__tview *in, size_t n_in)
{
    return in[1].data && (!qsim__in_present(in, n_in, 2) || in[2].data);
}

/* (Re)builds the packed conv when the descriptor changed. */
static qsim_status conv_ensure(conv_state *s, const qsim__conv_desc *d, const qsim__tview *in,
                               size_t n_in)
{
    if (s->conv && memcmp(&s->desc, d, sizeof *d) == 0)
        return QSIM_OK;
    qsim__conv_free(s->conv);
    s->conv = NULL;
    const float *b = qsim__in_present(in, n_in, 2) ? in[2].data : NULL;
    QSIM__TRY(qsim__conv_create(d, in[1].data, b, NULL, &s->conv));
    s->desc = *d;
    return QSIM_OK;
}

static qsim_status conv_init(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state)
{
    QSIM__TRY(qsim__check_n_in(n, n_in, 2, 3));
    QSIM__TRY(qsim__no_extra_outputs(n, 1));
    int64_t group;
    QSIM__TRY(qsim__attr_int(n, "group", 1, &group));
    if (group < 1)
        return qsim__fail(QSIM_ERR_PARSE, "%s: attribute 'group' is %" PRId64,
                          qsim__node_label(n), group);
    conv_state *s = qsim__calloc(1, sizeof *s);
    if (!s)
        return qsim__oom();
    s->group = group;
    /* Shapes of all inputs known and weights constant: pack now. */
    if (has_const_weights(in, n_in) && in[0].dtype && in[0].shape.rank >= 3) {
        qsim__conv_desc d;
        qsim__shape os;
        qsim_status st = conv_plan(n, group, in, n_in, &d, &os);
        if (st == QSIM_OK)
            st = conv_ensure(s, &d, in, n_in);
        if (st != QSIM_OK) {
            conv_free_state(s);
            return st;
        }
    }
    *state = s;
    return QSIM_OK;
}

static qsim_status conv_infer(void *state, const qsim__node *n, const qsim__tview *in, size_t n_in,
                              qsim__tview *out, size_t n_out, size_t *workspace)
{
    conv_state *s = state;
    QSIM__TRY(qsim__check_n_in(n, n_in, 2, 3));
    qsim__conv_desc d;
    qsim__shape os;
    QSIM__TRY(conv_plan(n, s->group, in, n_in, &d, &os));
    QSIM__TRY(qsim__set_out(n, &out[0], QSIM__DT_FLOAT, &os));
    *workspace = 0;
    if (has_const_weights(in, n_in)) {
        QSIM__TRY(conv_ensure(s, &d, in, n_in));
        const qsim__shape *xs = &in[0].shape;
        *workspace = qsim__conv_workspace(s->conv, xs->dims[0], xs->rank == 4 ? xs->dims[2] : 1,
                                          xs->dims[xs->rank - 1], NULL);
        if (*workspace == SIZE_MAX)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: X %s is too large for the convolution kernel",
                              qsim__node_label(n), qsim__vshape(&in[0]));
    }
    (void)n_out;
    return QSIM_OK;
}

static qsim_status conv_run(void *state, const qsim__node *n, const qsim__exec *ex,
                            const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    conv_state *s = state;
    qsim__conv_desc d;
    qsim__shape os;
    QSIM__TRY(conv_plan(n, s->group, in, n_in, &d, &os));
    if (!qsim__shape_equal(&os, &out[0].shape))
        return qsim__fail(QSIM_ERR_INTERNAL, "%s: output buffer shape differs from inference",
                          qsim__node_label(n));
    const qsim__conv *c = NULL;
    qsim__conv *tmp = NULL;
    if (s->conv && memcmp(&s->desc, &d, sizeof d) == 0 && has_const_weights(in, n_in)) {
        c = s->conv;
    } else {
        const float *b = qsim__in_present(in, n_in, 2) ? in[2].data : NULL;
        QSIM__TRY(qsim__conv_create(&d, in[1].data, b, NULL, &tmp));
        c = tmp;
    }
    int64_t N = in[0].shape.dims[0];
    int64_t H = in[0].shape.rank == 4 ? in[0].shape.dims[2] : 1;
    int64_t W = in[0].shape.dims[in[0].shape.rank - 1];
    /* infer could not know the pool (or the weights): keep what the pool
     * needs in the node's state when the engine's workspace is short. */
    size_t need = qsim__conv_workspace(c, N, H, W, ex->pool);
    size_t have = tmp ? 0 : qsim__conv_workspace(c, N, H, W, NULL);
    void *ws = ex->workspace;
    if (need == SIZE_MAX) {
        qsim__conv_free(tmp);
        return qsim__fail(QSIM_ERR_SHAPE, "%s: X %s is too large for the convolution kernel",
                          qsim__node_label(n), qsim__vshape(&in[0]));
    }
    if (need > have || (need && !ws)) {
        if (s->scratch_bytes < need) {
            qsim__free_aligned(s->scratch);
            s->scratch_bytes = 0;
            if (!(s->scratch = qsim__malloc_aligned(need))) {
                qsim__conv_free(tmp);
                return qsim__oom();
            }
            s->scratch_bytes = need;
        }
        ws = s->scratch;
    }
    if (N > 0 && out[0].numel > 0)
        qsim__conv_run(c, ex->pool, in[0].data, N, H, W, out[0].data, ws);
    qsim__conv_free(tmp);
    (void)n_out;
    return QSIM_OK;
}

static const qsim__op_desc conv_op = {"Conv", 0, conv_init, conv_infer, conv_run, conv_free_state};

/* ---- ConvTranspose ------------------------------------------------------- */

typedef struct convt_plan {
    int nd;
    int64_t N, C, M, group, cg, mg;      /* cg = C/group, mg = M/group */
    /* spatial dims right-aligned into 3 (1-D and 2-D get leading 1s) */
    int64_t in[3], k[3], s[3], d[3], pb[3], out[3];
    size_t cols;                         /* rows of the column buffer: mg*kd*kh*kw */
} convt_plan;

static qsim_status convt_attrs(const qsim__node *n, const qsim__tview *in, size_t n_in,
                               convt_plan *p, qsim__shape *os)
{
    const qsim__tview *x = &in[0], *w = &in[1];
    QSIM__TRY(qsim__check_float(n, x, "input X"));
    QSIM__TRY(qsim__check_float(n, w, "weight W"));
    int rank = x->shape.rank;
    if (rank < 3 || rank > 5)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: X %s must have rank 3 to 5", qsim__node_label(n),
                          qsim__vshape(x));
    if (w->shape.rank != rank)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: W %s and X %s differ in rank",
                          qsim__node_label(n), qsim__vshape(w), qsim__vshape(x));
    int nd = rank - 2, off = 3 - nd;
    int64_t group;
    QSIM__TRY(qsim__attr_int(n, "group", 1, &group));
    const int64_t *xd = x->shape.dims, *wd = w->shape.dims;
    if (group < 1 || xd[1] != wd[0] || wd[0] % group != 0)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: X %s and W %s do not match for group %" PRId64,
                          qsim__node_label(n), qsim__vshape(x), qsim__vshape(w), group);
    memset(p, 0, sizeof *p);
    p->nd = nd;
    p->N = xd[0];
    p->C = xd[1];
    p->group = group;
    p->cg = p->C / group;
    p->mg = wd[1];
    if (!qsim__mul_i64(p->mg, group, &p->M))
        return qsim__fail(QSIM_ERR_SHAPE, "%s: W %s is too large", qsim__node_label(n),
                          qsim__vshape(w));
    if (qsim__in_present(in, n_in, 2)) {
        QSIM__TRY(qsim__check_float(n, &in[2], "bias B"));
        if (in[2].shape.rank != 1 || in[2].shape.dims[0] != p->M)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: B %s does not match W %s",
                              qsim__node_label(n), qsim__vshape(&in[2]), qsim__vshape(w));
    }
    qsim__spatial sp;
    QSIM__TRY(qsim__spatial_read(n, nd, 0, 1, &sp));
    int64_t op[3] = {0, 0, 0}, oshape[3] = {0, 0, 0};
    const int64_t *v;
    size_t c;
    QSIM__TRY(qsim__attr_ints(n, "output_padding", &v, &c));
    if (c && c != (size_t)nd)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: attribute 'output_padding' has %zu values, "
                          "expected %d", qsim__node_label(n), c, nd);
    for (size_t i = 0; i < c; i++)
        op[i] = v[i];
    QSIM__TRY(qsim__attr_ints(n, "output_shape", &v, &c));
    int has_oshape = c > 0;
    if (c == (size_t)rank) { /* full N,C,... form */
        v += 2;
        c -= 2;
    }
    if (has_oshape && c != (size_t)nd)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: attribute 'output_shape' has %zu values, "
                          "expected %d", qsim__node_label(n), c, nd);
    for (size_t i = 0; has_oshape && i < c; i++)
        oshape[i] = v[i];
    for (int j = 0; j < 3; j++) {
        p->in[j] = p->k[j] = p->s[j] = p->d[j] = p->out[j] = 1;
        p->pb[j] = 0;
    }
    for (int i = 0; i < nd; i++) {
        if (sp.has_kernel && sp.k[i] != wd[2 + i])
            return qsim__fail(QSIM_ERR_SHAPE, "%s: kernel_shape does not match W %s",
                              qsim__node_label(n), qsim__vshape(w));
        int64_t k = wd[2 + i], s = sp.s[i], d = sp.d[i], len = xd[2 + i];
        if (k < 1 || op[i] < 0 || op[i] > ((int64_t)1 << 24) || oshape[i] < 0 ||
            oshape[i] > ((int64_t)1 << 32))
            return qsim__fail(QSIM_ERR_SHAPE, "%s: W %s, output_padding or output_shape is "
                              "invalid", qsim__node_label(n), qsim__vshape(w));
        int64_t full = s * (len - 1) + op[i] + (k - 1) * d + 1; /* unpadded length */
        int64_t o, b;
        if (has_oshape || sp.auto_pad == QSIM__PAD_SAME_UPPER ||
            sp.auto_pad == QSIM__PAD_SAME_LOWER) {
            o = has_oshape ? oshape[i] : len * s;
            int64_t total = full - o;
            int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2); /* floor */
            /* ONNX: SAME_UPPER puts the odd pad at the end, else at the start. */
            b = sp.auto_pad == QSIM__PAD_SAME_UPPER ? half : total - half;
        } else if (sp.auto_pad == QSIM__PAD_VALID) {
            b = 0;
            o = full;
        } else {
            b = sp.pb[i];
            o = full - sp.pb[i] - sp.pe[i];
        }
        if (o < 1)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: X %s and W %s give an empty output",
                              qsim__node_label(n), qsim__vshape(x), qsim__vshape(w));
        int j = off + i;
        p->in[j] = len;
        p->k[j] = k;
        p->s[j] = s;
        p->d[j] = d;
        p->pb[j] = b;
        p->out[j] = o;
    }
    size_t cols = (size_t)p->mg;
    for (int j = 0; j < 3; j++)
        if (!qsim__mul_size(cols, (size_t)p->k[j], &cols))
            return qsim__fail(QSIM_ERR_SHAPE, "%s: W %s is too large", qsim__node_label(n),
                              qsim__vshape(w));
    p->cols = cols;
    os->rank = rank;
    os->dims[0] = p->N;
    os->dims[1] = p->M;
    for (int i = 0; i < nd; i++)
        os->dims[2 + i] = p->out[off + i];
    return QSIM_OK;
}

static qsim_status convt_init(const qsim__node *n, const qsim__tview *in, size_t n_in,
                              void **state)
{
    QSIM__TRY(qsim__check_n_in(n, n_in, 2, 3));
    QSIM__TRY(qsim__no_extra_outputs(n, 1));
    int64_t group;
    QSIM__TRY(qsim__attr_int(n, "group", 1, &group));
    if (group < 1)
        return qsim__fail(QSIM_ERR_PARSE, "%s: attribute 'group' is %" PRId64,
                          qsim__node_label(n), group);
    *state = NULL;
    return QSIM_OK;
}

static qsim_status convt_infer(void *state, const qsim__node *n, const qsim__tview *in,
                               size_t n_in, qsim__tview *out, size_t n_out, size_t *workspace)
{
    convt_plan p;
    qsim__shape os;
    QSIM__TRY(qsim__check_n_in(n, n_in, 2, 3));
    QSIM__TRY(convt_attrs(n, in, n_in, &p, &os));
    QSIM__TRY(qsim__set_out(n, &out[0], QSIM__DT_FLOAT, &os));
    size_t ws;
    if (!qsim__mul_size(p.cols, (size_t)(p.in[0] * p.in[1] * p.in[2]), &ws) ||
        !qsim__mul_size(ws, sizeof(float), &ws) || ws > QSIM__MAX_TENSOR_BYTES)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: column buffer for X %s is too large",
                          qsim__node_label(n), qsim__vshape(&in[0]));
    *workspace = ws;
    (void)state;
    (void)n_out;
    return QSIM_OK;
}

/* Adds the columns of one (image, group) into its output volumes. */
static void col2im(const convt_plan *p, const float *cols, float *y)
{
    int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
    int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
    size_t isz = (size_t)(ID * IH * IW);
    const float *col = cols;
    for (int64_t m = 0; m < p->mg; m++) {
        float *ym = y + m * OD * OH * OW;
        for (int64_t e = 0; e < p->k[0]; e++)
            for (int64_t a = 0; a < p->k[1]; a++)
                for (int64_t b = 0; b < p->k[2]; b++, col += isz) {
                    int64_t base = b * p->d[2] - p->pb[2];
                    for (int64_t id = 0; id < ID; id++) {
                        int64_t od = id * p->s[0] - p->pb[0] + e * p->d[0];
                        if (od < 0 || od >= OD)
                            continue;
                        for (int64_t ih = 0; ih < IH; ih++) {
                            int64_t oh = ih * p->s[1] - p->pb[1] + a * p->d[1];
                            if (oh < 0 || oh >= OH)
                                continue;
                            float *yr = ym + (od * OH + oh) * OW;
                            const float *cr = col + (id * IH + ih) * IW;
                            for (int64_t iw = 0; iw < IW; iw++) {
                                int64_t ow = iw * p->s[2] + base;
                                if (ow >= 0 && ow < OW)
                                    yr[ow] += cr[iw];
                            }
                        }
                    }
                }
    }
}

static qsim_status convt_run(void *state, const qsim__node *n, const qsim__exec *ex,
                             const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    convt_plan p;
    qsim__shape os;
    QSIM__TRY(convt_attrs(n, in, n_in, &p, &os));
    if (!qsim__shape_equal(&os, &out[0].shape))
        return qsim__fail(QSIM_ERR_INTERNAL, "%s: output buffer shape differs from inference",
                          qsim__node_label(n));
    const float *x = in[0].data, *w = in[1].data;
    const float *bias = qsim__in_present(in, n_in, 2) ? in[2].data : NULL;
    float *y = out[0].data, *cols = ex->workspace;
    size_t isz = (size_t)(p.in[0] * p.in[1] * p.in[2]);
    size_t osz = (size_t)(p.out[0] * p.out[1] * p.out[2]);
    if (out[0].numel == 0)
        return QSIM_OK;
    memset(y, 0, out[0].numel * sizeof(float));
    for (int64_t i = 0; i < p.N; i++)
        for (int64_t g = 0; g < p.group; g++) {
            const float *xg = x + ((size_t)i * (size_t)p.C + (size_t)(g * p.cg)) * isz;
            const float *wg = w + (size_t)(g * p.cg) * p.cols;
            float *yg = y + ((size_t)i * (size_t)p.M + (size_t)(g * p.mg)) * osz;
            if (p.cg == 0 || isz == 0)
                continue;
            /* cols[mg*kh*kw, IH*IW] = Wg^T[mg*kh*kw, cg] * Xg[cg, IH*IW] */
            qsim__sgemm(ex->pool, 1, 0, p.cols, isz, (size_t)p.cg, 1.0f, wg, p.cols, xg, isz,
                        0.0f, cols, isz, NULL, 0, NULL);
            col2im(&p, cols, yg);
        }
    if (bias)
        for (int64_t i = 0; i < p.N; i++)
            for (int64_t m = 0; m < p.M; m++) {
                float *ym = y + ((size_t)i * (size_t)p.M + (size_t)m) * osz;
                for (size_t j = 0; j < osz; j++)
                    ym[j] += bias[m];
            }
    (void)state;
    (void)n_out;
    return QSIM_OK;
}

static const qsim__op_desc convt_op = {"ConvTranspose", 0, convt_init, convt_infer, convt_run,
                                       qsim__op_free_none};

const qsim__op_desc *const qsim__ops_conv[] = {&conv_op, &convt_op, NULL};

/* ---- for the engine's fusion pass ---------------------------------------- */

qsim_status qsim__conv_op_take(void *state, const qsim__node *n, const qsim__tview *in,
                               size_t n_in, qsim__conv **out)
{
    conv_state *s = state;
    *out = NULL;
    if (!s || n_in < 2 || !has_const_weights(in, n_in))
        return qsim__fail(QSIM_ERR_INTERNAL, "%s: fusion needs constant weights",
                          qsim__node_label(n));
    qsim__conv_desc d;
    qsim__shape os;
    QSIM__TRY(conv_plan(n, s->group, in, n_in, &d, &os));
    if (s->conv && memcmp(&s->desc, &d, sizeof d) == 0) {
        *out = s->conv;
        s->conv = NULL;
        return QSIM_OK;
    }
    const float *b = qsim__in_present(in, n_in, 2) ? in[2].data : NULL;
    return qsim__conv_create(&d, in[1].data, b, NULL, out);
}
