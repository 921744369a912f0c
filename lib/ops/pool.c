/* Op family 'pool': MaxPool (with optional Indices), AveragePool and the
 * global pools, over 1 to 3 spatial dims. Lower ranks run as 3-D with
 * leading unit dims so one loop nest serves all. */
#include "op.h"

#include "oputil.h"
#include "../core/alloc.h"
#include "../core/error.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

enum { POOL_MAX, POOL_AVG, POOL_GMAX, POOL_GAVG };

typedef struct pool_plan {
    int kind, nd;
    int dtype;               /* float, or uint8/int8 for MaxPool (opset 12) */
    int include_pad;         /* AveragePool count_include_pad */
    int col_major;           /* MaxPool storage_order = 1 */
    size_t planes;           /* N * C */
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
    qsim__shape os;
} pool_plan;

static int op_kind(const qsim__node *n)
{
    if (strcmp(n->op_type, "MaxPool") == 0)
        return POOL_MAX;
    if (strcmp(n->op_type, "AveragePool") == 0)
        return POOL_AVG;
    if (strcmp(n->op_type, "GlobalMaxPool") == 0)
        return POOL_GMAX;
    return POOL_GAVG;
}

static qsim_status pool_make(const qsim__node *n, const qsim__tview *x, pool_plan *p)
{
    memset(p, 0, sizeof *p);
    p->kind = op_kind(n);
    p->dtype = x->dtype;
    if (!(p->kind == POOL_MAX && n->opset >= 12 &&
          (x->dtype == QSIM__DT_UINT8 || x->dtype == QSIM__DT_INT8)))
        QSIM__TRY(qsim__check_float(n, x, "input X"));
    int rank = x->shape.rank;
    if (rank < 3 || rank > 5)
        return qsim__fail(rank > 5 ? QSIM_ERR_UNSUPPORTED : QSIM_ERR_SHAPE,
                          "%s: X %s must have 1 to 3 spatial dims (rank 3 to 5)",
                          qsim__node_label(n), qsim__vshape(x));
    int nd = rank - 2, off = 3 - nd;
    p->nd = nd;
    p->planes = (size_t)x->shape.dims[0] * (size_t)x->shape.dims[1];
    for (int i = 0; i < 3; i++) {
        p->in[i] = p->out[i] = p->k[i] = p->s[i] = p->d[i] = 1;
        p->pb[i] = p->pe[i] = 0;
    }
    p->os = x->shape;
    if (p->kind == POOL_GMAX || p->kind == POOL_GAVG) {
        for (int i = 0; i < nd; i++) {
            p->in[off + i] = p->k[off + i] = x->shape.dims[2 + i];
            p->os.dims[2 + i] = 1;
        }
        return QSIM_OK;
    }
    qsim__spatial sp;
    int dil = p->kind == POOL_MAX ? n->opset >= 10 : n->opset >= 19;
    QSIM__TRY(qsim__spatial_read(n, nd, 1, dil, &sp));
    int64_t ceil_mode = 0, v = 0;
    if (n->opset >= 10)
        QSIM__TRY(qsim__attr_int(n, "ceil_mode", 0, &ceil_mode));
    if (p->kind == POOL_AVG) {
        if (n->opset >= 7)
            QSIM__TRY(qsim__attr_int(n, "count_include_pad", 0, &v));
        p->include_pad = v != 0;
    } else if (n->opset >= 8) {
        QSIM__TRY(qsim__attr_int(n, "storage_order", 0, &v));
        p->col_major = v != 0;
    }
    int64_t pb[3], pe[3], od[3];
    QSIM__TRY(qsim__spatial_out(n, &sp, x->shape.dims + 2, (int)ceil_mode, pb, pe, od));
    for (int i = 0; i < nd; i++) {
        int j = off + i;
        p->in[j] = x->shape.dims[2 + i];
        p->out[j] = od[i];
        p->k[j] = sp.k[i];
        p->s[j] = sp.s[i];
        p->d[j] = sp.d[i];
        p->pb[j] = pb[i];
        p->pe[j] = pe[i];
        p->os.dims[2 + i] = od[i];
    }
    return QSIM_OK;
}

static qsim_status pool_init(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state)
{
    QSIM__TRY(qsim__check_n_in(n, n_in, 1, 1));
    QSIM__TRY(qsim__no_extra_outputs(n, op_kind(n) == POOL_MAX ? 2 : 1));
    *state = NULL;
    return QSIM_OK;
}

static qsim_status pool_infer(void *state, const qsim__node *n, const qsim__tview *in,
                              size_t n_in, qsim__tview *out, size_t n_out, size_t *workspace)
{
    pool_plan p;
    QSIM__TRY(qsim__check_n_in(n, n_in, 1, 1));
    QSIM__TRY(pool_make(n, &in[0], &p));
    QSIM__TRY(qsim__set_out(n, &out[0], p.dtype, &p.os));
    if (n_out > 1)
        QSIM__TRY(qsim__set_out(n, &out[1], QSIM__DT_INT64, &p.os));
    *workspace = 0;
    (void)state;
    return QSIM_OK;
}

typedef struct pool_ctx {
    const pool_plan *p;
    const void *x;
    void *y;
    int64_t *idx;
} pool_ctx;

/* 8-bit MaxPool goes through float: exact for these types. */
static float ld(int dt, const void *x, size_t i)
{
    return dt == QSIM__DT_FLOAT ? ((const float *)x)[i]
         : dt == QSIM__DT_UINT8 ? (float)((const uint8_t *)x)[i] : (float)((const int8_t *)x)[i];
}

static void st(int dt, void *y, size_t i, float v)
{
    if (dt == QSIM__DT_FLOAT) {
        ((float *)y)[i] = v;
        return;
    }
    float lo = dt == QSIM__DT_UINT8 ? 0.0f : -128.0f, hi = dt == QSIM__DT_UINT8 ? 255.0f : 127.0f;
    v = v >= lo ? (v <= hi ? v : hi) : lo; /* an all-padding window holds -inf */
    if (dt == QSIM__DT_UINT8)
        ((uint8_t *)y)[i] = (uint8_t)v;
    else
        ((int8_t *)y)[i] = (int8_t)v;
}

/* Pools the (image, channel) planes [pb_, pe_). */
static void pool_planes(void *c, size_t pb_, size_t pe_)
{
    const pool_ctx *k = c;
    const pool_plan *p = k->p;
    size_t isz = (size_t)(p->in[0] * p->in[1] * p->in[2]);
    size_t osz = (size_t)(p->out[0] * p->out[1] * p->out[2]);
    int is_max = p->kind == POOL_MAX || p->kind == POOL_GMAX;
    for (size_t pl = pb_; pl < pe_; pl++) {
        size_t xo = pl * isz, yo = pl * osz;
        int64_t *ip = k->idx ? k->idx + pl * osz : NULL;
        size_t o = 0;
        for (int64_t a = 0; a < p->out[0]; a++)
            for (int64_t b = 0; b < p->out[1]; b++)
                for (int64_t cc = 0; cc < p->out[2]; cc++, o++) {
                    int64_t s0 = a * p->s[0] - p->pb[0], s1 = b * p->s[1] - p->pb[1],
                            s2 = cc * p->s[2] - p->pb[2];
                    float best = -INFINITY;
                    int64_t bi = -1;
                    double sum = 0.0;
                    int64_t cnt = 0, cnt_pad = 0;
                    for (int64_t i = 0; i < p->k[0]; i++) {
                        int64_t h = s0 + i * p->d[0];
                        int in0 = h >= 0 && h < p->in[0];
                        if (h >= p->in[0] + p->pe[0])
                            break;
                        for (int64_t j = 0; j < p->k[1]; j++) {
                            int64_t w = s1 + j * p->d[1];
                            int in1 = w >= 0 && w < p->in[1];
                            if (w >= p->in[1] + p->pe[1])
                                break;
                            for (int64_t l = 0; l < p->k[2]; l++) {
                                int64_t z = s2 + l * p->d[2];
                                if (z >= p->in[2] + p->pe[2])
                                    break;
                                cnt_pad++;
                                if (!in0 || !in1 || z < 0 || z >= p->in[2])
                                    continue;
                                int64_t e = (h * p->in[1] + w) * p->in[2] + z;
                                float v = ld(p->dtype, k->x, xo + (size_t)e);
                                cnt++;
                                if (is_max) {
                                    if (v > best || bi < 0 || (isnan(v) && !isnan(best))) {
                                        best = v;
                                        bi = e;
                                    }
                                } else {
                                    sum += v;
                                }
                            }
                        }
                    }
                    if (is_max) {
                        st(p->dtype, k->y, yo + o, bi < 0 ? -INFINITY : best);
                        if (ip) {
                            int64_t e = bi < 0 ? 0 : bi;
                            if (p->col_major) {
                                /* column-major over the spatial dims */
                                int64_t z = e % p->in[2], w = e / p->in[2] % p->in[1],
                                        h = e / p->in[2] / p->in[1];
                                e = (z * p->in[1] + w) * p->in[0] + h;
                            }
                            ip[o] = (int64_t)(pl * isz) + e;
                        }
                    } else {
                        int64_t div = p->include_pad ? cnt_pad : cnt;
                        st(p->dtype, k->y, yo + o, div ? (float)(sum / (double)div) : 0.0f);
                    }
                }
    }
}

static qsim_status pool_run(void *state, const qsim__node *n, const qsim__exec *ex,
                            const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    pool_plan p;
    QSIM__TRY(pool_make(n, &in[0], &p));
    pool_ctx k = {&p, in[0].data, out[0].data, NULL};
    if (n_out > 1 && out[1].data)
        k.idx = out[1].data;
    if (out[0].numel == 0)
        return QSIM_OK;
    size_t per = (size_t)(p.out[0] * p.out[1] * p.out[2]) * (size_t)(p.k[0] * p.k[1] * p.k[2]);
    qsim__op_parallel(ex->pool, p.planes, per ? 65536 / per + 1 : p.planes, pool_planes, &k);
    (void)state;
    (void)n_in;
    return QSIM_OK;
}

static const qsim__op_desc maxpool_op = {"MaxPool", 0, pool_init, pool_infer, pool_run,
                                         qsim__op_free_none};
static const qsim__op_desc avgpool_op = {"AveragePool", 0, pool_init, pool_infer, pool_run,
                                         qsim__op_free_none};
static const qsim__op_desc gmaxpool_op = {"GlobalMaxPool", 0, pool_init, pool_infer, pool_run,
                                          qsim__op_free_none};
static const qsim__op_desc gavgpool_op = {"GlobalAveragePool", 0, pool_init, pool_infer, pool_run,
                                          qsim__op_free_none};

const qsim__op_desc *const qsim__ops_pool[] = {&maxpool_op, &avgpool_op, &gmaxpool_op,
                                               &gavgpool_op, NULL};
